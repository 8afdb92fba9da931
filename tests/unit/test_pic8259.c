/* Tests of the 8259A pair (devices/pic8259.c), driven through port accesses in the order
 * Linux's arch/x86/kernel/i8259.c issues them, plus hostile sequences and save/load. */
#include "test.h"
#include "../../devices/pic8259.h"

struct intr_rec {
	unsigned raises, lowers;
	bool level;
};

static void intr_set(void *ctx, unsigned pin, bool level)
{
	struct intr_rec *r = ctx;
	(void)pin;
	if (level)
		r->raises++;
	else
		r->lowers++;
	r->level = level;
}

static void outb(struct pic8259 *pic, u16 port, u8 v)
{
	struct io_access a = {port, 1, true, v};
	pic_access(pic, &a);
}

static u8 inb(struct pic8259 *pic, u16 port)
{
	struct io_access a = {port, 1, false, 0x5a5a5a5a};
	pic_access(pic, &a);
	return (u8)a.value;
}

/* init_8259A(auto_eoi) from Linux, then the cached masks it restores. */
static void linux_init(struct pic8259 *pic, bool auto_eoi, u8 master_mask, u8 slave_mask)
{
	outb(pic, 0x21, 0xff);
	outb(pic, 0x20, 0x11);
	outb(pic, 0x21, 0x30);
	outb(pic, 0x21, 0x04);
	outb(pic, 0x21, auto_eoi ? 0x03 : 0x01);
	outb(pic, 0xa0, 0x11);
	outb(pic, 0xa1, 0x38);
	outb(pic, 0xa1, 0x02);
	outb(pic, 0xa1, 0x01);
	outb(pic, 0x21, master_mask);
	outb(pic, 0xa1, slave_mask);
}

static struct pic8259 *new_pic(struct intr_rec *rec)
{
	struct pic8259 *pic = test_alloc(sizeof(*pic));
	struct irq_line intr = {intr_set, rec, 0};
	pic_init(pic, &intr);
	return pic;
}

/* mask_and_ack_8259A() for a real interrupt, then the unmask that ends the flow. */
static void linux_mask_and_ack(struct pic8259 *pic, unsigned irq, u16 *cached)
{
	*cached |= (u16)(1u << irq);
	if (irq & 8) {
		inb(pic, 0xa1);
		outb(pic, 0xa1, (u8)(*cached >> 8));
		outb(pic, 0xa0, (u8)(0x60 + (irq & 7)));
		outb(pic, 0x20, 0x60 + PIC_CASCADE_IRQ);
	} else {
		inb(pic, 0x21);
		outb(pic, 0x21, (u8)*cached);
		outb(pic, 0x20, (u8)(0x60 + irq));
	}
	*cached &= (u16) ~(1u << irq);
	outb(pic, (irq & 8) ? 0xa1 : 0x21, (u8)((irq & 8) ? *cached >> 8 : *cached));
}

static u8 read_isr(struct pic8259 *pic, u16 cmd)
{
	outb(pic, cmd, 0x0b);
	u8 v = inb(pic, cmd);
	outb(pic, cmd, 0x0a);
	return v;
}

TEST(pic_starts_masked_with_bios_vectors)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	CHECK_EQ(inb(pic, 0x21), 0xff);
	CHECK_EQ(inb(pic, 0xa1), 0xff);
	pic_set_irq(pic, 1, true);
	CHECK_EQ(pic_pending(pic), -1);
	outb(pic, 0x21, 0xfd);
	CHECK_EQ(pic_pending(pic), 0x09);
	CHECK_EQ(rec.raises, 1);
}

