/* The emulated LPT1 (devices/lpt.c) and Keel's parallel-port driver (devices/parport.c):
 * the strobe protocol as Bochs and real printers take bytes, status and ack, the IRQ when
 * enabled, save/load, and the driver driving the model as its hardware. */
#include "test.h"
#include "../../devices/lpt.h"
#include "../../devices/parport.h"
#include "../../hypervisor/lib.h"

struct sink_log {
	u8 bytes[256];
	unsigned n, ends;
};

static void log_bytes(void *ctx, const u8 *buf, size_t n)
{
	struct sink_log *s = ctx;
	for (size_t i = 0; i < n && s->n < sizeof(s->bytes); i++)
		s->bytes[s->n++] = buf[i];
}

static void log_end(void *ctx)
{
	((struct sink_log *)ctx)->ends++;
}

struct irq_log {
	unsigned rises;
	bool level;
};

static void irq_set(void *ctx, unsigned pin, bool level)
{
	struct irq_log *l = ctx;
	CHECK_EQ(pin, LPT1_IRQ);
	if (level && !l->level)
		l->rises++;
	l->level = level;
}

struct rig {
	struct lpt l;
	struct sink_log log;
	struct printer_sink sink;
	struct irq_log irq;
};

static struct rig *rig_new(void)
{
	struct rig *r = test_alloc(sizeof(*r));
	r->sink = (struct printer_sink){log_bytes, log_end, &r->log};
	struct irq_line line = {irq_set, &r->irq, LPT1_IRQ};
	lpt_init(&r->l, &r->sink, &line, NULL, 0);
	return r;
}

static void out(struct rig *r, u16 port, u8 v)
{
	struct io_access a = {port, 1, true, v};
	lpt_access(&r->l, &a);
}

static u8 in(struct rig *r, u16 port)
{
	struct io_access a = {port, 1, false, 0};
	lpt_access(&r->l, &a);
	return (u8)a.value;
}

TEST(lpt_bochs_strobe_sequence_takes_one_byte)
{
	struct rig *r = rig_new();
	CHECK_EQ(in(r, LPT1_BASE + 1), 0xd8); /* ready, no ack, selected, no error */
	out(r, LPT1_BASE, 'K');
	CHECK_EQ(in(r, LPT1_BASE), 'K'); /* the data latch reads back */
	out(r, LPT1_BASE + 2, 0x0d);
	out(r, LPT1_BASE + 2, 0x0c);
	CHECK_EQ(r->log.n, 1);
	CHECK_EQ(r->log.bytes[0], 'K');
	/* ack pulses low once, then reads high again */
	CHECK_EQ(in(r, LPT1_BASE + 1), 0x98);
	CHECK_EQ(in(r, LPT1_BASE + 1), 0xd8);
	/* no rising edge, no byte: strobe held, rewritten, released */
	out(r, LPT1_BASE + 2, 0x0d);
	out(r, LPT1_BASE + 2, 0x0d);
	out(r, LPT1_BASE + 2, 0x0c);
	out(r, LPT1_BASE + 2, 0x0c);
	CHECK_EQ(r->log.n, 2);
	CHECK_EQ(r->l.bytes, 2);
}

TEST(lpt_is_lenient_about_select_in_and_init)
{
	struct rig *r = rig_new();
	out(r, LPT1_BASE, 'a');
	out(r, LPT1_BASE + 2, 0x00);
	out(r, LPT1_BASE + 2, 0x01); /* strobe without select-in or init */
	out(r, LPT1_BASE + 2, 0x04);
	CHECK_EQ(r->log.n, 1);
	CHECK_EQ(in(r, LPT1_BASE + 2), 0xc4); /* bits 6-7 read as ones */
	/* the data lines in input mode read the printer, which drives nothing */
	out(r, LPT1_BASE + 2, 0x2c);
	CHECK_EQ(in(r, LPT1_BASE), 0xff);
	/* the status register ignores writes; port 0x37b is not ours */
	out(r, LPT1_BASE + 1, 0);
	CHECK_EQ(in(r, LPT1_BASE + 1), 0x98); /* the byte's ack, still unseen */
	CHECK_EQ(in(r, LPT1_BASE + 1), 0xd8);
	struct io_access a = {LPT1_BASE + 3, 1, false, 0};
	lpt_access(&r->l, &a);
	CHECK_EQ(a.value, 0xff);
}

TEST(lpt_irq_only_when_enabled)
{
	struct rig *r = rig_new();
	out(r, LPT1_BASE + 2, 0x0d);
	out(r, LPT1_BASE + 2, 0x0c);
	CHECK_EQ(r->irq.rises, 0);
	out(r, LPT1_BASE + 2, 0x1c);
	out(r, LPT1_BASE + 2, 0x1d);
	out(r, LPT1_BASE + 2, 0x1c);
	CHECK_EQ(r->irq.rises, 1);
	CHECK(!r->irq.level); /* an edge: the line is low again */
}

