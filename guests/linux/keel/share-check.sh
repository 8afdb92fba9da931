#!/bin/sh
# In-guest side of make integration-balloon's second VM (bal2): keeps a 16 MiB workload
# (random data in tmpfs, its md5 taken), says it is ready, and waits for a line on its
# console: the test types it after Keel swapped most of the VM out (`vm swap bal2 ...`), so
# the md5 taken then reads the workload back from Keel's swap; fresh memory is written and
# read after it (pages Keel shared with bal1 are copied on those writes).
. /keel/lib.sh

dd if=/dev/urandom of=/tmp/work bs=1M count=16 2>/dev/null
sum0=$(md5sum </tmp/work | cut -c1-32)
echo "share-check: ready, workload md5 $sum0"
# what is printed while the test is attached has no "[bal2] " before it: wait until it left
if read -t 1800 line; then
	sleep 5
	pass "the test's line came: $line"
else
	fail "no line on the console in 1800 s"
fi
sum1=$(md5sum </tmp/work | cut -c1-32)
[ "$sum1" = "$sum0" ] && pass "workload intact after Keel swapped the VM out (md5 $sum1)" ||
	fail "workload md5 changed after the swap-out ($sum0 -> $sum1)"
dd if=/dev/urandom of=/tmp/again bs=1M count=8 2>/dev/null
s1=$(md5sum </tmp/again | cut -c1-32)
s2=$(md5sum </tmp/again | cut -c1-32)
[ "$s1" = "$s2" ] && pass "8 MiB written after the swap-in read back the same" ||
	fail "8 MiB written after the swap-in read back different ($s1, $s2)"
rm -f /tmp/again
echo "share-check: done"
finish
