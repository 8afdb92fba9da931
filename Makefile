# Keel build: the hypervisor (build/keel.elf), the ISOs, host unit tests and the Bochs
# integration tests. `make run` boots the demo; `make test` is what CI runs.

BUILD ?= build
CC ?= gcc
HOSTCC ?= gcc
INTEGRATION_COUNTS := selftest guests guests-shadow refuse-penryn lynnfield linux fair isolation shell

HV_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-stack-protector \
	-fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only -mcmodel=small -fno-common \
	-fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
	-fno-tree-loop-distribute-patterns
HV_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -T hypervisor/keel.ld

# Pure modules: compiled into keel.elf and into the host unit tests.
PURE_SRCS := hypervisor/lib.c hypervisor/printf.c hypervisor/console.c \
	hypervisor/multiboot2.c hypervisor/config.c hypervisor/cpuid.c hypervisor/hypercall.c \
	hypervisor/sched.c hypervisor/vm.c hypervisor/shell.c hypervisor/shell_cmds.c hypervisor/shell_mem.c hypervisor/shell_net.c \
	hypervisor/shell_args.c hypervisor/vm_mem.c \
	hypervisor/platform.c hypervisor/board.c hypervisor/board_pc.c hypervisor/vm_virtio.c \
	hypervisor/emu_decode.c hypervisor/emulate.c \
	mm/frames.c mm/pt.c mm/p2m.c mm/guest_pt.c mm/shadow.c \
	devices/bus_range.c devices/io_bus.c devices/mmio_bus.c devices/uart16550.c devices/debug_exit.c \
	devices/state.c devices/acpi_tables.c devices/acpi_dsdt.c devices/aml.c devices/acpi_pm.c \
	devices/lapic.c devices/lapic_regs.c devices/lapic_state.c devices/lapic_timer.c devices/ioapic.c \
	devices/pic8259.c devices/pit8254.c devices/rtc_cmos.c devices/pvpanic.c \
	devices/pci_host.c devices/pci_func.c devices/ata.c devices/partition.c devices/machine_disk.c \
	devices/virtqueue.c devices/virtio_pci.c devices/virtio_blk.c devices/virtio_console.c \
	vmx/vmcs.c vmx/caps.c vmx/cr.c vmx/event.c vmx/guest_check.c vmx/v86.c \
	guests/loader/multiboot.c guests/loader/linux.c
PURE_SRCS += mm/dirty_log.c mm/gmem.c mm/share.c
# working-set sampling, the idle-memory tax and admission control (docs/overcommit.md)
PURE_SRCS += mm/wss.c mm/mempolicy.c
# the memory driver's decisions: free-memory states, balloon then swap (hypervisor/mem_drive.c)
PURE_SRCS += mm/reclaim.c
# ballooning: the bookkeeping and virtio-balloon
PURE_SRCS += mm/balloon.c devices/virtio_balloon.c
# hypervisor swap to the machine disk's swap partition
PURE_SRCS += mm/swap.c
PURE_SRCS += devices/blk_ram.c
# the spooled device class: the emulated LPT, the spool, the machine's parallel-port driver
PURE_SRCS += devices/lpt.c devices/spool.c devices/spool_disk.c devices/parport.c
# dedicated devices: the table, ownership, the interrupt path to the owner (pure)
PURE_SRCS += hypervisor/dedicated.c
PURE_SRCS += devices/ide.c devices/ide_cmd.c
# the VMs' network behind Keel's outside address
PURE_SRCS += net/nat.c net/router.c
# the machine's NIC (82540EM) driver
PURE_SRCS += devices/e1000.c
# Keel's own network stack (net/): Ethernet, ARP, IPv4, ICMP, UDP, DHCP
NET_SRCS := net/wire.c net/arp.c net/ipv4.c net/dhcp.c net/netcfg.c net/netstack.c net/sha256.c \
	net/ctl.c
PURE_SRCS += $(NET_SRCS)
# the VMs' network: virtio-net, the virtual switch, the VMs' ports on it
PURE_SRCS += devices/virtio_net.c devices/vswitch.c hypervisor/vm_net.c
# a VM's port forwards (ip =, fwd =) on the VMs' gateway
PURE_SRCS += hypervisor/net_fwd.c

# Hardware side: privileged instructions live only in vmx/, *_hw.c and assembly.
HW_SRCS := mm/machine_frames.c hypervisor/main.c hypervisor/vm_create.c hypervisor/trap_hw.c \
	hypervisor/uart_hw.c hypervisor/time_hw.c \
	vmx/vmx_hw.c vmx/vmcs_setup.c vmx/vcpu_state.c vmx/exit.c vmx/exit_misc.c vmx/exit_cpuid.c \
	vmx/exit_io.c vmx/exit_cr.c vmx/exit_msr.c vmx/exit_ept.c vmx/entry_fail.c vmx/fpu_hw.c \
	vmx/guest_access.c vmx/emul.c vmx/paging.c vmx/realmode.c vmx/realmode_insn.c vmx/cr_ops.c vmx/exit_exception.c
HW_SRCS += vmx/pml.c
HW_SRCS += hypervisor/vm_disk.c hypervisor/overcommit.c hypervisor/mem_drive.c hypervisor/memlog.c
HW_SRCS += devices/machine_disk_hw.c
HW_SRCS += devices/parport_hw.c
HW_SRCS += hypervisor/dedicated_hw.c
HW_SRCS += devices/e1000_hw.c
ASM_SRCS := hypervisor/boot.S hypervisor/isr.S vmx/entry.S

HV_OBJS := $(patsubst %.c,$(BUILD)/hv/%.o,$(PURE_SRCS) $(HW_SRCS)) \
	$(patsubst %.S,$(BUILD)/hv/%.o,$(ASM_SRCS))

include guests/tests/tests.mk
include guests/tests/native.mk
include guests/tests/cpu.mk
include guests/linux/linux.mk
include guests/kvm/kvm.mk
include bench.mk

