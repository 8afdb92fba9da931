/* Tests of the pure parts of vmx/: the VMCS field table (vmcs.c), capability decoding and the
 * go/no-go check (caps.c), emulated CR0/CR4/LMSW writes (cr.c), double/triple-fault rules
 * (event.c) and the software guest-state check (guest_check.c). */
#include "test.h"
#include "../../vmx/caps.h"
#include "../../vmx/cr.h"
#include "../../vmx/event.h"
#include "../../vmx/guest_check.h"
#include "../../vmx/vmcs.h"
#include "../../vmx/vmx_defs.h"

/* ---- VMCS field table ---- */

static const struct {
	u32 enc;
	const char *name;
} def_fields[] = {
#define VMCS_FIELD(name, enc) {enc, #name},
#include "../../vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

TEST(vmcs_every_field_round_trips)
{
	CHECK_EQ(vmcs_field_count(), ARRAY_SIZE(def_fields));
	for (unsigned i = 0; i < vmcs_field_count(); i++) {
		u32 enc = vmcs_field_at(i);
		CHECK_EQ(enc, def_fields[i].enc);
		CHECK_STR(vmcs_field_name(enc), def_fields[i].name);
	}
	CHECK_STR(vmcs_field_name(0x7777), "UNKNOWN_FIELD");
	CHECK_STR(vmcs_field_name(0x2001), "UNKNOWN_FIELD"); /* a _HIGH half is not listed */
}

TEST(vmcs_no_duplicate_encodings_or_names)
{
	for (unsigned i = 0; i < vmcs_field_count(); i++) {
		for (unsigned j = i + 1; j < vmcs_field_count(); j++) {
			if (vmcs_field_at(i) == vmcs_field_at(j))
				test_fail(__FILE__, __LINE__, "encoding %x listed twice",
					  vmcs_field_at(i));
			if (!strcmp(def_fields[i].name, def_fields[j].name))
				test_fail(__FILE__, __LINE__, "name %s listed twice",
					  def_fields[i].name);
		}
	}
}

TEST(vmcs_encodings_are_well_formed)
{
	for (unsigned i = 0; i < vmcs_field_count(); i++) {
		u32 enc = vmcs_field_at(i);
		CHECK_EQ(enc & 1, 0);	    /* full access, not a _HIGH half */
		CHECK_EQ(enc & BIT(12), 0); /* reserved */
		CHECK_EQ(enc >> 15, 0);	    /* reserved */
		/* 64-bit fields come in pairs: the name must not claim the high half */
		if (vmcs_field_width(enc) == VMCS_W64)
			CHECK(!strstr(vmcs_field_name(enc), "HIGH"));
	}
	/* spot checks against the SDM's appendix B */
	CHECK_EQ(VMCS_GUEST_RIP, 0x681e);
	CHECK_EQ(VMCS_EPT_POINTER, 0x201a);
	CHECK_EQ(VMCS_EXIT_REASON, 0x4402);
	CHECK_EQ(VMCS_VMCS_LINK_PTR, 0x2800);
	CHECK_EQ(VMCS_GUEST_INTERRUPTIBILITY, 0x4824);
	CHECK_EQ(VMCS_HOST_RIP, 0x6c16);
	CHECK_EQ(vmcs_field_width(VMCS_GUEST_CS_SEL), VMCS_W16);
	CHECK_EQ(vmcs_field_width(VMCS_TSC_OFFSET), VMCS_W64);
	CHECK_EQ(vmcs_field_width(VMCS_PIN_CONTROLS), VMCS_W32);
	CHECK_EQ(vmcs_field_width(VMCS_GUEST_CR0), VMCS_WNAT);
}

TEST(vmcs_value_fits_by_width)
{
	CHECK(vmcs_value_fits(VMCS_VPID, 0xffff));
	CHECK(!vmcs_value_fits(VMCS_VPID, 0x10000));
	CHECK(vmcs_value_fits(VMCS_GUEST_ES_AR, 0xffffffffULL));
	CHECK(!vmcs_value_fits(VMCS_GUEST_ES_AR, 0x100000000ULL));
	CHECK(vmcs_value_fits(VMCS_EPT_POINTER, ~0ULL));
	CHECK(vmcs_value_fits(VMCS_GUEST_RIP, ~0ULL));
	CHECK(vmcs_value_fits(VMCS_GUEST_CS_SEL, 0));
}

TEST(vmx_instruction_error_strings)
{
	CHECK_CONTAINS(vmx_instruction_error_name(7), "invalid control field");
	CHECK_CONTAINS(vmx_instruction_error_name(8), "invalid host-state");
	CHECK_CONTAINS(vmx_instruction_error_name(12), "unsupported VMCS component");
	CHECK_CONTAINS(vmx_instruction_error_name(28), "INVEPT/INVVPID");
	const u32 unknown[] = {0, 14, 21, 27, 29, 1000, 0xffffffffu};
	for (unsigned i = 0; i < ARRAY_SIZE(unknown); i++)
		CHECK_STR(vmx_instruction_error_name(unknown[i]), "unknown VM-instruction error");
}

/* ---- capabilities ---- */

TEST(vmx_ctl_adjust_allowed0_allowed1)
{
	u64 cap = (0x0000ffffULL << 32) | 0x16; /* must be 1: 0x16; may be 1: 0xffff */
	u32 missing = 0xdead;
	CHECK_EQ(vmx_ctl_adjust(cap, 0x10001, &missing), 0x17);
	CHECK_EQ(missing, 0x10000);
	CHECK_EQ(vmx_ctl_adjust(cap, 0, &missing), 0x16);
	CHECK_EQ(missing, 0);
	CHECK_EQ(vmx_ctl_adjust(cap, 0x8000, NULL), 0x8016);
	CHECK(vmx_ctl_can(cap, 0x8000));
	CHECK(!vmx_ctl_can(cap, 0x10000));
}

/* A CPU with everything Keel wants. */
static struct vmx_caps capable(void)
{
	const u64 all = 0xffffffffULL << 32;
	return (struct vmx_caps){
	    .vmx = true,
	    .feature_control_ok = true,
	    .basic = (6ULL << 50) | BIT(55) | 0x12,
	    .pin = all,
	    .proc = all,
	    .proc2 = all,
	    .exit = all,
	    .entry = all,
	    .misc = 5,
	    .ept_vpid = EPTCAP_PWL4 | EPTCAP_WB | EPTCAP_2M | EPTCAP_INVEPT | EPTCAP_INVEPT_SINGLE |
			EPTCAP_INVEPT_ALL | VPIDCAP_INVVPID,
	    .cr0_fixed0 = 0x80000021,
	    .cr0_fixed1 = 0xffffffff,
	    .cr4_fixed0 = 0x2000,
	    .cr4_fixed1 = 0x3767ff,
	};
}

static void drop(u64 *cap, u64 bit)
{
	*cap &= ~(bit << 32);
}

TEST(vmx_caps_check_accepts_a_capable_cpu)
{
	struct vmx_caps c = capable();
	CHECK(vmx_caps_check(&c) == NULL);
	CHECK_EQ(vmx_revision(&c), 0x12);
	CHECK(vmx_has_true_ctls(&c));
	CHECK_EQ(vmx_preempt_rate(&c), 5);
	/* only one INVEPT type is enough */
	c.ept_vpid &= ~EPTCAP_INVEPT_SINGLE;
	CHECK(vmx_caps_check(&c) == NULL);
	/* VPID is used when present, not required */
	c = capable();
	drop(&c.proc2, PROC2_VPID);
	CHECK(vmx_caps_check(&c) == NULL);
}

TEST(vmx_caps_pml_needs_pml_and_ept_ad_flags)
{
	struct vmx_caps c = capable();
	CHECK(!vmx_caps_pml(&c)); /* PML without EPT A/D flags (Haswell has the reverse) */
	c.ept_vpid |= EPTCAP_AD;
	CHECK(vmx_caps_pml(&c));
	drop(&c.proc2, PROC2_PML);
	CHECK(!vmx_caps_pml(&c));
	c = capable();
	c.ept_vpid |= EPTCAP_AD;
	drop(&c.proc, PROC_SECONDARY); /* no secondary controls at all */
	CHECK(!vmx_caps_pml(&c));
}

TEST(vmx_caps_check_preemption_timer_is_optional)
{
	/* without a preemption timer slices end on the hypervisor's tick instead */
	struct vmx_caps c = capable();
	drop(&c.pin, PIN_PREEMPT_TIMER);
	CHECK(vmx_caps_check(&c) == NULL);
}

/* The capable CPU with one thing taken away must be refused with a message naming it. */
#define REFUSED(msg, ...)                                                                          \
	do {                                                                                       \
		struct vmx_caps c = capable();                                                     \
		__VA_ARGS__;                                                                       \
		const char *why_ = vmx_caps_check(&c);                                             \
		if (!why_)                                                                         \
			test_fail(__FILE__, __LINE__, "accepted: %s", #__VA_ARGS__);               \
		else                                                                               \
			CHECK_CONTAINS(why_, msg);                                                 \
	} while (0)

TEST(vmx_caps_check_refuses_each_missing_feature)
{
	REFUSED("no VT-x", c.vmx = false);
	REFUSED("firmware", c.feature_control_ok = false);
	REFUSED("VMCS memory type", c.basic &= ~(0xfULL << 50));
	REFUSED("32 bits", c.basic |= BIT(48));
	REFUSED("secondary", drop(&c.proc, PROC_SECONDARY));
	REFUSED("bitmaps", drop(&c.proc, PROC_IO_BITMAPS));
	REFUSED("bitmaps", drop(&c.proc, PROC_MSR_BITMAPS));
	REFUSED("interrupt acknowledgement", drop(&c.exit, EXIT_ACK_INTR));
	REFUSED("64-bit host", drop(&c.exit, EXIT_HOST_64));
	REFUSED("EFER", drop(&c.exit, EXIT_SAVE_EFER));
	REFUSED("EFER", drop(&c.exit, EXIT_LOAD_EFER));
	REFUSED("EFER", drop(&c.entry, ENTRY_LOAD_EFER));
}

/* Without usable EPT Keel still runs, every VM on shadow paging; the reason is named. */
#define NO_EPT(msg, ...)                                                                           \
	do {                                                                                       \
		struct vmx_caps c = capable();                                                     \
		__VA_ARGS__;                                                                       \
		CHECK(vmx_caps_check(&c) == NULL);                                                 \
		const char *why_ = vmx_caps_ept_check(&c);                                         \
		if (!why_)                                                                         \
			test_fail(__FILE__, __LINE__, "EPT usable: %s", #__VA_ARGS__);             \
		else                                                                               \
			CHECK_CONTAINS(why_, msg);                                                 \
	} while (0)

TEST(vmx_caps_without_ept_fall_back_to_shadow)
{
	struct vmx_caps ok = capable();
	CHECK(vmx_caps_ept_check(&ok) == NULL);
	NO_EPT("no EPT", drop(&c.proc2, PROC2_EPT));
	NO_EPT("4-level", c.ept_vpid &= ~EPTCAP_PWL4);
	NO_EPT("write-back", c.ept_vpid &= ~EPTCAP_WB);
	NO_EPT("INVEPT", c.ept_vpid &= ~EPTCAP_INVEPT);
	NO_EPT("INVEPT", c.ept_vpid &= ~(EPTCAP_INVEPT_SINGLE | EPTCAP_INVEPT_ALL));
	NO_EPT("unrestricted guest", drop(&c.proc2, PROC2_UNRESTRICTED));
}

TEST(vmx_caps_describe_lists_features)
{
	struct vmx_caps c = capable();
	char buf[1024];
	vmx_caps_describe(&c, buf, sizeof(buf));
	CHECK_CONTAINS(buf, "EPT yes");
	CHECK_CONTAINS(buf, "VPID yes");
	CHECK_CONTAINS(buf, "unrestricted guest yes");
	CHECK_CONTAINS(buf, "VMCS revision 18");
	CHECK_CONTAINS(buf, "rate 2^5");
	CHECK_CONTAINS(buf, "2M pages yes");
	CHECK_CONTAINS(buf, "1G pages no");
	drop(&c.proc2, PROC2_EPT | PROC2_VPID);
	vmx_caps_describe(&c, buf, sizeof(buf));
	CHECK_CONTAINS(buf, "EPT no");
	CHECK_CONTAINS(buf, "VPID no");
	/* a small buffer: cut and terminated, never overrun (exact-size heap block) */
	char *small = test_alloc(20);
	vmx_caps_describe(&c, small, 20);
	CHECK_EQ(strlen(small), 19);
	vmx_caps_describe(&c, small, 1);
	CHECK_STR(small, "");
}

/* ---- control registers ---- */

static const struct cr_policy pol = {
    .cr0_must1 = CR0_NE,
    .cr0_must0 = 0,
    .cr4_must1 = CR4_VMXE,
    .cr4_must0 = 0xff800000ULL,
    .cr4_hidden = CR4_VMXE | CR4_SMXE,
};

static struct cr_write cr0(struct cr_state s, u64 val)
{
	struct cr_write w;
	memset(&w, 0xee, sizeof(w));
	cr0_write(&pol, &s, val, &w);
	return w;
}

static struct cr_write cr4(struct cr_state s, u64 val)
{
	struct cr_write w;
	memset(&w, 0xee, sizeof(w));
	cr4_write(&pol, &s, val, &w);
	return w;
}

#define PROT ((struct cr_state){CR0_PE | CR0_ET, 0, 0, false})

TEST(cr0_write_gp_cases)
{
	CHECK(cr0(PROT, (1ULL << 32) | CR0_PE).gp);
	CHECK(cr0(PROT, CR0_PG).gp);	      /* PG without PE */
	CHECK(cr0(PROT, CR0_PE | CR0_NW).gp); /* NW without CD */
	CHECK(!cr0(PROT, CR0_PE | CR0_NW | CR0_CD).gp);
	struct cr_state lme = {CR0_PE | CR0_ET, 0, EFER_LME, false};
	CHECK(cr0(lme, CR0_PE | CR0_PG).gp); /* long mode without PAE */
	/* leaving paging from 64-bit code */
	struct cr_state lm = {CR0_PE | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA, true};
	CHECK(cr0(lm, CR0_PE).gp);
}

TEST(cr0_write_values_and_forced_bits)
{
	struct cr_write w = cr0(PROT, CR0_PE | CR0_MP);
	CHECK(!w.gp);
	CHECK_EQ(w.guest, CR0_PE | CR0_MP | CR0_ET); /* ET is hardwired */
	CHECK_EQ(w.hw, CR0_PE | CR0_MP | CR0_ET | CR0_NE);
	CHECK_EQ(w.efer, 0);
	CHECK(!w.flush_tlb);
	CHECK(!w.load_pdptes);
	w = cr0(PROT, 0); /* back to real mode: allowed with unrestricted guest */
	CHECK(!w.gp);
	CHECK(w.flush_tlb);
	CHECK_EQ(w.hw, CR0_ET | CR0_NE);
}

TEST(cr0_write_long_mode_transitions)
{
	struct cr_state s = {CR0_PE | CR0_ET, CR4_PAE, EFER_LME, false};
	struct cr_write w = cr0(s, CR0_PE | CR0_PG);
	CHECK(!w.gp);
	CHECK_EQ(w.efer, EFER_LME | EFER_LMA);
	CHECK(w.flush_tlb);
	CHECK(!w.load_pdptes); /* IA-32e paging has no PDPTE registers */
	/* paging off again from compatibility mode: LMA drops */
	s = (struct cr_state){CR0_PE | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA, false};
	w = cr0(s, CR0_PE);
	CHECK(!w.gp);
	CHECK_EQ(w.efer, EFER_LME);
	CHECK(w.flush_tlb);
	/* without LME, paging is just paging */
	s = (struct cr_state){CR0_PE, 0, 0, false};
	w = cr0(s, CR0_PE | CR0_PG);
	CHECK_EQ(w.efer, 0);
	CHECK(!w.load_pdptes);
}

TEST(cr0_write_pae_paging_loads_pdptes)
{
	struct cr_state s = {CR0_PE | CR0_ET, CR4_PAE, 0, false};
	struct cr_write w = cr0(s, CR0_PE | CR0_PG);
	CHECK(!w.gp);
	CHECK(w.load_pdptes);
	CHECK(w.flush_tlb);
	s.cr0 = CR0_PE | CR0_PG | CR0_ET;
	w = cr0(s, CR0_PE | CR0_PG | CR0_TS); /* TS only: no reload */
	CHECK(!w.load_pdptes);
	CHECK(!w.flush_tlb);
	w = cr0(s, CR0_PE | CR0_PG | CR0_WP);
	CHECK(w.flush_tlb);
}

TEST(cr0_write_cache_bits_in_pae_paging_reload_pdptes)
{
	/* SDM 4.4.1: MOV to CR0 that modifies CD, NW or PG while PAE paging results loads the
	 * PDPTEs from CR3 */
	struct cr_state s = {CR0_PE | CR0_PG | CR0_ET, CR4_PAE, 0, false};
	struct cr_write w = cr0(s, CR0_PE | CR0_PG | CR0_CD);
	CHECK(!w.gp);
	CHECK(w.load_pdptes);
}

TEST(cr4_write_gp_cases)
{
	CHECK(cr4(PROT, CR4_VMXE).gp);
	CHECK(cr4(PROT, CR4_SMXE).gp);
	CHECK(cr4(PROT, BIT(23)).gp); /* not allowed in VMX operation */
	CHECK(cr4(PROT, 1ULL << 32).gp);
	CHECK(cr4(PROT, CR4_PCIDE).gp); /* PCIDE outside long mode */
	struct cr_state lm = {CR0_PE | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA, true};
	CHECK(cr4(lm, 0).gp); /* clearing PAE in long mode */
	CHECK(cr4(lm, CR4_PAE | CR4_LA57).gp);
	CHECK(!cr4(lm, CR4_PAE | CR4_PCIDE).gp);
	lm.cr4 |= CR4_PCIDE;
	CHECK(!cr4(lm, CR4_PAE | CR4_PCIDE | CR4_PGE).gp);
}

TEST(cr4_write_values)
{
	struct cr_write w = cr4(PROT, CR4_PSE | CR4_OSFXSR);
	CHECK(!w.gp);
	CHECK_EQ(w.guest, CR4_PSE | CR4_OSFXSR);
	CHECK_EQ(w.hw, CR4_PSE | CR4_OSFXSR | CR4_VMXE);
	CHECK(w.flush_tlb);
	CHECK(!w.load_pdptes);
	struct cr_state s = {CR0_PE | CR0_ET, CR4_PSE, 0, false};
	w = cr4(s, CR4_PSE | CR4_OSXSAVE);
	CHECK(!w.flush_tlb);
	/* PAE switched on under paging: PDPTEs reload */
	s = (struct cr_state){CR0_PE | CR0_PG, 0, 0, false};
	w = cr4(s, CR4_PAE);
	CHECK(w.load_pdptes);
	CHECK(w.flush_tlb);
	s.cr4 = CR4_PAE;
	w = cr4(s, CR4_PAE | CR4_PGE);
	CHECK(w.load_pdptes);
	w = cr4(s, CR4_PAE | CR4_OSFXSR);
	CHECK(!w.load_pdptes);
}

TEST(lmsw_cannot_clear_pe)
{
	CHECK_EQ(lmsw_value(CR0_PE | CR0_TS | CR0_PG, 0), CR0_PE | CR0_PG);
	CHECK_EQ(lmsw_value(0, CR0_PE | CR0_MP), CR0_PE | CR0_MP);
	CHECK_EQ(lmsw_value(CR0_ET, 0xffff), CR0_ET | 0xf);
	CHECK_EQ(lmsw_value(CR0_PE | CR0_EM, CR0_MP), CR0_PE | CR0_MP);
}

/* ---- exception merging ---- */

TEST(event_merge_table)
{
	const u8 contributory[] = {0, 10, 11, 12, 13};
	const u8 benign[] = {1, 2, 3, 4, 5, 6, 7, 9, 16, 17, 18, 19, 32, 255};
	for (unsigned i = 0; i < ARRAY_SIZE(contributory); i++) {
		for (unsigned j = 0; j < ARRAY_SIZE(contributory); j++)
			CHECK_EQ(event_merge(contributory[i], contributory[j]), MERGE_DOUBLE_FAULT);
		CHECK_EQ(event_merge(contributory[i], 14), MERGE_SECOND);
		CHECK_EQ(event_merge(14, contributory[i]), MERGE_DOUBLE_FAULT);
		CHECK_EQ(event_merge(8, contributory[i]), MERGE_TRIPLE_FAULT);
	}
	CHECK_EQ(event_merge(14, 14), MERGE_DOUBLE_FAULT);
	CHECK_EQ(event_merge(8, 14), MERGE_TRIPLE_FAULT);
	CHECK_EQ(event_merge(8, 8), MERGE_TRIPLE_FAULT);
	for (unsigned i = 0; i < ARRAY_SIZE(benign); i++) {
		CHECK_EQ(event_merge(benign[i], 13), MERGE_SECOND);
		CHECK_EQ(event_merge(benign[i], 14), MERGE_SECOND);
		CHECK_EQ(event_merge(benign[i], 8), MERGE_SECOND);
		CHECK_EQ(event_merge(14, benign[i]), MERGE_SECOND);
		CHECK_EQ(event_merge(13, benign[i]), MERGE_SECOND);
		CHECK_EQ(event_merge(8, benign[i]), MERGE_SECOND);
	}
}

TEST(exception_error_codes)
{
	const u8 with[] = {8, 10, 11, 12, 13, 14, 17, 21, 29, 30};
	for (unsigned v = 0; v < 256; v++) {
		bool expect = memchr(with, (int)v, sizeof(with)) != NULL;
		if (exception_has_error_code((u8)v) != expect)
			test_fail(__FILE__, __LINE__, "vector %u: error code %d", v, !expect);
	}
}

/* ---- guest-state check ---- */

/* The multiboot hand-off state as vmx/vmcs_setup.c builds it, on the capable CPU above. */
static struct guest_state flat32(void)
{
	struct guest_state g = {
	    .cr0 = CR0_PE | CR0_ET | CR0_NE,
	    .cr4 = CR4_VMXE,
	    .dr7 = 0x400,
	    .efer = 0,
	    .rflags = RFLAGS_FIXED,
	    .rip = 0x100010,
	    .link = ~0ULL,
	    .entry_ctls = ENTRY_LOAD_EFER,
	    .proc2 = PROC2_EPT | PROC2_UNRESTRICTED | PROC2_VPID,
	    .cr0_fixed0 = 0x80000021,
	    .cr0_fixed1 = 0xffffffff,
	    .cr4_fixed0 = 0x2000,
	    .cr4_fixed1 = 0x3767ff,
	};
	for (unsigned i = 0; i < SEG_COUNT; i++)
		g.seg[i] = (struct seg_state){0x10, 0, 0xffffffff, 0xc093};
	g.seg[SEG_CS] = (struct seg_state){0x08, 0, 0xffffffff, 0xc09b};
	g.seg[SEG_LDTR] = (struct seg_state){0, 0, 0, 0x10000};
	g.seg[SEG_TR] = (struct seg_state){0, 0, 0x67, 0x8b};
	return g;
}

TEST(guest_check_accepts_the_multiboot_state)
{
	struct guest_state g = flat32();
	CHECK(guest_state_check(&g) == NULL);
	g.interruptibility = INTERRUPTIBILITY_STI;
	g.rflags |= RFLAGS_IF;
	CHECK(guest_state_check(&g) == NULL);
	g = flat32();
	g.seg[SEG_FS].ar = 0x10000; /* unusable data segments are not checked */
	g.seg[SEG_LDTR].ar = 0x82;  /* a present LDT */
	CHECK(guest_state_check(&g) == NULL);
	g = flat32();
	g.cr0 = CR0_ET | CR0_NE; /* real mode with unrestricted guest */
	CHECK(guest_state_check(&g) == NULL);
}

/* The multiboot state with one corruption must fail with a message naming the check. */
#define REJECTED(msg, ...)                                                                         \
	do {                                                                                       \
		struct guest_state g = flat32();                                                   \
		__VA_ARGS__;                                                                       \
		const char *why_ = guest_state_check(&g);                                          \
		if (!why_)                                                                         \
			test_fail(__FILE__, __LINE__, "passed: %s", #__VA_ARGS__);                 \
		else                                                                               \
			CHECK_CONTAINS(why_, msg);                                                 \
	} while (0)

TEST(guest_check_single_corruptions)
{
	REJECTED("CR4", g.cr4 &= ~CR4_VMXE);
	REJECTED("CR0", g.cr0 &= ~CR0_NE);
	REJECTED("PG", g.cr0 = CR0_PG | CR0_NE | CR0_ET);
	REJECTED("PCIDE", g.cr4 |= CR4_PCIDE);
	REJECTED("DR7", g.dr7 = 1ULL << 32);
	REJECTED("CS type", g.seg[SEG_CS].ar = 0xc091); /* read-only data */
	REJECTED("CS access rights", g.seg[SEG_CS].ar &= ~0x80u);
	REJECTED("CS limit", g.seg[SEG_CS].limit = 0x100000); /* G=1 needs bits 11:0 set */
	REJECTED("SS type", g.seg[SEG_SS].ar = 0xc09b);
	REJECTED("DS type", g.seg[SEG_DS].ar = 0xc092); /* not accessed */
	REJECTED("ES access rights", g.seg[SEG_ES].ar |= 0x100000);
	REJECTED("TR is unusable", g.seg[SEG_TR].ar |= 0x10000);
	REJECTED("TR type", g.seg[SEG_TR].ar = 0x89); /* available, not busy */
	REJECTED("TR selector", g.seg[SEG_TR].sel = 0x4);
	REJECTED("LDTR", g.seg[SEG_LDTR].ar = 0x83);
	REJECTED("RIP", g.rip = 0x100000000ULL);
	REJECTED("RFLAGS", g.rflags = 0);
	REJECTED("RFLAGS", g.rflags |= BIT(3));
	REJECTED("activity", g.activity = 4);
	REJECTED("STI", g.interruptibility = INTERRUPTIBILITY_STI);
	REJECTED("STI and MOV SS", g.interruptibility = 3; g.rflags |= RFLAGS_IF);
	REJECTED("link pointer", g.link = 0);
	REJECTED("LMA", g.efer = EFER_LMA | EFER_LME);
	REJECTED("IA-32e", g.entry_ctls |= ENTRY_IA32E_GUEST; g.cr0 |= CR0_PG; g.cr4 |= CR4_PAE;
		 g.efer = EFER_LME);
}

TEST(guest_check_long_mode_state)
{
	struct guest_state g = flat32();
	g.entry_ctls |= ENTRY_IA32E_GUEST;
	g.cr0 |= CR0_PG;
	g.cr4 |= CR4_PAE;
	g.efer = EFER_LME | EFER_LMA;
	g.seg[SEG_CS].ar = 0xa09b; /* L=1, D=0 */
	g.seg[SEG_TR].ar = 0x8b;
	g.rip = 0xffffffff80000000ULL;
	CHECK(guest_state_check(&g) == NULL);
	g.seg[SEG_CS].ar = 0xe09b; /* L and D both set */
	CHECK_CONTAINS(guest_state_check(&g), "both L and D/B");
	g.seg[SEG_CS].ar = 0xa09b;
	g.seg[SEG_TR].ar = 0x83; /* 16-bit busy TSS: not in IA-32e mode */
	CHECK_CONTAINS(guest_state_check(&g), "TR type");
	g.seg[SEG_TR].ar = 0x8b;
	g.rflags |= RFLAGS_VM;
	CHECK_CONTAINS(guest_state_check(&g), "RFLAGS.VM");
}