TEST(pic_linux_probe_and_init)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	/* probe_8259A: mask the slave, write the probe value, read it back */
	outb(pic, 0xa1, 0xff);
	outb(pic, 0x21, 0xfb);
	CHECK_EQ(inb(pic, 0x21), 0xfb);
	linux_init(pic, false, 0xfb, 0xff);
	CHECK_EQ(inb(pic, 0x21), 0xfb);
	CHECK_EQ(inb(pic, 0xa1), 0xff);
	CHECK_EQ(inb(pic, 0x20), 0); /* OCW3 default after ICW1: IRR */
	CHECK_EQ(read_isr(pic, 0x20), 0);
	CHECK_EQ(pic_pending(pic), -1);
	CHECK_EQ(rec.raises, 0);
	/* ELCR as Linux's save_ELCR reads it */
	CHECK_EQ(inb(pic, 0x4d0) & 0xf8, 0);
	CHECK_EQ(inb(pic, 0x4d1) & 0xde, 0);
}

TEST(pic_timer_interrupt_full_linux_flow)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	u16 cached = 0xfffa; /* IRQ0 and the cascade unmasked */
	linux_init(pic, false, (u8)cached, (u8)(cached >> 8));
	irq_line_pulse(&(struct irq_line){pic_irq_line_set, pic, 0});
	CHECK_EQ(rec.raises, 1);
	CHECK(rec.level);
	CHECK_EQ(inb(pic, 0x20), 0x01); /* i8259A_irq_pending: IRR bit 0 */
	CHECK_EQ(pic_pending(pic), 0x30);
	CHECK_EQ(pic_acknowledge(pic), 0x30);
	CHECK(!rec.level);
	CHECK_EQ(read_isr(pic, 0x20), 0x01);
	CHECK_EQ(inb(pic, 0x20), 0x00); /* the edge latch went to ISR */
	linux_mask_and_ack(pic, 0, &cached);
	CHECK_EQ(read_isr(pic, 0x20), 0);
	CHECK_EQ(pic_pending(pic), -1);
	/* the next tick comes the same way */
	pic_set_irq(pic, 0, true);
	pic_set_irq(pic, 0, false);
	CHECK_EQ(pic_acknowledge(pic), 0x30);
	CHECK_EQ(rec.raises, 2);
	CHECK_EQ(pic->spurious, 0);
}

TEST(pic_slave_interrupt_through_cascade)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	u16 cached = 0xfefb; /* IRQ8 (RTC) and the cascade */
	linux_init(pic, false, (u8)cached, (u8)(cached >> 8));
	pic_set_irq(pic, 8, true);
	CHECK(rec.level);
	CHECK_EQ(inb(pic, 0xa0), 0x01);
	CHECK_EQ(inb(pic, 0x20), 0x04); /* master IR2 requested */
	CHECK_EQ(pic_pending(pic), 0x38);
	CHECK_EQ(pic_acknowledge(pic), 0x38);
	CHECK(!rec.level);
	CHECK_EQ(read_isr(pic, 0x20), 0x04);
	CHECK_EQ(read_isr(pic, 0xa0), 0x01);
	pic_set_irq(pic, 8, false);
	linux_mask_and_ack(pic, 8, &cached);
	CHECK_EQ(read_isr(pic, 0x20), 0);
	CHECK_EQ(read_isr(pic, 0xa0), 0);
	CHECK_EQ(pic_pending(pic), -1);
}

TEST(pic_fully_nested_priorities)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0x00, 0x00);
	pic_set_irq(pic, 3, true);
	pic_set_irq(pic, 1, true);
	CHECK_EQ(pic_acknowledge(pic), 0x31); /* IR1 before IR3 */
	CHECK_EQ(pic_pending(pic), -1);	      /* IR3 waits behind IR1 in service */
	pic_set_irq(pic, 0, true);
	CHECK_EQ(pic_acknowledge(pic), 0x30); /* IR0 nests above IR1 */
	CHECK_EQ(read_isr(pic, 0x20), 0x03);
	outb(pic, 0x20, 0x20); /* non-specific EOI ends IR0, the highest in service */
	CHECK_EQ(read_isr(pic, 0x20), 0x02);
	CHECK_EQ(pic_pending(pic), -1);
	outb(pic, 0x20, 0x20);
	CHECK_EQ(pic_acknowledge(pic), 0x33);
	/* slave inputs rank at IR2's place: above IR3, below IR1 */
	outb(pic, 0x20, 0x63);
	pic_set_irq(pic, 4, true);
	pic_set_irq(pic, 12, true);
	CHECK_EQ(pic_acknowledge(pic), 0x3c);
	outb(pic, 0xa0, 0x20);
	outb(pic, 0x20, 0x20);
	CHECK_EQ(pic_acknowledge(pic), 0x34);
}

