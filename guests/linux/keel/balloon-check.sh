#!/bin/sh
# In-guest side of make integration-balloon: Debian's virtio_balloon drives Keel's
# virtio-balloon. The check keeps a 16 MiB workload (random data in tmpfs, its md5 taken),
# frees 32 MiB so that free page reporting has something to report, says it is ready, and
# then sees Keel take keel.balloon_mib= MiB (its free memory drops) and give them back (it
# comes back); the workload's md5 must be unchanged after both.
. /keel/lib.sh
mib=48
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	keel.balloon_mib=*) mib=${arg#keel.balloon_mib=} ;;
	esac
done
free_kb() { sed -n 's/^MemFree: *\([0-9]*\) kB/\1/p' /proc/meminfo; }

[ -d /sys/bus/virtio/drivers/virtio_balloon ] && ls /sys/bus/virtio/drivers/virtio_balloon | grep -q virtio &&
	pass "virtio_balloon bound to Keel's device" || fail "virtio_balloon did not bind"

dd if=/dev/urandom of=/tmp/work bs=1M count=16 2>/dev/null
sum0=$(md5sum </tmp/work | cut -c1-32)
# memory freed in large blocks: the page allocator reports them (2 MiB and up) after ~2 s
dd if=/dev/zero of=/tmp/scratch bs=1M count=32 2>/dev/null
rm -f /tmp/scratch
sleep 4
base=$(free_kb)
echo "balloon-check: ready, MemFree $base kB, workload md5 $sum0"

# Keel inflates the balloon: free memory drops by most of it
want=$((mib * 1024 * 3 / 4))
i=0
while [ $((base - $(free_kb))) -lt $want ] && [ $i -lt 600 ]; do
	sleep 1
	i=$((i + 1))
done
low=$(free_kb)
[ $((base - low)) -ge $want ] && pass "balloon inflated: MemFree $base -> $low kB" ||
	fail "MemFree went only from $base to $low kB (want $want kB less)"
echo "balloon-check: inflated, MemFree $low kB"
[ "$(md5sum </tmp/work | cut -c1-32)" = "$sum0" ] && pass "workload intact with the balloon inflated" ||
	fail "workload md5 changed with the balloon inflated"

# Keel deflates it: free memory comes back
i=0
while [ $(($(free_kb) - low)) -lt $want ] && [ $i -lt 600 ]; do
	sleep 1
	i=$((i + 1))
done
high=$(free_kb)
[ $((high - low)) -ge $want ] && pass "balloon deflated: MemFree $low -> $high kB" ||
	fail "MemFree went only from $low to $high kB (want $want kB more)"
echo "balloon-check: deflated, MemFree $high kB"
# the workload again, and fresh memory written and read over the pages given back
[ "$(md5sum </tmp/work | cut -c1-32)" = "$sum0" ] && pass "workload intact after the deflate" ||
	fail "workload md5 changed after the deflate"
dd if=/dev/urandom of=/tmp/again bs=1M count=24 2>/dev/null
s1=$(md5sum </tmp/again | cut -c1-32)
s2=$(md5sum </tmp/again | cut -c1-32)
[ "$s1" = "$s2" ] && pass "24 MiB written after the deflate read back the same" ||
	fail "24 MiB written after the deflate read back different ($s1, $s2)"
rm -f /tmp/again
finish
