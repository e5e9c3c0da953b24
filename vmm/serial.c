/* The serial port: the 16550A model of uart.c at 0x3f8 on the I/O bus, its interrupt on
 * IRQ 4 (KVM_IRQ_LINE into the in-kernel PIC and IOAPIC), its output to stdout or --serial
 * FILE, and the console's input: bytes from the host (vmm_console_write) wait in a bounded
 * queue and enter the receive FIFO as the guest empties it, while it holds DTR up.  Output lines of the form
 * BOOT_TIME:<stage>:<ns> are guest markers (vmm_marker).  Its snapshot record is struct
 * snap_serial. */
#include "vmm/internal.h"
#include "vmm/snapshot_format.h"
#include "vmm/uart.h"

#include "common/common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define COM1 0x3f8
#define COM1_IRQ 4
#define SNAP_SERIAL_THR_IPENDING 0x01	/* snap_serial.reserved[0] */

struct serial {
	pthread_mutex_t lock;
	struct vmm *vm;
	FILE *out;
	bool own_out;
	struct uart u;
	bool irq_level;			/* what KVM was last told */
	struct {			/* host input not yet in the FIFO (a ring) */
		uint8_t buf[VMM_CONSOLE_QUEUE];
		size_t head, count;
		bool want_room;		/* a writer was turned away: tell room_fd */
		int room_fd;		/* eventfd */
	} in;
	/* The output line in progress, for BOOT_TIME: markers and --exit-at text:. */
	uint32_t linelen;
	char line[256];
};

static void boot_time_line(struct serial *s)
{
	static const char tag[] = "BOOT_TIME:";
	char *line = s->line, *colon, *end;
	unsigned long long ns;

	if (strncmp(line, tag, sizeof(tag) - 1))
		return;
	line += sizeof(tag) - 1;
	colon = strrchr(line, ':');
	if (!colon || colon == line)
		return;
	*colon = 0;
	ns = strtoull(colon + 1, &end, 10);
	if (end == colon + 1)
		return;
	vmm_marker(s->vm, NULL, &(struct vmm_marker){ .kind = VMM_MARK_STAGE, .stage = line,
						     .guest_ns = ns });
}

static void transmit(struct serial *s, uint8_t c)
{
	fputc(c, s->out);
	if (c == '\n') {
		fflush(s->out);
		s->line[s->linelen] = 0;
		if (s->linelen && s->line[s->linelen - 1] == '\r')
			s->line[s->linelen - 1] = 0;
		/* Only when someone listens for lines: most runs must not pay a marker per line. */
		if (s->vm->cfg.end_text)
			vmm_marker(s->vm, NULL, &(struct vmm_marker){ .kind = VMM_MARK_LINE,
								     .stage = s->line });
		boot_time_line(s);
		s->linelen = 0;
	} else if (s->linelen < sizeof(s->line) - 1) {
		s->line[s->linelen++] = (char)c;
	}
}

/* After every change: the queue refills the FIFO, the interrupt line follows the model,
 * and a writer turned away hears that there is room again.  Under s->lock.
 * The host end sends only while the guest holds DTR up, as a terminal that honours the
 * modem lines: a driver clears the FIFO before it raises DTR (Linux's 8250 startup, the
 * bundled guest's serial_init), so what is typed or piped before then waits here instead
 * of being lost in that clear, and a closed tty (DTR down on hang-up) receives nothing. */