TEST(pic_rotation_and_set_priority)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0x00, 0xff);
	pic_set_irq(pic, 1, true);
	CHECK_EQ(pic_acknowledge(pic), 0x31);
	outb(pic, 0x20, 0xa0); /* rotate on non-specific EOI: IR1 becomes the lowest */
	pic_set_irq(pic, 1, false);
	pic_set_irq(pic, 1, true);
	pic_set_irq(pic, 5, true);
	CHECK_EQ(pic_acknowledge(pic), 0x35); /* IR2.. now rank above IR1 */
	outb(pic, 0x20, 0xe5);		      /* specific EOI 5 and rotate: IR6 highest */
	CHECK_EQ(pic_acknowledge(pic), 0x31);
	outb(pic, 0x20, 0x61);
	outb(pic, 0x20, 0xc7); /* set priority: IR7 lowest, IR0 highest again */
	pic_set_irq(pic, 3, true);
	pic_set_irq(pic, 6, true);
	CHECK_EQ(pic_acknowledge(pic), 0x33);
	outb(pic, 0x20, 0x63);
	outb(pic, 0x20, 0xc4); /* IR4 lowest: IR5, IR6 rank above IR3 */
	CHECK_EQ(pic_acknowledge(pic), 0x36);
	outb(pic, 0x20, 0x40); /* OCW2 no-op */
	CHECK_EQ(read_isr(pic, 0x20), 0x40);
}

TEST(pic_edge_latch_survives_the_line_falling)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0xf7, 0xff);
	pic_set_irq(pic, 3, true);
	pic_set_irq(pic, 3, false);
	CHECK_EQ(pic_pending(pic), 0x33);
	/* holding the line high gives no second request */
	pic_set_irq(pic, 3, true);
	CHECK_EQ(pic_acknowledge(pic), 0x33);
	outb(pic, 0x20, 0x63);
	pic_set_irq(pic, 3, true);
	CHECK_EQ(pic_pending(pic), -1);
	/* a masked edge stays latched until unmasked */
	outb(pic, 0x21, 0xff);
	pic_set_irq(pic, 3, false);
	pic_set_irq(pic, 3, true);
	CHECK_EQ(pic_pending(pic), -1);
	CHECK_EQ(inb(pic, 0x20), 0x08);
	outb(pic, 0x21, 0xf7);
	CHECK_EQ(pic_pending(pic), 0x33);
}

TEST(pic_level_inputs_follow_the_line_and_spurious_irq7)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0xdf, 0xff);
	outb(pic, 0x4d0, 0xff);
	CHECK_EQ(inb(pic, 0x4d0), 0xf8); /* IRQ0-2 cannot be level-triggered */
	outb(pic, 0x4d1, 0xff);
	CHECK_EQ(inb(pic, 0x4d1), 0xde); /* nor IRQ8 and IRQ13 */
	pic_set_irq(pic, 5, true);
	CHECK_EQ(pic_acknowledge(pic), 0x35);
	outb(pic, 0x20, 0x65);
	CHECK_EQ(pic_pending(pic), 0x35); /* still high after EOI: again */
	pic_set_irq(pic, 5, false);
	CHECK_EQ(pic_pending(pic), -1);
	CHECK(!rec.level);
	/* the request vanishes between INTR and INTA: the master answers IR7 */
	pic_set_irq(pic, 5, true);
	CHECK(rec.level);
	pic_set_irq(pic, 5, false);
	CHECK_EQ(pic_acknowledge(pic), 0x37);
	CHECK_EQ(read_isr(pic, 0x20), 0); /* a spurious INTA sets no ISR bit */
	CHECK_EQ(pic->spurious, 1);
	/* back to edge: no latch was kept for the level input */
	pic_set_irq(pic, 5, true);
	outb(pic, 0x4d0, 0x00);
	CHECK_EQ(pic_pending(pic), -1);
}

