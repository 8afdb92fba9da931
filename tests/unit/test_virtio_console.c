/* Tests of virtio-console with multiport (devices/virtio_console.c) through the virtio-pci
 * transport, as Linux's virtio_console drives it: DEVICE_READY, PORT_ADD for both ports,
 * PORT_READY answered by CONSOLE_PORT or PORT_NAME "printer" and PORT_OPEN, the guest's
 * opens and closes and its bytes reaching the port's callbacks; hostile control messages. */
#include "virtio_rig.h"
#include "../../devices/virtio_console.h"

struct t {
	struct rig r;
	struct virtio_console vc;
	char out[2][256];
	unsigned nout[2];
	int opens, closes;
	u64 next_buf; /* where the next control receive buffer goes */
	u16 next_desc[VCON_QUEUES];
};

static void out(struct t *t, unsigned port, const u8 *buf, size_t n)
{
	for (size_t i = 0; i < n && t->nout[port] < sizeof(t->out[0]) - 1; i++)
		t->out[port][t->nout[port]++] = (char)buf[i];
}

static void out0(void *ctx, const u8 *buf, size_t n)
{
	out(ctx, 0, buf, n);
}

static void out1(void *ctx, const u8 *buf, size_t n)
{
	out(ctx, 1, buf, n);
}

static void opened(void *ctx, bool open)
{
	struct t *t = ctx;
	if (open)
		t->opens++;
	else
		t->closes++;
}

#define WANT (BIT(VIRTIO_CONSOLE_F_MULTIPORT) | 1ULL << VIRTIO_F_VERSION_1)

static struct t *setup(void)
{
	struct t *t = test_alloc(sizeof(*t));
	rig_init(&t->r);
	struct vcon_port_ops con = {out0, NULL, t}, prn = {out1, opened, t};
	REQUIRE(virtio_console_init(&t->vc, t->r.d.p, &con, &prn));
	rig_plug(&t->r, &t->vc.vp.f);
	REQUIRE(rig_start(&t->r, VCON_QUEUES, 16, WANT, true) & VIRTIO_STATUS_DRIVER_OK);
	t->next_buf = RIG_BUF;
	return t;
}

/* One buffer in queue q (readable data, or writable room), made available and kicked. */
static void give(struct t *t, unsigned q, const void *data, u32 len, bool writable)
{
	struct drv *d = &t->r.q[q];
	u64 at = t->next_buf;
	t->next_buf += 0x100;
	if (data)
		drv_put(d, at, data, len);
	u16 i = t->next_desc[q]++ % 16;
	drv_desc(d, i, at, len, writable ? VIRTQ_DESC_F_WRITE : 0, 0);
	drv_avail(d, i);
	rig_kick(&t->r, q);
}

static void ctrl(struct t *t, u32 id, u16 event, u16 value)
{
	u8 m[8];
	memcpy(m, &id, 4);
	memcpy(m + 4, &event, 2);
	memcpy(m + 6, &value, 2);
	give(t, 3, m, 8, false);
}

/* The next control message the device sent; false if none. */
static bool got(struct t *t, u32 *id, u16 *event, u16 *value, char *name)
{
	struct drv *d = &t->r.q[2];
	u32 head, len;
	if (!drv_used(d, &head, &len))
		return false;
	struct {
		u64 addr;
		u32 len;
		u16 flags, next;
	} __attribute__((packed)) desc;
	drv_get(d, d->desc + 16ULL * head, &desc, 16);
	u8 m[64] = {0};
	REQUIRE(len >= 8 && len < sizeof(m));
	drv_get(d, desc.addr, m, len);
	memcpy(id, m, 4);
	memcpy(event, m + 4, 2);
	memcpy(value, m + 6, 2);
	if (name) {
		memcpy(name, m + 8, len - 8);
		name[len - 8] = 0;
	}
	return true;
}

static void expect(struct t *t, u32 id, u16 event, u16 value)
{
	u32 i;
	u16 e, v;
	char name[64];
	REQUIRE(got(t, &i, &e, &v, name));
	CHECK_EQ(i, id);
	CHECK_EQ(e, event);
	CHECK_EQ(v, value);
	if (event == VIRTIO_CONSOLE_PORT_NAME)
		CHECK_STR(name, "printer");
}

