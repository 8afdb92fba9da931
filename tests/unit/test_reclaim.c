/* The memory driver's decisions (mm/reclaim.c): the free-memory states at their edges, the
 * balloon first and swap in the hard and low states, reservations and device limits kept,
 * the shell's manual balloon left alone, deflate when memory is plentiful, the fallback to
 * swap when a balloon does not move, and odd inputs. Sizes are in MiB (256 pages). */
#include "test.h"
#include "../../mm/reclaim.h"

#define MB   RECLAIM_MIB_PAGES
#define G    (1000 * MB) /* guest pages in every test: 1000 MiB */
#define PCT  (G / 100)	 /* 1% of it */
#define HIGH (10 * PCT)
#define SOFT (5 * PCT)
#define HARD (3 * PCT)
#define LOW  (1 * PCT)

static const struct reclaim_cfg cfg = {6, 4, 2, 100};

/* a 512 MiB VM holding `held` MiB, target `target` MiB, a live balloon */
static struct reclaim_vm vm(struct reclaim_track *t, u64 held, u64 target)
{
	*t = (struct reclaim_track){0};
	return (struct reclaim_vm){.present = true,
				   .mem_pages = 512 * MB,
				   .held = held * MB,
				   .target = target * MB,
				   .balloon = true,
				   .driver_up = true,
				   .balloon_max = (512 - 16) * MB,
				   .swap_on = true,
				   .t = t};
}

TEST(reclaim_states_follow_free_memory_at_their_edges)
{
	CHECK_EQ(reclaim_state_of(&cfg, 6 * PCT, G), RECLAIM_HIGH);
	CHECK_EQ(reclaim_state_of(&cfg, 6 * PCT - 1, G), RECLAIM_SOFT);
	CHECK_EQ(reclaim_state_of(&cfg, 4 * PCT, G), RECLAIM_SOFT);
	CHECK_EQ(reclaim_state_of(&cfg, 4 * PCT - 1, G), RECLAIM_HARD);
	CHECK_EQ(reclaim_state_of(&cfg, 2 * PCT - 1, G), RECLAIM_LOW);
	CHECK_EQ(reclaim_state_of(&cfg, 0, G), RECLAIM_LOW);
	/* no guest memory at all: nothing to take from anyone */
	CHECK_EQ(reclaim_state_of(&cfg, 0, 0), RECLAIM_HIGH);
	/* huge numbers do not overflow */
	CHECK_EQ(reclaim_state_of(&cfg, ~0ULL, ~0ULL), RECLAIM_HIGH);
	CHECK_STR(reclaim_state_name(RECLAIM_HARD), "hard");
	CHECK_STR(reclaim_state_name((enum reclaim_state)9), "?");
}

TEST(reclaim_high_state_takes_nothing)
{
	struct reclaim_track t;
	struct reclaim_vm v = vm(&t, 500, 200);
	CHECK_EQ(reclaim_decide(&cfg, &v, 1, HIGH, G, 0, 1000), RECLAIM_HIGH);
	CHECK(!v.set_balloon);
	CHECK_EQ(v.swap_pages, 0);
}

TEST(reclaim_soft_state_balloons_the_excess_and_never_swaps)
{
	struct reclaim_track t;
	struct reclaim_vm v = vm(&t, 500, 200);
	CHECK_EQ(reclaim_decide(&cfg, &v, 1, SOFT, G, 0, 1000), RECLAIM_SOFT);
	CHECK(v.set_balloon);
	CHECK_EQ(v.ask_pages, 300 * MB); /* 500 held, 200 target */
	CHECK_EQ(v.swap_pages, 0);
	CHECK_EQ(t.balloon_asks, 1);
	/* asked again before the guest moved: nothing new is asked */
	v.balloon_size = 300 * MB;
	reclaim_decide(&cfg, &v, 1, SOFT, G, 10, 1000);
	CHECK(!v.set_balloon);
	/* the guest took 100 MiB, and held fell by as much: still nothing new */
	v.balloon_actual = 100 * MB;
	v.held = 400 * MB;
	reclaim_decide(&cfg, &v, 1, SOFT, G, 20, 1000);
	CHECK(!v.set_balloon);
	CHECK_EQ(t.by_balloon, 100 * MB);
	/* a VM at or below its target is left alone */
	struct reclaim_track t2;
	struct reclaim_vm w = vm(&t2, 200, 200);
	reclaim_decide(&cfg, &w, 1, SOFT, G, 0, 1000);
	CHECK(!w.set_balloon);
	CHECK_EQ(w.swap_pages, 0);
}

