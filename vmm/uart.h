/* The 16550A register model behind the serial device (serial.c): the registers Linux's 8250
 * driver uses, the receive FIFO, the interrupt identification and the interrupt output.
 * No I/O, no locking, no clock: the device supplies bytes and the lock (unit-tested). */
#ifndef KPROF_VMM_UART_H
#define KPROF_VMM_UART_H

#include <stdbool.h>
#include <stdint.h>

#define UART_FIFO_LEN 16

/* Register offsets from the base port (DLAB selects the divisor latch at 0 and 1). */
enum uart_reg {
	UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3, UART_MCR = 4,
	UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define UART_IER_RDI 0x01	/* received data available */
#define UART_IER_THRI 0x02	/* transmit holding register empty */
#define UART_IER_RLSI 0x04	/* receiver line status */
#define UART_IIR_NONE 0x01
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_TIMEOUT 0x0c	/* FIFO mode: data below the trigger level */
#define UART_IIR_FIFO 0xc0
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_LCR_DLAB 0x80
#define UART_MCR_DTR 0x01
#define UART_MCR_OUT2 0x08	/* on a PC, gates the UART's interrupt onto the ISA line */
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

struct uart {
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	uint8_t rbr;			/* the last byte read (what RBR reads when empty) */
	uint8_t lsr_err;		/* OE, until LSR is read */
	bool thr_ipending;		/* THR became empty and nobody acknowledged it yet */
	uint8_t rx[UART_FIFO_LEN];	/* receive FIFO (one slot in 16450 mode), a ring */
	unsigned rx_head, rx_count;
};

/* Power-on state: everything 0, transmitter empty, receiver empty. */
void uart_reset(struct uart *u);
/* The guest writes v to register reg (0-7).  True when v is a byte for the wire (THR
 * outside loopback); the transmitter sends it at once, so THR is empty again on return. */
bool uart_write(struct uart *u, unsigned reg, uint8_t v);
/* The guest reads register reg (0-7); reads have side effects (RBR pops, IIR acknowledges a
 * THR-empty interrupt, LSR clears the overrun bit). */
uint8_t uart_read(struct uart *u, unsigned reg);
/* How many bytes from the wire the receiver takes now: the FIFO's free slots (one in 16450
 * mode), 0 in loopback mode (the receiver hears only the transmitter then). */
unsigned uart_rx_room(const struct uart *u);
/* A byte from the wire (the caller checked uart_rx_room). */
void uart_rx_push(struct uart *u, uint8_t c);
/* What IIR would read now (without its side effect), without the FIFO bits. */
uint8_t uart_iir_id(const struct uart *u);
/* The interrupt line as a PC wires it: an interrupt pending and OUT2 set (not in loopback,
 * where OUT2 is looped back to DCD and the pin is off). */
bool uart_irq_level(const struct uart *u);

#endif
