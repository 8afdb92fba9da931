/* libFuzzer target for the keel.cfg parser: any bytes, as a boot module would hand them
 * over. Checks the parser's promises: it stays inside the input, every VM it marks valid has
 * a name, a kernel and memory in range, and the error count matches what it reported.
 * Built by `make fuzz-config`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../hypervisor/config.h"

static unsigned reports;

static void report(const char *msg)
{
	if (!msg || !*msg)
		abort();
	reports++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	/* an exact-size copy with no terminating NUL, so ASan sees any read past the end */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	reports = 0;
	config_parse(&cfg, text, size, "keel.cfg", report);
	if (cfg.nvms > CFG_MAX_VMS || cfg.nerrors != reports)
		abort();
	for (unsigned i = 0; i < cfg.nvms; i++) {
		const struct vm_config *vm = &cfg.vms[i];
		if (strnlen(vm->name, sizeof(vm->name)) == sizeof(vm->name) ||
		    strnlen(vm->cmdline, sizeof(vm->cmdline)) == sizeof(vm->cmdline) ||
		    vm->nmodules > CFG_MAX_MODULES)
			abort();
		if (vm->valid && (!vm->name[0] || !vm->kernel[0] || vm->memory_mib < 2 ||
				  vm->memory_mib > 65536 || vm->vcpus != 1))
			abort();
	}
	free(text);
	return 0;
}
