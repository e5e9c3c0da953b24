#!/bin/busybox sh
# /init of test_tasks.sh: processes with known, distinct names (comm), one workload per CPU.
# A copy of busybox called busybox-NAME runs the applet its first argument names, and the
# kernel names the process after the file it executed: comm "busybox-NAME".
#   CPU 0: busybox-spin0, a shell loop that never leaves user mode
#   CPU 1: busybox-loop1, a shell that runs busybox-dd (dd copying one byte at a time: read
#          and write system calls) again and again, sleeping between runs (the idle task,
#          swapper/1, and fork/exec in between)
# Each prints its pid as the guest knows it: KPROF_TASK NAME PID.
/bin/busybox mount -t devtmpfs dev /dev
exec >/dev/console 2>&1 </dev/null
/bin/busybox --install -s /bin
mount -t proc proc /proc
taskset 1 /bin/busybox-spin0 sh -c 'while :; do :; done' &
echo "KPROF_TASK busybox-spin0 $!"
taskset 2 /bin/busybox-loop1 sh -c 'while :; do
	/bin/busybox-dd dd if=/dev/zero of=/dev/null bs=1 count=20000 2>/dev/null; usleep 20000
done' &
echo "KPROF_TASK busybox-loop1 $!"
# Page-table isolation on (pti=on): the CPUs' flags say pti.
echo "KPROF_PTI: $(grep -c '^flags.* pti' /proc/cpuinfo)"
echo "KPROF_LINUX_READY: $(nproc) cpus"
while :; do sleep 1000; done
