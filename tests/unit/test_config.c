/* Tests of the keel.cfg parser (hypervisor/config.c): a good multi-VM file, and every kind of
 * error reported with file, line and field, a broken VM marked invalid while the others stay
 * valid. Input is handed over as an exact-size heap copy without a trailing NUL. */
#include "test.h"
#include "../../hypervisor/config.h"
#include "../../hypervisor/lib.h"

#define MAX_MSGS 64

static char msgs[MAX_MSGS][256];
static unsigned nmsgs;

static void report(const char *msg)
{
	if (nmsgs < MAX_MSGS)
		kstrlcpy(msgs[nmsgs], msg, sizeof(msgs[0]));
	nmsgs++;
}

static struct config *parse_n(const char *text, size_t len)
{
	struct config *cfg = test_alloc(sizeof(*cfg));
	nmsgs = 0;
	config_parse(cfg, test_dup(text, len), len, "keel.cfg", report);
	return cfg;
}

static struct config *parse(const char *text)
{
	return parse_n(text, strlen(text));
}

/* Exactly one message was reported and it starts with `prefix`. */
#define CHECK_ONE_ERROR(cfg, prefix)                                                               \
	do {                                                                                       \
		CHECK_EQ(nmsgs, 1);                                                                \
		CHECK_EQ((cfg)->nerrors, 1);                                                       \
		CHECK(nmsgs >= 1 && !strncmp(msgs[0], prefix, strlen(prefix)));                    \
		if (nmsgs >= 1 && strncmp(msgs[0], prefix, strlen(prefix)))                        \
			test_fail(__FILE__, __LINE__, "got \"%s\"", msgs[0]);                      \
	} while (0)

TEST(config_good_multi_vm_file)
{
	struct config *c = parse("# Keel demo\n"
				 "\n"
				 "[vm]\n"
				 "name = ticker\n"
				 "memory = 32\n"
				 "vcpus = 1\n"
				 "kernel = ticker.elf\n"
				 "cmdline = console=ttyS0 quiet\n"
				 "module = mbdata.txt first module\n"
				 "module = initrd.img\n"
				 "\n"
				 "[vm]   # second\n"
				 "  name=hello  \n"
				 "\tkernel\t=\thello.elf\t\n"
				 "memory = 0x40\n");
	CHECK_EQ(nmsgs, 0);
	CHECK_EQ(c->nerrors, 0);
	REQUIRE(c->nvms == 2);
	const struct vm_config *a = &c->vms[0], *b = &c->vms[1];
	CHECK(a->valid);
	CHECK_EQ(a->line, 3);
	CHECK_STR(a->name, "ticker");
	CHECK_EQ(a->memory_mib, 32);
	CHECK_EQ(a->vcpus, 1);
	CHECK_STR(a->kernel, "ticker.elf");
	CHECK_STR(a->cmdline, "console=ttyS0 quiet");
	REQUIRE(a->nmodules == 2);
	CHECK_STR(a->modules[0].name, "mbdata.txt");
	CHECK_STR(a->modules[0].args, "mbdata.txt first module");
	CHECK_STR(a->modules[1].name, "initrd.img");
	CHECK_STR(a->modules[1].args, "initrd.img");
	CHECK(b->valid);
	CHECK_EQ(b->line, 12);
	CHECK_STR(b->name, "hello");
	CHECK_STR(b->kernel, "hello.elf");
	CHECK_EQ(b->memory_mib, 64);
	CHECK_EQ(b->vcpus, 1);
	CHECK_STR(b->cmdline, "");
	CHECK_EQ(b->nmodules, 0);
}

TEST(config_defaults)
{
	struct config *c = parse("[vm]\nname = a\nkernel = k\n");
	REQUIRE(c->nvms == 1);
	CHECK(c->vms[0].valid);
	CHECK_EQ(c->vms[0].memory_mib, 16);
	CHECK_EQ(c->vms[0].vcpus, 1);
}

TEST(config_empty_and_comment_only)
{
	struct config *c = parse("");
	CHECK_EQ(c->nvms, 0);
	CHECK_EQ(nmsgs, 0);
	c = parse("# nothing\n   \n\t# more\n\r\n");
	CHECK_EQ(c->nvms, 0);
	CHECK_EQ(nmsgs, 0);
}

