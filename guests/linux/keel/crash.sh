#!/bin/sh
# make check-linux's crash VM: the kernel panics on purpose (sysrq c). The pvpanic driver
# tells Keel, which must stop this VM with that reason while the others run on.
if [ -d /sys/bus/platform/drivers/pvpanic-mmio ]; then
	echo "PASS: the pvpanic driver is bound"
else
	echo "FAIL: no pvpanic driver"
fi
echo "EXPECT-STOP: guest kernel panicked"
echo c >/proc/sysrq-trigger
echo "FAIL: still running after the panic"
