/* Tests of the CPUID policy (hypervisor/cpuid.c): Keel's own leaves, and how the native
 * answer is rewritten (features hidden, hypervisor bit, OS-controlled bits, topology). */
#include "test.h"
#include "../../hypervisor/cpuid.h"

#define ALL_ONES ((struct cpuid_regs){0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu})

static struct cpuid_regs filter(u32 leaf, u32 sub, const struct cpuid_ctx *ctx,
				struct cpuid_regs native)
{
	cpuid_filter(leaf, sub, ctx, &native);
	return native;
}

TEST(cpuid_hypervisor_signature)
{
	struct cpuid_ctx ctx = {0};
	struct cpuid_regs r = filter(0x40000000, 0, &ctx, ALL_ONES);
	CHECK(r.a >= 0x40000001);
	CHECK_EQ(r.a, CPUID_HV_MAX);
	char sig[13];
	memcpy(sig, &r.b, 4);
	memcpy(sig + 4, &r.c, 4);
	memcpy(sig + 8, &r.d, 4);
	sig[12] = 0;
	CHECK_STR(sig, "KeelKeelKeel");
}

TEST(cpuid_hypervisor_version_and_other_hv_leaves)
{
	struct cpuid_ctx ctx = {0};
	struct cpuid_regs r = filter(0x40000001, 0, &ctx, ALL_ONES);
	CHECK_EQ(r.a, (KEEL_VERSION_MAJOR << 16) | KEEL_VERSION_MINOR);
	CHECK_EQ(r.b | r.c | r.d, 0);
	/* the rest of the hypervisor range answers zeros, never the host's values */
	r = filter(0x40000002, 0, &ctx, ALL_ONES);
	CHECK_EQ(r.a | r.b | r.c | r.d, 0);
	r = filter(0x4fffffff, 0, &ctx, ALL_ONES);
	CHECK_EQ(r.a | r.b | r.c | r.d, 0);
	CHECK(cpuid_is_hv_leaf(0x40000000));
	CHECK(cpuid_is_hv_leaf(0x4fffffff));
	CHECK(!cpuid_is_hv_leaf(0x3fffffff));
	CHECK(!cpuid_is_hv_leaf(0x50000000));
	CHECK(!cpuid_is_hv_leaf(1));
	CHECK(!cpuid_is_hv_leaf(0x80000001));
}

TEST(cpuid_leaf1_hides_and_sets)
{
	struct cpuid_ctx ctx = {.vcpu_id = 3};
	struct cpuid_regs r = filter(1, 0, &ctx, ALL_ONES);
	CHECK(r.c & BIT(31));	 /* hypervisor present */
	CHECK(!(r.c & BIT(5)));	 /* VMX */
	CHECK(!(r.c & BIT(6)));	 /* SMX */
	CHECK(!(r.c & BIT(3)));	 /* MONITOR */
	CHECK(!(r.c & BIT(21))); /* x2APIC */
	CHECK(!(r.c & BIT(24))); /* TSC deadline */
	CHECK(!(r.c & BIT(27))); /* OSXSAVE: guest CR4.OSXSAVE is 0 */
	CHECK(r.c & BIT(26));	 /* XSAVE itself stays */
	CHECK(r.c & BIT(0));	 /* SSE3 stays */
	CHECK(!(r.d & BIT(9)));	 /* local APIC not modelled yet */
	CHECK(!(r.d & BIT(28))); /* HTT */
	CHECK(r.d & BIT(0));	 /* FPU stays */
	CHECK_EQ(r.b >> 24, 3);	 /* APIC ID = vCPU number */
	CHECK_EQ((r.b >> 16) & 0xff, 1);
	CHECK_EQ(r.b & 0xffff, 0xffff); /* brand index, CLFLUSH size: the host's */
	CHECK_EQ(r.a, 0xffffffffu);	/* family/model/stepping: the host's */
}