TEST(config_bad_memory_names_line_and_field)
{
	struct config *c = parse("[vm]\nname = a\nmemory = lots\nkernel = k\n");
	CHECK_ONE_ERROR(c, "keel.cfg:3: field 'memory': ");
	REQUIRE(c->nvms == 1);
	CHECK(!c->vms[0].valid);
	const char *bad[] = {"1", "65537", "0x", "-4", "16M", "99999999999999999999999", ""};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[128];
		ksnprintf(text, sizeof(text), "[vm]\nname = a\nkernel = k\nmemory = %s\n", bad[i]);
		c = parse(text);
		CHECK_ONE_ERROR(c, "keel.cfg:4: field 'memory': ");
	}
	c = parse("[vm]\nname = a\nkernel = k\nmemory = 65536\n");
	CHECK_EQ(nmsgs, 0);
	CHECK_EQ(c->vms[0].memory_mib, 65536);
	c = parse("[vm]\nname = a\nkernel = k\nmemory = 2\n");
	CHECK_EQ(nmsgs, 0);
}

TEST(config_bad_vcpus)
{
	struct config *c = parse("[vm]\nname = a\nkernel = k\nvcpus = 2\n");
	CHECK_ONE_ERROR(c, "keel.cfg:4: field 'vcpus': ");
	c = parse("[vm]\nname = a\nkernel = k\nvcpus = 0\n");
	CHECK_ONE_ERROR(c, "keel.cfg:4: field 'vcpus': ");
}

TEST(config_one_bad_vm_leaves_others_valid)
{
	struct config *c = parse("[vm]\nname = good1\nkernel = k\n"
				 "[vm]\nname = bad\nkernel = k\nmemory = 1\n"
				 "[vm]\nname = good2\nkernel = k\n");
	CHECK_ONE_ERROR(c, "keel.cfg:7: field 'memory': ");
	REQUIRE(c->nvms == 3);
	CHECK(c->vms[0].valid);
	CHECK(!c->vms[1].valid);
	CHECK(c->vms[2].valid);
	CHECK_STR(c->vms[2].name, "good2");
}

TEST(config_unknown_section_is_skipped)
{
	struct config *c = parse("[vm]\nname = a\nkernel = k\n"
				 "[network]\nbridge = br0\n"
				 "[vm]\nname = b\nkernel = k\n");
	CHECK_ONE_ERROR(c, "keel.cfg:4: unknown section");
	REQUIRE(c->nvms == 2);
	CHECK(c->vms[0].valid);
	CHECK(c->vms[1].valid);
}

TEST(config_unknown_field)
{
	struct config *c = parse("[vm]\nname = a\nkernel = k\ncolour = blue\n");
	CHECK_ONE_ERROR(c, "keel.cfg:4: field 'colour': unknown field");
	CHECK(!c->vms[0].valid);
}

TEST(config_field_outside_section_and_syntax)
{
	struct config *c = parse("name = a\n[vm]\nname = b\nkernel = k\n");
	CHECK_ONE_ERROR(c, "keel.cfg:1: field 'name': outside a [vm] section");
	CHECK(c->vms[0].valid);
	c = parse("[vm]\nname = a\nkernel = k\njust words\n");
	CHECK_ONE_ERROR(c, "keel.cfg:4: expected 'key = value'");
	CHECK(!c->vms[0].valid);
	c = parse("[vm]\nname = a\nkernel = k\n = value\n");
	CHECK_ONE_ERROR(c, "keel.cfg:4: expected 'key = value'");
}

TEST(config_missing_name_and_kernel)
{
	struct config *c = parse("\n[vm]\nmemory = 8\n");
	CHECK_EQ(nmsgs, 2);
	CHECK_STR(msgs[0], "keel.cfg:2: field 'name': missing");
	CHECK_STR(msgs[1], "keel.cfg:2: field 'kernel': missing");
	CHECK(!c->vms[0].valid);
	c = parse("[vm]\nname = a\nkernel =\n");
	CHECK_EQ(nmsgs, 2);
	CHECK_STR(msgs[0], "keel.cfg:3: field 'kernel': needs a module name");
	CHECK_STR(msgs[1], "keel.cfg:1: field 'kernel': missing");
}

TEST(config_bad_and_duplicate_names)
{
	struct config *c = parse("[vm]\nname = same\nkernel = k\n[vm]\nname = same\nkernel = k\n");
	CHECK(nmsgs >= 1);
	CHECK(!strncmp(msgs[0], "keel.cfg:5: field 'name': ", 26));
	REQUIRE(c->nvms == 2);
	CHECK(c->vms[0].valid);
	CHECK(!c->vms[1].valid);
	const char *bad[] = {"has space", "semi;colon", "slash/", "abcdefghijklmnopqrstuvwx"};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[128];
		ksnprintf(text, sizeof(text), "[vm]\nkernel = k\nname = %s\n", bad[i]);
		c = parse(text);
		CHECK(nmsgs >= 1 && !strncmp(msgs[0], "keel.cfg:3: field 'name': ", 26));
		CHECK(!c->vms[0].valid);
	}
	c = parse("[vm]\nkernel = k\nname = abcdefghijklmnopqrstuvw\n"); /* 23: longest */
	CHECK_EQ(nmsgs, 0);
	CHECK_STR(c->vms[0].name, "abcdefghijklmnopqrstuvw");
	c = parse("[vm]\nkernel = k\nname = A-z_0.9\n");
	CHECK_EQ(nmsgs, 0);
}

