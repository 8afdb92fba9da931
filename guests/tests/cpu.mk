# The CPU-state promise guests of issue 19 (CPU_GUESTS, tests.mk) in an ISO of their own,
# cpu.cfg: on EPT (integration-cpu), every VM on shadow paging (integration-cpu-shadow), and
# the verdicts of CPU_NATIVE_GUESTS compared with a native run (test-cpu-native). Included
# from the top-level Makefile after tests.mk; private variables start with CG_.

INTEGRATION_COUNTS += cpu cpu-shadow

CG_ELFS := $(CPU_GUESTS:%=$(BUILD)/guests/%.elf)
CG_NATIVE_ELFS := $(CPU_NATIVE_GUESTS:%=$(BUILD)/guests/%.elf)
CG_NATIVE_LOG := $(BUILD)/results/cpu-native.serial.log
# the Keel runs compared with native (redeliver-shadow is compared with redeliver too)
CG_KEEL_LOGS := $(BUILD)/results/cpu.serial.log $(BUILD)/results/cpu-shadow.serial.log

.PHONY: integration-cpu integration-cpu-shadow test-cpu-native

$(BUILD)/test-cpu.iso: $(BUILD)/keel.elf guests/tests/cpu.cfg $(CG_ELFS) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c guests/tests/cpu.cfg -a "on_idle=shutdown" \
		$(CG_ELFS)

# redeliver-shadow is left out: on shadow paging it would be redeliver twice
$(BUILD)/cpu-shadow.cfg: guests/tests/cpu.cfg scripts/shadow-cfg
	@mkdir -p $(@D)
	scripts/shadow-cfg $< redeliver-shadow >$@

$(BUILD)/test-cpu-shadow.iso: $(BUILD)/keel.elf $(BUILD)/cpu-shadow.cfg $(CG_ELFS) scripts/mkiso
	scripts/mkiso -o $@ -k $(BUILD)/keel.elf -c $(BUILD)/cpu-shadow.cfg -a "on_idle=shutdown" \
		$(CG_ELFS)

integration-cpu: $(BUILD)/test-cpu.iso
	tests/integration/run $< --name cpu --timeout 600 --config guests/tests/cpu.cfg

integration-cpu-shadow: $(BUILD)/test-cpu-shadow.iso $(BUILD)/cpu-shadow.cfg
	tests/integration/run $< --name cpu-shadow --timeout 600 --config $(BUILD)/cpu-shadow.cfg

# Compares with the logs the Keel runs left behind, so it runs after them (make test does).
test-cpu-native: $(CG_NATIVE_ELFS)
	rc=0; scripts/native-guests --serial $(CG_NATIVE_LOG) --iso $(BUILD)/cpu-native.iso \
		$(CG_NATIVE_ELFS) || rc=$$?; \
	scripts/compare-verdicts --counts $(BUILD)/results/cpu-native.counts --native-status $$rc \
		$(CG_NATIVE_LOG) $(CG_KEEL_LOGS)
