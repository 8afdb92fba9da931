/* Tests of the device layer: the port I/O bus (devices/io_bus.c), the 16550 UART model
 * (devices/uart16550.c), isa-debug-exit (devices/debug_exit.c) and the save/load state
 * streams (devices/state.c), driven through struct io_access as the exit handler does. */
#include "test.h"
#include "../../devices/debug_exit.h"
#include "../../devices/io_bus.h"
#include "../../devices/state.h"
#include "../../devices/uart16550.h"

/* ---- io_bus ---- */

/* a fresh range node per registration, outliving the test's bus */
static struct bus_range node_pool[64];
static unsigned node_next;
static struct bus_range *fresh_node(void)
{
	struct bus_range *n = &node_pool[node_next++ % ARRAY_SIZE(node_pool)];
	*n = (struct bus_range){0};
	return n;
}
#define N fresh_node()

struct rec {
	unsigned calls;
	struct io_access last;
	u32 reply;
};

static void rec_fn(void *dev, struct io_access *a)
{
	struct rec *r = dev;
	r->calls++;
	r->last = *a;
	if (!a->write)
		a->value = r->reply;
}

static u32 bus_in(struct io_bus *b, u16 port, u8 size)
{
	struct io_access a = {port, size, false, 0x5a5a5a5a};
	io_bus_access(b, &a);
	return a.value;
}

TEST(io_bus_register_refuses_overlaps_and_bad_ranges)
{
	struct io_bus bus = {0};
	struct rec r = {0};
	CHECK(io_bus_register(&bus, N, 0x3f8, 8, "uart", rec_fn, &r));
	CHECK(!io_bus_register(&bus, N, 0x3f8, 1, "same", rec_fn, &r));
	CHECK(!io_bus_register(&bus, N, 0x3ff, 1, "last byte", rec_fn, &r));
	CHECK(!io_bus_register(&bus, N, 0x3f0, 9, "tail overlap", rec_fn, &r));
	CHECK(!io_bus_register(&bus, N, 0x3f0, 0x20, "covers", rec_fn, &r));
	CHECK(io_bus_register(&bus, N, 0x3f0, 8, "just below", rec_fn, &r));
	CHECK(io_bus_register(&bus, N, 0x400, 1, "just above", rec_fn, &r));
	CHECK(!io_bus_register(&bus, N, 0x500, 0, "empty", rec_fn, &r));
	CHECK(!io_bus_register(&bus, N, 0xfffe, 4, "wraps", rec_fn, &r));
	CHECK(io_bus_register(&bus, N, 0xfffc, 4, "top", rec_fn, &r));
	CHECK_EQ(bus_range_count(bus.ranges), 4);
}

TEST(io_bus_has_no_small_limit)
{
	static struct bus_range n[300];
	struct io_bus bus = {0};
	struct rec r = {0};
	for (unsigned i = 0; i < ARRAY_SIZE(n); i++)
		CHECK(io_bus_register(&bus, &n[i], (u16)(0x1000 + i * 4), 4, "dev", rec_fn, &r));
	CHECK_EQ(bus_range_count(bus.ranges), ARRAY_SIZE(n));
	r.reply = 0x77;
	CHECK_EQ(bus_in(&bus, 0x1000 + 299 * 4 + 3, 1), 0x77);
	CHECK_EQ(r.last.port, 0x1000 + 299 * 4 + 3);
}