TEST(config_too_many_modules)
{
	char text[1024];
	size_t n = (size_t)ksnprintf(text, sizeof(text), "[vm]\nname = a\nkernel = k\n");
	for (int i = 0; i < CFG_MAX_MODULES + 1; i++)
		n += (size_t)ksnprintf(text + n, sizeof(text) - n, "module = m%d arg\n", i);
	struct config *c = parse(text);
	CHECK_ONE_ERROR(c, "keel.cfg:12: field 'module': ");
	CHECK_EQ(c->vms[0].nmodules, CFG_MAX_MODULES);
	CHECK_STR(c->vms[0].modules[7].name, "m7");
	CHECK(!c->vms[0].valid);
}

TEST(config_too_many_vms)
{
	char text[4096];
	size_t n = 0;
	for (int i = 0; i < CFG_MAX_VMS + 2; i++)
		n += (size_t)ksnprintf(text + n, sizeof(text) - n,
				       "[vm]\nname = vm%d\nkernel = k\n", i);
	struct config *c = parse(text);
	CHECK_EQ(c->nvms, CFG_MAX_VMS);
	CHECK_EQ(nmsgs, 2);
	char want[64];
	ksnprintf(want, sizeof(want), "keel.cfg:%u: too many VMs (at most %u)", CFG_MAX_VMS * 3 + 1,
		  CFG_MAX_VMS);
	CHECK_STR(msgs[0], want);
	ksnprintf(want, sizeof(want), "keel.cfg:%u: too many VMs (at most %u)", CFG_MAX_VMS * 3 + 4,
		  CFG_MAX_VMS);
	CHECK_STR(msgs[1], want);
	for (int i = 0; i < CFG_MAX_VMS; i++)
		CHECK(c->vms[i].valid);
	ksnprintf(want, sizeof(want), "vm%u", CFG_MAX_VMS - 1);
	CHECK_STR(c->vms[CFG_MAX_VMS - 1].name, want);
}

TEST(config_over_long_line)
{
	char text[1400];
	size_t n = (size_t)ksnprintf(text, sizeof(text), "[vm]\nname = a\nkernel = k\ncmdline = ");
	memset(text + n, 'x', 1100);
	n += 1100;
	n += (size_t)ksnprintf(text + n, sizeof(text) - n, "\nmemory = 8\n");
	struct config *c = parse_n(text, n);
	CHECK_ONE_ERROR(c, "keel.cfg:4: line too long");
	CHECK(!c->vms[0].valid);
	CHECK_EQ(c->vms[0].memory_mib, 8); /* the line after it is still read */
}

TEST(config_long_cmdline)
{
	/* Linux command lines: up to 511 characters fit, more is refused with a clear error */
	char text[1100], v[700];
	memset(v, 'c', 511);
	v[511] = 0;
	ksnprintf(text, sizeof(text), "[vm]\nname = a\nkernel = k\ncmdline = %s\n", v);
	struct config *c = parse(text);
	CHECK_EQ(c->nerrors, 0);
	CHECK_EQ(strlen(c->vms[0].cmdline), 511);
	memset(v, 'c', 600);
	v[600] = 0;
	ksnprintf(text, sizeof(text), "[vm]\nname = a\nkernel = k\ncmdline = %s\n", v);
	c = parse(text);
	CHECK_ONE_ERROR(c, "keel.cfg:4: field 'cmdline': value too long");
}

