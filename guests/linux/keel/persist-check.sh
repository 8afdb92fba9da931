#!/bin/sh
# make check-devices' persistence check on a partition of the machine's disk: with
# keel.persist=write (the first boot on a fresh image) the disk must hold no file system yet;
# it gets one, with files and their checksums, and the VM powers off. With
# keel.persist=verify (a new Bochs run on the same image) the files must be there, written by
# the earlier boot, with every checksum right. keel.disk=ide|virtio names the disk.
. /keel/lib.sh

phase= model=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	keel.persist=*) phase=${arg#keel.persist=} ;;
	keel.disk=*) model=${arg#keel.disk=} ;;
	esac
done
case "$model" in
ide) d=/dev/sda ;;
virtio) d=/dev/vda ;;
*)
	fail "keel.disk=$model: want ide or virtio"
	finish
	;;
esac
wait_block $d || {
	fail "no $d after 20 s"
	finish
}
mkdir -p /mnt
case "$phase" in
write)
	if mount -t ext2 -o ro $d /mnt 2>/dev/null; then
		fail "$d already holds a file system: the image is not fresh"
		umount /mnt
		finish
	fi
	pass "$d holds no file system yet (a fresh partition)"
	if mke2fs -F $d >/tmp/mkfs.log 2>&1 && mount -t ext2 $d /mnt; then
		pass "mke2fs $d and mount"
	else
		fail "mke2fs or mount of $d: $(tail -n 2 /tmp/mkfs.log)"
		finish
	fi
	mkdir -p /mnt/keel
	for n in 1 2 3 4; do
		dd if=/dev/urandom of=/mnt/keel/f$n bs=4096 count=$((n * 32)) 2>/dev/null
	done
	echo "written by vm $(hostname) on its $model disk" >/mnt/keel/note
	(cd /mnt/keel && md5sum f1 f2 f3 f4 note) >/mnt/keel/sums
	umount /mnt && sync
	pass "files and their checksums written to $d, unmounted"
	;;
verify)
	if mount -t ext2 $d /mnt; then
		pass "$d mounts: the file system an earlier boot made"
	else
		fail "$d does not mount: nothing survived the earlier boot"
		finish
	fi
	if [ -f /mnt/keel/sums ] && (cd /mnt/keel && md5sum -c sums >/tmp/sums.out 2>&1); then
		pass "files written by an earlier boot read back, checksums match ($(wc -l </mnt/keel/sums) files)"
	else
		fail "files from the earlier boot: $(grep -v ': OK' /tmp/sums.out 2>/dev/null | head -n 3)"
	fi
	umount /mnt
	;;
*) fail "keel.persist=$phase: want write or verify" ;;
esac
finish
