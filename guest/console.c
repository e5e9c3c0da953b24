/*
 * console.c: console=echo|poll, the serial-input mode that `kprof run --console` is tested
 * with.  The BSP reads lines from COM1 and prints each back as "echo: LINE"; the line "quit"
 * prints a summary (lines, bytes and their FNV-1a 64 hash, interrupts taken) and exits 0.
 * A line ends at CR, LF or CR LF; lines longer than LINE_MAX bytes are cut into pieces.
 *
 * echo: interrupt-driven, as Linux's 8250 driver works.  IRQ 4 is routed through the I/O
 *   APIC to vector 0x42 on the BSP (edge, active high), MCR OUT2 gates it onto the line, IER
 *   enables received-data interrupts; the CPU waits in hlt.  The handler reads IIR until it
 *   says nothing is pending: received data (at the FIFO trigger level or a timeout) is read
 *   while LSR's data-ready bit is set, into a ring the main loop reads; THR-empty interrupts
 *   send the echo from a transmit ring, 16 bytes (the FIFO's depth) each, THRI enabled only
 *   while the ring has bytes.  When the receive ring is full the handler turns received-data
 *   interrupts off until the main loop has room, so the rest waits in the monitor.
 * poll: no interrupts: LSR's data-ready bit is polled, the echo sent polled.
 */
#include "kernel.h"

#define COM1 0x3f8
#define REG_IER 1
#define REG_IIR 2
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6
#define IER_RDI 0x01
#define IER_THRI 0x02
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define MCR_DTR_RTS_OUT2 0x0b
#define COM1_GSI 4
#define FIFO_DEPTH 16

#define LINE_MAX 4096
#define RX_RING 256		/* powers of two */
#define TX_RING 8192

enum { CONSOLE_OFF, CONSOLE_ECHO, CONSOLE_POLL };

static int mode;
static char line[LINE_MAX + 1];
static size_t line_len;
static int last_cr;
static uint64_t nlines, nbytes, hash = 0xcbf29ce484222325ull;

/* Rings between the handler and the main loop: one writer per index. */
static volatile uint8_t rx_ring[RX_RING], tx_ring[TX_RING];
static volatile uint32_t rx_head, rx_tail, tx_head, tx_tail;
static volatile uint8_t ier;		/* IER as last written; changed with interrupts off */
static volatile uint64_t rx_irqs, tx_irqs;

int console_mode_parse(const char *m)
{
	if (strcmp_eq(m, "echo"))
		mode = CONSOLE_ECHO;
	else if (strcmp_eq(m, "poll"))
		mode = CONSOLE_POLL;
	else
		return -1;
	return mode;
}

static void set_ier(uint8_t v)
{
	ier = v;
	outb(COM1 + REG_IER, v);
}

void serial_interrupt(void)
{
	for (;;) {
		uint8_t iir = inb(COM1 + REG_IIR) & 0x0f;

		if (iir & 1)
			break;
		if (iir == 0x04 || iir == 0x0c) {	/* data at the trigger level, or timeout */
			rx_irqs++;
			while (inb(COM1 + REG_LSR) & LSR_DR) {
				if (rx_head - rx_tail == RX_RING) {
					set_ier(ier & ~IER_RDI);	/* full: the rest waits */
					break;
				}
				rx_ring[rx_head % RX_RING] = inb(COM1);
				rx_head++;
			}
		} else if (iir == 0x02) {		/* THR empty */
			tx_irqs++;
			for (int n = 0; n < FIFO_DEPTH && tx_tail != tx_head; n++) {
				outb(COM1, tx_ring[tx_tail % TX_RING]);
				tx_tail++;
			}
			if (tx_tail == tx_head)
				set_ier(ier & ~IER_THRI);
		} else if (iir == 0x06) {
			(void)inb(COM1 + REG_LSR);
		} else {
			(void)inb(COM1 + REG_MSR);
		}
	}
	lapic_eoi();
}