TEST(config_over_long_values)
{
	char text[600], v[200];
	memset(v, 'y', 150);
	v[150] = 0;
	const char *fields[] = {"kernel", "initrd", "module"};
	for (unsigned i = 0; i < ARRAY_SIZE(fields); i++) {
		ksnprintf(text, sizeof(text), "[vm]\nname = a\nkernel = k\n%s = %s\n", fields[i],
			  v);
		struct config *c = parse(text);
		char prefix[64];
		ksnprintf(prefix, sizeof(prefix), "keel.cfg:4: field '%s': value too long",
			  fields[i]);
		CHECK(nmsgs >= 1 && !strcmp(msgs[0], prefix));
		CHECK(!c->vms[0].valid);
	}
	/* a module whose name is short but whose arguments overflow */
	ksnprintf(text, sizeof(text), "[vm]\nname = a\nkernel = k\nmodule = m %s\n", v);
	struct config *c = parse(text);
	CHECK_ONE_ERROR(c, "keel.cfg:4: field 'module': value too long");
	CHECK_EQ(c->vms[0].nmodules, 0);
	/* 127 characters fit */
	v[127] = 0;
	ksnprintf(text, sizeof(text), "[vm]\nname = a\nkernel = k\ncmdline = %s\n", v);
	c = parse(text);
	CHECK_EQ(nmsgs, 0);
	CHECK_EQ(strlen(c->vms[0].cmdline), 127);
}

TEST(config_embedded_nul_ends_the_line)
{
	static const char text[] = "[vm]\nname = ab\0junk = 1\nkernel = k\n";
	struct config *c = parse_n(text, sizeof(text) - 1);
	CHECK_EQ(nmsgs, 0);
	CHECK_STR(c->vms[0].name, "ab");
	CHECK(c->vms[0].valid);
}

TEST(config_no_trailing_newline)
{
	struct config *c = parse("[vm]\nname = a\nkernel = last");
	CHECK_EQ(nmsgs, 0);
	CHECK_STR(c->vms[0].kernel, "last");
	c = parse("[vm]\nname = a\nkernel = k\nmemory = 1");
	CHECK_ONE_ERROR(c, "keel.cfg:4: field 'memory': ");
}

TEST(config_comments_whitespace_and_crlf)
{
	struct config *c = parse("[vm]\r\n"
				 "name = a   # the name\r\n"
				 "   # indented comment\r\n"
				 "kernel = k#no space\r\n"
				 "cmdline =   spaced   out   \r\n");
	CHECK_EQ(nmsgs, 0);
	CHECK_STR(c->vms[0].name, "a");
	CHECK_STR(c->vms[0].kernel, "k");
	CHECK_STR(c->vms[0].cmdline, "spaced   out");
	CHECK(c->vms[0].valid);
}

TEST(config_null_report_is_allowed)
{
	struct config *c = test_alloc(sizeof(*c));
	const char *t = "[vm]\nmemory = 1\n";
	config_parse(c, test_dup(t, strlen(t)), strlen(t), "x.cfg", NULL);
	CHECK_EQ(c->nerrors, 3);
	CHECK(!c->vms[0].valid);
}

TEST(config_issue3_fields)
{
	static const char text[] = "[vm]\n"
				   "name = linux1\n"
				   "kernel = vmlinuz\n"
				   "initrd = initramfs.cpio.gz\n"
				   "paging = shadow\n"
				   "on_poweroff = restart\n"
				   "on_crash = preserve\n"
				   "console = off\n"
				   "[vm]\n"
				   "name = plain\n"
				   "kernel = hello.elf\n";
	struct config *c = parse(text);
	REQUIRE(c->nvms == 2);
	CHECK_EQ(c->nerrors, 0);
	CHECK_STR(c->vms[0].initrd, "initramfs.cpio.gz");
	CHECK_EQ(c->vms[0].paging, PAGING_SHADOW);
	CHECK_EQ(c->vms[0].on_poweroff, ACTION_RESTART);
	CHECK_EQ(c->vms[0].on_crash, ACTION_PRESERVE);
	CHECK(!c->vms[0].console);
	/* defaults */
	CHECK_STR(c->vms[1].initrd, "");
	CHECK_EQ(c->vms[1].paging, PAGING_AUTO);
	CHECK_EQ(c->vms[1].on_poweroff, ACTION_DESTROY);
	CHECK_EQ(c->vms[1].on_crash, ACTION_DESTROY);
	CHECK(c->vms[1].console);
}

TEST(config_issue3_bad_choices)
{
	static const char text[] = "[vm]\n"
				   "name = a\n"
				   "kernel = k\n"
				   "paging = npt\n"
				   "on_poweroff = preserve\n"
				   "on_crash = explode\n"
				   "console = maybe\n"
				   "initrd =\n";
	struct config *c = parse(text);
	REQUIRE(c->nvms == 1);
	CHECK(!c->vms[0].valid);
	CHECK_EQ(c->nerrors, 5);
	REQUIRE(nmsgs == 5);
	CHECK_CONTAINS(msgs[0], "keel.cfg:4: field 'paging': must be one of: auto ept shadow");
	CHECK_CONTAINS(msgs[1], "keel.cfg:5: field 'on_poweroff': must be one of: destroy restart");
	CHECK_CONTAINS(msgs[2], "keel.cfg:6: field 'on_crash': must be one of:");
	CHECK_CONTAINS(msgs[3], "keel.cfg:7: field 'console': must be one of: off on");
	CHECK_CONTAINS(msgs[4], "keel.cfg:8: field 'initrd': needs a module name");
}

