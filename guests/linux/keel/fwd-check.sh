#!/bin/sh
# In-guest end of a port forward (make check-net-fwd, make check-net-2host): with
# keel.fwd_role=listen the VM takes one TCP connection on keel.fwd_port= (busybox nc), which
# comes through Keel's forward from outside, and prints the size and md5 of what arrived;
# with keel.fwd_role=send it sends keel.fwd_bytes= random bytes to keel.fwd_to=HOST:PORT
# (another Keel's forward) and prints their md5. The make rule compares both ends.
# keel.fwd_wait= bounds either side in seconds of guest time (its clock runs fast while idle).
. /keel/lib.sh
role= port=80 bytes=65536 to= wait=7200
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	keel.fwd_role=*) role=${arg#keel.fwd_role=} ;;
	keel.fwd_port=*) port=${arg#keel.fwd_port=} ;;
	keel.fwd_bytes=*) bytes=${arg#keel.fwd_bytes=} ;;
	keel.fwd_to=*) to=${arg#keel.fwd_to=} ;;
	keel.fwd_wait=*) wait=${arg#keel.fwd_wait=} ;;
	esac
done
dev=
for d in /sys/class/net/*; do
	[ "$(cat "$d/type" 2>/dev/null)" = 1 ] && { dev=$(basename "$d"); break; }
done
addr=$(ip -4 addr show dev "${dev:-none}" 2>/dev/null | sed -n 's/.*inet \([0-9.\/]*\).*/\1/p')
[ -n "$addr" ] && pass "$dev has address $addr" || { fail "no interface with an address"; finish; }

if [ "$role" = listen ]; then
	# nc ends when the far end closes; its stdin is a FIFO held open so that it does not
	# close its own side first
	mkfifo /tmp/hold
	nc -l -p "$port" </tmp/hold >/tmp/recv &
	ncpid=$!
	exec 3>/tmp/hold
	echo "fwd-check: listening on tcp port $port"
	(sleep "$wait" && kill $ncpid 2>/dev/null) &
	watchdog=$!
	wait $ncpid
	kill $watchdog 2>/dev/null
	exec 3>&-
	got=$(wc -c </tmp/recv)
	echo "fwd-check: received $got bytes, md5 $(md5sum </tmp/recv | cut -c1-32)"
	[ "$got" = "$bytes" ] && pass "$bytes bytes came in through the forward to port $port" ||
		fail "received $got bytes on port $port, not $bytes"
elif [ "$role" = send ]; then
	head -c "$bytes" /dev/urandom >/tmp/data
	echo "fwd-check: sending $(wc -c </tmp/data) bytes, md5 $(md5sum </tmp/data | cut -c1-32)"
	host=${to%:*} p=${to##*:}
	# the far VM boots at the same time: try until its forward answers
	start=$(date +%s) tries=0
	until nc "$host" "$p" </tmp/data 2>/tmp/nc.err; do
		tries=$((tries + 1))
		[ $tries -ge "$wait" ] && break
		sleep 1
	done
	if [ $tries -lt "$wait" ]; then
		pass "$bytes bytes sent to $to ($(($(date +%s) - start)) s of guest time, $tries retries)"
	else
		fail "could not connect to $to: $(cat /tmp/nc.err)"
	fi
else
	fail "keel.fwd_role= must be listen or send, not '$role'"
fi
finish