TEST(lpt_wide_access_covers_the_registers)
{
	struct rig *r = rig_new();
	struct io_access a = {LPT1_BASE, 2, true, 0x0d00 | 'w'};
	lpt_access(&r->l, &a); /* data = 'w', status ignored */
	a = (struct io_access){LPT1_BASE + 1, 2, true, 0x0d00};
	lpt_access(&r->l, &a); /* control 0x0d: a strobe */
	CHECK_EQ(r->log.n, 1);
	CHECK_EQ(r->log.bytes[0], 'w');
	a = (struct io_access){LPT1_BASE + 2, 4, false, 0};
	lpt_access(&r->l, &a);
	CHECK_EQ(a.value, 0xffffffcdu);
}

TEST(lpt_save_load_round_trip_and_refusals)
{
	struct rig *r = rig_new();
	out(r, LPT1_BASE, 0x42);
	out(r, LPT1_BASE + 2, 0x1d);
	u8 buf[128];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	lpt_save(&r->l, &w);
	REQUIRE(!w.overflow);
	struct rig *r2 = rig_new();
	struct state_reader rd = {buf, w.len, 0, false};
	CHECK(lpt_load(&r2->l, &rd));
	CHECK_EQ(r2->l.data, 0x42);
	CHECK_EQ(r2->l.ctrl, 0x1d);
	CHECK(r2->l.ack);
	CHECK_EQ(r2->l.idle_at, r->l.idle_at);
	/* truncated or foreign state changes nothing */
	struct rig *r3 = rig_new();
	rd = (struct state_reader){buf, w.len - 1, 0, false};
	CHECK(!lpt_load(&r3->l, &rd));
	CHECK_EQ(r3->l.data, 0);
	buf[w.len - 1 - 8 - 8 - 1] = 0x80; /* control with bits the register cannot hold */
	rd = (struct state_reader){buf, w.len, 0, false};
	CHECK(!lpt_load(&r3->l, &rd));
	CHECK_EQ(r3->l.ctrl, LPT_CTRL_NOT_INIT | LPT_CTRL_SELECT_IN);
	lpt_reset(&r->l);
	CHECK_EQ(r->l.ctrl, 0x0c);
	CHECK(!r->l.ack);
}

/* ---- the driver over a fake port, and over the model itself ---- */

struct fake_port {
	struct rig *rig;     /* NULL: no port (reads float high) */
	unsigned busy_reads; /* status reads that still say busy */
	unsigned status_reads;
};

static u8 fp_inb(void *ctx, u16 port)
{
	struct fake_port *f = ctx;
	if (!f->rig)
		return 0xff;
	u8 v = in(f->rig, port);
	if (port == LPT1_BASE + 1) {
		f->status_reads++;
		if (f->busy_reads) {
			f->busy_reads--;
			v &= (u8)~LPT_ST_NOT_BUSY;
		}
	}
	return v;
}

static void fp_outb(void *ctx, u16 port, u8 v)
{
	struct fake_port *f = ctx;
	if (f->rig)
		out(f->rig, port, v);
}

TEST(parport_driver_prints_through_the_strobe_protocol)
{
	struct fake_port f = {rig_new(), 0, 0};
	struct parport_ops ops = {fp_inb, fp_outb, &f};
	struct parport p;
	REQUIRE(parport_init(&p, &ops, PARPORT_LPT1));
	const char *msg = "hello, printer\f";
	for (const char *c = msg; *c; c++)
		CHECK(parport_put(&p, (u8)*c));
	CHECK_EQ(f.rig->log.n, strlen(msg));
	CHECK(!memcmp(f.rig->log.bytes, msg, strlen(msg)));
	CHECK_EQ(p.bytes, strlen(msg));
	/* a printer busy for a while: polled, then the byte goes */
	f.busy_reads = 10;
	CHECK(parport_put(&p, 'x'));
	CHECK_EQ(f.rig->log.bytes[f.rig->log.n - 1], 'x');
	/* busy for longer than the driver polls: put off, nothing sent */
	f.busy_reads = PARPORT_BUSY_POLLS + 5;
	unsigned before = f.rig->log.n;
	CHECK(!parport_put(&p, 'y'));
	CHECK_EQ(f.rig->log.n, before);
	CHECK_EQ(p.busy, 1);
}

TEST(parport_driver_finds_no_port)
{
	struct fake_port f = {NULL, 0, 0};
	struct parport_ops ops = {fp_inb, fp_outb, &f};
	struct parport p;
	CHECK(!parport_init(&p, &ops, PARPORT_LPT1));
	CHECK(!parport_put(&p, 'a'));
}
