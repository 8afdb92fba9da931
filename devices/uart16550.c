/* 16550A register model. Only byte accesses are architectural; wider ones act on the
 * addressed register, as a PC's 8-bit ISA bus would deliver the low byte. */
#include "uart16550.h"
#include "../hypervisor/lib.h"

enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define LCR_DLAB 0x80
#define LSR_DR	 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IER_RDI	 0x01
#define IER_THRI 0x02
#define MCR_LOOP 0x10
#define MCR_OUT2 0x08

/* In loopback the modem inputs are wired to the outputs: DTR->DSR, RTS->CTS, OUT1->RI,
 * OUT2->DCD. */
static u8 loopback_msr(u8 mcr)
{
	return (u8)(((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) | ((mcr & 0x04) << 4) |
		    ((mcr & 0x08) << 4));
}

void uart_init(struct uart16550 *u, void (*tx)(void *, u8), void (*irq)(void *, bool), void *ctx)
{
	memset(u, 0, sizeof(*u));
	u->tx = tx;
	u->irq = irq;
	u->ctx = ctx;
}

/* Interrupt identification: receive data first, then THR empty. */
static u8 iir(const struct uart16550 *u)
{
	u8 fifo = (u->fcr & 1) ? 0xc0 : 0;
	if ((u->ier & IER_RDI) && u->rx_count)
		return fifo | 0x04;
	if ((u->ier & IER_THRI) && u->thr_irq)
		return fifo | 0x02;
	return fifo | 0x01;
}

static void update_irq(struct uart16550 *u)
{
	if (u->irq)
		u->irq(u->ctx, !(iir(u) & 1));
}

void uart_access(void *dev, struct io_access *a)
{
	struct uart16550 *u = dev;
	unsigned reg = a->port & 7;
	bool dlab = u->lcr & LCR_DLAB;
	u8 v = (u8)a->value;

	if (a->write) {
		switch (reg) {
		case RBR_THR:
			if (dlab) {
				u->dll = v;
			} else {
				if (u->mcr & MCR_LOOP)
					uart_receive(u, v);
				else if (u->tx)
					u->tx(u->ctx, v);
				u->thr_irq = true; /* the byte left at once */
			}
			break;
		case IER:
			if (dlab)
				u->dlm = v;
			else {
				u->ier = v & 0x0f;
				u->thr_irq = true; /* enabling THRI with an empty THR raises it */
			}
			break;
		case IIR_FCR:
			u->fcr = v & 0xc9;
			if (v & 0x02)
				u->rx_count = 0;
			break;
		case LCR:
			u->lcr = v;
			break;
		case MCR:
			u->mcr = v & 0x1f;
			break;
		case SCR:
			u->scr = v;
			break;
		default: /* LSR and MSR are read-only */
			break;
		}
		update_irq(u);
		return;
	}

	switch (reg) {
	case RBR_THR:
		if (dlab) {
			v = u->dll;
		} else if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_FIFO;
			u->rx_count--;
		} else {
			v = 0;
		}
		break;
	case IER:
		v = dlab ? u->dlm : u->ier;
		break;
	case IIR_FCR:
		v = iir(u);
		if ((v & 0x0f) == 0x02)
			u->thr_irq = false; /* reading IIR clears a THR-empty interrupt */
		break;
	case LCR:
		v = u->lcr;
		break;
	case MCR:
		v = u->mcr;
		break;
	case LSR:
		v = LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
		break;
	case MSR:
		/* loopback reflects MCR; otherwise report carrier, DSR and CTS present */
		v = (u->mcr & MCR_LOOP) ? loopback_msr(u->mcr) : 0xb0;
		break;
	case SCR:
		v = u->scr;
		break;
	}
	a->value = v;
	update_irq(u);
}

bool uart_receive(struct uart16550 *u, u8 c)
{
	if (u->rx_count == UART_FIFO)
		return false;
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO] = c;
	u->rx_count++;
	update_irq(u);
	return true;
}

void uart_save(const struct uart16550 *u, struct state_writer *w)
{
	u8 regs[8] = {u->ier, u->lcr, u->mcr, u->scr, u->dll, u->dlm, u->fcr, u->thr_irq};
	u8 n = (u8)u->rx_count;
	state_put_tag(w, "UART", 1);
	state_put(w, regs, sizeof(regs));
	state_put(w, &n, 1);
	for (unsigned i = 0; i < u->rx_count; i++)
		state_put(w, &u->rx[(u->rx_head + i) % UART_FIFO], 1);
}

bool uart_load(struct uart16550 *u, struct state_reader *r)
{
	u8 regs[8], n, rx[UART_FIFO];
	if (!state_get_tag(r, "UART", 1) || !state_get(r, regs, sizeof(regs)) ||
	    !state_get(r, &n, 1) || n > UART_FIFO || !state_get(r, rx, n))
		return false;
	u->ier = regs[0] & 0x0f;
	u->lcr = regs[1];
	u->mcr = regs[2] & 0x1f;
	u->scr = regs[3];
	u->dll = regs[4];
	u->dlm = regs[5];
	u->fcr = regs[6] & 0xc9;
	u->thr_irq = regs[7] != 0;
	memcpy(u->rx, rx, n);
	u->rx_head = 0;
	u->rx_count = n;
	update_irq(u);
	return true;
}

/* ---- the device interface ---- */

static void dev_reset(void *dev)
{
	struct uart16550 *u = dev;
	uart_init(u, u->tx, u->irq, u->ctx);
}

static void dev_save(void *dev, struct state_writer *w)
{
	uart_save(dev, w);
}

static bool dev_load(void *dev, struct state_reader *r)
{
	return uart_load(dev, r);
}

const struct device_ops uart_device = {
    .name = "uart",
    .reset = dev_reset,
    .port = uart_access,
    .save = dev_save,
    .load = dev_load,
};