TEST(cpuid_leaf1_hypervisor_bit_even_if_host_lacks_it)
{
	struct cpuid_ctx ctx = {0};
	struct cpuid_regs r = filter(1, 0, &ctx, (struct cpuid_regs){0x806ea, 0x100800, 0x20, 0});
	CHECK(r.c & BIT(31));
	CHECK(!(r.c & BIT(5)));
	CHECK_EQ(r.b >> 24, 0);
}

TEST(cpuid_osxsave_follows_guest_cr4)
{
	struct cpuid_ctx ctx = {.guest_cr4 = BIT(18)};
	struct cpuid_regs r = filter(1, 0, &ctx, (struct cpuid_regs){0, 0, BIT(26), 0});
	CHECK(r.c & BIT(27));
	ctx.guest_cr4 = 0;
	r = filter(1, 0, &ctx, (struct cpuid_regs){0, 0, BIT(26) | BIT(27), 0});
	CHECK(!(r.c & BIT(27)));
}

TEST(cpuid_leaf7_ospke_and_hidden_features)
{
	struct cpuid_ctx ctx = {0};
	struct cpuid_regs r = filter(7, 0, &ctx, ALL_ONES);
	CHECK(!(r.c & BIT(4)));	 /* OSPKE: guest CR4.PKE is 0 */
	CHECK(!(r.b & BIT(2)));	 /* SGX */
	CHECK(!(r.b & BIT(10))); /* INVPCID not enabled */
	CHECK(!(r.b & BIT(25))); /* processor trace */
	CHECK(!(r.c & BIT(5)));	 /* WAITPKG */
	CHECK(!(r.d & BIT(29))); /* IA32_ARCH_CAPABILITIES */
	CHECK(r.b & BIT(0));	 /* FSGSBASE stays */
	CHECK(r.c & BIT(3));	 /* PKU itself stays */
	ctx.guest_cr4 = BIT(22);
	ctx.invpcid = true;
	r = filter(7, 0, &ctx, (struct cpuid_regs){0, BIT(10), BIT(3), 0});
	CHECK(r.c & BIT(4));
	CHECK(r.b & BIT(10));
	/* other subleaves are zeroed */
	r = filter(7, 1, &ctx, ALL_ONES);
	CHECK_EQ(r.a | r.b | r.c | r.d, 0);
}

TEST(cpuid_topology_leaves)
{
	struct cpuid_ctx ctx = {.vcpu_id = 5};
	const u32 leaves[] = {0xb, 0x1f};
	for (unsigned i = 0; i < ARRAY_SIZE(leaves); i++) {
		struct cpuid_regs r = filter(leaves[i], 0, &ctx, ALL_ONES);
		CHECK_EQ(r.a, 0);
		CHECK_EQ(r.b, 1);
		CHECK_EQ(r.c, 0x100); /* level 0: SMT */
		CHECK_EQ(r.d, 5);     /* x2APIC ID */
		r = filter(leaves[i], 1, &ctx, ALL_ONES);
		CHECK_EQ(r.b, 1);
		CHECK_EQ(r.c, 0x201); /* level 1: core */
		CHECK_EQ(r.d, 5);
		r = filter(leaves[i], 2, &ctx, ALL_ONES);
		CHECK_EQ(r.a, 0);
		CHECK_EQ(r.b, 0);
		CHECK_EQ(r.c, 2); /* invalid level, subleaf echoed */
		CHECK_EQ(r.d, 5);
	}
	struct cpuid_regs r = filter(4, 0, &ctx, ALL_ONES);
	CHECK_EQ(r.a >> 14, 0); /* one thread per cache, one core per package */
	CHECK_EQ(r.a & 0x3fff, 0x3fff);
}

