# make bench (issue 5): guest workloads under native, Keel (EPT, shadow) and Linux KVM in
# the same emulator, with one report. Included from the top-level Makefile, which sets
# BUILD; every private variable starts with BN_.
#
#   make bench             every workload in every configuration (scripts/bench)
#   make bench QUICK=1     small sizes, one boot per configuration (about 9 minutes before the
#                          disk workloads, which alone took 19.5 in four configurations)
#   make bench-image       build/bench/image/{vmlinuz,initramfs.cpio.gz} only
#   make bench-micro       the exit round-trip micro-benchmark alone (also folded into bench)
# BENCH_ARGS passes more options to scripts/bench (e.g. BENCH_ARGS="--configs native,keel-ept").
# The disk workloads alone: BENCH_ARGS="--workloads diskwrite,diskread,disklat" (they run on
# partition vm1 of build/bench/disk.img, which scripts/bench builds; docs/devices.md).
# The network workloads alone: BENCH_ARGS="--workloads netsend,netrr,outsend,outrr" (a peer VM
# serving beside the bench VM, and a server outside: docs/network.md, Figures).

BN_OUT := $(BUILD)/bench
BN_PROG := $(BN_OUT)/keelbench
BENCH_IMAGE := $(BN_OUT)/image/vmlinuz $(BN_OUT)/image/initramfs.cpio.gz
BN_SRCS := $(wildcard guests/bench/*.c)
BN_CFLAGS := -std=gnu11 -static -O2 -Wall -Wextra -Werror

.PHONY: bench bench-image
bench-image: $(BENCH_IMAGE)

# static glibc: the initramfs has no libc
$(BN_PROG): $(BN_SRCS) guests/bench/bench.h bench.mk
	@mkdir -p $(@D)
	@echo "  CC      $@ (static)"
	@$(CC) $(BN_CFLAGS) -o $@ $(BN_SRCS)

$(BENCH_IMAGE) &: $(LINUX_IMAGE) $(BN_PROG) guests/bench/build-image
	guests/bench/build-image $(LX_OUT) $(BN_PROG) $(BN_OUT)/image

bench: $(BUILD)/keel.elf $(BENCH_IMAGE) $(BENCH_GUEST_ELFS)
	@scripts/deps bench
	scripts/bench $(if $(QUICK),--quick) --out $(BN_OUT) $(BENCH_ARGS)
