#!/bin/sh
# make check-linux's in-guest check: the stock Debian kernel runs, knows it is virtualized
# and by whom (CPUID leaf 0x40000000 through the cpuid driver), finds the PCI host bridge,
# its memory holds 64 MiB of distinct pages, then ACPI powers the VM off. Each check prints
# PASS: or FAIL: (Keel's test verdict counts them), the last line sums them up, and the exit
# status is 0 iff none failed; init reports that status and powers off.
. /keel/lib.sh

release=$(uname -r)
case "$release" in
*-cloud-amd64) pass "Debian cloud kernel $release" ;;
*) fail "kernel $release is not Debian's cloud kernel" ;;
esac

if grep -qw hypervisor /proc/cpuinfo; then
	pass "/proc/cpuinfo has the hypervisor flag"
else
	fail "/proc/cpuinfo lacks the hypervisor flag"
fi

# /dev/cpu/0/cpuid: the file offset is the leaf; 16 bytes EAX EBX ECX EDX
modprobe cpuid 2>/dev/null
sig=$(dd if=/dev/cpu/0/cpuid bs=16 skip=$((0x40000000 / 16)) count=1 2>/dev/null |
	dd bs=1 skip=4 count=12 2>/dev/null)
if [ "$sig" = "KeelKeelKeel" ]; then
	pass "CPUID 0x40000000 says KeelKeelKeel"
else
	fail "CPUID 0x40000000 signature is '$sig'"
fi

# PCI through configuration mechanism #1: the host bridge at 00:00.0
bridge=/sys/bus/pci/devices/0000:00:00.0
if [ "$(cat $bridge/vendor 2>/dev/null)" = 0x8086 ] && [ "$(cat $bridge/class 2>/dev/null)" = 0x060000 ]; then
	pass "PCI host bridge 00:00.0 found (8086, class 060000)"
else
	fail "no PCI host bridge at 00:00.0"
fi

# 64 MiB pattern in 64 blocks, each a 61-byte line naming the block, then one random MiB:
# each block starts 61 bytes further into a 4 KiB page than the one before (61 * 64 < 4096),
# so every page differs from every other (one MiB repeated would hide two pages sharing a
# frame). The checksum is taken of the stream as it is written, then of what tmpfs (RAM)
# gives back. (64 MiB from /dev/urandom: three such VMs did not end in 10 minutes of Bochs.)
dd if=/dev/urandom of=/tmp/chunk bs=1048576 count=1 2>/dev/null
pattern() {
	for i in $(seq 64); do
		printf 'keel-check memory pattern: block %02d of 64, 61 bytes per line\n' "$i"
		cat /tmp/chunk
	done
}
want=$(pattern | tee /tmp/pattern | md5sum | cut -d' ' -f1)
got=$(md5sum </tmp/pattern | cut -d' ' -f1)
size=$(wc -c </tmp/pattern)
if [ "$size" = $((67108864 + 64 * 61)) ] && [ "$got" = "$want" ]; then
	pass "64 MiB of distinct pages written and verified in memory"
else
	fail "64 MiB pattern: $size bytes, md5 $got, want $want"
fi
rm -f /tmp/pattern /tmp/chunk

finish