TEST(pic_spurious_irq15_keeps_master_ir2_in_service)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0xfb, 0xfb);
	outb(pic, 0x4d1, 0x04); /* IRQ10 level */
	pic_set_irq(pic, 10, true);
	CHECK_EQ(pic_pending(pic), 0x3a);
	pic_set_irq(pic, 10, false);
	/* master IR2 latched its edge; the slave has nothing left */
	CHECK_EQ(pic_pending(pic), 0x3f);
	CHECK_EQ(pic_acknowledge(pic), 0x3f);
	CHECK_EQ(read_isr(pic, 0x20), 0x04);
	CHECK_EQ(read_isr(pic, 0xa0), 0x00);
	/* Linux's spurious path: IRQ15 is not in service, it acks anyway */
	u16 cached = 0xfbfb | 0x8000;
	linux_mask_and_ack(pic, 15, &cached);
	CHECK_EQ(read_isr(pic, 0x20), 0);
	CHECK_EQ(pic->spurious, 1);
}

TEST(pic_auto_eoi)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, true, 0x00, 0xff);
	pic_set_irq(pic, 1, true);
	pic_set_irq(pic, 4, true);
	CHECK_EQ(pic_acknowledge(pic), 0x31);
	CHECK_EQ(read_isr(pic, 0x20), 0);
	CHECK_EQ(pic_acknowledge(pic), 0x34); /* no EOI needed */
	/* rotate in automatic EOI mode */
	outb(pic, 0x20, 0x80);
	pic_set_irq(pic, 1, false);
	pic_set_irq(pic, 1, true);
	CHECK_EQ(pic_acknowledge(pic), 0x31);
	pic_set_irq(pic, 0, true);
	pic_set_irq(pic, 3, true);
	CHECK_EQ(pic_acknowledge(pic), 0x33); /* IR2.. rank above IR0 after rotating */
	outb(pic, 0x20, 0x00);		      /* clear rotate-in-AEOI */
	CHECK_EQ(pic_acknowledge(pic), 0x30);
}

TEST(pic_slave_in_auto_eoi_delivers_every_request)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0xfb, 0x00);
	outb(pic, 0xa0, 0x11);
	outb(pic, 0xa1, 0x38);
	outb(pic, 0xa1, 0x02);
	outb(pic, 0xa1, 0x03); /* slave in AEOI */
	pic_set_irq(pic, 9, true);
	pic_set_irq(pic, 12, true);
	CHECK_EQ(pic_acknowledge(pic), 0x39);
	outb(pic, 0x20, 0x62);
	/* the slave output never fell, but the INTA re-samples the cascade */
	CHECK_EQ(pic_acknowledge(pic), 0x3c);
}

TEST(pic_special_mask_mode)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0x00, 0xff);
	pic_set_irq(pic, 1, true);
	CHECK_EQ(pic_acknowledge(pic), 0x31);
	pic_set_irq(pic, 3, true);
	CHECK_EQ(pic_pending(pic), -1);
	outb(pic, 0x21, 0x02); /* mask the level in service ... */
	outb(pic, 0x20, 0x68); /* ... and enter special mask mode */
	CHECK_EQ(pic_pending(pic), 0x33);
	outb(pic, 0x20, 0x48); /* leave it */
	CHECK_EQ(pic_pending(pic), -1);
	outb(pic, 0x20, 0x68);
	CHECK_EQ(pic_acknowledge(pic), 0x33);
	outb(pic, 0x20, 0x63);
	outb(pic, 0x20, 0x61);
	outb(pic, 0x20, 0x48);
	CHECK_EQ(read_isr(pic, 0x20), 0);
	/* in special mask mode a level in service still holds back its own input */
	outb(pic, 0x4d0, 0x20);
	outb(pic, 0x21, 0x00);
	pic_set_irq(pic, 5, true);
	CHECK_EQ(pic_acknowledge(pic), 0x35);
	outb(pic, 0x20, 0x68);
	CHECK_EQ(pic_pending(pic), -1);
	outb(pic, 0x20, 0x65);
	CHECK_EQ(pic_pending(pic), 0x35);
}