TEST(reclaim_hard_state_swaps_what_the_balloon_was_not_asked)
{
	struct reclaim_track t;
	struct reclaim_vm v = vm(&t, 500, 200);
	/* asked 300 MiB, took none yet: the balloon still owes all the excess, no swap */
	v.balloon_size = 300 * MB;
	CHECK_EQ(reclaim_decide(&cfg, &v, 1, HARD, G, 0, 100000), RECLAIM_HARD);
	CHECK_EQ(v.swap_pages, 0);
	/* a VM without a balloon is swapped: its excess, within the budget */
	struct reclaim_track t2;
	struct reclaim_vm w = vm(&t2, 300, 200);
	w.balloon = w.driver_up = false;
	reclaim_decide(&cfg, &w, 1, HARD, G, 0, 1000);
	CHECK_EQ(w.swap_pages, 1000);
	reclaim_decide(&cfg, &w, 1, HARD, G, 0, 100000);
	CHECK_EQ(w.swap_pages, 100 * MB);
	/* swap = off: never swapped */
	w.swap_on = false;
	reclaim_decide(&cfg, &w, 1, HARD, G, 0, 100000);
	CHECK_EQ(w.swap_pages, 0);
	/* and soft does not swap a VM without a balloon */
	w.swap_on = true;
	reclaim_decide(&cfg, &w, 1, SOFT, G, 0, 100000);
	CHECK_EQ(w.swap_pages, 0);
}

TEST(reclaim_low_state_swaps_the_whole_excess_at_twice_the_budget)
{
	struct reclaim_track t;
	struct reclaim_vm v = vm(&t, 500, 200);
	v.balloon_size = 300 * MB; /* the balloon's debt is not waited for */
	CHECK_EQ(reclaim_decide(&cfg, &v, 1, LOW, G, 0, 1000), RECLAIM_LOW);
	CHECK_EQ(v.swap_pages, 2000);
	reclaim_decide(&cfg, &v, 1, LOW, G, 0, 1000000);
	CHECK_EQ(v.swap_pages, 300 * MB);
}

TEST(reclaim_budget_goes_to_the_vm_furthest_above_target_first)
{
	struct reclaim_track t[3];
	struct reclaim_vm v[3] = {vm(&t[0], 300, 200), vm(&t[1], 500, 200), vm(&t[2], 250, 200)};
	for (int i = 0; i < 3; i++)
		v[i].balloon = false;
	reclaim_decide(&cfg, v, 3, HARD, G, 0, 350 * MB);
	CHECK_EQ(v[1].swap_pages, 300 * MB);
	CHECK_EQ(v[0].swap_pages, 50 * MB);
	CHECK_EQ(v[2].swap_pages, 0);
}

TEST(reclaim_never_takes_a_vm_below_its_reservation_or_the_device_limit)
{
	struct reclaim_track t;
	/* target 100 but reservation 300: only 200 of the 500 may go */
	struct reclaim_vm v = vm(&t, 500, 100);
	v.min = 300 * MB;
	reclaim_decide(&cfg, &v, 1, SOFT, G, 0, 0);
	CHECK_EQ(v.ask_pages, 200 * MB);
	struct reclaim_track t2;
	struct reclaim_vm w = vm(&t2, 500, 100);
	w.min = 300 * MB;
	w.balloon = false;
	reclaim_decide(&cfg, &w, 1, LOW, G, 0, 1000000);
	CHECK_EQ(w.swap_pages, 200 * MB);
	/* a target of 0 pages reachable only past the device's 16 MiB: capped at 496 MiB */
	struct reclaim_track t3;
	struct reclaim_vm x = vm(&t3, 512, 1);
	reclaim_decide(&cfg, &x, 1, SOFT, G, 0, 0);
	CHECK_EQ(x.ask_pages, 496 * MB);
	/* at the reservation already: nothing at all */
	struct reclaim_track t4;
	struct reclaim_vm y = vm(&t4, 300, 100);
	y.min = 300 * MB;
	reclaim_decide(&cfg, &y, 1, LOW, G, 0, 1000000);
	CHECK(!y.set_balloon);
	CHECK_EQ(y.swap_pages, 0);
}

