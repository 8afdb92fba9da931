# The Linux KVM peer of make bench (issue 5): Debian's own kernel as the KVM host (L1) in
# the emulator, running the Linux guest image (L2) under Debian's QEMU with kvm_intel.
# Included from the top-level Makefile, which sets BUILD. Private variables start with KV_.
#
#   make kvm-image   build/kvm/: L1's kernel and initramfs (busybox, kvm modules, QEMU
#                    microvm and its libraries), L2's probe overlay (guests/kvm/build-image)
#   make kvm-check   L2 under KVM with ept=1, then ept=0 (KVM's shadow MMU): each must
#                    print its kernel release, power off, and KVM's counters must follow
#                    (1.5-2.5 minutes each in Bochs; not part of make test)

KV_OUT := $(BUILD)/kvm
KVM_IMAGE := $(KV_OUT)/vmlinuz $(KV_OUT)/host-initramfs.cpio.gz $(KV_OUT)/l2-overlay.cpio.gz

.PHONY: kvm-image kvm-check kvm-check-ept kvm-check-shadow
kvm-image: $(KVM_IMAGE)

$(KVM_IMAGE) &: guests/kvm/build-image guests/kvm/init guests/kvm/tsc.c \
		$(wildcard guests/kvm/l2/*) $(LINUX_IMAGE)
	guests/kvm/build-image $(LX_OUT) $(KV_OUT)

# one emulator at a time, even under make -j
kvm-check: $(KVM_IMAGE)
	@$(MAKE) --no-print-directory kvm-check-ept
	@$(MAKE) --no-print-directory kvm-check-shadow

# $(call kv_check,EPT,NAME)
define kv_check
	scripts/bench-kvm --ept $(1) --out $(BUILD)/results/kvm-$(2) --script /keel/kvm-probe.sh \
		--timeout 900
	guests/kvm/check-output $(1) $(BUILD)/results/kvm-$(2)
endef

kvm-check-ept: $(KVM_IMAGE)
	$(call kv_check,1,ept)

kvm-check-shadow: $(KVM_IMAGE)
	$(call kv_check,0,shadow)