TEST(pic_special_fully_nested_mode)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0x00, 0x00);
	outb(pic, 0x20, 0x11);
	outb(pic, 0x21, 0x30);
	outb(pic, 0x21, 0x04);
	outb(pic, 0x21, 0x11); /* ICW4: special fully nested */
	pic_set_irq(pic, 12, true);
	CHECK_EQ(pic_acknowledge(pic), 0x3c);
	pic_set_irq(pic, 9, true);
	CHECK_EQ(pic_acknowledge(pic), 0x39); /* nests although master IR2 is in service */
	pic_set_irq(pic, 3, true);
	CHECK_EQ(pic_pending(pic), -1); /* IR3 is still below IR2 */
}

TEST(pic_poll_command)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0x00, 0xff);
	outb(pic, 0x20, 0x0c);
	CHECK_EQ(inb(pic, 0x20), 0x07 /* I=0: nothing */);
	pic_set_irq(pic, 6, true);
	CHECK(rec.level);
	outb(pic, 0x20, 0x0c);
	CHECK_EQ(inb(pic, 0x21), 0x86); /* either port answers the poll */
	CHECK(!rec.level);
	CHECK_EQ(read_isr(pic, 0x20), 0x40);
	CHECK_EQ(inb(pic, 0x21), 0x00); /* the next read is the mask again */
}

TEST(pic_poll_through_the_cascade)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0xfb, 0x00);
	outb(pic, 0xa0, 0x11);
	outb(pic, 0xa1, 0x38);
	outb(pic, 0xa1, 0x02);
	outb(pic, 0xa1, 0x03); /* slave in AEOI */
	pic_set_irq(pic, 9, true);
	pic_set_irq(pic, 12, true);
	outb(pic, 0x20, 0x0c);
	CHECK_EQ(inb(pic, 0x20), 0x82); /* the master names its cascade input */
	outb(pic, 0xa0, 0x0c);
	CHECK_EQ(inb(pic, 0xa0), 0x81); /* the slave names IRQ9 */
	outb(pic, 0x20, 0x62);
	/* the slave still requests IRQ12: its poll re-sampled the cascade line */
	outb(pic, 0x20, 0x0c);
	CHECK_EQ(inb(pic, 0x20), 0x82);
	outb(pic, 0xa0, 0x0c);
	CHECK_EQ(inb(pic, 0xa0), 0x84);
	outb(pic, 0x20, 0x62);
	outb(pic, 0x20, 0x0c);
	CHECK_EQ(inb(pic, 0x20), 0x07);
}

TEST(pic_out_of_sequence_initialization)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0x00, 0xff);
	pic_set_irq(pic, 4, true);
	CHECK(rec.level);
	/* ICW1 in the middle of service: everything restarts, INTR drops during init */
	outb(pic, 0x20, 0x11);
	CHECK(!rec.level);
	CHECK_EQ(pic_pending(pic), -1);
	outb(pic, 0x21, 0x48);
	outb(pic, 0x20, 0x11); /* ICW1 again before ICW3: the sequence restarts */
	outb(pic, 0x21, 0x50);
	outb(pic, 0x21, 0x04);
	CHECK_EQ(pic_pending(pic), -1); /* still waiting for ICW4 */
	outb(pic, 0x21, 0x01);
	CHECK_EQ(inb(pic, 0x21), 0x00); /* ICW1 cleared the mask: ICWs did not land there */
	CHECK_EQ(pic_pending(pic), -1); /* the old edge latch was reset */
	pic_set_irq(pic, 4, false);
	pic_set_irq(pic, 4, true);
	CHECK_EQ(pic_acknowledge(pic), 0x54);
	/* single mode without ICW4: only ICW2 follows */
	outb(pic, 0x20, 0x12);
	outb(pic, 0x21, 0x60);
	outb(pic, 0x21, 0xef);
	CHECK_EQ(inb(pic, 0x21), 0xef);
	pic_set_irq(pic, 4, false);
	pic_set_irq(pic, 4, true);
	CHECK_EQ(pic_acknowledge(pic), 0x64);
	CHECK_EQ(inb(pic, 0xa1), 0xff); /* the slave was not touched */
}

