# Build rules for the Linux guest image and its native checks, included from the top-level
# Makefile, which sets BUILD. None of this is part of `make test` yet. Every private
# variable starts with LX_.
#
#   make linux-image          build/linux/vmlinuz + initramfs.cpio.gz (Debian packages only)
#   make linux-qemu-check     boot that image under QEMU TCG, as QEMU's own -kernel does it
#   make linux-loader-check   boot it through Keel's loader (guests/loader/linux.c), run
#                             natively by mbboot, a multiboot kernel, under QEMU TCG

LX_OUT := $(BUILD)/linux
LINUX_IMAGE := $(LX_OUT)/vmlinuz $(LX_OUT)/initramfs.cpio.gz

.PHONY: linux-image linux-qemu-check linux-loader-check
linux-image: $(LINUX_IMAGE)

$(LINUX_IMAGE) &: guests/linux/build-image guests/linux/init $(wildcard guests/linux/keel/*)
	guests/linux/build-image $(LX_OUT)

linux-qemu-check: $(LINUX_IMAGE)
	guests/linux/qemu-check $(LX_OUT)

linux-loader-check: $(LINUX_IMAGE) $(LX_OUT)/mbboot.elf
	guests/linux/qemu-check --loader $(LX_OUT)/mbboot.elf $(LX_OUT)

# mbboot: 32-bit, freestanding, with the loader compiled in as it is (no copies)
LX_CFLAGS := -m32 -march=i686 -std=gnu11 -ffreestanding -fno-pic -fno-stack-protector \
	-nostdlib -O2 -Wall -Wextra -Werror -mgeneral-regs-only -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -fcf-protection=none -MMD -MP
LX_LDFLAGS := -m elf_i386 -T guests/linux/mbboot/link.ld -nostdlib -z max-page-size=0x1000 \
	-z noexecstack
LX_LDFLAGS += $(shell ld --help 2>/dev/null | grep -q no-warn-rwx-segments && \
	echo --no-warn-rwx-segments)
LX_OBJS := $(LX_OUT)/mbboot/entry.o $(LX_OUT)/mbboot/mbboot.o $(LX_OUT)/mbboot/linux.o

$(LX_OUT)/mbboot/entry.o: guests/linux/mbboot/entry.S guests/linux/linux.mk
	@mkdir -p $(@D)
	@echo "  AS      $<"
	@$(CC) -m32 -fno-pic -MMD -MP -c $< -o $@

$(LX_OUT)/mbboot/mbboot.o: guests/linux/mbboot/mbboot.c guests/linux/linux.mk
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(LX_CFLAGS) -c $< -o $@

$(LX_OUT)/mbboot/linux.o: guests/loader/linux.c guests/linux/linux.mk
	@mkdir -p $(@D)
	@echo "  CC      $< (32-bit, for mbboot)"
	@$(CC) $(LX_CFLAGS) -c $< -o $@

$(LX_OUT)/mbboot.elf: $(LX_OBJS) guests/linux/mbboot/link.ld
	@echo "  LD      $@"
	@ld $(LX_LDFLAGS) -o $@ $(LX_OBJS)

-include $(LX_OBJS:.o=.d)

# make check-devices: Linux VMs on their disks (guests/linux/devices.cfg): Keel's emulated
# IDE disk and virtio-blk, each formatted, filled, checked and timed from inside the guest;
# two more on partitions of a fresh machine disk image write files that a second run
# (devices-again.cfg, a new Bochs on the same image) reads back. Then check-virtio (MSI-X,
# INTx, a read-only disk, the printer port) and check-dedicated-linux (the real COM2).
INTEGRATION_COUNTS += devices devices-again virtio-linux linux-dedicated
DEVICES_DISK := $(BUILD)/devices-disk.img
$(BUILD)/check-devices.iso: $(BUILD)/keel.elf guests/linux/devices.cfg $(LINUX_IMAGE) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/linux/devices.cfg -a "on_idle=shutdown" \
		$(LINUX_IMAGE)
$(BUILD)/check-devices-again.iso: $(BUILD)/keel.elf guests/linux/devices-again.cfg $(LINUX_IMAGE) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/linux/devices-again.cfg -a "on_idle=shutdown" \
		$(LINUX_IMAGE)

.PHONY: check-devices integration-devices integration-devices-again
check-devices: integration-devices integration-devices-again integration-virtio-linux \
	integration-linux-dedicated
integration-devices: $(BUILD)/check-devices.iso scripts/mkdisk
	@scripts/deps build
	scripts/mkdisk $(DEVICES_DISK)
	tests/integration/run $< --name devices --timeout 1800 --mem 768 --disk $(DEVICES_DISK) \
		--config guests/linux/devices.cfg --expect-file guests/linux/devices.expect
integration-devices-again: $(BUILD)/check-devices-again.iso integration-devices
	tests/integration/run $< --name devices-again --timeout 1200 --mem 512 --disk $(DEVICES_DISK) \
		--config guests/linux/devices-again.cfg --expect-file guests/linux/devices-again.expect
