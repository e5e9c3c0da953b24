#!/bin/busybox sh
# /init of the sample initramfs (examples/linux-initramfs.sh): the boot markers kprof's boot
# profile reads (BOOT_TIME:<stage>:<ns>, the guest's uptime in ns), then a workload or a
# shell.  Kernel command-line words the kernel does not know reach /init as variables:
#   workload=NAME   run examples/linux/workload-NAME.sh from the image instead of a shell
#                   (the sample has "busy": a few processes in user mode and system calls)
uptime_ns() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}0000000"
}
# The archive has no /dev/console, so the kernel gave /init no output: the entry time is
# taken first and printed once devtmpfs provides the console.
/bin/busybox mount -t proc proc /proc
entry=$(uptime_ns)
/bin/busybox mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
echo "BOOT_TIME:init_entry:$entry"
/bin/busybox mount -t sysfs sys /sys
/bin/busybox --install -s /bin
echo "BOOT_TIME:ready:$(uptime_ns)"
if [ -n "${workload:-}" ] && [ -x "/workload-$workload.sh" ]; then
	"/workload-$workload.sh"
	echo "BOOT_TIME:workload_done:$(uptime_ns)"
fi
echo "kprof sample initramfs: a shell (Ctrl-D or 'reboot -f' to end)"
exec setsid cttyhack sh