TEST(io_bus_unregister_and_move_a_range)
{
	struct bus_range n[3] = {0};
	struct io_bus bus = {0};
	struct rec a = {.reply = 0xaa}, b = {.reply = 0xbb};
	REQUIRE(io_bus_register(&bus, &n[0], 0xc000, 0x40, "bar0", rec_fn, &a));
	REQUIRE(io_bus_register(&bus, &n[1], 0xc100, 0x20, "bar1", rec_fn, &b));
	/* a node already on the bus cannot be linked twice */
	CHECK(!io_bus_register(&bus, &n[0], 0xd000, 0x40, "again", rec_fn, &a));
	CHECK_EQ(bus_in(&bus, 0xc010, 1), 0xaa);
	CHECK(io_bus_unregister(&bus, &n[0]));
	CHECK(!io_bus_unregister(&bus, &n[0]));
	CHECK_EQ(bus_in(&bus, 0xc010, 1), 0xff);
	/* moved over the other range: refused; next to it: taken */
	CHECK(!io_bus_register(&bus, &n[0], 0xc0f0, 0x40, "bar0", rec_fn, &a));
	CHECK(io_bus_register(&bus, &n[0], 0xc200, 0x40, "bar0", rec_fn, &a));
	CHECK_EQ(bus_in(&bus, 0xc23f, 1), 0xaa);
	CHECK_EQ(bus_in(&bus, 0xc11f, 1), 0xbb);
	CHECK_EQ(bus_range_count(bus.ranges), 2);
	/* the list stays in address order whatever the registration order */
	REQUIRE(io_bus_register(&bus, &n[2], 0x10, 1, "low", rec_fn, &b));
	CHECK_EQ(bus.ranges->base, 0x10);
	CHECK_EQ(bus.ranges->next->base, 0xc100);
	CHECK_EQ(bus.ranges->next->next->base, 0xc200);
}

TEST(io_bus_dispatches_by_range)
{
	struct io_bus bus = {0};
	struct rec a = {.reply = 0x11}, b = {.reply = 0x22};
	REQUIRE(io_bus_register(&bus, N, 0x60, 1, "a", rec_fn, &a));
	REQUIRE(io_bus_register(&bus, N, 0x70, 2, "b", rec_fn, &b));
	CHECK_EQ(bus_in(&bus, 0x60, 1), 0x11);
	CHECK_EQ(bus_in(&bus, 0x71, 1), 0x22);
	CHECK_EQ(a.calls, 1);
	CHECK_EQ(b.calls, 1);
	CHECK_EQ(b.last.port, 0x71);
	struct io_access w = {0x70, 1, true, 0x99};
	CHECK(io_bus_access(&bus, &w));
	CHECK_EQ(b.calls, 2);
	CHECK(b.last.write);
	CHECK_EQ(b.last.value, 0x99);
	CHECK_EQ(bus.unclaimed, 0);
}

TEST(io_bus_unclaimed_reads_all_ones)
{
	struct io_bus bus = {0};
	struct io_access a = {0x80, 1, false, 0};
	CHECK(!io_bus_access(&bus, &a));
	CHECK_EQ(a.value, 0xff);
	CHECK_EQ(bus_in(&bus, 0x80, 2), 0xffff);
	CHECK_EQ(bus_in(&bus, 0x80, 4), 0xffffffffu);
	struct io_access w = {0x80, 4, true, 0x12345678};
	CHECK(!io_bus_access(&bus, &w));
	CHECK_EQ(bus.unclaimed, 4);
}

TEST(io_bus_masks_values_to_the_access_size)
{
	struct io_bus bus = {0};
	struct rec r = {.reply = 0xdeadbeef};
	REQUIRE(io_bus_register(&bus, N, 0x10, 4, "r", rec_fn, &r));
	struct io_access w = {0x10, 1, true, 0x12345678};
	io_bus_access(&bus, &w);
	CHECK_EQ(r.last.value, 0x78);
	w = (struct io_access){0x10, 2, true, 0x12345678};
	io_bus_access(&bus, &w);
	CHECK_EQ(r.last.value, 0x5678);
	w = (struct io_access){0x10, 4, true, 0x12345678};
	io_bus_access(&bus, &w);
	CHECK_EQ(r.last.value, 0x12345678);
	/* a device answering too wide a value is cut to the access size */
	CHECK_EQ(bus_in(&bus, 0x10, 1), 0xef);
	CHECK_EQ(bus_in(&bus, 0x10, 2), 0xbeef);
	CHECK_EQ(bus_in(&bus, 0x10, 4), 0xdeadbeef);
}

/* ---- uart16550 ---- */

#define COM1 0x3f8

struct uart_env {
	struct uart16550 u;
	char tx[64];
	unsigned ntx;
	bool irq;
	unsigned irq_calls;
};

static void tx_cb(void *ctx, u8 c)
{
	struct uart_env *e = ctx;
	if (e->ntx + 1 < sizeof(e->tx))
		e->tx[e->ntx++] = (char)c;
}

static void irq_cb(void *ctx, bool level)
{
	struct uart_env *e = ctx;
	e->irq = level;
	e->irq_calls++;
}

