/* A 16550/8250 UART at 0x3f8, transmit only: the transmitter is always empty, the receiver
 * never has data, and the registers a driver probes (scratch, line/modem control, loopback)
 * behave so that Linux's autoconfig finds a 16550A.  Output lines of the form
 * BOOT_TIME:<stage>:<ns> are also fed to the boot profile. */
#include "vmm/internal.h"

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

static void boot_time_line(struct vmm_serial *s)
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
	vmm_profile_stage(s->vm, line, ns);
	vmm_lab_stage(s->vm, line);	/* boot lab hook: --exit-at STAGE */
}

static void transmit(struct vmm_serial *s, uint8_t c)
{
	fputc(c, s->out);
	if (c == '\n') {
		fflush(s->out);
		s->line[s->linelen] = 0;
		if (s->linelen && s->line[s->linelen - 1] == '\r')
			s->line[s->linelen - 1] = 0;
		boot_time_line(s);
		s->linelen = 0;
	} else if (s->linelen < sizeof(s->line) - 1) {
		s->line[s->linelen++] = (char)c;
	}
}

static void serial_out(void *dev, struct vmm_vcpu *vcpu, uint16_t port, const uint8_t *data,
		       unsigned size)
{
	struct vmm_serial *s = dev;
	uint8_t v = data[0];

	(void)vcpu;
	(void)size;
	pthread_mutex_lock(&s->lock);
	switch (port - COM1) {
	case 0:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
		} else if (s->mcr & MCR_LOOP) {
			s->rbr = v;
			s->rx_ready = true;
		} else {
			transmit(s, v);
		}
		break;
	case 1:
		if (s->lcr & LCR_DLAB)
			s->dlm = v;
		else
			s->ier = v & 0x0f;
		break;
	case 2:
		s->fcr = v;
		break;
	case 3:
		s->lcr = v;
		break;
	case 4:
		s->mcr = v & 0x1f;
		break;
	case 7:
		s->scr = v;
		break;
	default:		/* LSR and MSR are read-only */
		break;
	}
	pthread_mutex_unlock(&s->lock);
}

static void serial_in(void *dev, struct vmm_vcpu *vcpu, uint16_t port, uint8_t *data,
		      unsigned size)
{
	struct vmm_serial *s = dev;
	uint8_t v = 0;

	(void)vcpu;
	pthread_mutex_lock(&s->lock);
	switch (port - COM1) {
	case 0:
		if (s->lcr & LCR_DLAB) {
			v = s->dll;
		} else {
			v = s->rbr;
			s->rx_ready = false;
		}
		break;
	case 1:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case 2:
		v = IIR_NONE | ((s->fcr & 1) ? IIR_FIFO : 0);
		break;
	case 3:
		v = s->lcr;
		break;
	case 4:
		v = s->mcr;
		break;
	case 5:
		v = LSR_THRE | LSR_TEMT | (s->rx_ready ? LSR_DR : 0);
		break;
	case 6:
		if (s->mcr & MCR_LOOP) {
			/* Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
			v = (uint8_t)(((s->mcr & 0x01) << 5) | ((s->mcr & 0x02) << 3) |
				      ((s->mcr & 0x04) << 4) | ((s->mcr & 0x08) << 4));
		} else {
			v = 0xb0;	/* DCD, DSR, CTS: a cable is attached */
		}
		break;
	case 7:
		v = s->scr;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	memset(data, 0, size);
	data[0] = v;
}

static const struct vmm_pio_ops serial_ops = { .in = serial_in, .out = serial_out };

int vmm_serial_init(struct vmm *vm, const char *path)
{
	struct vmm_serial *s = &vm->serial;

	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->out = stdout;
	if (path) {
		s->out = fopen(path, "w");
		if (!s->out) {
			int err = errno;
			kp_error("%s: %s", path, strerror(err));
			return -err;
		}
		s->own_out = true;
	}
	pthread_mutex_init(&s->lock, NULL);
	return vmm_iobus_register(&vm->bus, COM1, 8, &serial_ops, s);
}

void vmm_serial_flush(struct vmm_serial *s)
{
	if (!s->out)
		return;
	pthread_mutex_lock(&s->lock);
	fflush(s->out);
	pthread_mutex_unlock(&s->lock);
}

void vmm_serial_release(struct vmm_serial *s)
{
	if (!s->out)
		return;
	if (s->own_out)
		fclose(s->out);
	else
		fflush(s->out);
	s->out = NULL;
	pthread_mutex_destroy(&s->lock);
}
