#!/bin/busybox sh
# /init of the real-Linux fixture (tests/linux/fixture.sh): known workloads, one per CPU.
#   CPU 0: a shell loop that never leaves user mode
#   CPU 1: dd copying one byte at a time (read/write system calls), restarted every 20000
#          bytes (fork, exec, page faults), with a short sleep between runs (the idle loop)
/bin/busybox mount -t devtmpfs dev /dev
exec >/dev/console 2>&1 </dev/null
/bin/busybox --install -s /bin
mount -t proc proc /proc
taskset 1 sh -c 'while :; do :; done' &
taskset 2 sh -c 'while :; do dd if=/dev/zero of=/dev/null bs=1 count=20000 2>/dev/null; usleep 20000; done' &
# The runtime address of _stext, for tests that boot with KASLR.
echo "KPROF_LINUX_STEXT=$(grep ' _stext$' /proc/kallsyms | cut -d' ' -f1)"
echo "KPROF_LINUX_READY: $(nproc) cpus"
while :; do sleep 1000; done