static void uart_env_init(struct uart_env *e)
{
	memset(e, 0, sizeof(*e));
	uart_init(&e->u, tx_cb, irq_cb, e);
}

static void out8(struct uart_env *e, unsigned reg, u8 v)
{
	struct io_access a = {(u16)(COM1 + reg), 1, true, v};
	uart_access(&e->u, &a);
}

static u8 in8(struct uart_env *e, unsigned reg)
{
	struct io_access a = {(u16)(COM1 + reg), 1, false, 0};
	uart_access(&e->u, &a);
	CHECK(a.value <= 0xff);
	return (u8)a.value;
}

enum { THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

TEST(uart_thr_write_reaches_tx)
{
	struct uart_env e;
	uart_env_init(&e);
	out8(&e, THR, 'h');
	out8(&e, THR, 'i');
	e.tx[e.ntx] = 0;
	CHECK_STR(e.tx, "hi");
	CHECK_EQ(in8(&e, LSR), 0x60); /* THRE | TEMT, nothing received */
}

TEST(uart_dlab_switches_divisor_latch)
{
	struct uart_env e;
	uart_env_init(&e);
	out8(&e, IER, 0x05);
	out8(&e, LCR, 0x83); /* DLAB, 8N1 */
	out8(&e, THR, 0x01); /* DLL */
	out8(&e, IER, 0x02); /* DLM */
	CHECK_EQ(e.ntx, 0);  /* a divisor write is not a byte to send */
	CHECK_EQ(in8(&e, THR), 0x01);
	CHECK_EQ(in8(&e, IER), 0x02);
	CHECK_EQ(in8(&e, LCR), 0x83);
	out8(&e, LCR, 0x03);
	CHECK_EQ(e.u.dll, 0x01);
	CHECK_EQ(e.u.dlm, 0x02);
	CHECK_EQ(in8(&e, IER), 0x05); /* the real IER again */
	out8(&e, IER, 0xff);
	CHECK_EQ(in8(&e, IER), 0x0f); /* upper bits are reserved */
}

TEST(uart_scratch_register)
{
	struct uart_env e;
	uart_env_init(&e);
	out8(&e, SCR, 0xa5);
	CHECK_EQ(in8(&e, SCR), 0xa5);
	out8(&e, SCR, 0x00);
	CHECK_EQ(in8(&e, SCR), 0x00);
	out8(&e, LSR, 0x00); /* read-only: ignored */
	CHECK_EQ(in8(&e, LSR), 0x60);
}

TEST(uart_receive_fifo_order_and_overflow)
{
	struct uart_env e;
	uart_env_init(&e);
	CHECK_EQ(in8(&e, THR), 0); /* empty FIFO reads 0 */
	for (unsigned i = 0; i < UART_FIFO; i++)
		CHECK(uart_receive(&e.u, (u8)('a' + i)));
	CHECK(!uart_receive(&e.u, 'X')); /* full */
	CHECK_EQ(in8(&e, LSR), 0x61);	 /* data ready */
	for (unsigned i = 0; i < UART_FIFO; i++)
		CHECK_EQ(in8(&e, THR), 'a' + i);
	CHECK_EQ(in8(&e, LSR), 0x60);
	/* wrap around the ring */
	for (unsigned i = 0; i < 10; i++)
		CHECK(uart_receive(&e.u, (u8)i));
	for (unsigned i = 0; i < 5; i++)
		CHECK_EQ(in8(&e, THR), i);
	for (unsigned i = 10; i < 20; i++)
		CHECK(uart_receive(&e.u, (u8)i));
	for (unsigned i = 5; i < 20; i++)
		CHECK_EQ(in8(&e, THR), i);
	/* FCR bit 1 clears the receive FIFO */
	CHECK(uart_receive(&e.u, 'z'));
	out8(&e, FCR, 0x03);
	CHECK_EQ(in8(&e, LSR), 0x60);
}

TEST(uart_iir_priorities_and_thr_interrupt)
{
	struct uart_env e;
	uart_env_init(&e);
	CHECK_EQ(in8(&e, IIR), 0x01); /* nothing pending */
	out8(&e, IER, 0x02);	      /* THR-empty interrupt: the THR is empty at once */
	CHECK(e.irq);
	CHECK_EQ(in8(&e, IIR), 0x02);
	CHECK(!e.irq); /* reading IIR cleared it */
	CHECK_EQ(in8(&e, IIR), 0x01);
	out8(&e, THR, 'x');
	CHECK(e.irq);
	/* received data outranks THR empty, and reading IIR then clears nothing */
	out8(&e, IER, 0x03);
	CHECK(uart_receive(&e.u, 'r'));
	CHECK_EQ(in8(&e, IIR), 0x04);
	CHECK_EQ(in8(&e, IIR), 0x04);
	CHECK(e.irq);
	CHECK_EQ(in8(&e, THR), 'r');
	CHECK_EQ(in8(&e, IIR), 0x02); /* the THR interrupt was still pending */
	CHECK_EQ(in8(&e, IIR), 0x01);
	CHECK(!e.irq);
	/* FIFO enabled: IIR bits 7:6 set */
	out8(&e, FCR, 0x01);
	CHECK_EQ(in8(&e, IIR), 0xc1);
	/* receive interrupt disabled: data does not interrupt */
	out8(&e, IER, 0x00);
	CHECK(uart_receive(&e.u, 'q'));
	CHECK(!e.irq);
	CHECK_EQ(in8(&e, IIR) & 0x0f, 0x01);
}

TEST(uart_loopback)
{
	struct uart_env e;
	uart_env_init(&e);
	out8(&e, MCR, 0x10);
	out8(&e, THR, 'L');
	CHECK_EQ(e.ntx, 0); /* nothing leaves in loopback */
	CHECK_EQ(in8(&e, LSR), 0x61);
	CHECK_EQ(in8(&e, THR), 'L');
	out8(&e, MCR, 0x00);
	out8(&e, THR, 'O');
	CHECK_EQ(e.ntx, 1);
	CHECK_EQ(in8(&e, MSR), 0xb0); /* DCD, DSR, CTS present outside loopback */
}

TEST(uart_loopback_modem_status_lines)
{
	/* 16550: in loopback RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. Linux's 8250 probe
	 * writes LOOP|OUT2|RTS and expects DCD|CTS (0x90) back. */
	struct uart_env e;
	uart_env_init(&e);
	out8(&e, MCR, 0x10 | 0x08 | 0x02);
	CHECK_EQ(in8(&e, MSR) & 0xf0, 0x90);
	out8(&e, MCR, 0x10 | 0x01); /* DTR */
	CHECK_EQ(in8(&e, MSR) & 0xf0, 0x20);
	out8(&e, MCR, 0x10 | 0x02); /* RTS */
	CHECK_EQ(in8(&e, MSR) & 0xf0, 0x10);
	out8(&e, MCR, 0x10 | 0x04); /* OUT1 */
	CHECK_EQ(in8(&e, MSR) & 0xf0, 0x40);
	out8(&e, MCR, 0x10 | 0x0f);
	CHECK_EQ(in8(&e, MSR) & 0xf0, 0xf0);
}

TEST(uart_wide_access_acts_on_low_byte)
{
	struct uart_env e;
	uart_env_init(&e);
	struct io_access a = {COM1 + SCR, 4, true, 0x11223344};
	uart_access(&e.u, &a);
	a = (struct io_access){COM1 + SCR, 2, false, 0};
	uart_access(&e.u, &a);
	CHECK_EQ(a.value, 0x44);
}

/* ---- save / load ---- */

static size_t save(const struct uart16550 *u, u8 *buf, size_t size)
{
	struct state_writer w = {buf, size, 0, false};
	uart_save(u, &w);
	CHECK(!w.overflow);
	return w.len;
}

static bool load(struct uart16550 *u, const u8 *buf, size_t len)
{
	struct state_reader r = {test_dup(buf, len), len, 0, false};
	return uart_load(u, &r);
}

TEST(uart_save_load_round_trip)
{
	struct uart_env a, b;
	uart_env_init(&a);
	uart_env_init(&b);
	out8(&a, IER, 0x03);
	out8(&a, LCR, 0x83);
	out8(&a, THR, 0x0c);
	out8(&a, IER, 0x00);
	out8(&a, LCR, 0x03);
	out8(&a, MCR, 0x0b);
	out8(&a, SCR, 0x5a);
	out8(&a, FCR, 0xc1);
	for (unsigned i = 0; i < 20; i++) /* advance the ring so that it wraps */
		uart_receive(&a.u, (u8)i);
	for (unsigned i = 0; i < 12; i++)
		in8(&a, THR);
	for (unsigned i = 0; i < 6; i++)
		uart_receive(&a.u, (u8)(100 + i));
	u8 buf[128];
	size_t n = save(&a.u, buf, sizeof(buf));
	CHECK(load(&b.u, buf, n));
	CHECK_EQ(in8(&b, IER), 0x03);
	CHECK_EQ(in8(&b, LCR), 0x03);
	CHECK_EQ(in8(&b, MCR), 0x0b);
	CHECK_EQ(in8(&b, SCR), 0x5a);
	CHECK_EQ(b.u.dll, 0x0c);
	CHECK_EQ(b.u.fcr, 0xc1);
	CHECK_EQ(b.u.rx_count, a.u.rx_count);
	while (a.u.rx_count)
		CHECK_EQ(in8(&b, THR), in8(&a, THR));
	CHECK_EQ(b.u.rx_count, 0);
	/* callbacks are the loader's own, not part of the state */
	CHECK(b.u.tx == tx_cb && b.u.ctx == &b);
}

TEST(uart_load_rejects_bad_state)
{
	struct uart_env a, b;
	uart_env_init(&a);
	uart_env_init(&b);
	out8(&a, SCR, 0x77);
	uart_receive(&a.u, 'x');
	uart_receive(&a.u, 'y');
	u8 buf[128];
	size_t n = save(&a.u, buf, sizeof(buf));
	out8(&b, SCR, 0x11);
	for (size_t cut = 0; cut < n; cut++) /* every truncation fails */
		CHECK(!load(&b.u, buf, cut));
	u8 bad[128];
	memcpy(bad, buf, n);
	bad[0] = 'X'; /* wrong tag */
	CHECK(!load(&b.u, bad, n));
	memcpy(bad, buf, n);
	bad[4] = 2; /* wrong version */
	CHECK(!load(&b.u, bad, n));
	/* a FIFO count beyond 16, with enough bytes after it */
	memcpy(bad, buf, 16);
	bad[16] = UART_FIFO + 1;
	memset(bad + 17, 'z', 40);
	CHECK(!load(&b.u, bad, 17 + 40));
	bad[16] = 0xff;
	CHECK(!load(&b.u, bad, 17 + 40));
	/* failed loads left the device as it was */
	CHECK_EQ(in8(&b, SCR), 0x11);
	CHECK_EQ(b.u.rx_count, 0);
	/* reserved register bits in a hostile state are masked */
	memcpy(bad, buf, n);
	bad[8] = 0xff;	/* IER */
	bad[10] = 0xff; /* MCR */
	CHECK(load(&b.u, bad, n));
	CHECK_EQ(in8(&b, IER), 0x0f);
	CHECK_EQ(in8(&b, MCR), 0x1f);
}

TEST(state_writer_and_reader_bounds)
{
	u8 buf[6];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	state_put(&w, "abcd", 4);
	CHECK(!w.overflow);
	state_put(&w, "efgh", 4);
	CHECK(w.overflow);
	CHECK_EQ(w.len, 4);
	state_put(&w, "x", 1); /* stays failed */
	CHECK_EQ(w.len, 4);
	u8 out[8];
	struct state_reader r = {test_dup("abcdef", 6), 6, 0, false};
	CHECK(state_get(&r, out, 4));
	CHECK(!state_get(&r, out, 4));
	CHECK(r.error);
	CHECK(!state_get(&r, out, 1)); /* sticky */
	CHECK_EQ(r.pos, 4);
}

TEST(debug_exit_reads_all_ones)
{
	struct debug_exit d = {0};
	struct io_bus bus = {0};
	REQUIRE(io_bus_register(&bus, N, DEBUG_EXIT_PORT, 1, "debug-exit", debug_exit_access, &d));
	struct io_access a = {DEBUG_EXIT_PORT, 1, true, 0};
	CHECK(io_bus_access(&bus, &a)); /* no callback installed: nothing happens */
	a = (struct io_access){DEBUG_EXIT_PORT, 1, false, 0};
	CHECK(io_bus_access(&bus, &a));
	CHECK_EQ(a.value, 0xff);
	a = (struct io_access){DEBUG_EXIT_PORT, 4, false, 0};
	debug_exit_access(&d, &a);
	CHECK_EQ(a.value, 0xffffffffu);
}

static u32 exit_status;
static unsigned exit_calls;

static void on_exit_cb(void *ctx, u32 status)
{
	*(u32 *)ctx = status;
	exit_status = status;
	exit_calls++;
}

TEST(debug_exit_write_ends_with_v_shl_1_or_1)
{
	u32 seen = 0;
	struct debug_exit d = {on_exit_cb, &seen};
	struct io_bus bus = {0};
	REQUIRE(io_bus_register(&bus, N, DEBUG_EXIT_PORT, 1, "debug-exit", debug_exit_access, &d));
	exit_calls = 0;
	struct io_access a = {DEBUG_EXIT_PORT, 1, true, 0};
	io_bus_access(&bus, &a);
	CHECK_EQ(seen, 1);
	a = (struct io_access){DEBUG_EXIT_PORT, 1, true, 0x1ff}; /* a byte write: 0xff */
	io_bus_access(&bus, &a);
	CHECK_EQ(seen, 0x1ff);
	a = (struct io_access){DEBUG_EXIT_PORT, 4, true, 0x10};
	io_bus_access(&bus, &a);
	CHECK_EQ(seen, 0x21);
	CHECK_EQ(exit_calls, 3);
	CHECK_EQ(exit_status, 0x21);
	/* stateless save/load */
	u8 buf[16];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	debug_exit_save(&d, &w);
	CHECK_EQ(w.len, 8);
	struct state_reader r = {buf, w.len, 0, false};
	CHECK(debug_exit_load(&d, &r));
	struct state_reader bad = {(const u8 *)"UART\1\0\0\0", 8, 0, false};
	CHECK(!debug_exit_load(&d, &bad));
}

/* --- devices/mmio_bus.c --- */
#include "../../devices/mmio_bus.h"

struct mmio_rec {
	unsigned calls;
	struct mmio_access last;
};

static void mmio_rec_fn(void *dev, struct mmio_access *a)
{
	struct mmio_rec *r = dev;
	r->calls++;
	r->last = *a;
	if (!a->write)
		a->value = 0x1122334455667788ULL;
}

TEST(mmio_bus_dispatch_and_bounds)
{
	struct mmio_bus bus;
	struct mmio_rec lapic = {0}, ioapic = {0};
	memset(&bus, 0, sizeof(bus));
	CHECK(mmio_bus_register(&bus, N, 0xfee00000, 0x1000, "lapic", mmio_rec_fn, &lapic));
	CHECK(mmio_bus_register(&bus, N, 0xfec00000, 0x1000, "ioapic", mmio_rec_fn, &ioapic));
	CHECK(!mmio_bus_register(&bus, N, 0xfee00800, 0x1000, "overlap", mmio_rec_fn, &lapic));
	CHECK(!mmio_bus_register(&bus, N, 0xfffffffffffff000ULL, 0x2000, "wraps", mmio_rec_fn,
				 &lapic));
	CHECK(!mmio_bus_register(&bus, N, 0x1000, 0, "empty", mmio_rec_fn, &lapic));

	struct mmio_access a = {0, 4, false, 0};
	CHECK(mmio_bus_access(&bus, 0xfee00030, &a));
	CHECK_EQ(lapic.calls, 1);
	CHECK_EQ(lapic.last.offset, 0x30);
	CHECK_EQ(a.value, 0x55667788); /* masked to the access size */

	a = (struct mmio_access){0, 2, true, 0xabcdef};
	CHECK(mmio_bus_access(&bus, 0xfec00010, &a));
	CHECK_EQ(ioapic.last.value, 0xcdef);
	CHECK_EQ(ioapic.last.offset, 0x10);

	/* straddling the end of a window, or outside any: unclaimed, reads all ones */
	a = (struct mmio_access){0, 8, false, 0};
	CHECK(!mmio_bus_access(&bus, 0xfee00ffc, &a));
	CHECK_EQ(a.value, ~0ULL);
	a = (struct mmio_access){0, 1, false, 0};
	CHECK(!mmio_bus_access(&bus, 0xd0000000, &a));
	CHECK_EQ(a.value, 0xff);
	CHECK_EQ(bus.unclaimed, 2);
	CHECK_EQ(lapic.calls, 1);
}

/* --- devices/pvpanic.c --- */
#include "../../devices/pvpanic.h"

static u8 pvpanic_seen;
static void pvpanic_event(void *ctx, u8 ev)
{
	(void)ctx;
	pvpanic_seen |= ev;
}

TEST(pvpanic_reports_panics)
{
	struct pvpanic p = {pvpanic_event, NULL};
	struct io_access a = {PVPANIC_PORT, 1, false, 0};
	pvpanic_seen = 0;
	pvpanic_access(&p, &a);
	CHECK_EQ(a.value, PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	a = (struct io_access){PVPANIC_PORT, 1, true, 0xfc}; /* unknown bits only: nothing */
	pvpanic_access(&p, &a);
	CHECK_EQ(pvpanic_seen, 0);
	a = (struct io_access){PVPANIC_PORT, 1, true, PVPANIC_PANICKED};
	pvpanic_access(&p, &a);
	CHECK_EQ(pvpanic_seen, PVPANIC_PANICKED);
}

/* --- devices/pci_host.c --- */
#include "../../devices/pci_host.h"

static u32 pci_io(struct pci_host *h, u16 port, u8 size, bool write, u32 v)
{
	struct io_access a = {port, size, write, v};
	pci_host_access(h, &a);
	return a.value;
}

static u32 pci_cfg_read(struct pci_host *h, unsigned dev, unsigned off, u8 size)
{
	pci_io(h, PCI_CONFIG_ADDRESS, 4, true, 0x80000000u | (dev << 11) | (off & 0xfc));
	return pci_io(h, (u16)(PCI_CONFIG_DATA + (off & 3)), size, false, 0);
}

TEST(pci_host_mechanism_1)
{
	struct pci_host h;
	pci_host_init(&h);
	/* Linux's pci_check_type1: the address register reads back what was written */
	pci_io(&h, PCI_CONFIG_ADDRESS, 4, true, 0x80000000u);
	CHECK_EQ(pci_io(&h, PCI_CONFIG_ADDRESS, 4, false, 0), 0x80000000u);
	/* the host bridge: Intel 440FX, class 06/00 */
	CHECK_EQ(pci_cfg_read(&h, 0, 0x00, 4), 0x12378086u);
	CHECK_EQ(pci_cfg_read(&h, 0, 0x0a, 2), 0x0600);
	CHECK_EQ(pci_cfg_read(&h, 0, 0x0b, 1), 0x06);
	/* nothing else on bus 0 */
	CHECK_EQ(pci_cfg_read(&h, 3, 0x00, 4), 0xffffffffu);
	CHECK_EQ(pci_cfg_read(&h, 3, 0x00, 2), 0xffff);
	/* the command register is writable, the IDs are not */
	pci_io(&h, PCI_CONFIG_ADDRESS, 4, true, 0x80000004u);
	pci_io(&h, PCI_CONFIG_DATA, 2, true, 0x0007);
	CHECK_EQ(pci_cfg_read(&h, 0, 0x04, 2), 0x0007);
	pci_io(&h, PCI_CONFIG_ADDRESS, 4, true, 0x80000000u);
	pci_io(&h, PCI_CONFIG_DATA, 4, true, 0);
	CHECK_EQ(pci_cfg_read(&h, 0, 0x00, 4), 0x12378086u);
	/* disabled address: data reads all ones; byte access at 0xcf8 is not PCI's */
	pci_io(&h, PCI_CONFIG_ADDRESS, 4, true, 0);
	CHECK_EQ(pci_io(&h, PCI_CONFIG_DATA, 4, false, 0), 0xffffffffu);
	CHECK_EQ(pci_io(&h, PCI_CONFIG_ADDRESS, 1, false, 0), 0xff);
	/* save/load round trip and a truncated state */
	u8 buf[512];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	pci_io(&h, PCI_CONFIG_ADDRESS, 4, true, 0x80000008u);
	pci_host_save(&h, &w);
	struct pci_host h2;
	pci_host_init(&h2);
	struct state_reader r = {buf, w.len, 0, false};
	CHECK(pci_host_load(&h2, &r));
	CHECK_EQ(h2.address, 0x80000008u);
	struct state_reader bad = {buf, w.len - 1, 0, false};
	CHECK(!pci_host_load(&h2, &bad));
}
