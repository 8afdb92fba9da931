#!/bin/sh
# What every in-guest check shares (sourced first: . /keel/lib.sh): PASS:/FAIL: lines and
# their counts, finish (the summing line and the exit status) and wait_block.
passes=0 fails=0
pass() {
	echo "PASS: $*"
	passes=$((passes + 1))
}
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
# the verdict holds this line to the PASS/FAIL lines it saw; init reports the exit status
finish() {
	echo "keel-check: $passes passed, $fails failed; powering off through ACPI"
	[ "$fails" -eq 0 ]
	exit
}
# wait_block PATH: up to 20 s for the block device PATH to appear (drivers probe after
# modprobe returns); status 0 iff it is there
wait_block() {
	i=0
	while [ ! -b "$1" ] && [ $i -lt 20 ]; do
		sleep 1
		i=$((i + 1))
	done
	[ -b "$1" ]
}
