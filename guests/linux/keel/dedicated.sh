#!/bin/sh
# The in-guest check of a dedicated COM2 (guests/linux/dedicated.cfg). keel.ded=owner: this
# VM owns the machine's COM2 (dedicate = com2); Linux's own 8250 driver finds a 16550A at
# 0x2f8, IRQ 3, and sends a line through /dev/ttyS1, by THR-empty interrupts that Keel
# queues to this VM (the run's check finds the line in the file Bochs writes COM2 to).
# keel.ded=other: no COM2 here: Linux's probe of its ports finds nothing, no ttyS1.
# PASS:/FAIL: lines, a last line summing them up, exit status 0 iff none failed.
. /keel/lib.sh

role=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	keel.ded=*) role=${arg#keel.ded=} ;;
	esac
done
line="keel-dedicated-linux: the owner of COM2 wrote this through /dev/ttyS1"
ttys1=$(grep '^1:' /proc/tty/driver/serial)

case "$role" in
owner)
	case "$ttys1" in
	*uart:16550A*port:000002F8*irq:3*) pass "ttyS1 is the real 16550A at 0x2f8, IRQ 3 ($ttys1)" ;;
	*) fail "ttyS1 is not a 16550A at 0x2f8, IRQ 3: $ttys1" ;;
	esac
	# held open, so that IRQ 3 stays requested and /proc/interrupts shows its count
	exec 3<>/dev/ttyS1
	if stty -F /dev/ttyS1 115200 raw -echo; then
		pass "ttyS1 set to 115200 baud, raw"
	else
		fail "stty of ttyS1 failed"
	fi
	echo "$line" >&3
	sleep 1 # the line leaves at 115200 baud: a few ms
	irqs=$(awk '$1 == "3:" { print $2 }' /proc/interrupts)
	tx=$(grep '^1:' /proc/tty/driver/serial | sed -n 's/.* tx:\([0-9]*\).*/\1/p')
	exec 3>&-
	if [ "${irqs:-0}" -gt 0 ]; then
		pass "IRQ 3 reached Linux $irqs times through Keel ($(grep ' 3:' /proc/interrupts || true))"
	else
		fail "no IRQ 3 in /proc/interrupts: $(grep ' 3:' /proc/interrupts)"
	fi
	if [ "${tx:-0}" -ge ${#line} ]; then
		pass "ttyS1 transmitted $tx bytes (the line is ${#line} and a newline)"
	else
		fail "ttyS1 transmitted ${tx:-no} bytes, the line is ${#line}"
	fi
	;;
other)
	# Linux's 8250 autoconfig read and wrote COM2's registers at boot (scratch, LCR, IER,
	# MCR loopback): nothing answered, and none of it reached the owner's device (the run's
	# check finds the owner's line alone in the COM2 file). No /dev/port in this kernel
	# (CONFIG_DEVPORT is off): the raw reads are the bare-metal guest's (dedicated.c).
	case "$ttys1" in
	*uart:unknown*) pass "no UART found at COM2 in this VM: it is another VM's ($ttys1)" ;;
	*) fail "this VM found a UART at COM2: $ttys1" ;;
	esac
	if echo X 2>/dev/null >/dev/ttyS1; then
		fail "a write to /dev/ttyS1 succeeded in this VM"
	else
		pass "/dev/ttyS1 cannot be written here (no device behind it)"
	fi
	if grep -q '^ *3:' /proc/interrupts; then
		fail "IRQ 3 is in use here: $(grep '^ *3:' /proc/interrupts)"
	else
		pass "no IRQ 3 in this VM's /proc/interrupts"
	fi
	;;
*) fail "keel.ded=$role: want owner or other" ;;
esac

finish