TEST(reclaim_leaves_a_manual_balloon_alone)
{
	struct reclaim_track t;
	struct reclaim_vm v = vm(&t, 500, 200);
	t.manual = true;
	v.balloon_size = 50 * MB;
	reclaim_decide(&cfg, &v, 1, SOFT, G, 0, 1000);
	CHECK(!v.set_balloon);
	CHECK_EQ(v.swap_pages, 0);
	/* high state: the manual balloon is not deflated either */
	reclaim_decide(&cfg, &v, 1, HIGH, G, 0, 1000);
	CHECK(!v.set_balloon);
	/* its moves are not the driver's */
	v.balloon_actual = 50 * MB;
	reclaim_decide(&cfg, &v, 1, HIGH, G, 10, 1000);
	CHECK_EQ(t.by_balloon, 0);
	/* hard: the manual VM is still swapped down to its target */
	reclaim_decide(&cfg, &v, 1, HARD, G, 20, 1000000);
	CHECK_EQ(v.swap_pages, 300 * MB);
	/* given back (`vm balloon <vm> auto`): the driver balloons it again */
	t.manual = false;
	reclaim_decide(&cfg, &v, 1, SOFT, G, 30, 1000);
	CHECK(v.set_balloon);
	CHECK_EQ(v.ask_pages, 350 * MB);
}

TEST(reclaim_high_state_deflates_the_drivers_balloon_toward_the_target)
{
	struct reclaim_track t;
	/* the balloon holds 300 MiB, the VM 212; the target rose to 400: 188 MiB go back */
	struct reclaim_vm v = vm(&t, 212, 400);
	v.balloon_size = v.balloon_actual = 300 * MB;
	t.last_actual = 300 * MB;
	reclaim_decide(&cfg, &v, 1, HIGH, G, 0, 1000);
	CHECK(v.set_balloon);
	CHECK_EQ(v.ask_pages, 112 * MB);
	/* the guest deflates: counted as returned */
	v.balloon_size = v.balloon_actual = 112 * MB;
	v.held = 400 * MB;
	reclaim_decide(&cfg, &v, 1, HIGH, G, 10, 1000);
	CHECK(!v.set_balloon);
	CHECK_EQ(t.returned, 188 * MB);
	/* no target yet: the whole balloon goes back */
	v.target = 0;
	reclaim_decide(&cfg, &v, 1, HIGH, G, 20, 1000);
	CHECK(v.set_balloon);
	CHECK_EQ(v.ask_pages, 0);
	/* a VM whose guest driver is not up is not asked */
	v.driver_up = false;
	reclaim_decide(&cfg, &v, 1, HIGH, G, 30, 1000);
	CHECK(!v.set_balloon);
}