TEST(config_paging_switch)
{
	static const char text[] = "[vm]\n"
				   "name = a\n"
				   "kernel = k\n"
				   "paging_switch = 250\n"
				   "[vm]\n"
				   "name = b\n"
				   "kernel = k\n"
				   "paging_switch = soon\n"
				   "[vm]\n"
				   "name = c\n"
				   "kernel = k\n";
	struct config *c = parse(text);
	REQUIRE(c->nvms == 3);
	CHECK_EQ(c->vms[0].paging_switch_ms, 250);
	CHECK(c->vms[0].valid);
	CHECK(!c->vms[1].valid);
	REQUIRE(nmsgs == 1);
	CHECK_CONTAINS(msgs[0],
		       "keel.cfg:8: field 'paging_switch': must be a number of milliseconds");
	CHECK_EQ(c->vms[2].paging_switch_ms, 0);
}

TEST(config_dirty_log)
{
	static const char text[] = "[vm]\n"
				   "name = a\n"
				   "kernel = k\n"
				   "dirty_log = 5\n"
				   "[vm]\n"
				   "name = b\n"
				   "kernel = k\n"
				   "dirty_log = -1\n"
				   "[vm]\n"
				   "name = c\n"
				   "kernel = k\n";
	struct config *c = parse(text);
	REQUIRE(c->nvms == 3);
	CHECK_EQ(c->vms[0].dirty_log_ms, 5);
	CHECK(c->vms[0].valid);
	CHECK(!c->vms[1].valid);
	REQUIRE(nmsgs == 1);
	CHECK_CONTAINS(msgs[0], "keel.cfg:8: field 'dirty_log': must be a number of milliseconds");
	CHECK_EQ(c->vms[2].dirty_log_ms, 0);
}

TEST(config_disk_partition_ram_and_model)
{
	struct config *cfg = parse("[vm]\nname = a\nkernel = k\ndisk = vm1\n"
				   "[vm]\nname = b\nkernel = k\ndisk = 3,ro\ndisk_model = ide\n"
				   "[vm]\nname = c\nkernel = k\ndisk = ram:16,rw\n"
				   "[vm]\nname = d\nkernel = k\n");
	CHECK_EQ(nmsgs, 0);
	CHECK_EQ(cfg->nvms, 4);
	CHECK(!strcmp(cfg->vms[0].disk, "vm1"));
	CHECK(!cfg->vms[0].disk_ro);
	CHECK_EQ(cfg->vms[0].disk_model, DISK_VIRTIO);
	CHECK_EQ(cfg->vms[0].disk_ram_mib, 0);
	CHECK(!strcmp(cfg->vms[1].disk, "3"));
	CHECK(cfg->vms[1].disk_ro);
	CHECK_EQ(cfg->vms[1].disk_model, DISK_IDE);
	CHECK(!strcmp(cfg->vms[2].disk, "ram:16"));
	CHECK_EQ(cfg->vms[2].disk_ram_mib, 16);
	CHECK(!cfg->vms[2].disk_ro);
	CHECK_EQ(cfg->vms[3].disk[0], 0);
}

TEST(config_bad_disks_name_line_and_field)
{
	static const char *const bad[] = {
	    "disk = \n",	   "disk = ,ro\n",
	    "disk = vm1,rx\n",	   "disk = vm 1\n",
	    "disk = ram:0\n",	   "disk = ram:1025\n",
	    "disk = ram:x\n",	   "disk = ../etc\n",
	    "disk_model = scsi\n", "disk = a23456789012345678901234\n",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[256];
		ksnprintf(text, sizeof(text), "[vm]\nname = a\nkernel = k\n%s", bad[i]);
		struct config *cfg = parse(text);
		CHECK_EQ(nmsgs, 1);
		CHECK(nmsgs == 1 && !strncmp(msgs[0], "keel.cfg:4: field 'disk", 23));
		if (nmsgs == 1 && strncmp(msgs[0], "keel.cfg:4: field 'disk", 23))
			test_fail(__FILE__, __LINE__, "case %u: got \"%s\"", i, msgs[0]);
		CHECK(!cfg->vms[0].valid);
	}
}