/* Linux's probe: receive buffers, DEVICE_READY, both ports added and made ready. */
static void bring_up(struct t *t)
{
	for (unsigned i = 0; i < 8; i++)
		give(t, 2, NULL, 64, true);
	ctrl(t, 0xffffffff, VIRTIO_CONSOLE_DEVICE_READY, 1);
	expect(t, 0, VIRTIO_CONSOLE_PORT_ADD, 0);
	expect(t, 1, VIRTIO_CONSOLE_PORT_ADD, 0);
	ctrl(t, 0, VIRTIO_CONSOLE_PORT_READY, 1);
	expect(t, 0, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
	expect(t, 0, VIRTIO_CONSOLE_PORT_OPEN, 1);
	ctrl(t, 1, VIRTIO_CONSOLE_PORT_READY, 1);
	expect(t, 1, VIRTIO_CONSOLE_PORT_NAME, 1);
	expect(t, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
}

TEST(virtio_console_identity_and_config)
{
	struct t *t = setup();
	CHECK_EQ(cfg_rd(&t->r, 2, 2), 0x1043);
	CHECK_EQ(mrd(&t->r, CC(0x12), 2), VCON_QUEUES);
	CHECK_EQ(mrd(&t->r, VIRTIO_DEVCFG_OFF + 4, 4), VCON_PORTS); /* max_nr_ports */
	CHECK_STR(virtio_console_port_name(1), "printer");
	CHECK(virtio_console_port_name(0) == NULL);
	p2m_destroy(t->r.d.p);
}

TEST(virtio_console_printer_port_job_open_write_close)
{
	struct t *t = setup();
	bring_up(t);
	CHECK_EQ(t->opens, 0);
	ctrl(t, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
	CHECK_EQ(t->opens, 1);
	give(t, 5, "hello ", 6, false);
	give(t, 5, "printer\f", 8, false);
	CHECK_STR(t->out[1], "hello printer\f");
	CHECK_EQ(t->vc.bytes_out[1], 14);
	CHECK_EQ(t->vc.open_bytes[1], 14);
	ctrl(t, 1, VIRTIO_CONSOLE_PORT_OPEN, 0);
	CHECK_EQ(t->closes, 1);
	CHECK_EQ(t->vc.open_bytes[1], 14); /* still there when the close is told */
	/* the console port's bytes go to its own callback */
	give(t, 1, "login: ", 7, false);
	CHECK_STR(t->out[0], "login: ");
	CHECK_EQ(t->nout[1], 14);
	/* a reset while the printer is open closes the job */
	ctrl(t, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
	CHECK_EQ(t->opens, 2);
	CHECK_EQ(t->vc.open_bytes[1], 0); /* a new job */
	CHECK_EQ(t->vc.bytes_out[1], 14);
	mwr(&t->r, CC(0x14), 1, 0);
	CHECK_EQ(t->closes, 2);
	p2m_destroy(t->r.d.p);
}

TEST(virtio_console_hostile_control_messages)
{
	struct t *t = setup();
	bring_up(t);
	u32 i;
	u16 e, v;
	/* ports that do not exist, events that are the device's, a second DEVICE_READY */
	ctrl(t, 7, VIRTIO_CONSOLE_PORT_OPEN, 1);
	ctrl(t, 0xffffffff, VIRTIO_CONSOLE_PORT_READY, 1);
	ctrl(t, 1, VIRTIO_CONSOLE_PORT_NAME, 1);
	ctrl(t, 1, 0xffff, 0xffff);
	ctrl(t, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
	CHECK(!got(t, &i, &e, &v, NULL));
	CHECK_EQ(t->opens, 0);
	/* a control message shorter than its header is ignored */
	give(t, 3, "\x01\x00", 2, false);
	CHECK_EQ(t->opens, 0);
	/* more answers than buffers: they wait, up to a bound, and go when buffers come */
	for (unsigned k = 0; k < 20; k++)
		ctrl(t, 1, VIRTIO_CONSOLE_PORT_READY, 1);
	expect(t, 1, VIRTIO_CONSOLE_PORT_NAME, 1); /* the two buffers left from bring-up */
	expect(t, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
	CHECK_EQ(t->vc.npending, VCON_PENDING);
	CHECK(t->vc.ctrl_dropped > 0);
	give(t, 2, NULL, 64, true);
	expect(t, 1, VIRTIO_CONSOLE_PORT_NAME, 1);
	/* a receive buffer too small for a message: the message is lost, not overrun */
	give(t, 2, NULL, 4, true);
	u32 head, len;
	REQUIRE(drv_used(&t->r.q[2], &head, &len));
	CHECK_EQ(len, 0);
	/* a transmit buffer outside RAM: nothing reaches the port, the device stays live */
	struct drv *d = &t->r.q[5];
	drv_desc(d, 9, DRV_HOLE - 2, 8, 0, 0);
	drv_avail(d, 9);
	rig_kick(&t->r, 5);
	CHECK_EQ(t->nout[1], 0);
	CHECK(rig_status(&t->r) & VIRTIO_STATUS_DRIVER_OK);
	CHECK(!(rig_status(&t->r) & VIRTIO_STATUS_NEEDS_RESET));
	p2m_destroy(t->r.d.p);
}

TEST(virtio_console_save_load)
{
	struct t *t = setup();
	bring_up(t);
	ctrl(t, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
	static u8 buf[4096];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	virtio_console_device.save(&t->vc, &w);
	REQUIRE(!w.overflow);
	struct virtio_console *n = test_alloc(sizeof(*n));
	REQUIRE(virtio_console_init(n, t->r.d.p, NULL, NULL));
	struct state_reader r = {buf, w.len, 0, false};
	REQUIRE(virtio_console_device.load(n, &r));
	CHECK(n->ready && n->guest_open[1] && !n->guest_open[0]);
	CHECK_EQ(n->vp.q[5].last_avail, t->vc.vp.q[5].last_avail);
	for (size_t cut = 0; cut < w.len; cut += 5) {
		struct state_reader tr = {buf, cut, 0, false};
		CHECK(!virtio_console_device.load(n, &tr));
	}
	p2m_destroy(t->r.d.p);
}