TEST(reclaim_falls_back_to_swap_when_the_balloon_does_not_move)
{
	struct reclaim_track t;
	struct reclaim_vm v = vm(&t, 500, 200);
	reclaim_decide(&cfg, &v, 1, SOFT, G, 1000, 1000);
	v.balloon_size = v.ask_pages;
	/* the guest takes 10 MiB at 1050: the clock restarts */
	v.balloon_actual = 10 * MB;
	v.held = 490 * MB;
	reclaim_decide(&cfg, &v, 1, SOFT, G, 1050, 1000);
	CHECK(!t.fallback);
	reclaim_decide(&cfg, &v, 1, SOFT, G, 1149, 1000);
	CHECK(!t.fallback);
	CHECK_EQ(v.swap_pages, 0);
	/* 100 ticks without a move: stuck, its excess goes to swap even in the soft state */
	reclaim_decide(&cfg, &v, 1, SOFT, G, 1150, 1000);
	CHECK(t.fallback);
	CHECK_EQ(t.fallbacks, 1);
	CHECK_EQ(v.swap_pages, 1000);
	reclaim_decide(&cfg, &v, 1, SOFT, G, 1160, 1000000);
	CHECK_EQ(v.swap_pages, 290 * MB);
	CHECK(!v.set_balloon);
	/* a balloon device whose guest driver never came up falls back the same way */
	struct reclaim_track t2;
	struct reclaim_vm w = vm(&t2, 500, 200);
	w.driver_up = false;
	reclaim_decide(&cfg, &w, 1, SOFT, G, 0, 1000);
	CHECK(!w.set_balloon);
	reclaim_decide(&cfg, &w, 1, SOFT, G, 100, 1000);
	CHECK(t2.fallback);
	CHECK_EQ(w.swap_pages, 1000);
	/* memory plentiful again: the fallback ends */
	reclaim_decide(&cfg, &w, 1, HIGH, G, 200, 1000);
	CHECK(!t2.fallback);
}

TEST(reclaim_survives_odd_inputs)
{
	struct reclaim_track t;
	/* a target above the VM's memory: nothing to take */
	struct reclaim_vm v = vm(&t, 512, 100000);
	reclaim_decide(&cfg, &v, 1, LOW, G, 0, 1000000);
	CHECK(!v.set_balloon);
	CHECK_EQ(v.swap_pages, 0);
	/* holding more than its memory (shared accounting, a bug): capped by the reservation */
	struct reclaim_track t2;
	struct reclaim_vm w = vm(&t2, 100000, 200);
	w.min = 600 * MB; /* above its memory: taken as all of it */
	reclaim_decide(&cfg, &w, 1, LOW, G, 0, ~0ULL / 4);
	CHECK(!w.set_balloon);
	/* a balloon reporting more than the VM's memory */
	struct reclaim_track t3;
	struct reclaim_vm x = vm(&t3, 500, 200);
	x.balloon_size = x.balloon_actual = ~0ULL;
	reclaim_decide(&cfg, &x, 1, HIGH, G, 0, 0);
	CHECK(x.ask_pages <= x.mem_pages);
	/* zero guest pages, zero memory, no track, absent VMs: nothing, no crash */
	struct reclaim_track t4;
	struct reclaim_vm y[3] = {vm(&t4, 500, 200), {0}, vm(&t4, 500, 200)};
	y[0].mem_pages = 0;
	y[2].t = NULL;
	CHECK_EQ(reclaim_decide(&cfg, y, 3, 0, 0, 0, 1000), RECLAIM_HIGH);
	CHECK_EQ(reclaim_decide(&cfg, y, 3, 0, G, 0, 1000), RECLAIM_LOW);
	for (int i = 0; i < 3; i++) {
		CHECK(!y[i].set_balloon);
		CHECK_EQ(y[i].swap_pages, 0);
	}
	CHECK_EQ(reclaim_decide(&cfg, NULL, 0, 0, G, 0, 1000), RECLAIM_LOW);
}

TEST(reclaim_parses_the_state_thresholds)
{
	struct reclaim_cfg c = cfg;
	CHECK(!reclaim_parse_states("10,5,1", &c));
	CHECK_EQ(c.soft_pct, 10);
	CHECK_EQ(c.hard_pct, 5);
	CHECK_EQ(c.low_pct, 1);
	const char *bad[] = {"",       "6,4",  "6,4,2,1", "4,6,2", "6,4,0",    "6,6,2",
			     "60,4,2", "6,,2", "6,4,2x",  "a,b,c", "99999,4,2"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct reclaim_cfg d = cfg;
		CHECK(reclaim_parse_states(bad[i], &d) != NULL);
		CHECK_EQ(d.soft_pct, 6); /* unchanged */
	}
}