TEST(pic_hostile_sizes_ports_and_inputs)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0x12, 0x34);
	struct io_access a = {0x20, 2, false, 0};
	pic_access(pic, &a);
	CHECK_EQ(a.value, 0x1200); /* IRR, then IMR at 0x21 */
	a = (struct io_access){0x21, 2, false, 0};
	pic_access(pic, &a);
	CHECK_EQ(a.value, 0xff12); /* 0x22 is not the PIC's */
	a = (struct io_access){0xa0, 4, false, 0};
	pic_access(pic, &a);
	CHECK_EQ(a.value, 0xffff3400);
	a = (struct io_access){0x21, 3, true, 0x000000};
	pic_access(pic, &a); /* no such size: ignored */
	CHECK_EQ(inb(pic, 0x21), 0x12);
	a = (struct io_access){0x21, 0, false, 0};
	pic_access(pic, &a);
	CHECK_EQ(a.value, 0xffffffff);
	a = (struct io_access){0x4d0, 2, true, 0xffff};
	pic_access(pic, &a);
	CHECK_EQ(inb(pic, 0x4d0), 0xf8);
	CHECK_EQ(inb(pic, 0x4d1), 0xde);
	a = (struct io_access){0x1234, 1, false, 0};
	pic_access(pic, &a);
	CHECK_EQ(a.value, 0xff);
	pic_set_irq(pic, 16, true);
	pic_set_irq(pic, 0xffffffffu, true);
	pic_set_irq(pic, 2, true); /* the cascade is not a device input */
	CHECK_EQ(inb(pic, 0x20), 0);
	CHECK_EQ(pic_acknowledge(pic), 0x37); /* INTA with nothing: spurious */
	CHECK_EQ(rec.raises, 0);
	/* a PIC without an INTR wire still works */
	struct pic8259 quiet;
	pic_init(&quiet, NULL);
	outb(&quiet, 0x21, 0x00);
	pic_set_irq(&quiet, 0, true);
	CHECK_EQ(pic_pending(&quiet), 0x08);
}

TEST(pic_intr_changes_only_on_transitions)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0x00, 0x00);
	pic_set_irq(pic, 1, true);
	pic_set_irq(pic, 3, true);
	pic_set_irq(pic, 9, true);
	CHECK_EQ(rec.raises, 1);
	CHECK_EQ(pic_acknowledge(pic), 0x31);
	CHECK_EQ(rec.lowers, 1);
	outb(pic, 0x20, 0x20);
	CHECK_EQ(rec.raises, 2);
	CHECK_EQ(pic_acknowledge(pic), 0x39);
	outb(pic, 0xa0, 0x20);
	outb(pic, 0x20, 0x20);
	CHECK_EQ(pic_acknowledge(pic), 0x33);
	outb(pic, 0x20, 0x20);
	CHECK_EQ(pic_pending(pic), -1);
	CHECK_EQ(rec.raises, 3);
	CHECK_EQ(rec.lowers, 3);
}

