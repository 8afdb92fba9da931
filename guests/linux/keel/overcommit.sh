#!/bin/sh
# make overcommit's in-guest workload (scripts/overcommit): page-cache use (the VM's disk
# read, when it has one), anonymous memory in tmpfs written and md5-checked twice, idle
# phases between; each phase's elapsed guest time is printed (the slowdown measure) and
# each check is a PASS:/FAIL: line. keel.oc_mib=MiB of anonymous data (default 32),
# keel.oc_rounds=N write-check rounds (default 2), keel.oc_idle=seconds per idle (default 5).
. /keel/lib.sh
mib=32 rounds=2 idle=5 disk=0
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	keel.oc_mib=*) mib=${arg#keel.oc_mib=} ;;
	keel.oc_rounds=*) rounds=${arg#keel.oc_rounds=} ;;
	keel.oc_idle=*) idle=${arg#keel.oc_idle=} ;;
	keel.oc_disk=*) disk=${arg#keel.oc_disk=} ;;
	esac
done
# guest time in centiseconds, from /proc/uptime
now_cs() { sed 's/^\([0-9]*\)\.\([0-9]*\) .*/\1\2/' /proc/uptime; }
t_start=$(now_cs)
phase_at=$t_start
phase() {
	t=$(now_cs)
	d=$((t - phase_at))
	echo "overcommit: phase $1 took $((d / 100)).$(printf %02d $((d % 100))) s"
	phase_at=$t
}

# page cache: the VM's disk read through (clean cache the guest may drop under a balloon)
if [ "$disk" = 1 ]; then
	wait_block /dev/vda || fail "page cache: no /dev/vda"
	# busybox dd's summary differs from coreutils': its exit status is the check
	dd if=/dev/vda of=/dev/null bs=1M count=16 2>/dev/null && pass "page cache: 16 MiB of /dev/vda read" ||
		fail "page cache: /dev/vda could not be read"
fi
phase cache

# anonymous data: one random MiB and a line naming each block, so every page differs
# from every other (and from the other VMs'); md5 taken as written, then of what tmpfs
# gives back, once per round with an idle phase between
dd if=/dev/urandom of=/tmp/chunk bs=1048576 count=1 2>/dev/null
pattern() {
	for i in $(seq "$mib"); do
		printf 'overcommit workload: block %04d of %04d, a line per MiB of data\n' "$i" "$mib"
		cat /tmp/chunk
	done
}
want=$(pattern | tee /tmp/work | md5sum | cut -d' ' -f1)
rm -f /tmp/chunk
phase write
r=1
while [ "$r" -le "$rounds" ]; do
	sleep "$idle"
	phase idle
	got=$(md5sum </tmp/work | cut -d' ' -f1)
	[ "$got" = "$want" ] && pass "round $r: $mib MiB of distinct pages read back intact" ||
		fail "round $r: md5 $got, want $want"
	phase check
	r=$((r + 1))
done
rm -f /tmp/work
# freed memory: a balloon with free page reporting can hand it back now
sleep "$idle"
phase idle
t=$(now_cs)
d=$((t - t_start))
echo "overcommit: workload took $((d / 100)).$(printf %02d $((d % 100))) s, $mib MiB, $rounds rounds"
finish
