#!/bin/busybox sh
# /init of the module test (tests/integration/test_linux_modules.sh): loads the brd RAM disk
# from /lib/modules/brd.ko, prints where the kernel put each of its sections (as
# /sys/module/brd/sections/ shows them, for gdb's add-symbol-file), then keeps it busy:
#   CPU 1: dd writing and reading /dev/ram0 with O_DIRECT, so that each request goes through
#          brd_submit_bio in dd's own system call; when "reload" arrives on the second serial
#          port (ttyS1), brd is unloaded, loop loaded, and brd loaded again (elsewhere)
#   CPU 0: a shell loop in user mode
/bin/busybox mount -t devtmpfs dev /dev
exec >/dev/console 2>&1 </dev/null
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mkdir -p /tmp
insmod /lib/modules/brd.ko rd_nr=1 rd_size=16384 || echo "KPROF_MODULE_ERROR: insmod brd.ko failed"
for f in /sys/module/brd/sections/* /sys/module/brd/sections/.[!.]*; do
	[ -f "$f" ] && echo "KPROF_MODULE_SECTION brd ${f##*/} $(cat "$f")"
done
taskset 1 sh -c 'while :; do :; done' &
(
	stty -echo </dev/ttyS1
	while read -r cmd </dev/ttyS1; do
		[ "$cmd" = reload ] && touch /tmp/reload && break
	done
) &
taskset 2 sh -c 'while :; do
	if [ -e /tmp/reload ]; then
		rm /tmp/reload
		rmmod brd
		insmod /lib/modules/loop.ko
		insmod /lib/modules/brd.ko rd_nr=1 rd_size=16384
		echo "KPROF_MODULE_RELOADED $(cat /sys/module/brd/sections/.text)"
	fi
	dd if=/dev/zero of=/dev/ram0 bs=64k count=128 oflag=direct 2>/dev/null
	dd if=/dev/ram0 of=/dev/null bs=64k count=128 iflag=direct 2>/dev/null
done' &
echo "KPROF_LINUX_READY: $(nproc) cpus"
while :; do sleep 1000; done
