#!/bin/sh
# make bench's guest script (the bench image, build/bench/image): boot-to-init, then the
# workloads of /bench/keelbench, each printing BENCH lines; init powers off afterwards.
# Kernel command line: keel.bench=quick|full, keel.bench_reps=N, keel.bench_list=a,b,...
# (default all), keel.bench_sync=1 (stop at BENCH-SYNC points for the harness).
mode=quick reps=5 list=all sync=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	keel.bench=*) mode=${arg#keel.bench=} ;;
	keel.bench_reps=*) reps=${arg#keel.bench_reps=} ;;
	keel.bench_list=*) list=${arg#keel.bench_list=} ;;
	keel.bench_sync=1) sync=--sync ;;
	esac
done
if [ ! -x /bench/keelbench ]; then
	echo "BENCH-FAIL name=all (no /bench/keelbench: this is not the bench image)"
	exit 1
fi
hv=no
grep -qw hypervisor /proc/cpuinfo && hv=yes
echo "BENCH-BEGIN mode=$mode reps=$reps kernel=$(uname -r) hypervisor=$hv" \
	"clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
# what makes the kernel take other paths natively and virtualized: CPU flags, mitigations
# (short lines: Keel wraps a guest's long console lines)
sed -n 's/^flags[^:]*: //p' /proc/cpuinfo | head -n1 | tr ' ' '\n' | xargs -n 10 echo "BENCH-INFO flags:"
for v in /sys/devices/system/cpu/vulnerabilities/*; do
	echo "BENCH-INFO vuln $(basename "$v"): $(cat "$v")"
done
quick=
[ "$mode" = quick ] && quick=--quick
case ",$list," in
*,all,* | *,boot,*) /bench/keelbench boot ;;
esac
# timer interrupts against TSC cycles: how often the kernel's tick really comes
ticks() { echo "BENCH-INFO tsc=$(/bench/keelbench rdtsc) $(grep -E '^ *LOC:' /proc/interrupts | tr -s ' ' | cut -d' ' -f2-3)"; }
ticks
/bench/keelbench run $quick --reps "$reps" $sync $(echo "$list" | tr , ' ')
status=$?
ticks
echo "BENCH-END status=$status"
sleep 1 # init's poweroff -f does not wait for the UART: let the last lines out
