/* The 16550A register model (see uart.h).  Behaviour follows the National/TI PC16550D data
 * sheet where Linux's 8250 driver depends on it:
 * - IIR priority: line status (overrun), received data (at the trigger level; in FIFO mode a
 *   character timeout below it, reported at once since this model has no clock), THR empty,
 *   modem status (never: the modem lines do not change).
 * - A THR-empty interrupt is raised when THR empties (at once here: the byte leaves as it is
 *   written) and when THRI is enabled with THR empty, and is acknowledged by reading IIR
 *   while it is the one reported, or by writing THR.  The 8250 driver's startup checks that
 *   re-enabling THRI re-asserts it (UART_BUG_THRE).
 * - Changing FCR's enable bit clears the FIFOs, as FCR bit 1 does. */
#include "vmm/uart.h"

#include <string.h>

static const uint8_t rx_trigger[4] = { 1, 4, 8, 14 };

void uart_reset(struct uart *u)
{
	memset(u, 0, sizeof(*u));
}

static unsigned rx_capacity(const struct uart *u)
{
	return (u->fcr & UART_FCR_ENABLE) ? UART_FIFO_LEN : 1;
}

static void rx_put(struct uart *u, uint8_t c)
{
	if (u->rx_count >= rx_capacity(u)) {
		u->lsr_err |= UART_LSR_OE;	/* the byte is lost, as on the chip */
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_LEN] = c;
	u->rx_count++;
}

unsigned uart_rx_room(const struct uart *u)
{
	if (u->mcr & UART_MCR_LOOP)
		return 0;
	return rx_capacity(u) - u->rx_count;
}

void uart_rx_push(struct uart *u, uint8_t c)
{
	rx_put(u, c);
}

uint8_t uart_iir_id(const struct uart *u)
{
	if ((u->ier & UART_IER_RLSI) && u->lsr_err)
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_count) {
		if (!(u->fcr & UART_FCR_ENABLE) || u->rx_count >= rx_trigger[u->fcr >> 6])
			return UART_IIR_RDI;
		return UART_IIR_TIMEOUT;
	}
	if ((u->ier & UART_IER_THRI) && u->thr_ipending)
		return UART_IIR_THRI;
	return UART_IIR_NONE;
}

bool uart_irq_level(const struct uart *u)
{
	return (u->mcr & (UART_MCR_OUT2 | UART_MCR_LOOP)) == UART_MCR_OUT2 &&
	       uart_iir_id(u) != UART_IIR_NONE;
}

bool uart_write(struct uart *u, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab) {
			u->dll = v;
			return false;
		}
		/* Sent at once: THR is empty again and says so. */
		u->thr_ipending = true;
		if (u->mcr & UART_MCR_LOOP) {
			rx_put(u, v);
			return false;
		}
		return true;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
		} else {
			if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
				u->thr_ipending = true;
			u->ier = v & 0x0f;
		}
		return false;
	case UART_IIR_FCR:
		if ((v ^ u->fcr) & UART_FCR_ENABLE)
			v |= UART_FCR_CLEAR_RX;
		if (v & UART_FCR_CLEAR_RX)
			u->rx_head = u->rx_count = 0;
		u->fcr = v & 0xc9;	/* enable, DMA mode, trigger level; the clear bits self-clear */
		return false;
	case UART_LCR:
		u->lcr = v;
		return false;
	case UART_MCR:
		u->mcr = v & 0x1f;
		return false;
	case UART_SCR:
		u->scr = v;
		return false;
	default:		/* LSR and MSR are read-only */
		return false;
	}
}

uint8_t uart_read(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			return u->dll;
		if (u->rx_count) {
			u->rbr = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_FIFO_LEN;
			u->rx_count--;
		}
		return u->rbr;
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		v = uart_iir_id(u);
		if (v == UART_IIR_THRI)
			u->thr_ipending = false;
		return v | ((u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = UART_LSR_THRE | UART_LSR_TEMT | u->lsr_err | (u->rx_count ? UART_LSR_DR : 0);
		u->lsr_err = 0;
		return v;
	case UART_MSR:
		if (u->mcr & UART_MCR_LOOP)	/* DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
			return (uint8_t)(((u->mcr & 0x01) << 5) | ((u->mcr & 0x02) << 3) |
					 ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4));
		return 0xb0;	/* DCD, DSR, CTS: a cable is attached */
	case UART_SCR:
		return u->scr;
	default:
		return 0xff;
	}
}