FUZZERS := emulate config partition virtqueue nat net vnet balloon
# run and refusal behaviour of the runner scripts; each fuzzer's seed corpus replayed once
INTEGRATION_COUNTS += run-selftest fuzz
INTEGRATION_COUNTS += pml
# the machine's disk: Keel's ATA driver and partitions, a stamp that survives into a 2nd boot
INTEGRATION_COUNTS += disk-first disk-second
INTEGRATION_COUNTS += virtio
# a dedicated device: the real COM2 given to one VM (guests/tests/dedicated.cfg)
INTEGRATION_COUNTS += dedicated
# the spooled printers: three VMs printing at once, the spool commands in the shell
INTEGRATION_COUNTS += spool
# spool jobs kept on the disk across a Keel restart
INTEGRATION_COUNTS += spool-restart
# the VMs' network: two Linux VMs on Keel's virtual switch (make check-net)
INTEGRATION_COUNTS += net
# the outside reaches a VM's forwarded port, keelctl against Keel in Bochs (make check-net-fwd)
INTEGRATION_COUNTS += net-fwd
# two Keel hosts in two Bochs joined by bxhub (make check-net-2host)
INTEGRATION_COUNTS += net-2host

# the machine's NIC: Keel's 82540EM driver answers an ARP exchange with Bochs' slirp
INTEGRATION_COUNTS += nic
# scripts/keelctl against Keel's stack and shell on a host UDP socket (no Bochs)
INTEGRATION_COUNTS += keelctl

.PHONY: check-keelctl
.PHONY: all run run-multiboot bench-micro check-virtio test unit layers integration deps clean format iso test-iso fuzz \
	disk-image integration-disk integration-spool integration-spool-restart integration-nic $(FUZZERS:%=fuzz-%) \
	$(INTEGRATION_COUNTS:%=integration-%)
all: $(BUILD)/keel.elf $(BUILD)/test.iso

deps:
	@scripts/deps build

