#!/bin/sh
# In-guest check of Keel's virtio-net and virtual switch with Debian's virtio_net: the
# interface is virtio-net with Keel's MAC and an address (keel.ip=, set by /init), the peer
# (keel.peer=) answers ping, a forged source MAC gets nothing through the switch, and
# keel.net_mib= MiB of random data go over TCP with busybox nc (keel.net_role=send to the
# peer's port 5001, or =recv), both ends printing the md5 for make check-net to compare.
# PASS:/FAIL: lines, a summary line, exit status 0 iff none failed.
. /keel/lib.sh
role= peer= mib=16 gw= fetch=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	keel.net_role=*) role=${arg#keel.net_role=} ;;
	keel.peer=*) peer=${arg#keel.peer=} ;;
	keel.net_mib=*) mib=${arg#keel.net_mib=} ;;
	keel.gw=*) gw=${arg#keel.gw=} ;;
	keel.fetch=*) fetch=${arg#keel.fetch=} ;;
	esac
done
bytes=$((mib * 1048576))

dev=
for d in /sys/class/net/*; do
	[ "$(cat "$d/type" 2>/dev/null)" = 1 ] && { dev=$(basename "$d"); break; }
done
if [ -z "$dev" ]; then
	fail "no Ethernet interface (virtio_net did not bind)"
	finish
fi
mac=$(cat /sys/class/net/$dev/address)
drv=$(basename "$(readlink /sys/class/net/$dev/device/driver)")
[ "$drv" = virtio_net ] && pass "$dev is virtio-net ($drv), MAC $mac" ||
	fail "$dev's driver is '$drv', not virtio_net"
case "$mac" in
52:54:00:*) pass "the MAC is Keel's (52:54:00, from the VM's name)" ;;
*) fail "MAC $mac is not one Keel gives" ;;
esac
addr=$(ip -4 addr show dev "$dev" | sed -n 's/.*inet \([0-9.\/]*\).*/\1/p')
[ -n "$addr" ] && pass "$dev has address $addr" || fail "$dev has no IPv4 address"
[ "$(cat /sys/class/net/$dev/carrier 2>/dev/null)" = 1 ] && pass "link up (VIRTIO_NET_S_LINK_UP)" ||
	fail "no carrier on $dev"

if [ "$role" = send ]; then
	# made while the peer boots
	dd if=/dev/urandom of=/tmp/data bs=1048576 count="$mib" 2>/dev/null
	sum=$(md5sum </tmp/data | cut -c1-32)
	echo "net-check: sending $(wc -c </tmp/data) bytes, md5 $sum"
fi

# the peer boots at the same time: up to 5 minutes of guest time for its first answer
i=0
until ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -ge 300 ]; then
		fail "no answer from $peer"
		finish
	fi
done
pass "$peer answers ping"
out=$(ping -c 5 "$peer" 2>&1)
echo "$out" | sed -n 's/^/net-check: /; /transmitted\|min\//p'
echo "$out" | grep -q "5 packets received" && pass "5 of 5 pings to $peer answered" ||
	fail "ping $peer: $(echo "$out" | grep transmitted)"

if [ "$role" = send ]; then
	# a VM cannot send with a MAC not its own: the switch drops every such frame
	ip link set dev "$dev" address 52:54:00:de:ad:01 &&
		ip neigh flush dev "$dev" >/dev/null 2>&1
	if ping -c 2 -W 1 "$peer" >/dev/null 2>&1; then
		fail "with a forged source MAC, $peer still answered"
	else
		pass "with a forged source MAC nothing reaches $peer"
	fi
	ip link set dev "$dev" address "$mac"
	ip neigh flush dev "$dev" >/dev/null 2>&1
	ping -c 1 -W 2 "$peer" >/dev/null 2>&1 && pass "with its own MAC again, $peer answers" ||
		fail "no answer from $peer after the MAC was restored"

	start=$(date +%s)
	tries=0
	until nc "$peer" 5001 </tmp/data; do
		tries=$((tries + 1))
		[ $tries -ge 120 ] && break
		sleep 1
	done
	secs=$(($(date +%s) - start))
	if [ $tries -lt 120 ]; then
		pass "$mib MiB sent to $peer over TCP with nc ($secs s of guest time)"
	else
		fail "nc could not connect to $peer:5001"
	fi
elif [ "$role" = recv ]; then
	# nc ends when the sender closes; its stdin is a FIFO held open so that it does not
	# close its own side first
	mkfifo /tmp/hold
	nc -l -p 5001 </tmp/hold >/tmp/recv &
	ncpid=$!
	exec 3>/tmp/hold
	(sleep 900 && kill $ncpid 2>/dev/null) &
	watchdog=$!
	wait $ncpid
	kill $watchdog 2>/dev/null
	exec 3>&-
	got=$(wc -c </tmp/recv)
	echo "net-check: received $got bytes, md5 $(md5sum </tmp/recv | cut -c1-32)"
	[ "$got" = "$bytes" ] && pass "$mib MiB received from $peer over TCP with nc" ||
		fail "received $got bytes from $peer, not $bytes"
fi
# keel.gw=: Keel's gateway for the VMs answers ping; keel.fetch=URL: a file from outside
# (the development machine, through Keel's address translation, its NIC and Bochs' slirp)
if [ -n "$gw" ]; then
	ping -c 3 -W 2 "$gw" >/dev/null 2>&1 && pass "the gateway $gw answers ping" ||
		fail "no answer from the gateway $gw"
fi
if [ -n "$fetch" ]; then
	# HTTP/1.0 GET with nc: busybox-static's wget crashes in static glibc's resolver
	hostport=${fetch#http://}
	path=/${hostport#*/}
	hostport=${hostport%%/*}
	host=${hostport%:*} port=${hostport##*:}
	ip route | sed 's/^/net-check: route /'
	tries=0 len=
	while [ $tries -lt 5 ]; do
		printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$hostport" |
			nc "$host" "$port" >/tmp/resp 2>/tmp/nc.err
		len=$(head -c 4096 /tmp/resp | tr -d '\r' | sed -n 's/^Content-Length: *\([0-9]*\).*/\1/p' | head -n 1)
		head -n 1 /tmp/resp | tr -d '\r' | sed 's/^/net-check: http: /'
		[ -n "$len" ] && break
		sed 's/^/net-check: nc: /' /tmp/nc.err
		tries=$((tries + 1))
		sleep 2
	done
	if [ -n "$len" ]; then
		tail -c "$len" /tmp/resp >/tmp/fetched
		echo "net-check: fetched $(wc -c </tmp/fetched) bytes, md5 $(md5sum </tmp/fetched | cut -c1-32)"
		pass "fetched $fetch through Keel's gateway"
	else
		fail "could not fetch $fetch"
	fi
fi
grep "$dev" /proc/interrupts | sed 's/^/net-check: irq /'
finish