TEST(config_printer)
{
	static const char text[] = "[vm]\n"
				   "name = a\n"
				   "kernel = k\n"
				   "printer = on\n"
				   "[vm]\n"
				   "name = b\n"
				   "kernel = k\n"
				   "printer = yes\n"
				   "[vm]\n"
				   "name = c\n"
				   "kernel = k\n"
				   "printer = off\n"
				   "[vm]\n"
				   "name = d\n"
				   "kernel = k\n";
	struct config *c = parse(text);
	REQUIRE(c->nvms == 4);
	CHECK(c->vms[0].valid);
	CHECK(c->vms[0].printer);
	CHECK(!c->vms[1].valid);
	REQUIRE(nmsgs == 1);
	CHECK_STR(msgs[0], "keel.cfg:8: field 'printer': must be one of: off on");
	CHECK(c->vms[2].valid);
	CHECK(!c->vms[2].printer);
	/* off unless asked for */
	CHECK(!c->vms[3].printer);
}

TEST(config_share)
{
	static const char text[] = "[vm]\n"
				   "name = a\n"
				   "kernel = k\n"
				   "share = on\n"
				   "[vm]\n"
				   "name = b\n"
				   "kernel = k\n"
				   "share = maybe\n"
				   "[vm]\n"
				   "name = c\n"
				   "kernel = k\n";
	struct config *c = parse(text);
	REQUIRE(c->nvms == 3);
	CHECK(c->vms[0].valid && c->vms[0].share);
	CHECK(!c->vms[1].valid);
	REQUIRE(nmsgs == 1);
	CHECK_STR(msgs[0], "keel.cfg:8: field 'share': must be one of: off on");
	CHECK(c->vms[2].valid && !c->vms[2].share); /* off unless asked for */
}

/* [vm] name = a, kernel = k, net = on, then `extra` (lines) */
static struct config *parse_net_vm(const char *extra)
{
	static char text[1024];
	ksnprintf(text, sizeof(text), "[vm]\nname = a\nkernel = k\nnet = on\n%s", extra);
	return parse(text);
}

TEST(config_ip_and_forwards)
{
	static const char text[] = "[vm]\n"
				   "name = web\n"
				   "kernel = k\n"
				   "net = on\n"
				   "ip = 10.0.0.1\n"
				   "fwd = tcp:8080:80\n"
				   "fwd = udp:5353:53\n"
				   "fwd = tcp:65535:1\n"
				   "[vm]\n"
				   "name = plain\n"
				   "kernel = k\n"
				   "net = on\n";
	struct config *c = parse(text);
	REQUIRE(c->nvms == 2);
	CHECK_EQ(nmsgs, 0);
	CHECK(c->vms[0].valid);
	CHECK_EQ(c->vms[0].net_ip, 0x0a000001u);
	REQUIRE(c->vms[0].nfwds == 3);
	CHECK_EQ(c->vms[0].fwds[0].proto, 6);
	CHECK_EQ(c->vms[0].fwds[0].ex_port, 8080);
	CHECK_EQ(c->vms[0].fwds[0].in_port, 80);
	CHECK_EQ(c->vms[0].fwds[1].proto, 17);
	CHECK_EQ(c->vms[0].fwds[1].ex_port, 5353);
	CHECK_EQ(c->vms[0].fwds[1].in_port, 53);
	CHECK_EQ(c->vms[0].fwds[2].ex_port, 65535);
	CHECK_EQ(c->vms[0].fwds[2].in_port, 1);
	/* none unless asked for */
	CHECK(c->vms[1].valid);
	CHECK_EQ(c->vms[1].net_ip, 0u);
	CHECK_EQ(c->vms[1].nfwds, 0u);
}

