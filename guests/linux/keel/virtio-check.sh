#!/bin/sh
# In-guest check of Keel's virtio-pci devices with Debian's own modules: virtio_pci,
# virtio_blk and virtio_console load and bind; /dev/vda takes a 1 MiB pattern and gives it
# back, gets an ext2 file system that survives a remount (or, with keel.disk_ro=1, refuses
# writes); interrupts arrive by MSI-X, or by INTx through the IOAPIC with pci=nomsi; with
# keel.printer=1 a job goes to the virtio port named "printer". PASS:/FAIL: lines, a summary
# line, exit status 0 iff none failed (the format of linux-check.sh).
. /keel/lib.sh
ro=0 printer=0 intx=0
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	keel.disk_ro=1) ro=1 ;;
	keel.printer=1) printer=1 ;;
	pci=nomsi) intx=1 ;;
	esac
done

for m in virtio_pci virtio_blk virtio_console; do
	if modprobe "$m"; then pass "modprobe $m"; else fail "modprobe $m"; fi
done
sleep 1
for d in /sys/bus/virtio/devices/*; do
	[ -e "$d" ] || continue
	echo "virtio-check: $(basename "$d"): device $(cat "$d/device"), driver $(basename "$(readlink "$d/driver")")"
done
if [ "$(cat /sys/bus/virtio/devices/*/device 2>/dev/null | grep -c 0x0002)" = 1 ] &&
	[ -e /sys/bus/virtio/drivers/virtio_blk/virtio0 ]; then
	pass "virtio-blk bound to virtio_blk"
else
	fail "no virtio-blk device bound to virtio_blk"
fi
grep virtio /proc/interrupts | sed 's/^/virtio-check: irq /'

# ---- the disk ----
if [ ! -b /dev/vda ]; then
	fail "no /dev/vda"
	finish
fi
sectors=$(cat /sys/block/vda/size)
echo "virtio-check: /dev/vda: $sectors sectors, ro=$(cat /sys/block/vda/ro)"
dd if=/dev/urandom of=/tmp/pattern bs=4096 count=256 2>/dev/null
if [ "$ro" = 1 ]; then
	[ "$(cat /sys/block/vda/ro)" = 1 ] && pass "/dev/vda is read-only (VIRTIO_BLK_F_RO)" ||
		fail "/dev/vda is writable on a read-only disk"
	if dd if=/tmp/pattern of=/dev/vda bs=4096 seek=8 conv=fsync 2>/dev/null; then
		fail "a write to the read-only /dev/vda succeeded"
	else
		pass "a write to the read-only /dev/vda is refused"
	fi
	dd if=/dev/vda of=/tmp/back bs=4096 count=256 2>/dev/null && [ "$(wc -c </tmp/back)" = 1048576 ] &&
		pass "1 MiB read from the read-only disk" || fail "read from the read-only disk"
else
	dd if=/tmp/pattern of=/dev/vda bs=4096 seek=8 conv=fsync 2>/dev/null || fail "write /dev/vda"
	blockdev --flushbufs /dev/vda
	echo 3 >/proc/sys/vm/drop_caches
	dd if=/dev/vda of=/tmp/back bs=4096 skip=8 count=256 2>/dev/null || fail "read /dev/vda"
	if cmp -s /tmp/pattern /tmp/back; then
		pass "1 MiB pattern written to /dev/vda and read back ($(md5sum </tmp/back | cut -c1-32))"
	else
		fail "the pattern read back from /dev/vda differs"
	fi
	if mke2fs -q /dev/vda >/dev/null 2>&1 && mkdir -p /mnt && mount -t ext2 /dev/vda /mnt &&
		echo "keel virtio file" >/mnt/hello && umount /mnt && mount -t ext2 /dev/vda /mnt &&
		[ "$(cat /mnt/hello)" = "keel virtio file" ] && umount /mnt; then
		pass "ext2 made on /dev/vda, a file written, remounted and read back"
	else
		fail "ext2 on /dev/vda"
	fi
fi
if dd if=/dev/vda of=/dev/null bs=512 skip=$((sectors - 1)) count=1 2>/dev/null; then
	pass "the last sector reads"
else
	fail "the last sector"
fi

# ---- interrupts ----
req=$(grep -E 'virtio0' /proc/interrupts | head -n1)
count=$(echo "$req" | awk '{ print $2 }')
if [ "$intx" = 1 ]; then
	echo "$req" | grep -q IO-APIC && [ "${count:-0}" -gt 0 ] &&
		pass "virtio-blk interrupts by INTx through the IOAPIC ($count)" ||
		fail "virtio-blk INTx: $req"
else
	[ "$(grep -c 'PCI-MSI.*virtio0' /proc/interrupts)" -ge 2 ] &&
		pass "virtio-blk on MSI-X (config and queue vectors)" || fail "virtio-blk MSI-X: $req"
fi

# ---- the printer port ----
if [ "$printer" = 1 ]; then
	port=
	for p in /sys/class/virtio-ports/*; do
		[ "$(cat "$p/name" 2>/dev/null)" = printer ] && port=/dev/$(basename "$p")
	done
	if [ -n "$port" ] && printf 'KEEL PRINTER JOB 1\n\f' >"$port"; then
		pass "a job written to the virtio port named printer ($port)"
	else
		fail "no virtio port named printer, or it refused the job"
	fi
fi
finish
