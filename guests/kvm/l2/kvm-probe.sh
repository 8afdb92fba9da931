#!/bin/sh
# L2's probe under KVM (appended to L2's initramfs by scripts/bench-kvm): the kernel, the
# TSC L2 reads when its init runs this script (KVM offsets L2's TSC to start near 0 when
# the vCPU is created), its uptime and clock source, then power off.
echo "kvm-probe: kernel $(uname -r)"
echo "kvm-probe: tsc at init $(/keel/tsc)"
echo "kvm-probe: uptime $(cut -d' ' -f1 /proc/uptime) s"
echo "kvm-probe: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
grep -qw hypervisor /proc/cpuinfo && echo "kvm-probe: hypervisor flag: yes"
dmesg | grep -iE 'tsc|hypervisor detected|kvm-clock' | sed 's/^/kvm-probe: dmesg: /'
echo "kvm-probe: done"
poweroff -f
