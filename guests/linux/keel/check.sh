#!/bin/sh
# Sample guest check: which kernel runs, whether CPUID says a hypervisor is present (the
# "hypervisor" flag in /proc/cpuinfo), then power off.
echo "keel-check: kernel $(uname -r)"
if grep -qw hypervisor /proc/cpuinfo; then
	echo "keel-check: hypervisor flag: yes"
else
	echo "keel-check: hypervisor flag: no"
fi
echo "keel-check: done"
poweroff -f
