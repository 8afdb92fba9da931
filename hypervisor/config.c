/* keel.cfg parser: line-based "key = value" in [vm] sections, '#' comments. Untrusted
 * input: bounded lengths, no number overflow, every problem reported with its line. */
#include "config.h"
#include "dedicated.h"
#include "lib.h"

#define MIN_MEMORY_MIB 2
#define MAX_MEMORY_MIB 65536
#define MAX_VCPUS      1 /* one vCPU per VM until SMP guests arrive */
#define MAX_MEM_SHARES 1000000

struct parser {
	struct config *cfg;
	const char *file;
	unsigned line;
	void (*report)(const char *msg);
	struct vm_config *vm;
};

static void error(struct parser *p, const char *field, const char *what)
{
	char msg[256];
	if (field)
		ksnprintf(msg, sizeof(msg), "%s:%u: field '%s': %s", p->file, p->line, field, what);
	else
		ksnprintf(msg, sizeof(msg), "%s:%u: %s", p->file, p->line, what);
	p->cfg->nerrors++;
	if (p->vm)
		p->vm->valid = false;
	if (p->report)
		p->report(msg);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static bool set_string(struct parser *p, const char *field, char *dst, size_t size, const char *v)
{
	if (strlen(v) >= size) {
		error(p, field, "value too long");
		return false;
	}
	kstrlcpy(dst, v, size);
	return true;
}

/* One of a fixed set of words; the message lists them. */
static bool set_choice(struct parser *p, const char *field, const char *v, const char *const *names,
		       unsigned n, unsigned *out)
{
	char msg[128];
	size_t len = 0;
	for (unsigned i = 0; i < n; i++) {
		if (names[i] && !strcmp(v, names[i])) {
			*out = i;
			return true;
		}
	}
	len += (size_t)ksnprintf(msg, sizeof(msg), "must be one of:");
	for (unsigned i = 0; i < n && len < sizeof(msg); i++)
		if (names[i])
			len += (size_t)ksnprintf(msg + len, sizeof(msg) - len, " %s", names[i]);
	error(p, field, msg);
	return false;
}

/* disk = <partition name or number | ram:<MiB>>[,ro] */
static void set_disk(struct parser *p, const char *key, const char *v)
{
	struct vm_config *vm = p->vm;
	char spec[CFG_NAME_LEN];
	const char *comma = strchr(v, ',');
	size_t len = comma ? (size_t)(comma - v) : strlen(v);
	bool ro = false;
	if (comma) {
		if (strcmp(comma + 1, "ro") && strcmp(comma + 1, "rw")) {
			error(p, key, "the only options after ',' are ro and rw");
			return;
		}
		ro = !strcmp(comma + 1, "ro");
	}
	if (!len || len >= sizeof(spec)) {
		error(p, key,
		      "needs a partition name or number, or ram:<MiB> (at most 23 characters)");
		return;
	}
	memcpy(spec, v, len);
	spec[len] = 0;
	u64 mib = 0;
	if (!strncmp(spec, "ram:", 4)) {
		if (!kparse_u64(spec + 4, &mib) || mib < 1 || mib > CFG_RAM_DISK_MAX_MIB) {
			error(p, key, "ram:<MiB> wants 1 to 1024 MiB");
			return;
		}
	} else if (!valid_name(spec)) {
		error(p, key,
		      "a partition is named by letters, digits, '-', '_' or '.', or numbered");
		return;
	}
	kstrlcpy(vm->disk, spec, sizeof(vm->disk));
	vm->disk_ram_mib = mib;
	vm->disk_ro = ro;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* net = on | off | mac=xx:xx:xx:xx:xx:xx (a unicast address) */
static void set_net(struct parser *p, const char *key, const char *v)
{
	struct vm_config *vm = p->vm;
	if (!strcmp(v, "on") || !strcmp(v, "off")) {
		vm->net = !strcmp(v, "on");
		vm->net_mac_set = false;
		return;
	}
	bool ok = !strncmp(v, "mac=", 4) && strlen(v) == 4 + 17;
	const char *m = ok ? v + 4 : v;
	u8 mac[6];
	for (unsigned i = 0; ok && i < 6; i++) {
		int hi = hex_digit(m[3 * i]), lo = hex_digit(m[3 * i + 1]);
		ok = hi >= 0 && lo >= 0 && (i == 5 || m[3 * i + 2] == ':');
		/* only when both digits are: a shift of -1 is undefined */
		mac[i] = ok ? (u8)(hi << 4 | lo) : 0;
	}
	if (!ok) {
		error(p, key, "must be on, off or mac=xx:xx:xx:xx:xx:xx");
		return;
	}
	if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
		error(p, key, "the MAC must be a unicast address (first byte even), not all zero");
		return;
	}
	vm->net = vm->net_mac_set = true;
	memcpy(vm->net_mac, mac, 6);
}

/* A dotted quad, each part 0-255 in decimal without leading zeros (no octal surprises). */
static bool parse_ip4(const char *s, u32 *out)
{
	u32 ip = 0;
	for (unsigned i = 0; i < 4; i++) {
		unsigned part = 0, digits = 0;
		for (; *s >= '0' && *s <= '9'; s++, digits++) {
			if (digits == 3 || (digits == 1 && part == 0))
				return false;
			part = part * 10 + (unsigned)(*s - '0');
		}
		if (!digits || part > 255 || *s != (i == 3 ? 0 : '.'))
			return false;
		if (i < 3)
			s++;
		ip = ip << 8 | part;
	}
	*out = ip;
	return true;
}

/* ip = A.B.C.D: one VM per address; whether it lies on the VMs' network the gateway says */
static void set_ip(struct parser *p, const char *key, const char *v)
{
	u32 ip;
	if (!parse_ip4(v, &ip)) {
		error(p, key, "must be an IPv4 address A.B.C.D (the VM's, on the VMs' network)");
		return;
	}
	for (unsigned i = 0; i + 1 < p->cfg->nvms; i++) {
		if (p->cfg->vms[i].net_ip == ip) {
			error(p, key, "another VM already has this address");
			return;
		}
	}
	p->vm->net_ip = ip;
}

/* a decimal port 1-65535 of `len` characters */
static bool parse_port(const char *s, size_t len, u16 *out)
{
	char b[6];
	u64 n;
	if (!len || len >= sizeof(b) || s[0] == '0')
		return false;
	memcpy(b, s, len);
	b[len] = 0;
	if (!kparse_u64(b, &n) || n > 65535)
		return false;
	*out = (u16)n;
	return true;
}

/* fwd = tcp|udp:<outside port>:<VM port>; an outside port is forwarded once in the file */
static void set_fwd(struct parser *p, const char *key, const char *v)
{
	struct vm_config *vm = p->vm;
	struct vm_fwd_cfg f;
	const char *c1 = strchr(v, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	bool ok =
	    c1 && c2 &&
	    ((c1 - v == 3 && !strncmp(v, "tcp", 3)) || (c1 - v == 3 && !strncmp(v, "udp", 3)));
	if (ok) {
		f.proto = v[0] == 't' ? 6 : 17;
		ok = parse_port(c1 + 1, (size_t)(c2 - c1 - 1), &f.ex_port) &&
		     parse_port(c2 + 1, strlen(c2 + 1), &f.in_port);
	}
	if (!ok) {
		error(p, key,
		      "must be tcp:<outside port>:<VM port> or udp:<outside port>:<VM port>, "
		      "ports 1-65535");
		return;
	}
	if (vm->nfwds == CFG_MAX_FWDS) {
		error(p, key, "too many forwards (at most 8 a VM)");
		return;
	}
	for (unsigned i = 0; i < p->cfg->nvms; i++) {
		const struct vm_config *o = &p->cfg->vms[i];
		for (unsigned j = 0; j < o->nfwds; j++) {
			if (o->fwds[j].proto == f.proto && o->fwds[j].ex_port == f.ex_port) {
				error(p, key,
				      o == vm ? "this outside port is already forwarded"
					      : "another VM already forwards this outside port");
				return;
			}
		}
	}
	vm->fwds[vm->nfwds++] = f;
}

static void set_field(struct parser *p, const char *key, const char *v)
{
	struct vm_config *vm = p->vm;
	u64 n;
	if (!strcmp(key, "name")) {
		if (!valid_name(v) || strlen(v) >= CFG_NAME_LEN) {
			error(p, key, "must be 1-23 letters, digits, '-', '_' or '.'");
			return;
		}
		for (unsigned i = 0; i + 1 < p->cfg->nvms; i++) {
			if (!strcmp(p->cfg->vms[i].name, v)) {
				error(p, key, "another VM already has this name");
				return;
			}
		}
		kstrlcpy(vm->name, v, sizeof(vm->name));
	} else if (!strcmp(key, "memory")) {
		if (!kparse_u64(v, &n) || n < MIN_MEMORY_MIB || n > MAX_MEMORY_MIB)
			error(p, key, "must be a number of MiB between 2 and 65536");
		else
			vm->memory_mib = n;
	} else if (!strcmp(key, "vcpus")) {
		if (!kparse_u64(v, &n) || n < 1 || n > MAX_VCPUS)
			error(p, key, "must be 1 (SMP guests are not supported yet)");
		else
			vm->vcpus = (unsigned)n;
	} else if (!strcmp(key, "kernel")) {
		if (!*v)
			error(p, key, "needs a module name");
		else
			set_string(p, key, vm->kernel, sizeof(vm->kernel), v);
	} else if (!strcmp(key, "initrd")) {
		if (!*v)
			error(p, key, "needs a module name");
		else
			set_string(p, key, vm->initrd, sizeof(vm->initrd), v);
	} else if (!strcmp(key, "paging")) {
		static const char *const names[] = {"auto", "ept", "shadow"};
		unsigned c;
		if (set_choice(p, key, v, names, 3, &c))
			vm->paging = (enum cfg_paging)c;
	} else if (!strcmp(key, "paging_switch")) {
		if (!kparse_u64(v, &n) || n > 3600000)
			error(p, key, "must be a number of milliseconds up to 3600000 (0: never)");
		else
			vm->paging_switch_ms = n;
	} else if (!strcmp(key, "dirty_log")) {
		if (!kparse_u64(v, &n) || n > 3600000)
			error(p, key, "must be a number of milliseconds up to 3600000 (0: never)");
		else
			vm->dirty_log_ms = n;
	} else if (!strcmp(key, "on_poweroff")) {
		static const char *const names[] = {"destroy", "restart", NULL};
		unsigned c;
		if (set_choice(p, key, v, names, 3, &c))
			vm->on_poweroff = (enum cfg_action)c;
	} else if (!strcmp(key, "on_crash")) {
		static const char *const names[] = {"destroy", "restart", "preserve"};
		unsigned c;
		if (set_choice(p, key, v, names, 3, &c))
			vm->on_crash = (enum cfg_action)c;
	} else if (!strcmp(key, "console")) {
		static const char *const names[] = {"off", "on"};
		unsigned c;
		if (set_choice(p, key, v, names, 2, &c))
			vm->console = c;
	} else if (!strcmp(key, "cmdline")) {
		set_string(p, key, vm->cmdline, sizeof(vm->cmdline), v);
	} else if (!strcmp(key, "module")) {
		if (vm->nmodules == CFG_MAX_MODULES) {
			error(p, key, "too many modules (at most 8)");
			return;
		}
		struct vm_module_cfg *m = &vm->modules[vm->nmodules];
		size_t w = 0;
		while (v[w] && !is_space(v[w]))
			w++;
		if (!w) {
			error(p, key, "needs a module name");
			return;
		}
		if (w >= sizeof(m->name) || strlen(v) >= sizeof(m->args)) {
			error(p, key, "value too long");
			return;
		}
		memcpy(m->name, v, w);
		m->name[w] = 0;
		kstrlcpy(m->args, v, sizeof(m->args));
		vm->nmodules++;
	} else if (!strcmp(key, "disk")) {
		set_disk(p, key, v);
	} else if (!strcmp(key, "disk_model")) {
		static const char *const names[] = {"virtio", "ide"};
		unsigned c;
		if (set_choice(p, key, v, names, 2, &c))
			vm->disk_model = (enum cfg_disk_model)c;
	} else if (!strcmp(key, "printer")) {
		static const char *const names[] = {"off", "on"};
		unsigned c;
		if (set_choice(p, key, v, names, 2, &c))
			vm->printer = c;
	} else if (!strcmp(key, "dedicate")) {
		char msg[96];
		u32 mask;
		if (ded_parse(v, &mask, msg, sizeof(msg)))
			error(p, key, msg);
		else
			vm->dedicate = mask;
	} else if (!strcmp(key, "share")) {
		static const char *const names[] = {"off", "on"};
		unsigned c;
		if (set_choice(p, key, v, names, 2, &c))
			vm->share = c;
	} else if (!strcmp(key, "net")) {
		set_net(p, key, v);
	} else if (!strcmp(key, "ip")) {
		set_ip(p, key, v);
	} else if (!strcmp(key, "fwd")) {
		set_fwd(p, key, v);
	} else if (!strcmp(key, "mem_min") || !strcmp(key, "mem_max")) {
		bool min = key[4] == 'm' && key[5] == 'i';
		if (!kparse_u64(v, &n) || n > MAX_MEMORY_MIB || (!min && n < 1))
			error(
			    p, key,
			    min ? "must be a number of MiB between 0 and 65536 (0: no reservation)"
				: "must be a number of MiB between 1 and 65536");
		else if (min)
			vm->mem_min_mib = n;
		else
			vm->mem_max_mib = n;
	} else if (!strcmp(key, "mem_shares")) {
		if (!kparse_u64(v, &n) || n < 1 || n > MAX_MEM_SHARES)
			error(p, key, "must be a number between 1 and 1000000");
		else
			vm->mem_shares = n;
	} else if (!strcmp(key, "wss")) {
		/* the order of enum wss_method (mm/wss.h) */
		static const char *const names[] = {"off", "invalidate", "accessed"};
		unsigned c;
		if (set_choice(p, key, v, names, 3, &c))
			vm->wss = c;
	} else if (!strcmp(key, "balloon")) {
		static const char *const names[] = {"off", "on"};
		unsigned c;
		if (set_choice(p, key, v, names, 2, &c))
			vm->balloon = c;
	} else if (!strcmp(key, "swap")) {
		static const char *const names[] = {"off", "on"};
		unsigned c;
		if (set_choice(p, key, v, names, 2, &c))
			vm->swap = c;
	} else if (!strcmp(key, "populate")) {
		static const char *const names[] = {"eager", "lazy"};
		unsigned c;
		if (set_choice(p, key, v, names, 2, &c))
			vm->populate_lazy = c;
	} else {
		error(p, key, "unknown field");
	}
}

static void finish_vm(struct parser *p)
{
	struct vm_config *vm = p->vm;
	if (!vm)
		return;
	unsigned saved = p->line;
	p->line = vm->line;
	if (!vm->name[0])
		error(p, "name", "missing");
	if (!vm->kernel[0])
		error(p, "kernel", "missing");
	/* a forward needs the address it goes to, and an address needs the VM's NIC */
	if (vm->nfwds && !vm->net_ip)
		error(p, "fwd", "needs ip = (the VM's address that the forwards reach)");
	if (vm->net_ip && !vm->net)
		error(p, "ip", "needs net = on (the VM has no network interface)");
	/* the memory keys may come in any order: checked against each other at the end */
	if (vm->mem_min_mib > vm->memory_mib)
		error(p, "mem_min", "is more than the VM's memory");
	if (vm->mem_max_mib > vm->memory_mib)
		error(p, "mem_max", "is more than the VM's memory (leave it out for all of it)");
	if (vm->mem_max_mib && vm->mem_max_mib < vm->mem_min_mib)
		error(p, "mem_max", "is less than mem_min");
	p->line = saved;
}

void config_parse(struct config *cfg, const char *text, size_t len, const char *filename,
		  void (*report)(const char *msg))
{
	struct parser p = {cfg, filename, 0, report, NULL};
	memset(cfg, 0, sizeof(*cfg));
	size_t pos = 0;
	bool skipping = false; /* inside a [vm] section beyond CFG_MAX_VMS */
	while (pos < len) {
		char line[1024];
		size_t n = 0;
		bool too_long = false;
		p.line++;
		while (pos < len && text[pos] != '\n') {
			char c = text[pos++];
			if (n + 1 < sizeof(line))
				line[n++] = c;
			else
				too_long = true;
		}
		pos++; /* the newline */
		line[n] = 0;
		if (too_long) {
			error(&p, NULL, "line too long");
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (line[i] == 0 || (line[i] == '#')) {
				line[i] = 0; /* comments; an embedded NUL ends the line too */
				break;
			}
		}
		char *s = line;
		while (is_space(*s))
			s++;
		size_t l = strlen(s);
		while (l && is_space(s[l - 1]))
			s[--l] = 0;
		if (!l)
			continue;
		if (s[0] == '[') {
			finish_vm(&p);
			p.vm = NULL;
			skipping = false;
			if (strcmp(s, "[vm]")) {
				error(&p, NULL, "unknown section (only [vm] is known)");
				skipping = true;
				continue;
			}
			if (cfg->nvms == CFG_MAX_VMS) {
				char msg[48];
				ksnprintf(msg, sizeof(msg), "too many VMs (at most %u)",
					  CFG_MAX_VMS);
				error(&p, NULL, msg);
				skipping = true;
				continue;
			}
			p.vm = &cfg->vms[cfg->nvms++];
			p.vm->valid = true;
			p.vm->line = p.line;
			p.vm->memory_mib = 16;
			p.vm->vcpus = 1;
			p.vm->console = true;
			continue;
		}
		if (skipping)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			error(&p, NULL, "expected 'key = value'");
			continue;
		}
		char *k = s, *ke = eq;
		while (ke > k && is_space(ke[-1]))
			ke--;
		*ke = 0;
		char *v = eq + 1;
		while (is_space(*v))
			v++;
		if (!*k) {
			error(&p, NULL, "expected 'key = value'");
			continue;
		}
		if (!p.vm) {
			error(&p, k, "outside a [vm] section");
			continue;
		}
		set_field(&p, k, v);
	}
	finish_vm(&p);
}