TEST(cpuid_power_perf_leaves_hidden)
{
	struct cpuid_ctx ctx = {0};
	const u32 leaves[] = {5, 6, 0xa, 0x12, 0x14};
	for (unsigned i = 0; i < ARRAY_SIZE(leaves); i++) {
		struct cpuid_regs r = filter(leaves[i], 0, &ctx, ALL_ONES);
		CHECK_EQ(r.a | r.b | r.c | r.d, 0);
	}
	struct cpuid_regs r = filter(0xd, 1, &ctx, ALL_ONES);
	CHECK(!(r.a & BIT(3))); /* XSAVES */
	CHECK(!(r.a & BIT(4))); /* XFD */
	CHECK(r.a & BIT(0));	/* XSAVEOPT stays */
	r = filter(0xd, 0, &ctx, ALL_ONES);
	CHECK_EQ(r.a, 0xffffffffu);
}

TEST(cpuid_rdtscp_hidden_unless_enabled)
{
	struct cpuid_ctx ctx = {0};
	struct cpuid_regs r = filter(0x80000001, 0, &ctx, ALL_ONES);
	CHECK(!(r.d & BIT(27)));
	CHECK(r.d & BIT(29)); /* long mode stays */
	CHECK_EQ(r.c, 0xffffffffu);
	ctx.rdtscp = true;
	r = filter(0x80000001, 0, &ctx, ALL_ONES);
	CHECK(r.d & BIT(27));
}

TEST(cpuid_other_leaves_pass_through)
{
	struct cpuid_ctx ctx = {0};
	struct cpuid_regs native = {0x16, 0x756e6547, 0x6c65746e, 0x49656e69};
	struct cpuid_regs r = filter(0, 0, &ctx, native);
	CHECK_EQ(r.a, native.a);
	CHECK_EQ(r.b, native.b);
	CHECK_EQ(r.c, native.c);
	CHECK_EQ(r.d, native.d);
	r = filter(0x80000008, 0, &ctx, ALL_ONES);
	CHECK_EQ(r.a, 0xffffffffu);
}

TEST(cpuid_hides_features_with_unemulated_msrs)
{
	struct cpuid_ctx ctx = {0};
	struct cpuid_regs r = {0, ~0u, ~0u, ~0u};
	cpuid_filter(7, 0, &ctx, &r);
	CHECK(!(r.b & BIT(1)));	 /* TSC_ADJUST */
	CHECK(!(r.c & BIT(7)));	 /* CET shadow stacks */
	CHECK(!(r.c & BIT(16))); /* LA57 */
	CHECK(!(r.d & BIT(26))); /* IBRS/IBPB: SPEC_CTRL, PRED_CMD */
	CHECK(!(r.d & BIT(27))); /* STIBP */
	CHECK(!(r.d & BIT(28))); /* L1D_FLUSH */
	CHECK(!(r.d & BIT(31))); /* SSBD */
	CHECK(r.d & BIT(10));	 /* MD_CLEAR (VERW) needs no MSR: kept */
	r = (struct cpuid_regs){0, 0, ~0u, 0};
	cpuid_filter(1, 0, &ctx, &r);
	CHECK(!(r.c & BIT(18))); /* DCA */
}

TEST(cpuid_reports_the_measured_tsc_rate)
{
	struct cpuid_ctx ctx = {.tsc_hz = 50000000};
	struct cpuid_regs r = {2, 292, 24000000, 7}; /* a model's nominal crystal ratio */
	cpuid_filter(0x15, 0, &ctx, &r);
	CHECK_EQ((u64)r.c * r.b / r.a, 50000000);
	r = (struct cpuid_regs){3500, 3500, 100, 0};
	cpuid_filter(0x16, 0, &ctx, &r);
	CHECK_EQ(r.a, 50);
	/* unknown rate: the native answer stays */
	ctx.tsc_hz = 0;
	r = (struct cpuid_regs){2, 292, 24000000, 7};
	cpuid_filter(0x15, 0, &ctx, &r);
	CHECK_EQ(r.b, 292);
}