/* Wait for an interrupt; cond is checked with interrupts off, and sti;hlt cannot miss one. */
#define WAIT_WHILE(cond)                                           \
	do {                                                       \
		__asm__ volatile("cli" ::: "memory");              \
		while (cond) {                                     \
			__asm__ volatile("sti; hlt; cli" ::: "memory"); \
		}                                                  \
		__asm__ volatile("sti" ::: "memory");              \
	} while (0)

static void send(const char *buf, size_t len)
{
	if (mode == CONSOLE_POLL) {
		serial_write(buf, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		WAIT_WHILE(tx_head - tx_tail == TX_RING);
		tx_ring[tx_head % TX_RING] = (uint8_t)buf[i];
		tx_head++;
	}
	__asm__ volatile("cli" ::: "memory");
	if (!(ier & IER_THRI))
		set_ier(ier | IER_THRI);	/* THR is empty: the interrupt comes at once */
	__asm__ volatile("sti" ::: "memory");
}

/* A whole line: the echo, or the end. */
static int end_line(void)
{
	line[line_len] = 0;
	if (line_len == 4 && strcmp_eq(line, "quit"))	/* not "quit" NUL ... */
		return 1;
	nlines++;
	send("echo: ", 6);
	send(line, line_len);
	send("\n", 1);
	line_len = 0;
	return 0;
}

static int got_byte(uint8_t c)
{
	nbytes++;
	hash = (hash ^ c) * 0x100000001b3ull;
	if (c == '\n' && last_cr) {
		last_cr = 0;
		return 0;
	}
	last_cr = c == '\r';
	if (c == '\r' || c == '\n')
		return end_line();
	line[line_len++] = (char)c;
	return line_len == LINE_MAX ? end_line() : 0;
}

static void route_irq(const struct machine *m)
{
	volatile uint32_t *sel = (volatile uint32_t *)(uintptr_t)m->ioapic_addr;
	volatile uint32_t *win = (volatile uint32_t *)(uintptr_t)(m->ioapic_addr + 0x10);

	/* Redirection entry 4: fixed delivery, physical destination the BSP, edge, active high. */
	*sel = 0x10 + 2 * COM1_GSI + 1;
	*win = m->apic_ids[0] << 24;
	*sel = 0x10 + 2 * COM1_GSI;
	*win = SERIAL_VECTOR;
}

void console_run(const struct machine *m)
{
	int done = 0;

	if (mode == CONSOLE_ECHO) {
		if (!m->ioapic_addr) {
			kprintf("kprof-guest: console: no I/O APIC in the madt\n");
			guest_exit(EXIT_NO_IOAPIC);
		}
		route_irq(m);
		outb(COM1 + REG_MCR, MCR_DTR_RTS_OUT2);
		kprintf("kprof-guest: console echo ready (irq %u, vector 0x%x, ioapic 0x%x)\n",
			COM1_GSI, SERIAL_VECTOR, m->ioapic_addr);
		set_ier(IER_RDI);
		__asm__ volatile("sti");
		while (!done) {
			WAIT_WHILE(rx_head == rx_tail);
			while (!done && rx_head != rx_tail) {
				done = got_byte(rx_ring[rx_tail % RX_RING]);
				rx_tail++;
			}
			__asm__ volatile("cli" ::: "memory");
			if (!(ier & IER_RDI))
				set_ier(ier | IER_RDI);
			__asm__ volatile("sti" ::: "memory");
		}
		WAIT_WHILE(tx_head != tx_tail);
		set_ier(0);
	} else {
		kprintf("kprof-guest: console poll ready\n");
		while (!done) {
			while (!(inb(COM1 + REG_LSR) & LSR_DR))
				cpu_relax();
			done = got_byte(inb(COM1));
		}
	}
	kprintf("kprof-guest: console: %llu lines, %llu bytes, fnv1a64 0x%016llx, "
		"%llu rx interrupts, %llu tx interrupts\n", (unsigned long long)nlines,
		(unsigned long long)nbytes, (unsigned long long)hash,
		(unsigned long long)rx_irqs, (unsigned long long)tx_irqs);
	guest_exit(EXIT_OK);
}
