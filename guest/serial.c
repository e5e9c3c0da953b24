/*
 * serial.c: polled 16550 output on COM1 and a small printf.
 *
 * Each line is formatted into a local buffer first and then sent under one
 * spinlock, so lines from different CPUs never interleave.  Nothing prints from
 * interrupt context, so the lock is never taken by an interrupt handler.
 */
#include "kernel.h"

#define COM1 0x3f8
#define LSR_THRE 0x20
#define LINE_MAX 256

static volatile uint32_t print_lock;

void serial_init(void)
{
	outb(COM1 + 1, 0x00);	/* no interrupts: transmit is polled */
	outb(COM1 + 3, 0x80);	/* DLAB: divisor 1 = 115200 baud */
	outb(COM1 + 0, 0x01);
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);	/* 8N1 */
	outb(COM1 + 2, 0xc7);	/* FIFOs on and cleared */
	outb(COM1 + 4, 0x03);	/* DTR, RTS */
}

static void serial_putc(char c)
{
	/* Bounded: a port that never reports an empty holding register must not hang us. */
	for (unsigned spin = 0; spin < 100000; spin++) {
		if (inb(COM1 + 5) & LSR_THRE)
			break;
		cpu_relax();
	}
	outb(COM1, (uint8_t)c);
}

struct out {
	char *buf;
	size_t len, cap;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len++] = c;
}

static void put_num(struct out *o, uint64_t v, unsigned base, int neg, unsigned width, char pad)
{
	char tmp[24];
	unsigned n = 0;

	do {
		unsigned d = (unsigned)(v % base);
		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width > n) {
		put(o, pad);
		width--;
	}
	while (n)
		put(o, tmp[--n]);
}

/* %[0][width][l|ll|z](d|u|x|s|c|p) and %% */
static size_t format(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = { buf, 0, cap };

	for (; *fmt; fmt++) {
		char pad = ' ';
		unsigned width = 0;
		int lng = 0;
		uint64_t u;
		int64_t s;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng = 1;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
			s = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(&o, s < 0 ? -(uint64_t)s : (uint64_t)s, 10, s < 0, width, pad);
			break;
		case 'u':
		case 'x':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			put_num(&o, u, *fmt == 'x' ? 16 : 10, 0, width, pad);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, 0, 16, '0');
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);

			if (!str)
				str = "(null)";
			while (*str)
				put(&o, *str++);
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case '%':
			put(&o, '%');
			break;
		default:
			put(&o, '?');
			if (!*fmt)
				fmt--;
			break;
		}
	}
	o.buf[o.len] = '\0';
	return o.len;
}

static void emit(const char *buf, size_t len, unsigned max_spin)
{
	unsigned spin = 0;

	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE)) {
		/* max_spin bounds the wait in the fault path, where the holder may be dead */
		if (max_spin && ++spin > max_spin)
			break;
		cpu_relax();
	}
	for (size_t i = 0; i < len; i++)
		serial_putc(buf[i]);
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

void serial_write(const char *buf, size_t len)
{
	emit(buf, len, 0);
}

void kprintf(const char *fmt, ...)
{
	char buf[LINE_MAX];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	len = format(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit(buf, len, 0);
}

void kprintf_panic(const char *fmt, ...)
{
	char buf[LINE_MAX];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	len = format(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit(buf, len, 10000000);
}