TEST(config_hostile_forwards_are_refused_with_the_reason)
{
	static const char *const bad_fwd[] = {
	    "fwd = tcp:8080",	   "fwd = tcp:8080:80:1",
	    "fwd = icmp:1:1",	   "fwd = TCP:1:1",
	    "fwd = tcp:0:80",	   "fwd = tcp:80:0",
	    "fwd = tcp:65536:1",   "fwd = tcp:1:99999999999999999999",
	    "fwd = tcp:-1:80",	   "fwd = tcp:0x50:80",
	    "fwd = tcp:080:80",	   "fwd = tcp::80",
	    "fwd = tcp:80:",	   "fwd = tcp: 80:80",
	    "fwd = tcpx:1:1",	   "fwd = ",
	    "fwd = udp:5353:53 x", "fwd = tc:1:1",
	};
	for (unsigned i = 0; i < sizeof(bad_fwd) / sizeof(bad_fwd[0]); i++) {
		char extra[128];
		ksnprintf(extra, sizeof(extra), "ip = 10.0.0.1\n%s\n", bad_fwd[i]);
		struct config *c = parse_net_vm(extra);
		CHECK_ONE_ERROR(c, "keel.cfg:6: field 'fwd': must be tcp:<outside port>:<VM port> "
				   "or udp:<outside port>:<VM port>, ports 1-65535");
		CHECK(!c->vms[0].valid);
		CHECK_EQ(c->vms[0].nfwds, 0u);
	}
	static const char *const bad_ip[] = {"ip = 10.0.0",
					     "ip = 10.0.0.256",
					     "ip = 10.0.0.1.2",
					     "ip = 010.0.0.1",
					     "ip = 10.0.0.1/24",
					     "ip = 10..0.1",
					     "ip = -1.0.0.1",
					     "ip = 1000.0.0.1",
					     "ip = 10.0.0.1 ",
					     "ip = a.b.c.d",
					     "ip = "};
	for (unsigned i = 0; i < sizeof(bad_ip) / sizeof(bad_ip[0]); i++) {
		char extra[128];
		ksnprintf(extra, sizeof(extra), "%s\n", bad_ip[i]);
		/* a trailing space is trimmed by the parser: that one is a good address */
		struct config *c = parse_net_vm(extra);
		if (!strcmp(bad_ip[i], "ip = 10.0.0.1 ")) {
			CHECK_EQ(nmsgs, 0);
			continue;
		}
		CHECK_ONE_ERROR(c, "keel.cfg:5: field 'ip': must be an IPv4 address A.B.C.D");
		CHECK(!c->vms[0].valid);
	}
}

TEST(config_forward_rules_across_lines_and_vms)
{
	/* a forward without an address to go to */
	struct config *c = parse_net_vm("fwd = tcp:8080:80\n");
	CHECK_ONE_ERROR(c, "keel.cfg:1: field 'fwd': needs ip = (the VM's address");
	CHECK(!c->vms[0].valid);
	/* an address without a NIC */
	c = parse("[vm]\nname = a\nkernel = k\nip = 10.0.0.1\n");
	CHECK_ONE_ERROR(c, "keel.cfg:1: field 'ip': needs net = on");
	/* one outside port twice in a VM */
	c = parse_net_vm(
	    "ip = 10.0.0.1\nfwd = tcp:8080:80\nfwd = tcp:8080:81\nfwd = udp:8080:80\n");
	CHECK_ONE_ERROR(c, "keel.cfg:7: field 'fwd': this outside port is already forwarded");
	/* the same outside port in another VM, and the same address */
	c = parse("[vm]\nname = a\nkernel = k\nnet = on\nip = 10.0.0.1\nfwd = tcp:8080:80\n"
		  "[vm]\nname = b\nkernel = k\nnet = on\nip = 10.0.0.1\nfwd = tcp:8080:80\n");
	CHECK_EQ(nmsgs, 2);
	CHECK_STR(msgs[0], "keel.cfg:11: field 'ip': another VM already has this address");
	CHECK_STR(msgs[1],
		  "keel.cfg:12: field 'fwd': another VM already forwards this outside port");
	CHECK(c->vms[0].valid);
	CHECK(!c->vms[1].valid);
	/* at most 8 a VM */
	c = parse_net_vm(
	    "ip = 10.0.0.1\nfwd = tcp:1:1\nfwd = tcp:2:1\nfwd = tcp:3:1\nfwd = tcp:4:1\n"
	    "fwd = tcp:5:1\nfwd = tcp:6:1\nfwd = tcp:7:1\nfwd = tcp:8:1\nfwd = tcp:9:1\n");
	CHECK_ONE_ERROR(c, "keel.cfg:14: field 'fwd': too many forwards (at most 8 a VM)");
	CHECK_EQ(c->vms[0].nfwds, 8u);
}

TEST(config_memory_policy)
{
	static const char text[] =
	    "[vm]\n"
	    "name = a\n"
	    "kernel = k\n"
	    "mem_max = 48\n" /* before memory: checked at the section's end */
	    "memory = 64\n"
	    "mem_min = 32\n"
	    "mem_shares = 2000\n"
	    "wss = accessed\n"
	    "[vm]\n"
	    "name = b\n"
	    "kernel = k\n"
	    "wss = invalidate\n";
	struct config *c = parse(text);
	REQUIRE(c->nvms == 2);
	CHECK_EQ(nmsgs, 0u);
	CHECK(c->vms[0].valid);
	CHECK_EQ(c->vms[0].mem_min_mib, 32u);
	CHECK_EQ(c->vms[0].mem_max_mib, 48u);
	CHECK_EQ(c->vms[0].mem_shares, 2000u);
	CHECK_EQ(c->vms[0].wss, 2u); /* WSS_ACCESSED */
	/* defaults: no reservation, all of its memory, shares by size, no sampling */
	CHECK(c->vms[1].valid);
	CHECK_EQ(c->vms[1].mem_min_mib, 0u);
	CHECK_EQ(c->vms[1].mem_max_mib, 0u);
	CHECK_EQ(c->vms[1].mem_shares, 0u);
	CHECK_EQ(c->vms[1].wss, 1u);
	struct config *d = parse("[vm]\nname = c\nkernel = k\n");
	CHECK_EQ(d->vms[0].wss, 0u);
}

