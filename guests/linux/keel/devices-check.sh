#!/bin/sh
# make check-devices' in-guest check: the VM's disk (keel.disk=ide: Keel's emulated IDE disk
# through libata's pata_legacy as /dev/sda; keel.disk=virtio: virtio-blk as /dev/vda) of
# keel.disk_mib MiB is there with the size the config gave it, takes raw writes and reads
# them back, is formatted with busybox's mke2fs, mounted, filled with files whose checksums
# are checked after a remount; then 16 MiB are written and read with dd (direct I/O) and
# the rates are printed in guest time (TSC ticks / the TSC rate of CPUID leaf 0x15).
# PASS:/FAIL:/SKIP: lines, then the sum; exit status 0 iff none failed.
. /keel/lib.sh

model=ide mib=16
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	keel.disk=*) model=${arg#keel.disk=} ;;
	keel.disk_mib=*) mib=${arg#keel.disk_mib=} ;;
	esac
done
case "$model" in
ide) dev=sda other=vda ;;
virtio) dev=vda other=sda ;;
*)
	fail "keel.disk=$model: want ide or virtio"
	dev=
	;;
esac

# ---- guest time: the TSC (MSR 0x10 through the msr driver) and its rate (CPUID 0x15) ----
modprobe msr 2>/dev/null
modprobe cpuid 2>/dev/null
tsc() {
	dd if=/dev/cpu/0/msr bs=8 count=1 iflag=skip_bytes skip=16 2>/dev/null | od -An -tu8 | tr -d ' '
}
# CPUID leaf 0x15: EAX/EBX is the TSC/crystal ratio, ECX the crystal's Hz
set -- $(dd if=/dev/cpu/0/cpuid bs=16 count=1 iflag=skip_bytes skip=21 2>/dev/null | od -An -tu4)
tsc_hz=0
[ "${1:-0}" -gt 0 ] && [ "${3:-0}" -gt 0 ] && tsc_hz=$(($3 * $2 / $1))
if [ "$tsc_hz" -gt 0 ] && [ -n "$(tsc)" ]; then
	echo "keel-devices: guest TSC rate $tsc_hz Hz (CPUID 0x15)"
else
	echo "keel-devices: no TSC rate or TSC reading: rates are not measured"
	tsc_hz=0
fi

# rate BYTES TICKS: MB/s (MiB) with one decimal
rate() {
	t=$(($1 * 10 * tsc_hz / ($2 * 1048576)))
	echo "$((t / 10)).$((t % 10))"
}
# usec TICKS N: microseconds per one of N, with one decimal
usec() {
	t=$(($1 * 10000000 / $2 / tsc_hz))
	echo "$((t / 10)).$((t % 10))"
}

# timed: runs "$@" and leaves its TSC ticks in $ticks
timed() {
	t0=$(tsc)
	"$@"
	status=$?
	t1=$(tsc)
	ticks=$((t1 - t0))
	return $status
}

