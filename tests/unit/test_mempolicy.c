/* Shares-based allocation with the idle-memory tax (mm/mempolicy.c), on ESX's formula
 * rho = S / (P * (f + k * (1 - f))), k = 1 / (1 - tax): worked examples with the arithmetic
 * done by hand in the comments, reservations and limits honoured, admission control. Pages
 * are counted in "units" (think MiB) to keep the numbers small. */
#include "test.h"
#include "../../mm/mempolicy.h"

static struct mp_vm vm(u64 min, u64 max, u64 shares, u64 active)
{
	return (struct mp_vm){
	    .min_pages = min, .max_pages = max, .shares = shares, .active_pages = active};
}

TEST(mempolicy_ratio_charges_an_idle_page_k_times_an_active_one)
{
	/* tax 75%: k = 1 / (1 - 0.75) = 4. A: 100 pages all idle, B: 400 pages all active,
	 * equal shares. rho_A = S / (100 * (0 + 4 * 1)) = S / 400; rho_B = S / (400 * 1) =
	 * S / 400: equal. */
	struct mp_vm a = vm(0, 0, 1000, 0), b = vm(0, 0, 1000, 400);
	CHECK_EQ(mp_rho_cmp(&a, 100, &b, 400, 75), 0);
	/* one more idle page for A: 101 * 4 = 404 > 400, its ratio is the lower */
	CHECK(mp_rho_cmp(&a, 101, &b, 400, 75) < 0);
	/* tax 0: k = 1, pure shares per page: S/100 > S/400 */
	CHECK(mp_rho_cmp(&a, 100, &b, 400, 0) > 0);
	/* tax 50%: k = 2. A 200 pages, half active: 200 * (0.5 + 2 * 0.5) = 300. B 300
	 * pages active: 300. Equal with equal shares; A with twice the shares is the higher */
	struct mp_vm c = vm(0, 0, 1000, 100), d = vm(0, 0, 1000, 300), c2 = vm(0, 0, 2000, 100);
	CHECK_EQ(mp_rho_cmp(&c, 200, &d, 300, 50), 0);
	CHECK(mp_rho_cmp(&c2, 200, &d, 300, 50) > 0);
	/* active pages above what it holds count as all active (f = 1) */
	struct mp_vm e = vm(0, 0, 1000, 5000);
	CHECK_EQ(mp_rho_cmp(&e, 300, &d, 300, 75), 0);
	/* a tax of 100% or more is taken as 99% (k = 100): 1 idle page = 100 active */
	struct mp_vm idle = vm(0, 0, 1000, 0), act = vm(0, 0, 1000, 100);
	CHECK_EQ(mp_rho_cmp(&idle, 1, &act, 100, 100), 0);
	/* holding nothing ranks last (never picked to give) */
	CHECK(mp_rho_cmp(&idle, 0, &act, 100, 75) > 0);
}

TEST(mempolicy_without_tax_divides_memory_by_shares)
{
	/* tax 0: rho = S / P whatever is active. Equal shares, 256 each wanted, 384 there:
	 * each gives 64 -> 192 + 192. */
	struct mp_vm v[2] = {vm(0, 256, 1000, 0), vm(0, 256, 1000, 256)};
	CHECK_EQ(mempolicy_targets(v, 2, 384, 0, 1), 384u);
	CHECK_EQ(v[0].target, 192u);
	CHECK_EQ(v[1].target, 192u);
	/* shares 2:1, 300 there: the ratios meet at 2000/T1 = 1000/T2, T1 = 2 * T2,
	 * T1 + T2 = 300: 200 and 100 */
	struct mp_vm w[2] = {vm(0, 256, 2000, 0), vm(0, 256, 1000, 0)};
	mempolicy_targets(w, 2, 300, 0, 1);
	CHECK_EQ(w[0].target, 200u);
	CHECK_EQ(w[1].target, 100u);
}

TEST(mempolicy_tax_takes_idle_memory_first)
{
	/* tax 75% (k = 4), equal shares, 256 wanted each; VM 0 idle, VM 1 all active.
	 * 384 there: 128 to reclaim. rho_0 = S / (4 * T0), rho_1 = S / T1: VM 0 gives while
	 * 4 * T0 > T1 = 256, i.e. down to T0 = 64; 128 is reached first: 128 + 256. */
	struct mp_vm v[2] = {vm(0, 256, 1000, 0), vm(0, 256, 1000, 256)};
	CHECK_EQ(mempolicy_targets(v, 2, 384, 75, 1), 384u);
	CHECK_EQ(v[0].target, 128u);
	CHECK_EQ(v[1].target, 256u);
	/* 300 there: VM 0 gives 192 (to 64, where 4 * 64 = 256 = T1), then both give keeping
	 * T1 = 4 * T0 with T0 + T1 = 300: T0 = 60, T1 = 240 */
	struct mp_vm w[2] = {vm(0, 256, 1000, 0), vm(0, 256, 1000, 256)};
	mempolicy_targets(w, 2, 300, 75, 1);
	CHECK_EQ(w[0].target, 60u);
	CHECK_EQ(w[1].target, 240u);
	/* the same without tax: 150 each, idle or not */
	struct mp_vm x[2] = {vm(0, 256, 1000, 0), vm(0, 256, 1000, 256)};
	mempolicy_targets(x, 2, 300, 0, 1);
	CHECK_EQ(x[0].target, 150u);
	CHECK_EQ(x[1].target, 150u);
}