TEST(pic_save_load_round_trip)
{
	struct intr_rec rec = {0}, rec2 = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0x00, 0x00);
	outb(pic, 0x4d1, 0x04);
	pic_set_irq(pic, 10, true);
	pic_set_irq(pic, 3, true);
	pic_set_irq(pic, 1, true);
	CHECK_EQ(pic_acknowledge(pic), 0x31);
	outb(pic, 0x20, 0x0b);
	outb(pic, 0x20, 0xc5);
	u8 buf[256];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	pic_save(pic, &w);
	REQUIRE(!w.overflow);

	struct pic8259 *copy = new_pic(&rec2);
	struct state_reader r = {buf, w.len, 0, false};
	REQUIRE(pic_load(copy, &r));
	CHECK_EQ(r.pos, w.len);
	CHECK_EQ(inb(copy, 0x20), 0x02); /* OCW3 read-ISR mode came along */
	CHECK_EQ(inb(copy, 0x4d1), 0x04);
	CHECK_EQ(rec2.lowers, 1); /* told the wire: INTR low (IR1 in service) */
	outb(copy, 0x20, 0x61);
	CHECK(rec2.level);
	/* priority IR5 lowest: IR6, IR7, IR0, IR1, IR2 ... IR2 (IRQ10) before IR3 */
	CHECK_EQ(pic_acknowledge(copy), 0x3a);
	outb(pic, 0x20, 0x61);
	CHECK_EQ(pic_acknowledge(pic), 0x3a);
}

TEST(pic_load_rejects_malformed_state)
{
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	linux_init(pic, false, 0xfe, 0xff);
	u8 good[256];
	struct state_writer w = {good, sizeof(good), 0, false};
	pic_save(pic, &w);
	REQUIRE(!w.overflow);

	struct pic8259 *victim = new_pic(&rec);
	outb(victim, 0x21, 0x5a);
	/* truncated at every length */
	for (size_t len = 0; len < w.len; len++) {
		u8 *p = test_dup(good, len);
		struct state_reader r = {p, len, 0, false};
		CHECK(!pic_load(victim, &r));
	}
	/* field offsets: tag 8, then 11 bytes per chip */
	struct {
		size_t off;
		u8 value;
	} bad[] = {
	    {0, 'X'},	       /* tag */
	    {4, 2},	       /* version */
	    {8 + 4, 0x01},     /* ELCR bit the chipset forbids (IRQ0) */
	    {8 + 5, 0x31},     /* vector base with low bits */
	    {8 + 6, 8},	       /* priority beyond IR7 */
	    {8 + 7, 1},	       /* no such ICW */
	    {8 + 7, 5},	       /* no such ICW */
	    {8 + 8, 0x01},     /* ICW1 without its init bit */
	    {8 + 10, 0x40},    /* unknown flag */
	    {8 + 11 + 8, 0x1b} /* waiting for ICW3 although ICW1 said single mode */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		u8 copy[256];
		memcpy(copy, good, w.len);
		copy[bad[i].off] = bad[i].value;
		if (bad[i].off == 8 + 11 + 8)
			copy[8 + 11 + 7] = 3;
		struct state_reader r = {copy, w.len, 0, false};
		CHECK(!pic_load(victim, &r));
		CHECK(r.error);
	}
	CHECK_EQ(inb(victim, 0x21), 0x5a); /* nothing changed */
}

/* Random port writes, input changes and INTA cycles: never a crash, INTR always agrees
 * with pic_pending(), and an INTA returns what pic_pending() promised. */
TEST(pic_random_sequences_keep_intr_consistent)
{
	static const u16 ports[] = {0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1};
	struct intr_rec rec = {0};
	struct pic8259 *pic = new_pic(&rec);
	u64 seed = 0x9e3779b97f4a7c15ULL;
	for (unsigned i = 0; i < 200000; i++) {
		u64 r = test_rng(&seed);
		switch (r % 8) {
		case 0:
		case 1: {
			u8 sizes[] = {1, 1, 1, 2, 4, 0, 3};
			struct io_access a = {ports[(r >> 8) % ARRAY_SIZE(ports)],
					      sizes[(r >> 16) % ARRAY_SIZE(sizes)], (r >> 24) & 1,
					      (u32)(r >> 32)};
			pic_access(pic, &a);
			break;
		}
		case 2:
		case 3:
		case 4:
			pic_set_irq(pic, (unsigned)(r >> 8) % 17, (r >> 16) & 1);
			break;
		default: {
			int want = pic_pending(pic);
			if (want >= 0)
				CHECK_EQ(pic_acknowledge(pic), (u8)want);
			break;
		}
		}
		CHECK_EQ(rec.level, pic_pending(pic) >= 0);
	}
}
