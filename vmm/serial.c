/* A 16550/8250 UART at 0x3f8, transmit only: the transmitter is always empty, the receiver
 * never has data, and the registers a driver probes (scratch, line/modem control, loopback)
 * behave so that Linux's autoconfig finds a 16550A.  Output lines of the form
 * BOOT_TIME:<stage>:<ns> are guest markers (vmm_marker).  Its snapshot record is struct
 * snap_serial: the registers and the output line in progress. */
#include "vmm/internal.h"
#include "vmm/snapshot_format.h"

#include "common/common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define COM1 0x3f8
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_NONE 0x01
#define IIR_FIFO 0xc0

/* The registers and the output line in progress (for BOOT_TIME: markers) are kept as the
 * snapshot record lays them out, so saving and restoring them is a copy. */
struct serial {
	pthread_mutex_t lock;
	struct vmm *vm;
	FILE *out;
	bool own_out;
	struct snap_serial r;
};

static void boot_time_line(struct serial *s)
{
	static const char tag[] = "BOOT_TIME:";
	char *line = s->r.line, *colon, *end;
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
		s->r.line[s->r.linelen] = 0;
		if (s->r.linelen && s->r.line[s->r.linelen - 1] == '\r')
			s->r.line[s->r.linelen - 1] = 0;
		/* Only when someone listens for lines: most runs must not pay a marker per line. */
		if (s->vm->cfg.end_text)
			vmm_marker(s->vm, NULL, &(struct vmm_marker){ .kind = VMM_MARK_LINE,
								     .stage = s->r.line });
		boot_time_line(s);
		s->r.linelen = 0;
	} else if (s->r.linelen < sizeof(s->r.line) - 1) {
		s->r.line[s->r.linelen++] = (char)c;
	}
}

static void serial_out(struct serial *s, uint16_t port, uint8_t v)
{
	switch (port - COM1) {
	case 0:
		if (s->r.lcr & LCR_DLAB) {
			s->r.dll = v;
		} else if (s->r.mcr & MCR_LOOP) {
			s->r.rbr = v;
			s->r.rx_ready = true;
		} else {
			transmit(s, v);
		}
		break;
	case 1:
		if (s->r.lcr & LCR_DLAB)
			s->r.dlm = v;
		else
			s->r.ier = v & 0x0f;
		break;
	case 2:
		s->r.fcr = v;
		break;
	case 3:
		s->r.lcr = v;
		break;
	case 4:
		s->r.mcr = v & 0x1f;
		break;
	case 7:
		s->r.scr = v;
		break;
	default:		/* LSR and MSR are read-only */
		break;
	}
}

static uint8_t serial_in(struct serial *s, uint16_t port)
{
	uint8_t v = 0;

	switch (port - COM1) {
	case 0:
		if (s->r.lcr & LCR_DLAB) {
			v = s->r.dll;
		} else {
			v = s->r.rbr;
			s->r.rx_ready = false;
		}
		break;
	case 1:
		v = (s->r.lcr & LCR_DLAB) ? s->r.dlm : s->r.ier;
		break;
	case 2:
		v = IIR_NONE | ((s->r.fcr & 1) ? IIR_FIFO : 0);
		break;
	case 3:
		v = s->r.lcr;
		break;
	case 4:
		v = s->r.mcr;
		break;
	case 5:
		v = LSR_THRE | LSR_TEMT | (s->r.rx_ready ? LSR_DR : 0);
		break;
	case 6:
		if (s->r.mcr & MCR_LOOP) {
			/* Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
			v = (uint8_t)(((s->r.mcr & 0x01) << 5) | ((s->r.mcr & 0x02) << 3) |
				      ((s->r.mcr & 0x04) << 4) | ((s->r.mcr & 0x08) << 4));
		} else {
			v = 0xb0;	/* DCD, DSR, CTS: a cable is attached */
		}
		break;
	case 7:
		v = s->r.scr;
		break;
	}
	return v;
}

static void serial_pio(void *ctx, struct vmm_vcpu *vcpu, uint16_t port, uint8_t *data,
		       unsigned size, bool out)
{
	struct serial *s = ctx;

	(void)vcpu;
	pthread_mutex_lock(&s->lock);
	if (out) {
		serial_out(s, port, data[0]);
	} else {
		memset(data, 0, size);
		data[0] = serial_in(s, port);
	}
	pthread_mutex_unlock(&s->lock);
}

static int serial_save(void *ctx, struct kp_buf *out)
{
	struct serial *s = ctx;
	int ret;

	pthread_mutex_lock(&s->lock);
	ret = kp_buf_append(out, &s->r, sizeof(s->r));
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static int serial_restore(void *ctx, const void *data, size_t size)
{
	struct serial *s = ctx;

	if (size != sizeof(s->r))
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	memcpy(&s->r, data, sizeof(s->r));
	s->r.linelen = KP_MIN(s->r.linelen, sizeof(s->r.line) - 1);
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

	if (s->own_out)
		fclose(s->out);
	else
		fflush(s->out);
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
	if (path) {
		s->out = fopen(path, "w");
		if (!s->out) {
			ret = -errno;
			kp_error("%s: %s", path, strerror(-ret));
			free(s);
			return ret;
		}
		s->own_out = true;
	}
	pthread_mutex_init(&s->lock, NULL);
	ret = vmm_device_register(&vm->bus, &serial_device, s);
	if (ret)
		serial_release(s);
	return ret;
}