TEST(mempolicy_partly_active_vm_keeps_its_active_pages_longest)
{
	/* tax 75%, equal shares, 256 wanted each, 320 there (192 to reclaim). VM 0 has
	 * A = 128 active: at T0 >= 128 its charge is 128 + 4 * (T0 - 128); VM 1 is all active
	 * (charge T1). VM 0 alone gives while 128 + 4 * (T0 - 128) > 256, i.e. down to
	 * T0 = 160 (96 given); then 96 more with 128 + 4 * (T0 - 128) = T1, T0 + T1 = 320:
	 * 5 * T0 = 704, T0 = 140.8 -> 140 or 141 in whole pages, T1 the rest. */
	struct mp_vm v[2] = {vm(0, 256, 1000, 128), vm(0, 256, 1000, 256)};
	CHECK_EQ(mempolicy_targets(v, 2, 320, 75, 1), 320u);
	CHECK(v[0].target == 140 || v[0].target == 141);
	CHECK_EQ(v[0].target + v[1].target, 320u);
}

TEST(mempolicy_honours_reservations_and_limits)
{
	/* the idle VM reserves 100: it stops there and the active one gives the rest */
	struct mp_vm v[2] = {vm(100, 256, 1000, 0), vm(0, 256, 1000, 256)};
	CHECK_EQ(mempolicy_targets(v, 2, 300, 75, 1), 300u);
	CHECK_EQ(v[0].target, 100u);
	CHECK_EQ(v[1].target, 200u);
	/* plenty of memory: everyone gets its limit, not more */
	struct mp_vm w[3] = {vm(0, 64, 1, 0), vm(10, 128, 1, 0), vm(0, 32, 5, 32)};
	CHECK_EQ(mempolicy_targets(w, 3, 100000, 75, 256), 224u);
	CHECK_EQ(w[0].target, 64u);
	CHECK_EQ(w[1].target, 128u);
	CHECK_EQ(w[2].target, 32u);
	/* reservations above what there is: every VM at its min, the sum says so */
	struct mp_vm x[2] = {vm(200, 256, 1, 0), vm(200, 256, 1, 0)};
	CHECK_EQ(mempolicy_targets(x, 2, 300, 75, 16), 400u);
	CHECK_EQ(x[0].target, 200u);
	CHECK_EQ(x[1].target, 200u);
	/* a bigger step lands exactly on avail */
	struct mp_vm y[2] = {vm(0, 1000, 1, 0), vm(0, 1000, 1, 0)};
	CHECK_EQ(mempolicy_targets(y, 2, 1001, 75, 256), 1001u);
	/* no VMs, zero shares: nothing to divide, no crash */
	CHECK_EQ(mempolicy_targets(NULL, 0, 10, 75, 1), 0u);
	struct mp_vm z[2] = {vm(0, 10, 0, 0), vm(0, 10, 0, 10)};
	CHECK_EQ(mempolicy_targets(z, 2, 10, 75, 0), 10u);
}

TEST(mempolicy_admits_a_vm_only_when_its_reservation_fits)
{
	char msg[160];
	/* 256 MiB = 65536 pages for guests, 128 MiB reserved by running VMs */
	CHECK(mempolicy_admit(32768, 32768, 65536, msg, sizeof(msg)) == NULL); /* exactly */
	const char *why = mempolicy_admit(32768, 32769, 65536, msg, sizeof(msg));
	CHECK_CONTAINS(why, "mem_min 128 MiB");
	CHECK_CONTAINS(why, "reserve 128 MiB of the 256 MiB");
	CHECK(mempolicy_admit(0, 0, 0, msg, sizeof(msg)) == NULL);	   /* no reservation */
	CHECK(mempolicy_admit(0, 65537, 65536, msg, sizeof(msg)) != NULL); /* alone too big */
	/* sums that would wrap are refused, not admitted */
	CHECK(mempolicy_admit(~0ULL, 2, 65536, msg, sizeof(msg)) != NULL);
	CHECK(mempolicy_admit(2, ~0ULL, 65536, msg, sizeof(msg)) != NULL);
}