disk_checks() {
	d=/dev/$dev
	sectors=$(cat /sys/block/$dev/size)
	if [ "$sectors" = $((mib * 2048)) ]; then
		pass "$d has $sectors sectors ($mib MiB, as configured)"
	else
		fail "$d has $sectors sectors, want $((mib * 2048))"
	fi
	if [ "$model" = ide ]; then
		m=$(sed 's/ *$//' /sys/block/$dev/device/model 2>/dev/null)
		path=$(readlink -f /sys/block/$dev)
		case "$m:$path" in
		"Keel IDE disk"*:*pata_legacy*) pass "$d is Keel's IDE disk ('$m') on pata_legacy" ;;
		*) fail "$d is '$m' at $path, not Keel's IDE disk on pata_legacy" ;;
		esac
		if dmesg | grep -q 'ata[0-9]*\.00: configured for PIO'; then
			pass "libata configured the disk for PIO ($(dmesg | sed -n 's/.*\(ata[0-9]*\.00: configured for [^ ]*\).*/\1/p' | head -n1))"
		else
			fail "libata never configured a transfer mode"
		fi
	fi

	# raw sectors: 1 MiB of random data 3 MiB into the disk, past the page cache both ways
	dd if=/dev/urandom of=/tmp/raw bs=1048576 count=1 2>/dev/null
	want=$(md5sum </tmp/raw | cut -d' ' -f1)
	dd if=/tmp/raw of=$d bs=65536 seek=48 oflag=direct conv=fsync 2>/dev/null
	got=$(dd if=$d bs=65536 skip=48 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then
		pass "1 MiB of raw sectors written and read back (md5 $want)"
	else
		fail "raw sectors: read back md5 $got, wrote $want"
	fi
	# the last sector exists, the one after it does not
	if dd if=$d of=/dev/null bs=512 skip=$((sectors - 1)) count=1 iflag=direct 2>/dev/null &&
		[ "$(dd if=$d bs=512 skip=$sectors count=1 iflag=direct 2>/dev/null | wc -c)" = 0 ]; then
		pass "the last sector reads, none past it"
	else
		fail "reading the last sector or past it misbehaved"
	fi

	# a file system: mke2fs, files, remount, checksums
	mkdir -p /mnt
	if mke2fs -F $d >/tmp/mkfs.log 2>&1 && mount -t ext2 $d /mnt; then
		pass "mke2fs $d and mount as ext2"
	else
		fail "mke2fs or mount of $d: $(tail -n 2 /tmp/mkfs.log)"
		return
	fi
	for i in 1 2 3 4 5 6 7 8; do
		dd if=/dev/urandom of=/mnt/f$i bs=4096 count=$((i * 16)) 2>/dev/null
	done
	cp /tmp/raw /mnt/big
	mkdir -p /mnt/dir/sub
	echo "keel was here" >/mnt/dir/sub/note
	(cd /mnt && md5sum f1 f2 f3 f4 f5 f6 f7 f8 big dir/sub/note) >/tmp/sums
	umount /mnt
	# the page cache of the file system is gone with it: the next reads come from the disk
	echo 3 >/proc/sys/vm/drop_caches
	if mount -t ext2 $d /mnt && (cd /mnt && md5sum -c /tmp/sums >/tmp/sums.out 2>&1); then
		pass "10 files ($(du -sk /mnt | cut -f1) KiB) read back after a remount, checksums match"
	else
		fail "files after the remount: $(grep -v ': OK' /tmp/sums.out | head -n 3)"
	fi
	umount /mnt 2>/dev/null

	# throughput and latency (the last: they overwrite the file system)
	[ "$tsc_hz" -gt 0 ] || return
	if timed dd if=/dev/zero of=$d bs=1048576 count=16 oflag=direct conv=fsync 2>/dev/null; then
		w=$ticks
		pass "dd wrote 16 MiB to $d"
	else
		fail "dd of 16 MiB to $d"
		return
	fi
	if timed dd if=$d of=/dev/null bs=1048576 count=16 iflag=direct 2>/dev/null; then
		r=$ticks
		pass "dd read 16 MiB from $d"
	else
		fail "dd of 16 MiB from $d"
		return
	fi
	timed dd if=$d of=/dev/null bs=4096 count=256 iflag=direct 2>/dev/null
	lat_r=$ticks
	timed dd if=/dev/zero of=$d bs=4096 count=256 oflag=direct 2>/dev/null
	lat_w=$ticks
	timed dd if=$d of=/dev/null bs=512 count=256 iflag=direct 2>/dev/null
	lat_s=$ticks
	echo "keel-devices: $model write 16 MiB: $w ticks, $(rate 16777216 $w) MB/s"
	echo "keel-devices: $model read 16 MiB: $r ticks, $(rate 16777216 $r) MB/s"
	echo "keel-devices: $model 4 KiB direct read: $(usec $lat_r 256) us per request (256 requests)"
	echo "keel-devices: $model 4 KiB direct write: $(usec $lat_w 256) us per request (256 requests)"
	echo "keel-devices: $model 512 B direct read: $(usec $lat_s 256) us per request (256 requests)"
}

if [ -n "$dev" ]; then
	if wait_block /dev/$dev; then
		disk_checks
	elif [ "$model" = virtio ]; then
		echo "SKIP: no /dev/vda: this Keel has no virtio-blk disk yet (disk_model = virtio)"
	else
		fail "no /dev/$dev after 20 s: the $model disk never appeared"
	fi
	# the one disk of the config, in the model it names: not the other
	if [ -b /dev/$other ]; then
		fail "/dev/$other exists too: this VM's disk model is $model only"
	else
		pass "no /dev/$other: the VM has only the $model disk its config names"
	fi
fi
if dmesg | grep -E 'ata[0-9.]*: .*(timeout|failed|exception Emask|lost interrupt)' >/tmp/ata-errors; then
	fail "libata reported errors: $(head -n 2 /tmp/ata-errors)"
fi

finish
