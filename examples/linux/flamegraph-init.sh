#!/bin/busybox sh
# /init of examples/linux-flamegraph.sh: the brd RAM disk loaded from /lib/modules/brd.ko and
# a workload whose processes have names of their own (copies of busybox called busybox-NAME:
# the kernel names a process after the file it executed).
#   CPU 0: busybox-spin, a shell counting to 300 in user mode, then sleeping 20 ms (the
#          idle task, swapper/0), again and again
#   CPU 1: busybox-writer, a shell that runs busybox-dd again and again, writing 16 MiB to
#          /dev/ram0 and reading them back with O_DIRECT (each request goes through
#          brd_submit_bio in dd's own system call), and sleeps between runs (the idle task,
#          swapper/1)
# It prints where the kernel put each of brd's sections (/sys/module/brd/sections/), then
# KPROF_EXAMPLE_READY.
/bin/busybox mount -t devtmpfs dev /dev
exec >/dev/console 2>&1 </dev/null
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
if ! insmod /lib/modules/brd.ko rd_nr=1 rd_size=16384; then
	echo "KPROF_EXAMPLE_ERROR: insmod brd.ko failed"
	poweroff -f
fi
for f in /sys/module/brd/sections/* /sys/module/brd/sections/.[!.]*; do
	[ -f "$f" ] && echo "KPROF_MODULE_SECTION brd ${f##*/} $(cat "$f")"
done
taskset 1 /bin/busybox-spin sh -c 'while :; do
	i=0; while [ $i -lt 300 ]; do i=$((i + 1)); done; usleep 20000
done' &
taskset 2 /bin/busybox-writer sh -c 'while :; do
	/bin/busybox-dd dd if=/dev/zero of=/dev/ram0 bs=1M count=16 oflag=direct 2>/dev/null
	/bin/busybox-dd dd if=/dev/ram0 of=/dev/null bs=1M count=16 iflag=direct 2>/dev/null
	usleep 20000
done' &
echo "KPROF_EXAMPLE_READY: $(nproc) cpus"
while :; do sleep 1000; done