TEST(config_memory_policy_hostile_values)
{
	static const struct {
		const char *line, *msg;
	} bad[] = {
	    {"mem_min = -1", "keel.cfg:4: field 'mem_min': must be a number of MiB between 0"},
	    {"mem_min = 65537", "keel.cfg:4: field 'mem_min': must be a number of MiB between 0"},
	    {"mem_min = 18446744073709551616",
	     "keel.cfg:4: field 'mem_min': must be a number of MiB between 0"},
	    {"mem_min = 12abc", "keel.cfg:4: field 'mem_min': must be a number"},
	    {"mem_max = 0", "keel.cfg:4: field 'mem_max': must be a number of MiB between 1"},
	    {"mem_max =", "keel.cfg:4: field 'mem_max': must be a number of MiB between 1"},
	    {"mem_shares = 0", "keel.cfg:4: field 'mem_shares': must be a number between 1"},
	    {"mem_shares = 1000001", "keel.cfg:4: field 'mem_shares': must be a number between 1"},
	    {"mem_shares = 1e3", "keel.cfg:4: field 'mem_shares': must be a number between 1"},
	    {"wss = yes", "keel.cfg:4: field 'wss': must be one of: off invalidate accessed"},
	    /* against memory (16 MiB by default) and each other: the [vm] line is named */
	    {"mem_min = 17", "keel.cfg:1: field 'mem_min': is more than the VM's memory"},
	    {"mem_max = 17", "keel.cfg:1: field 'mem_max': is more than the VM's memory"},
	};
	char text[256];
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		ksnprintf(text, sizeof(text), "[vm]\nname = a\nkernel = k\n%s\n", bad[i].line);
		struct config *c = parse(text);
		CHECK(!c->vms[0].valid);
		CHECK_ONE_ERROR(c, bad[i].msg);
	}
	struct config *c = parse("[vm]\nname = a\nkernel = k\nmem_min = 8\nmem_max = 4\n");
	CHECK(!c->vms[0].valid);
	CHECK_ONE_ERROR(c, "keel.cfg:1: field 'mem_max': is less than mem_min");
	/* the bounds themselves are fine */
	c = parse("[vm]\nname = a\nkernel = k\nmemory = 65536\nmem_min = 65536\nmem_max = 65536\n"
		  "mem_shares = 1000000\n");
	CHECK(c->vms[0].valid);
	CHECK_EQ(nmsgs, 0u);
}

TEST(config_swap)
{
	static const char text[] = "[vm]\n"
				   "name = a\n"
				   "kernel = k\n"
				   "swap = on\n"
				   "[vm]\n"
				   "name = b\n"
				   "kernel = k\n"
				   "swap = yes\n"
				   "[vm]\n"
				   "name = c\n"
				   "kernel = k\n"
				   "swap = off\n";
	struct config *c = parse(text);
	REQUIRE(c->nvms == 3);
	CHECK(c->vms[0].valid && c->vms[0].swap);
	CHECK(!c->vms[1].valid);
	REQUIRE(nmsgs == 1);
	CHECK_STR(msgs[0], "keel.cfg:8: field 'swap': must be one of: off on");
	CHECK(c->vms[2].valid && !c->vms[2].swap);
}

TEST(config_populate)
{
	static const char text[] = "[vm]\nname = a\nkernel = k\npopulate = lazy\n"
				   "[vm]\nname = b\nkernel = k\npopulate = on-demand\n"
				   "[vm]\nname = c\nkernel = k\npopulate = eager\n"
				   "[vm]\nname = d\nkernel = k\n";
	struct config *c = parse(text);
	REQUIRE(c->nvms == 4);
	CHECK(c->vms[0].valid && c->vms[0].populate_lazy);
	CHECK(!c->vms[1].valid);
	REQUIRE(nmsgs == 1);
	CHECK_STR(msgs[0], "keel.cfg:8: field 'populate': must be one of: eager lazy");
	CHECK(c->vms[2].valid && !c->vms[2].populate_lazy);
	CHECK(c->vms[3].valid && !c->vms[3].populate_lazy); /* eager unless asked */
}