static void serial_update(struct serial *s)
{
	unsigned room = (s->u.mcr & UART_MCR_DTR) ? uart_rx_room(&s->u) : 0;
	bool level;

	while (room-- && s->in.count) {
		uart_rx_push(&s->u, s->in.buf[s->in.head]);
		s->in.head = (s->in.head + 1) % VMM_CONSOLE_QUEUE;
		s->in.count--;
	}
	if (s->in.want_room && s->in.count < VMM_CONSOLE_QUEUE) {
		uint64_t one = 1;

		s->in.want_room = false;
		if (write(s->in.room_fd, &one, sizeof(one)) < 0)
			kp_debug("serial room fd: %s", strerror(errno));
	}
	level = uart_irq_level(&s->u);
	if (level != s->irq_level) {
		struct kvm_irq_level irq = { .irq = COM1_IRQ, .level = level };

		/* Edge-triggered at the PIC and the IOAPIC (ISA IRQ 4 has no MADT override): the
		 * guest sees the rising edge; its handler reads IIR until nothing is pending. */
		if (ioctl(s->vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
			kp_debug("KVM_IRQ_LINE %d: %s", COM1_IRQ, strerror(errno));
		s->irq_level = level;
	}
}

static void serial_pio(void *ctx, struct vmm_vcpu *vcpu, uint16_t port, uint8_t *data,
		       unsigned size, bool out)
{
	struct serial *s = ctx;

	(void)vcpu;
	pthread_mutex_lock(&s->lock);
	if (out) {
		if (uart_write(&s->u, port - COM1, data[0]))
			transmit(s, data[0]);
	} else {
		memset(data, 0, size);
		data[0] = uart_read(&s->u, port - COM1);
	}
	serial_update(s);
	pthread_mutex_unlock(&s->lock);
}

size_t vmm_console_write(struct vmm *vm, const void *buf, size_t len)
{
	struct serial *s = vm->serial;
	const uint8_t *p = buf;
	size_t n = 0, k;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	/* Until both the queue and the FIFO are full; a writer turned away is told of room
	 * only once the guest has read (not by this call's own move into the FIFO). */
	do {
		k = KP_MIN(len - n, VMM_CONSOLE_QUEUE - s->in.count);
		for (size_t i = 0; i < k; i++)
			s->in.buf[(s->in.head + s->in.count + i) % VMM_CONSOLE_QUEUE] = p[n + i];
		s->in.count += k;
		n += k;
		serial_update(s);
	} while (k && n < len);
	if (n < len)
		s->in.want_room = true;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int vmm_console_room_fd(struct vmm *vm)
{
	return vm->serial ? vm->serial->in.room_fd : -1;
}

/* The record keeps the registers, the whole receive FIFO and a pending overrun, the THR-empty
 * interrupt and the output line in progress.  The host's queue (vmm_console_write) is not
 * the guest's: it stays with the run that read it. */
static int serial_save(void *ctx, struct kp_buf *out)
{
	struct serial *s = ctx;
	struct snap_serial r;
	int ret;

	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&s->lock);
	r.ier = s->u.ier;
	r.lcr = s->u.lcr;
	r.mcr = s->u.mcr;
	r.scr = s->u.scr;
	r.fcr = s->u.fcr;
	r.dll = s->u.dll;
	r.dlm = s->u.dlm;
	r.rx_ready = s->u.rx_count > 0;
	r.rbr = r.rx_ready ? s->u.rx[s->u.rx_head] : s->u.rbr;
	r.reserved[0] = s->u.thr_ipending ? SNAP_SERIAL_THR_IPENDING : 0;
	r.linelen = s->linelen;
	memcpy(r.line, s->line, sizeof(r.line));
	r.rx_count = (uint8_t)s->u.rx_count;
	r.lsr_err = s->u.lsr_err;
	for (unsigned i = 0; i < s->u.rx_count; i++)
		r.rx[i] = s->u.rx[(s->u.rx_head + i) % UART_FIFO_LEN];
	ret = kp_buf_append(out, &r, sizeof(r));
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* A record of the first size (SNAP_SERIAL_V1_SIZE) has the FIFO's next byte only. */
static int serial_restore(void *ctx, const void *data, size_t size)
{
	struct serial *s = ctx;
	struct snap_serial r;

	if (size != sizeof(r) && size != SNAP_SERIAL_V1_SIZE)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	memcpy(&r, data, size);
	if (size == SNAP_SERIAL_V1_SIZE && r.rx_ready) {
		r.rx_count = 1;
		r.rx[0] = r.rbr;
	}
	/* More than the FIFO holds (one byte with the FIFO off) is no state the model has. */
	if (r.rx_count > ((r.fcr & UART_FCR_ENABLE) ? UART_FIFO_LEN : 1))
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	uart_reset(&s->u);
	s->u.ier = r.ier & 0x0f;
	s->u.lcr = r.lcr;
	s->u.mcr = r.mcr & 0x1f;
	s->u.scr = r.scr;
	s->u.fcr = r.fcr & 0xc9;
	s->u.dll = r.dll;
	s->u.dlm = r.dlm;
	s->u.rbr = r.rbr;
	for (unsigned i = 0; i < r.rx_count; i++)
		s->u.rx[i] = r.rx[i];
	s->u.rx_count = r.rx_count;
	s->u.lsr_err = r.lsr_err & UART_LSR_OE;
	s->u.thr_ipending = r.reserved[0] & SNAP_SERIAL_THR_IPENDING;
	s->linelen = KP_MIN(r.linelen, sizeof(s->line) - 1);
	memcpy(s->line, r.line, sizeof(s->line));
	/* KVM's restored irqchip has the line low: raise it again if the model says so. */
	s->irq_level = false;
	serial_update(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void serial_flush(void *ctx)
{
	struct serial *s = ctx;

	pthread_mutex_lock(&s->lock);
	fflush(s->out);
	pthread_mutex_unlock(&s->lock);
}

static void serial_release(void *ctx)
{
	struct serial *s = ctx;

	s->vm->serial = NULL;
	if (s->own_out)
		fclose(s->out);
	else
		fflush(s->out);
	if (s->in.room_fd >= 0)
		close(s->in.room_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct vmm_device serial_device = {
	.name = "serial",
	.ports = { { COM1, 8 } },
	.pio = serial_pio,
	.snap_tag = SNAP_TAG_SERIAL,
	.save = serial_save,
	.restore = serial_restore,
	.flush = serial_flush,
	.release = serial_release,
};

int vmm_serial_init(struct vmm *vm, const char *path)
{
	struct serial *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->vm = vm;
	s->out = stdout;
	uart_reset(&s->u);
	s->in.room_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->in.room_fd < 0) {
		ret = -errno;
		kp_error("serial: eventfd: %s", strerror(-ret));
		free(s);
		return ret;
	}
	if (path) {
		s->out = fopen(path, "w");
		if (!s->out) {
			ret = -errno;
			kp_error("%s: %s", path, strerror(-ret));
			close(s->in.room_fd);
			free(s);
			return ret;
		}
		s->own_out = true;
	}
	pthread_mutex_init(&s->lock, NULL);
	vm->serial = s;
	ret = vmm_device_register(&vm->bus, &serial_device, s);
	if (ret)
		serial_release(s);
	return ret;
}
