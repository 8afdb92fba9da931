#!/bin/sh
# make bench's guest script (the bench image, build/bench/image): boot-to-init, then the
# workloads of /bench/keelbench, each printing BENCH lines; init powers off afterwards.
# Kernel command line: keel.bench=quick|full, keel.bench_reps=N, keel.bench_list=a,b,...
# (default all), keel.bench_sync=1 (stop at BENCH-SYNC points for the harness).
# Network (guests/bench/net.c): keel.bench_ip=ADDR/PREFIX and keel.bench_gw=ADDR give the
# first Ethernet interface its address and route (after modprobe of keel.bench_net_mod=, e.g.
# virtio_mmio under QEMU microvm); keel.bench_role=serve runs only `keelbench serve` (the
# peer VM of netsend/netrr) and powers off when the client ends it; keel.bench_serve=1 runs
# the server in the background beside the workloads (natively: the peer is 127.0.0.1).
mode=quick reps=5 list=all sync= role= serve= nip= ngw= nmod=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	keel.bench_role=*) role=${arg#keel.bench_role=} ;;
	keel.bench_serve=1) serve=1 ;;
	keel.bench_ip=*) nip=${arg#keel.bench_ip=} ;;
	keel.bench_gw=*) ngw=${arg#keel.bench_gw=} ;;
	keel.bench_net_mod=*) nmod=${arg#keel.bench_net_mod=} ;;
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
if [ -n "$nip" ]; then
	[ -z "$nmod" ] || modprobe "$nmod" || echo "BENCH-INFO net: modprobe $nmod failed"
	dev= i=0
	while [ -z "$dev" ] && [ $i -lt 100 ]; do
		for d in /sys/class/net/*; do
			[ "$(cat "$d/type" 2>/dev/null)" = 1 ] && { dev=$(basename "$d"); break; }
		done
		[ -n "$dev" ] || { sleep 0.1; i=$((i + 1)); }
	done
	if [ -z "$dev" ]; then
		echo "BENCH-INFO net: no Ethernet interface for $nip"
	else
		ip addr add "$nip" dev "$dev" && ip link set "$dev" up &&
			{ [ -z "$ngw" ] || ip route add default via "$ngw"; } ||
			echo "BENCH-INFO net: could not set $nip${ngw:+ via $ngw} on $dev"
		echo "BENCH-INFO net: $dev $(cat /sys/class/net/$dev/address) driver" \
			"$(basename "$(readlink /sys/class/net/$dev/device/driver)") $nip${ngw:+ via $ngw}"
	fi
fi
if [ "$role" = serve ]; then
	echo "BENCH-SERVE $(uname -r)"
	/bench/keelbench serve
	exit $?
fi
[ -z "$serve" ] || /bench/keelbench serve >/dev/null &
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
/bench/keelbench quit # the peer's server, when there is one: it powers off
ticks
# the clocksource the workloads ran on, and why the kernel changed it (a clocksource that
# is a port, acpi_pm, costs an exit per clock read under a hypervisor)
echo "BENCH-INFO clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
dmesg | grep -iE 'clocksource|tsc' | tail -n 6 | cut -c1-150 | sed 's/^/BENCH-INFO dmesg: /'
echo "BENCH-END status=$status"
sleep 1 # init's poweroff -f does not wait for the UART: let the last lines out
