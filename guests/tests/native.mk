# The paging guests, the realmode guest and those with CPU-feature SKIPs without Keel (issues
# 4 and 19): scripts/native-guests
# boots them natively in the same Bochs, one after another in one run, and
# scripts/compare-verdicts holds each check's verdict under Keel to the native one. Also the shadow-paging run of the same guests
# (paging-shadow.cfg), off until Keel has shadow paging. Included from the top-level
# Makefile after tests.mk (PAGING_GUESTS); private variables start with NG_.

# the guests compared with native: the paging guests and the real-mode guest check by check;
# cr, msr and longmode only in which checks they skip (they have checks that only run under
# Keel): Keel must not hide a CPU feature they would test
NATIVE_SKIP_GUESTS := cr msr longmode
NATIVE_GUESTS := $(PAGING_GUESTS) realmode $(NATIVE_SKIP_GUESTS)
NATIVE_GUESTS += singlestep
NG_ELFS := $(NATIVE_GUESTS:%=$(BUILD)/guests/%.elf)
NG_PAGING_ELFS := $(PAGING_GUESTS:%=$(BUILD)/guests/%.elf)
NG_LOG := $(BUILD)/results/native-guests.serial.log

# The Keel runs compared with native: integration-guests (tests.cfg: paging = ept), and an
# integration-guests-shadow (the whole test ISO switched to shadow paging, same VM names)
# when `make integration` has one.
PAGING_KEEL_LOGS := $(BUILD)/results/guests.serial.log
ifneq ($(filter guests-shadow,$(INTEGRATION_COUNTS)),)
PAGING_KEEL_LOGS += $(BUILD)/results/guests-shadow.serial.log
endif
# 1 to boot paging-shadow.cfg (just the paging guests, as <name>-shadow with paging = shadow)
# in `make integration` (and so `make test`) and compare that run with native as well.
PAGING_SHADOW ?= 0
ifeq ($(PAGING_SHADOW),1)
INTEGRATION_COUNTS += paging-shadow
PAGING_KEEL_LOGS += $(BUILD)/results/paging-shadow.serial.log
endif

.PHONY: native-guests test-paging-native integration-paging-shadow

native-guests: $(NG_ELFS)
	scripts/native-guests --serial $(NG_LOG) $(NG_ELFS)

# Compares with the logs the Keel runs left behind, so it runs after them (make test does).
# A native run that went wrong (its status) is one more failure of the comparison.
test-paging-native: $(NG_ELFS)
	rc=0; scripts/native-guests --serial $(NG_LOG) $(NG_ELFS) || rc=$$?; \
	scripts/compare-verdicts --counts $(BUILD)/results/paging-native.counts \
		--native-status $$rc $(NATIVE_SKIP_GUESTS:%=--skips-only %) $(NG_LOG) $(PAGING_KEEL_LOGS)

$(BUILD)/paging-shadow.iso: $(BUILD)/keel.elf guests/tests/paging-shadow.cfg $(NG_PAGING_ELFS) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/paging-shadow.cfg \
		-a "on_idle=shutdown" $(NG_PAGING_ELFS)

integration-paging-shadow: $(BUILD)/paging-shadow.iso
	tests/integration/run $< --name paging-shadow --timeout 300 --config guests/tests/paging-shadow.cfg