$(BUILD)/hv/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(HV_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/hv/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(HV_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/keel.elf: $(HV_OBJS) hypervisor/keel.ld
	@echo "  LD      $@"
	@ld $(HV_LDFLAGS) -o $@ $(HV_OBJS)
	@grub-file --is-x86-multiboot2 $@ || (echo "keel.elf is not multiboot2"; rm -f $@; exit 1)

# The demo ISO (make run: two Debian kernels with shells), the multiboot demo, and the test
# ISO (every test guest, shut down when idle).
$(BUILD)/keel.iso: $(BUILD)/keel.elf guests/linux/demo.cfg $(LINUX_IMAGE) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/linux/demo.cfg -a "net=dhcp" $(LINUX_IMAGE)

DEMO_MODULES := $(BUILD)/guests/ticker.elf $(BUILD)/guests/hello.elf guests/tests/mbdata.txt
$(BUILD)/multiboot-demo.iso: $(BUILD)/keel.elf guests/demo.cfg $(DEMO_MODULES) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/demo.cfg $(DEMO_MODULES)

$(BUILD)/test.iso: $(BUILD)/keel.elf guests/tests/tests.cfg $(TEST_GUEST_ELFS) guests/tests/mbdata.txt scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/tests.cfg -a "on_idle=shutdown test_hypercalls" \
		$(TEST_GUEST_ELFS) guests/tests/mbdata.txt

# the same guests, every one under shadow paging
$(BUILD)/tests-shadow.cfg: guests/tests/tests.cfg scripts/shadow-cfg
	@mkdir -p $(@D)
	scripts/shadow-cfg $< >$@

$(BUILD)/test-shadow.iso: $(BUILD)/keel.elf $(BUILD)/tests-shadow.cfg $(TEST_GUEST_ELFS) guests/tests/mbdata.txt scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c $(BUILD)/tests-shadow.cfg \
		-a "on_idle=shutdown test_hypercalls" $(TEST_GUEST_ELFS) guests/tests/mbdata.txt

# a CPU with EPT but no unrestricted guest: every VM falls back to shadow paging
$(BUILD)/test-lynnfield.iso: $(BUILD)/keel.elf guests/tests/lynnfield.cfg $(TEST_GUEST_ELFS) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/lynnfield.cfg \
		-a "on_idle=shutdown" $(TEST_GUEST_ELFS)

# two CPU-bound VMs (and a sleeper), so that each guest can judge its own share of the CPU
$(BUILD)/fair.iso: $(BUILD)/keel.elf guests/tests/fair.cfg $(BUILD)/guests/fair.elf $(BUILD)/guests/hlt.elf scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/fair.cfg -a "on_idle=shutdown" \
		$(BUILD)/guests/fair.elf $(BUILD)/guests/hlt.elf

# a canary VM and probe VMs that must never see its memory
$(BUILD)/isolation.iso: $(BUILD)/keel.elf guests/tests/isolation.cfg $(BUILD)/guests/isolation.elf scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/isolation.cfg -a "on_idle=shutdown" \
		$(BUILD)/guests/isolation.elf

# beating VMs that tests/integration/shell pauses, kills, resets and switches from the shell
$(BUILD)/shell.iso: $(BUILD)/keel.elf guests/tests/shell.cfg $(BUILD)/guests/beat.elf scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/shell.cfg -a "on_idle=shutdown" \
		$(BUILD)/guests/beat.elf

# three VMs printing on their LPT1 at once, and one without a printer (make integration-spool)
$(BUILD)/spool.iso: $(BUILD)/keel.elf guests/tests/spool.cfg $(BUILD)/guests/lpt.elf scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/spool.cfg -a "on_idle=shutdown" \
		$(BUILD)/guests/lpt.elf

# two VMs that print when a key reaches them, for the spool's shell commands
$(BUILD)/spool-shell.iso: $(BUILD)/keel.elf guests/tests/spool-shell.cfg $(BUILD)/guests/lpt.elf scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/spool-shell.cfg -a "on_idle=shutdown" \
		$(BUILD)/guests/lpt.elf

# the spool across a Keel restart: the same VMs with the printer paused, so their jobs stay on
# the disk's spool partition; then a boot with no printing VM, which must print them
$(BUILD)/spool-paused.iso: $(BUILD)/keel.elf guests/tests/spool.cfg $(BUILD)/guests/lpt.elf scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/spool.cfg \
		-a "on_idle=shutdown spool=paused" $(BUILD)/guests/lpt.elf
$(BUILD)/spool-restart.iso: $(BUILD)/keel.elf guests/tests/spool-restart.cfg $(BUILD)/guests/vmcall.elf scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/spool-restart.cfg -a "on_idle=shutdown" \
		$(BUILD)/guests/vmcall.elf

iso: $(BUILD)/keel.iso
test-iso: $(BUILD)/test.iso

run:
	@scripts/deps run
	@$(MAKE) --no-print-directory $(BUILD)/keel.iso $(DISK_IMAGE)
	scripts/run --interactive --disk $(DISK_IMAGE) --parport $(BUILD)/run/printer.out \
		--net slirp $(BUILD)/keel.iso

run-multiboot:
	@scripts/deps run
	@$(MAKE) --no-print-directory $(BUILD)/multiboot-demo.iso
	scripts/run --interactive $(BUILD)/multiboot-demo.iso

# Host unit tests of the pure modules, with AddressSanitizer and UBSan.
UNIT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -DKEEL_HOSTED \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
UNIT_SRCS := $(wildcard tests/unit/*.c)
$(BUILD)/unit/run-tests: $(UNIT_SRCS) $(PURE_SRCS) $(wildcard tests/unit/*.h) \
		$(wildcard */*.h */*/*.h vmx/*.def)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@ (unit tests with ASan and UBSan)"
	@$(HOSTCC) $(UNIT_CFLAGS) -o $@ $(UNIT_SRCS) $(PURE_SRCS)

unit: $(BUILD)/unit/run-tests
	@mkdir -p $(BUILD)/results
	$(BUILD)/unit/run-tests --counts $(BUILD)/results/unit.counts

# A host-side Keel on the network for scripts/keelctl: the stack and the real shell behind a
# UDP socket on 127.0.0.1 (tests/net/ctl_shim.c, run by tests/integration/keelctl)
$(BUILD)/host/ctl_shim: tests/net/ctl_shim.c $(PURE_SRCS) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(HOSTCC) $(UNIT_CFLAGS) -o $@ tests/net/ctl_shim.c $(PURE_SRCS)

# No import cycles between the hypervisor's files or folders (scripts/check-layers, over the
# symbols keel.elf's objects define and use; its self-test plants cycles it must find).
layers: $(HV_OBJS)
	@mkdir -p $(BUILD)/results
	scripts/check-layers --counts $(BUILD)/results/layers.counts $(HV_OBJS)

# libFuzzer targets (clang): `make fuzz-NAME` runs FUZZ_SECONDS from the seeds in
# tests/fuzz/corpus/NAME, keeping what it learns in build/fuzz/corpus/NAME; `make test` only
# replays the seeds (integration-fuzz).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -DKEEL_HOSTED \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_emulate_SRCS := hypervisor/emu_decode.c hypervisor/emulate.c
FUZZ_config_SRCS := hypervisor/config.c hypervisor/dedicated.c hypervisor/lib.c hypervisor/printf.c
FUZZ_partition_SRCS := devices/partition.c hypervisor/lib.c hypervisor/printf.c
FUZZ_virtqueue_SRCS := devices/virtqueue.c devices/state.c mm/gmem.c mm/p2m.c mm/pt.c \
	mm/frames.c mm/dirty_log.c hypervisor/lib.c hypervisor/printf.c hypervisor/console.c
FUZZ_vnet_SRCS := devices/virtio_net.c devices/vswitch.c devices/virtio_pci.c devices/pci_func.c \
	devices/io_bus.c devices/mmio_bus.c devices/bus_range.c \
	$(FUZZ_virtqueue_SRCS)

FUZZ_balloon_SRCS := devices/virtio_balloon.c mm/balloon.c devices/virtio_pci.c \
	devices/pci_func.c devices/io_bus.c devices/mmio_bus.c devices/bus_range.c \
	$(FUZZ_virtqueue_SRCS)

FUZZ_nat_SRCS := net/nat.c net/wire.c hypervisor/lib.c hypervisor/printf.c hypervisor/console.c
FUZZ_net_SRCS := $(NET_SRCS) hypervisor/lib.c hypervisor/printf.c hypervisor/console.c

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard hypervisor/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_$*_SRCS)

$(BUILD)/fuzz/fuzz_emulate: $(FUZZ_emulate_SRCS)
$(BUILD)/fuzz/fuzz_config: $(FUZZ_config_SRCS)
$(BUILD)/fuzz/fuzz_partition: $(FUZZ_partition_SRCS) $(wildcard devices/*.h)
$(BUILD)/fuzz/fuzz_virtqueue: $(FUZZ_virtqueue_SRCS) $(wildcard devices/*.h mm/*.h)
$(BUILD)/fuzz/fuzz_nat: $(FUZZ_nat_SRCS) $(wildcard net/*.h)
$(BUILD)/fuzz/fuzz_net: $(FUZZ_net_SRCS) $(wildcard net/*.h devices/netif.h)
$(BUILD)/fuzz/fuzz_vnet: $(FUZZ_vnet_SRCS) $(wildcard devices/*.h mm/*.h)
$(BUILD)/fuzz/fuzz_balloon: $(FUZZ_balloon_SRCS) $(wildcard devices/*.h mm/*.h)

# $(call run_fuzzer,NAME)
define run_fuzzer
	@mkdir -p $(BUILD)/fuzz/corpus/$(1) $(BUILD)/fuzz/artifacts/$(1)
	$(BUILD)/fuzz/fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/artifacts/$(1)/ \
		$(BUILD)/fuzz/corpus/$(1) tests/fuzz/corpus/$(1)
endef

fuzz-emulate: $(BUILD)/fuzz/fuzz_emulate
	$(call run_fuzzer,emulate)

fuzz-config: $(BUILD)/fuzz/fuzz_config
	$(call run_fuzzer,config)

fuzz-partition: $(BUILD)/fuzz/fuzz_partition
	$(call run_fuzzer,partition)

fuzz-virtqueue: $(BUILD)/fuzz/fuzz_virtqueue
	$(call run_fuzzer,virtqueue)

fuzz-nat: $(BUILD)/fuzz/fuzz_nat
	$(call run_fuzzer,nat)
fuzz-net: $(BUILD)/fuzz/fuzz_net
	$(call run_fuzzer,net)
fuzz-vnet: $(BUILD)/fuzz/fuzz_vnet
	$(call run_fuzzer,vnet)

fuzz-balloon: $(BUILD)/fuzz/fuzz_balloon
	$(call run_fuzzer,balloon)

fuzz: $(FUZZERS:%=fuzz-%)

# The round trip of Keel's exit paths against native, in the same emulator (issue 5's
# micro-benchmark; not part of make test).
bench-micro: $(BUILD)/keel.elf $(BENCH_GUEST_ELFS)
	@scripts/deps test
	scripts/bench-micro

# The test ISO on the default CPU, then on two CPUs Keel must refuse with a clear reason.
# Separate targets so that `make -k` runs them all even when one fails.
integration: $(INTEGRATION_COUNTS:%=integration-%)

integration-selftest:
	tests/integration/verdict_selftest --counts $(BUILD)/results/selftest.counts

integration-run-selftest:
	tests/integration/run_selftest --counts $(BUILD)/results/run-selftest.counts

# every libFuzzer target built (clang) and its seed corpus replayed once, no fuzzing
integration-fuzz: $(FUZZERS:%=$(BUILD)/fuzz/fuzz_%)
	BUILD=$(BUILD) tests/integration/fuzz-replay --counts $(BUILD)/results/fuzz.counts $(FUZZERS)

integration-guests: $(BUILD)/test.iso
	tests/integration/run $< --name guests --timeout 600 --mem 768 --config guests/tests/tests.cfg \
		--expect-file guests/tests/tests.expect

# Two stock Debian kernels at once under EPT (guests/linux/check.cfg).
$(BUILD)/check-linux.iso: $(BUILD)/keel.elf guests/linux/check.cfg $(LINUX_IMAGE) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/linux/check.cfg -a "on_idle=shutdown" \
		$(LINUX_IMAGE)

integration-linux check-linux: $(BUILD)/check-linux.iso
	tests/integration/run $< --name linux --timeout 1800 --mem 1024 \
		--config guests/linux/check.cfg --expect-file guests/linux/check.expect

# Linux under constant hypervisor swapping (guests/linux/swap.cfg), on a fresh disk image's
# swap partition; not in make test on its own (two Linux boots under swap take minutes)
$(BUILD)/check-linux-swap.iso: $(BUILD)/keel.elf guests/linux/swap.cfg $(LINUX_IMAGE) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/linux/swap.cfg \
		-a "on_idle=shutdown swap_free=65536 swap_rate=250" $(LINUX_IMAGE)

.PHONY: check-linux-swap
check-linux-swap: $(BUILD)/check-linux-swap.iso scripts/mkdisk
	@scripts/deps build
	scripts/mkdisk $(BUILD)/linux-swap-disk.img
	tests/integration/run $< --name linux-swap --timeout 1800 --mem 1024 \
		--disk $(BUILD)/linux-swap-disk.img --config guests/linux/swap.cfg \
		--expect 'keel: vm lswap-ept powered off' --expect 'keel: vm lswap-shadow powered off' \
		--expect 'keel: vm lswap-ept swap: [1-9]\d{3,} pages out, [1-9]\d{3,} in, \d+ in swap now, 0 checksum failures, 0 I/O errors' \
		--expect 'keel: vm lswap-shadow swap: [1-9]\d{3,} pages out, [1-9]\d{3,} in, \d+ in swap now, 0 checksum failures, 0 I/O errors'

# Debian's virtio modules on Keel's virtio-pci devices (not part of make test: the
# coordinator's check-devices runs it)
$(BUILD)/check-virtio.iso: $(BUILD)/keel.elf guests/linux/virtio.cfg $(LINUX_IMAGE) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/linux/virtio.cfg -a "on_idle=shutdown" \
		$(LINUX_IMAGE)

# a hostile bare-metal driver against virtio-blk (guests/tests/virtio_blk.c)
$(BUILD)/virtio-guest.iso: $(BUILD)/keel.elf guests/tests/virtio.cfg $(BUILD)/guests/virtio_blk.elf scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/virtio.cfg -a "on_idle=shutdown" \
		$(BUILD)/guests/virtio_blk.elf

integration-virtio: $(BUILD)/virtio-guest.iso
	tests/integration/run $< --name virtio --timeout 300 --config guests/tests/virtio.cfg

# ... and the job the first VM printed through its virtio port must be on the machine's printer
integration-virtio-linux check-virtio: $(BUILD)/check-virtio.iso
	@rc=0; tests/integration/run $< --name virtio-linux --timeout 1200 --mem 768 \
		--parport $(BUILD)/results/virtio-linux.parport \
		--config guests/linux/virtio.cfg --expect-file guests/linux/virtio.expect || rc=$$?; \
	c=$(BUILD)/results/virtio-linux.counts; read -r p f <$$c 2>/dev/null || { p=0; f=1; }; \
	if grep -q 'KEEL PRINTER JOB 1' $(BUILD)/results/virtio-linux.parport; then \
		echo "ok   the virtio printer port's job is on the machine's parallel port"; p=$$((p + 1)); \
	else echo "FAIL the virtio printer port's job is not on the machine's parallel port"; \
		f=$$((f + 1)); rc=1; fi; echo "$$p $$f" >$$c; exit $$rc

# Two Linux VMs with virtio-net on Keel's switch (guests/linux/net.cfg): ping, a forged MAC
# dropped, 16 MiB over TCP with nc; the md5 the sender printed must be the receiver's
$(BUILD)/check-net.iso: $(BUILD)/keel.elf guests/linux/net.cfg $(LINUX_IMAGE) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/linux/net.cfg -a "on_idle=shutdown net=dhcp" \
		$(LINUX_IMAGE)

.PHONY: check-net integration-net
# the file net1 fetches from outside: 1 MiB made afresh, served on the slirp host's port 18080
NET_WWW := $(BUILD)/results/net-www
integration-net check-net: $(BUILD)/check-net.iso
	@mkdir -p $(NET_WWW) && head -c 1048576 /dev/urandom >$(NET_WWW)/fetch.bin
	@rc=0; python3 -m http.server 18080 --bind 127.0.0.1 --directory $(NET_WWW) \
		>$(BUILD)/results/net-www.log 2>&1 & www=$$!; \
	tests/integration/run $< --name net --timeout 1500 --mem 512 --net slirp \
		--config guests/linux/net.cfg --expect-file guests/linux/net.expect || rc=$$?; \
	kill $$www 2>/dev/null; \
	c=$(BUILD)/results/net.counts; read -r p f <$$c 2>/dev/null || { p=0; f=1; }; \
	log=$(BUILD)/results/net.serial.log; \
	want="$$(wc -c <$(NET_WWW)/fetch.bin) $$(md5sum <$(NET_WWW)/fetch.bin | cut -c1-32)"; \
	fetched=$$(sed -n 's/.*\[net1\] net-check: fetched \([0-9]*\) bytes, md5 \([0-9a-f]*\).*/\1 \2/p' $$log); \
	if [ "$$fetched" = "$$want" ]; then \
		echo "ok   net1 fetched the file whole through Keel's gateway: $$want (bytes, md5)"; p=$$((p + 1)); \
	else echo "FAIL net1 fetched '$$fetched', the file is '$$want' (bytes, md5)"; \
		f=$$((f + 1)); rc=1; fi; \
	sent=$$(sed -n 's/.*\[net2\] net-check: sending \([0-9]*\) bytes, md5 \([0-9a-f]*\).*/\1 \2/p' $$log); \
	got=$$(sed -n 's/.*\[net1\] net-check: received \([0-9]*\) bytes, md5 \([0-9a-f]*\).*/\1 \2/p' $$log); \
	if [ -n "$$sent" ] && [ "$$sent" = "$$got" ]; then \
		echo "ok   net1 received what net2 sent: $$got (bytes, md5)"; p=$$((p + 1)); \
	else echo "FAIL net2 sent '$$sent' (bytes, md5), net1 received '$$got'"; \
		f=$$((f + 1)); rc=1; fi; echo "$$p $$f" >$$c; exit $$rc

# make check-net-fwd: the outside reaches a VM's port forwarded in its config (guests/linux/
# fwd.cfg): Bochs' slirp forwards two free ports of this machine to Keel's address, a TCP one
# to Keel's forward 8080 -> the VM's nc on port 80, a UDP one to Keel's control channel for
# scripts/keelctl (tests/integration/fwd-host drives both); the md5s of both ends compared
FWD_KEY := check-net-fwd-key
$(BUILD)/check-net-fwd.iso: $(BUILD)/keel.elf guests/linux/fwd.cfg $(LINUX_IMAGE) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/linux/fwd.cfg \
		-a "on_idle=shutdown net=dhcp ctl_key=$(FWD_KEY)" $(LINUX_IMAGE)

.PHONY: check-net-fwd integration-net-fwd
integration-net-fwd check-net-fwd: $(BUILD)/check-net-fwd.iso
	@mkdir -p $(BUILD)/results; r=$(BUILD)/results; log=$$r/net-fwd.serial.log; rm -f $$log; \
	set -- $$(python3 -c 'import socket as s; a=s.socket(); a.bind(("127.0.0.1",0)); \
		b=s.socket(s.AF_INET,s.SOCK_DGRAM); b.bind(("127.0.0.1",0)); \
		print(a.getsockname()[1], b.getsockname()[1])'); \
	tests/integration/fwd-host $$log $$1 $$2 $(FWD_KEY) 65536 $$r/net-fwd-host.counts \
		>$$r/net-fwd-host.log 2>&1 & host=$$!; \
	rc=0; tests/integration/run $< --name net-fwd --timeout 1500 --mem 512 --net slirp \
		--hostfwd tcp:$$1:8080 --hostfwd udp:$$2:7777 \
		--config guests/linux/fwd.cfg --expect-file guests/linux/fwd.expect || rc=$$?; \
	sleep 2; kill $$host 2>/dev/null; wait $$host; cat $$r/net-fwd-host.log; \
	c=$$r/net-fwd.counts; read -r p f <$$c 2>/dev/null || { p=0; f=1; }; \
	read -r hp hf <$$r/net-fwd-host.counts 2>/dev/null || { hp=0; hf=1; }; \
	p=$$((p + hp)); f=$$((f + hf)); [ $$hf -eq 0 ] || rc=1; \
	sent=$$(sed -n 's/^fwd-host: sent \([0-9]*\) bytes, md5 \([0-9a-f]*\).*/\1 \2/p' $$r/net-fwd-host.log); \
	got=$$(sed -n 's/.*\[fwd1\] fwd-check: received \([0-9]*\) bytes, md5 \([0-9a-f]*\).*/\1 \2/p' $$log); \
	if [ -n "$$sent" ] && [ "$$sent" = "$$got" ]; then \
		echo "ok   fwd1 received through Keel's forward what this machine sent: $$got (bytes, md5)"; \
		p=$$((p + 1)); \
	else echo "FAIL this machine sent '$$sent' (bytes, md5), fwd1 received '$$got'"; \
		f=$$((f + 1)); rc=1; fi; echo "$$p $$f" >$$c; exit $$rc

# make check-net-2host (in make test: about 3 min of wall time, two Bochs at once): Keel A and
# Keel B in two Bochs joined by bxhub (socket backend) ping each other from their shells, and
# A's VM sends 32 KiB to B's VM through B's port forward (tests/integration/two-host)
$(BUILD)/check-net-2host-a.iso: $(BUILD)/keel.elf guests/linux/2host-a.cfg $(LINUX_IMAGE) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/linux/2host-a.cfg \
		-a "on_idle=shutdown net=10.0.2.15/24,gw=10.0.2.2" $(LINUX_IMAGE)
$(BUILD)/check-net-2host-b.iso: $(BUILD)/keel.elf guests/linux/2host-b.cfg $(LINUX_IMAGE) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/linux/2host-b.cfg \
		-a "on_idle=shutdown net=10.0.2.16/24,gw=10.0.2.2" $(LINUX_IMAGE)
.PHONY: check-net-2host integration-net-2host
integration-net-2host check-net-2host: $(BUILD)/check-net-2host-a.iso $(BUILD)/check-net-2host-b.iso
	tests/integration/two-host $^

integration-refuse-penryn: $(BUILD)/test.iso
	tests/integration/run $< --name refuse-penryn --timeout 120 \
		--cpu core2_penryn_t9600 --refusal --expect 'keel: cannot run VMs: no (EPT|EFER)'

integration-lynnfield: $(BUILD)/test-lynnfield.iso
	tests/integration/run $< --name lynnfield --timeout 300 --cpu corei5_lynnfield_750 \
		--config guests/tests/lynnfield.cfg --auto-paging shadow \
		--expect 'vmx: EPT not usable \(no unrestricted guest\): every VM runs on shadow paging' \
		--expect 'keel:   real mode in virtual-8086 mode: entered [1-9]' \
		--expect 'keel: vm paging64-dirty ran \d+ cycles in \d+ entries on shadow paging, [1-9]\d* dirty-log rounds \([1-9]\d* pages\) \(write protection\)'

integration-guests-shadow: $(BUILD)/test-shadow.iso $(BUILD)/tests-shadow.cfg
	tests/integration/run $< --name guests-shadow --timeout 600 --mem 768 --config $(BUILD)/tests-shadow.cfg \
		--expect-file guests/tests/tests.expect

integration-fair: $(BUILD)/fair.iso
	tests/integration/run $< --name fair --timeout 300 --config guests/tests/fair.cfg

integration-isolation: $(BUILD)/isolation.iso
	tests/integration/run $< --name isolation --timeout 300 --config guests/tests/isolation.cfg

# the dirty log under load (guests/tests/dirty.cfg): PML on EPT with its buffer filling up,
# write protection on shadow paging, and both in turn across live paging switches
$(BUILD)/dirty.iso: $(BUILD)/keel.elf guests/tests/dirty.cfg $(BUILD)/guests/isolation.elf scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/dirty.cfg -a "on_idle=shutdown" \
		$(BUILD)/guests/isolation.elf

integration-pml: $(BUILD)/dirty.iso
	tests/integration/run $< --name pml --timeout 300 --config guests/tests/dirty.cfg \
		--expect 'keel: vm canary-pml ran \d+ cycles in \d+ entries on EPT paging, [1-9]\d* dirty-log rounds \([1-9]\d* pages\) \(PML: [1-9]\d* pages logged, [1-9]\d* PML-full exits, 0 ignored\)' \
		--expect 'keel: vm canary-wp ran \d+ cycles in \d+ entries on shadow paging, [1-9]\d* dirty-log rounds \([1-9]\d* pages\) \(write protection\)' \
		--expect 'keel: vm canary-switch ran \d+ cycles in \d+ entries on \w+ paging, [1-9]\d* live paging switches, [1-9]\d* dirty-log rounds \([1-9]\d* pages\) \(PML: [1-9]\d* pages logged, \d+ PML-full exits, 0 ignored\)'

# The machine's disk (scripts/mkdisk): a flat GPT image, partitions vm1-vm4, spool, scratch,
# swap, checkpoint. `scripts/run --disk build/disk.img` attaches it as ata0-slave; writes persist.
DISK_IMAGE := $(BUILD)/disk.img
disk-image: $(DISK_IMAGE)
$(DISK_IMAGE): scripts/mkdisk
	@scripts/deps build
	@mkdir -p $(@D)
	scripts/mkdisk $@

# Keel's ATA driver end to end (guests/tests/disk.cfg): boot 1 on a fresh image finds the
# partitions, writes a stamp to `scratch` and times raw reads and writes; boot 2, a new Bochs on
# the same image, must read that stamp back.
$(BUILD)/disk.iso: $(BUILD)/keel.elf guests/tests/disk.cfg $(BUILD)/guests/vmcall.elf scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/disk.cfg \
		-a "on_idle=shutdown disk_selftest=scratch" $(BUILD)/guests/vmcall.elf

integration-disk-first: $(BUILD)/disk.iso scripts/mkdisk
	@scripts/deps build
	@mkdir -p $(BUILD)
	scripts/mkdisk $(BUILD)/disk-test.img
	tests/integration/run $< --name disk-first --timeout 300 --disk $(BUILD)/disk-test.img \
		--config guests/tests/disk.cfg --expect-file guests/tests/disk.expect \
		--expect 'keel: disk self-test: partition scratch held no stamp' \
		--expect 'keel: disk self-test: stamp 1 written, flushed and read back'

integration-disk-second: $(BUILD)/disk.iso integration-disk-first
	tests/integration/run $< --name disk-second --timeout 300 --disk $(BUILD)/disk-test.img \
		--config guests/tests/disk.cfg --expect-file guests/tests/disk.expect \
		--expect 'keel: disk self-test: partition scratch held stamp 1 from an earlier boot' \
		--expect 'keel: disk self-test: stamp 2 written, flushed and read back'

integration-disk: integration-disk-first integration-disk-second

# Keel's driver for the machine's NIC (docs/network.md): Bochs' e1000 on slirp; at boot
# nic_selftest sends an ARP request for slirp's gateway 10.0.2.2 and must see its reply.
$(BUILD)/nic.iso: $(BUILD)/keel.elf guests/tests/nic.cfg $(BUILD)/guests/vmcall.elf scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/nic.cfg \
		-a "on_idle=shutdown nic_selftest" $(BUILD)/guests/vmcall.elf

integration-nic: $(BUILD)/nic.iso
	tests/integration/run $< --name nic --timeout 300 --net slirp --config guests/tests/nic.cfg \
		--expect 'keel: nic: 82540EM at 00:[0-9a-f]{2}\.0, BAR0 [0-9a-f]+, IRQ line \d+ \(polled\), MAC 52:54:00:12:34:56 \(EEPROM\), link up' \
		--expect 'keel: nic self-test passed: ARP reply from 10\.0\.2\.2 at ([0-9a-f]{2}:){5}[0-9a-f]{2}' \
		--expect 'keel: nic self-test passed: (\d+) of \1 ARP requests answered one by one' \
		--expect 'keel: nic counters: rx [1-9]\d* frames'
# the spooled printers: the guests' verdicts (spool-guests), then what the machine's printer
# printed, judged by tests/integration/check-spool (spool-print, its self-test first); the
# three add up in spool.counts (a part that left no counts is one failure)
SPOOL_PARTS := spool-selftest spool-guests spool-print spool-shell
integration-spool: $(BUILD)/spool.iso $(BUILD)/spool-shell.iso
	@rm -f $(SPOOL_PARTS:%=$(BUILD)/results/%.counts) $(BUILD)/results/spool.counts
	-tests/integration/check-spool --self-test --counts $(BUILD)/results/spool-selftest.counts
	-tests/integration/run $< --name spool-guests --timeout 900 --config guests/tests/spool.cfg \
		--parport $(BUILD)/results/spool.parport
	-tests/integration/check-spool --serial $(BUILD)/results/spool-guests.serial.log \
		--config guests/tests/spool.cfg --counts $(BUILD)/results/spool-print.counts \
		$(BUILD)/results/spool.parport
	-tests/integration/shell-spool $(BUILD)/spool-shell.iso --name spool-shell --timeout 600 \
		--config guests/tests/spool-shell.cfg
	@for f in $(SPOOL_PARTS:%=$(BUILD)/results/%.counts); do cat $$f 2>/dev/null || echo "0 1"; done | \
		awk '{p += $$1; f += $$2} END {print p, f > "$(BUILD)/results/spool.counts"; \
			print "integration-spool: " p " passed, " f " failed"; exit (f > 0)}'

# Jobs survive a Keel restart on the machine disk's spool partition: boot 1 (printer paused)
# queues nine jobs and prints none; boot 2, a new Bochs on the same disk image, prints them
# all, whole, in boot 1's spool order (check-spool reads both boots' logs as one)
SPOOL_RESTART_PARTS := spool-paused spool-paused-print spool-restarted spool-restarted-print
integration-spool-restart: $(BUILD)/spool-paused.iso $(BUILD)/spool-restart.iso scripts/mkdisk
	@scripts/deps build
	@rm -f $(SPOOL_RESTART_PARTS:%=$(BUILD)/results/%.counts) $(BUILD)/results/spool-restart.counts
	scripts/mkdisk $(BUILD)/spool-disk.img
	-tests/integration/run $< --name spool-paused --timeout 900 --config guests/tests/spool.cfg \
		--disk $(BUILD)/spool-disk.img --parport $(BUILD)/results/spool-paused.parport \
		--expect 'spool: printer paused from the command line'
	-tests/integration/check-spool --paused --serial $(BUILD)/results/spool-paused.serial.log \
		--config guests/tests/spool.cfg --counts $(BUILD)/results/spool-paused-print.counts \
		$(BUILD)/results/spool-paused.parport
	-tests/integration/run $(BUILD)/spool-restart.iso --name spool-restarted --timeout 600 \
		--config guests/tests/spool-restart.cfg --disk $(BUILD)/spool-disk.img \
		--parport $(BUILD)/results/spool-restarted.parport \
		--expect 'spool: partition spool: 9 jobs kept from before'
	-tests/integration/check-spool --serial $(BUILD)/results/spool-paused.serial.log \
		--serial $(BUILD)/results/spool-restarted.serial.log --config guests/tests/spool.cfg \
		--counts $(BUILD)/results/spool-restarted-print.counts $(BUILD)/results/spool-restarted.parport
	@for f in $(SPOOL_RESTART_PARTS:%=$(BUILD)/results/%.counts); do cat $$f 2>/dev/null || echo "0 1"; done | \
		awk '{p += $$1; f += $$2} END {print p, f > "$(BUILD)/results/spool-restart.counts"; \
			print "integration-spool-restart: " p " passed, " f " failed"; exit (f > 0)}'
integration-keelctl check-keelctl: $(BUILD)/host/ctl_shim
	BUILD=$(BUILD) tests/integration/keelctl --counts $(BUILD)/results/keelctl.counts

integration-shell: $(BUILD)/shell.iso
	tests/integration/shell $< --name shell --timeout 600 --config guests/tests/shell.cfg

# Two Linux VMs (guests/linux/balloon.cfg) that share pages (share_rate 2000 pages a second),
# one with virtio-balloon ballooned down by 48 MiB and back up from Keel's shell
# (tests/integration/balloon): free frames grow and shrink, pages are reported free, the
# guest's stats arrive; both are swapped out (`vm swap`) on a fresh disk's swap partition
# and their workloads' md5 stay unchanged; nonzero pages are shared between the two
INTEGRATION_COUNTS += balloon
$(BUILD)/balloon.iso: $(BUILD)/keel.elf guests/linux/balloon.cfg $(LINUX_IMAGE) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/linux/balloon.cfg \
		-a "on_idle=shutdown share_rate=2000" $(LINUX_IMAGE)
# a hostile bare-metal virtio-balloon driver (guests/tests/balloon.c): bad page numbers
# refused and counted, the device live, a page given back reads as zero
INTEGRATION_COUNTS += balloon-hostile
$(BUILD)/balloon-guest.iso: $(BUILD)/keel.elf guests/tests/balloon.cfg $(BUILD)/guests/balloon.elf scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/balloon.cfg -a "on_idle=shutdown" \
		$(BUILD)/guests/balloon.elf
.PHONY: integration-balloon integration-balloon-hostile
integration-balloon-hostile: $(BUILD)/balloon-guest.iso
	tests/integration/run $< --name balloon-hostile --timeout 300 --config guests/tests/balloon.cfg \
		--expect 'keel: vm balloon balloon: 2 pages inflated, 2 deflated \(\d+ on OOM\), 0 reported free, 9 refused, [1-9]\d* refilled on touch'
integration-balloon: $(BUILD)/balloon.iso scripts/mkdisk
	scripts/mkdisk $(BUILD)/balloon-disk.img
	tests/integration/balloon $< --name balloon --timeout 1800 --config guests/linux/balloon.cfg \
		--expect-file guests/linux/balloon.expect --disk $(BUILD)/balloon-disk.img

# The machine's COM2 (Bochs writes it to a file) dedicated to one VM, which sends a line
# through it by THR-empty interrupts; a bystander VM reads all ones there and its writes reach
# nothing (the file holds the line exactly); a second claimant and COM1 are refused.
DEDICATED_LINES := "keel-dedicated: the owner of COM2 wrote this line through IRQ 3" \
	"keel-dedicated: and this one halted between its interrupts" \
	"keel-dedicated: the owner again, after its reset"
$(BUILD)/dedicated.iso: $(BUILD)/keel.elf guests/tests/dedicated.cfg $(BUILD)/guests/dedicated.elf scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/dedicated.cfg -a "on_idle=shutdown" \
		$(BUILD)/guests/dedicated.elf

integration-dedicated: $(BUILD)/dedicated.iso
	@rm -f $(BUILD)/results/dedicated.com2
	@rc=0; tests/integration/run $< --name dedicated --timeout 400 --config guests/tests/dedicated.cfg \
		--com2 $(BUILD)/results/dedicated.com2 \
		--expect "keel\.cfg:\d+: field 'dedicate': com1 is Keel's console and cannot be dedicated" \
		--expect 'keel:   dedicated com2 \(ports 2f8-2ff, IRQ 3\): [1-9]\d* interrupts injected' \
		|| rc=$$?; \
	tests/integration/com-file --counts $(BUILD)/results/dedicated.counts \
		$(BUILD)/results/dedicated.com2 $(DEDICATED_LINES) || rc=1; exit $$rc

# The same with Linux (guests/linux/dedicated.cfg): a stock Debian kernel owns COM2 and
# writes a line to /dev/ttyS1 with its own 8250 driver; another has no COM2. For make
# check-devices; not in make test on its own.
DEDICATED_LINUX_LINE := keel-dedicated-linux: the owner of COM2 wrote this through /dev/ttyS1
$(BUILD)/check-dedicated-linux.iso: $(BUILD)/keel.elf guests/linux/dedicated.cfg $(LINUX_IMAGE) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/linux/dedicated.cfg -a "on_idle=shutdown" \
		$(LINUX_IMAGE)

.PHONY: check-dedicated-linux integration-linux-dedicated
integration-linux-dedicated check-dedicated-linux: $(BUILD)/check-dedicated-linux.iso
	@rm -f $(BUILD)/results/linux-dedicated.com2
	@rc=0; tests/integration/run $< --name linux-dedicated --timeout 1200 --mem 512 \
		--config guests/linux/dedicated.cfg --com2 $(BUILD)/results/linux-dedicated.com2 \
		--expect 'keel:   dedicated com2 \(ports 2f8-2ff, IRQ 3\): [1-9]\d* interrupts injected' \
		|| rc=$$?; \
	tests/integration/com-file --counts $(BUILD)/results/linux-dedicated.counts \
		$(BUILD)/results/linux-dedicated.com2 "$(DEDICATED_LINUX_LINE)" || rc=1; exit $$rc

# The Bochs boots run TEST_JOBS at a time (2: the machine and CI have two cores, and each
# Bochs is one thread); every run writes its own build/results/NAME.* files and make prints
# each target's output whole when it ends. The native runs compare with the Keel runs' logs,
# so they start after them. TEST_JOBS=1 runs one at a time.
TEST_JOBS ?= 2
TEST_MAKE := $(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target -k
test:
	@scripts/deps test
	@rm -f $(BUILD)/results/*.counts
	@$(MAKE) --no-print-directory unit || true
	@$(MAKE) --no-print-directory layers || true
	@$(TEST_MAKE) integration || true
	@$(TEST_MAKE) test-paging-native test-cpu-native || true
	@tests/summary $(BUILD)/results/unit.counts \
		$(INTEGRATION_COUNTS:%=$(BUILD)/results/%.counts) $(BUILD)/results/paging-native.counts \
		$(BUILD)/results/layers.counts $(BUILD)/results/cpu-native.counts

format:
	clang-format -i $$(git ls-files '*.c' '*.h' | grep -v '^guests/tests/')

clean:
	rm -rf $(BUILD)

# again at the end: a rule's prerequisites are expanded where it stands, and parts of the
# Makefile after `integration:` add to INTEGRATION_COUNTS (make test sums them all)
integration: $(INTEGRATION_COUNTS:%=integration-%)

-include $(HV_OBJS:.o=.d)

# make overcommit: identical Linux VMs at 3x or more of Keel's memory for guests, one run
# per overcommit policy, Keel's memory timeline to CSV, PNGs and a table (docs/overcommit.md).
# QUICK=1: the short run; OVERCOMMIT_ARGS="--policies all,none" picks policies.
.PHONY: overcommit
overcommit:
	@scripts/deps bench
	scripts/overcommit $(if $(QUICK),--quick) $(OVERCOMMIT_ARGS)
