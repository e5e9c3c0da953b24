#!/bin/sh
# A short mixed workload: user-mode loops on every CPU, and dd copying through system calls.
n=$(nproc)
i=0
while [ $i -lt "$n" ]; do
	sh -c 'x=0; while [ $x -lt 20000 ]; do x=$((x + 1)); done' &
	i=$((i + 1))
done
dd if=/dev/zero of=/dev/null bs=1 count=20000 2>/dev/null
wait
