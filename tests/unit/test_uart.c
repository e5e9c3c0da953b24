/* Unit tests for the serial port: the 16550A register model (vmm/uart.c) as Linux's 8250
 * driver and the bundled guest use it, and the device around it (vmm/serial.c) on the I/O
 * bus: the console's input queue with its back-pressure, and the device's snapshot record
 * saved and restored through the bus's device list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/internal.h"
#include "vmm/snapshot_format.h"
#include "vmm/uart.h"

/* ---- the register model ---- */

static void test_reset_state(void **state)
{
	struct uart u;

	(void)state;
	uart_reset(&u);
	assert_int_equal(uart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(uart_read(&u, UART_IIR_FCR), UART_IIR_NONE);
	assert_int_equal(uart_read(&u, UART_IER), 0);
	assert_int_equal(uart_read(&u, UART_MSR), 0xb0);	/* DCD, DSR, CTS */
	assert_false(uart_irq_level(&u));
	assert_int_equal(uart_rx_room(&u), 1);		/* 16450 mode: one holding register */
}

static void test_divisor_latch_and_scratch(void **state)
{
	struct uart u;

	(void)state;
	uart_reset(&u);
	uart_write(&u, UART_LCR, UART_LCR_DLAB | 0x03);
	assert_false(uart_write(&u, UART_RBR_THR, 0x01));	/* DLL, not a byte to send */
	uart_write(&u, UART_IER, 0x02);				/* DLM */
	assert_int_equal(uart_read(&u, UART_RBR_THR), 0x01);
	assert_int_equal(uart_read(&u, UART_IER), 0x02);
	uart_write(&u, UART_LCR, 0x03);
	assert_int_equal(uart_read(&u, UART_LCR), 0x03);
	assert_int_equal(uart_read(&u, UART_IER), 0);		/* IER itself was not written */
	assert_true(uart_write(&u, UART_RBR_THR, 'a'));
	uart_write(&u, UART_SCR, 0x5a);
	assert_int_equal(uart_read(&u, UART_SCR), 0x5a);
	uart_write(&u, UART_LSR, 0);				/* read-only */
	assert_int_equal(uart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	uart_write(&u, UART_IER, 0xff);
	assert_int_equal(uart_read(&u, UART_IER), 0x0f);	/* the upper bits do not exist */
}

/* The THR-empty interrupt: raised by enabling it with THR empty (the 8250 driver's
 * UART_BUG_THRE check disables and re-enables it), acknowledged by reading IIR, raised again
 * by each byte sent. */
static void test_thr_empty_interrupt(void **state)
{
	struct uart u;

	(void)state;
	uart_reset(&u);
	uart_write(&u, UART_MCR, UART_MCR_OUT2);
	uart_write(&u, UART_IER, UART_IER_THRI);
	assert_int_equal(uart_iir_id(&u), UART_IIR_THRI);
	assert_true(uart_irq_level(&u));
	assert_int_equal(uart_read(&u, UART_IIR_FCR), UART_IIR_THRI);
	assert_int_equal(uart_read(&u, UART_IIR_FCR), UART_IIR_NONE);	/* acknowledged */
	assert_false(uart_irq_level(&u));
	uart_write(&u, UART_IER, 0);
	uart_write(&u, UART_IER, UART_IER_THRI);
	assert_int_equal(uart_iir_id(&u), UART_IIR_THRI);			/* re-asserted */
	uart_read(&u, UART_IIR_FCR);
	assert_true(uart_write(&u, UART_RBR_THR, 'x'));
	assert_int_equal(uart_iir_id(&u), UART_IIR_THRI);			/* sent: empty again */
	/* Without OUT2 the interrupt is pending but not on the ISA line. */
	uart_write(&u, UART_MCR, 0);
	assert_false(uart_irq_level(&u));
}

static void test_receive_16450_mode(void **state)
{
	struct uart u;

	(void)state;
	uart_reset(&u);
	uart_write(&u, UART_MCR, UART_MCR_OUT2);
	uart_write(&u, UART_IER, UART_IER_RDI | UART_IER_RLSI);
	uart_rx_push(&u, 'a');
	assert_int_equal(uart_rx_room(&u), 0);
	assert_int_equal(uart_iir_id(&u), UART_IIR_RDI);
	assert_true(uart_irq_level(&u));
	/* A byte the full receiver cannot take is lost, and LSR says so once. */
	uart_rx_push(&u, 'b');
	assert_int_equal(uart_iir_id(&u), UART_IIR_RLSI);	/* line status comes first */
	assert_int_equal(uart_read(&u, UART_LSR),
			 UART_LSR_THRE | UART_LSR_TEMT | UART_LSR_DR | UART_LSR_OE);
	assert_int_equal(uart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT | UART_LSR_DR);
	assert_int_equal(uart_read(&u, UART_RBR_THR), 'a');
	assert_int_equal(uart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(uart_iir_id(&u), UART_IIR_NONE);
	assert_false(uart_irq_level(&u));
	assert_int_equal(uart_read(&u, UART_RBR_THR), 'a');	/* empty: the last byte again */
}

static void test_receive_fifo_trigger_levels(void **state)
{
	static const struct { uint8_t fcr; unsigned level; } levels[] = {
		{ 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 },
	};
	struct uart u;

	(void)state;
	for (size_t l = 0; l < KP_ARRAY_SIZE(levels); l++) {
		uart_reset(&u);
		uart_write(&u, UART_IIR_FCR, levels[l].fcr);
		uart_write(&u, UART_IER, UART_IER_RDI);
		assert_int_equal(uart_rx_room(&u), UART_FIFO_LEN);
		for (unsigned i = 1; i <= UART_FIFO_LEN; i++) {
			uart_rx_push(&u, (uint8_t)i);
			/* Below the trigger level: the character timeout (at once: no clock). */
			assert_int_equal(uart_iir_id(&u),
					 i >= levels[l].level ? UART_IIR_RDI : UART_IIR_TIMEOUT);
		}
		assert_int_equal(uart_rx_room(&u), 0);
		assert_int_equal(uart_read(&u, UART_IIR_FCR) & UART_IIR_FIFO, UART_IIR_FIFO);
		for (unsigned i = 1; i <= UART_FIFO_LEN; i++)
			assert_int_equal(uart_read(&u, UART_RBR_THR), i);	/* in order */
		assert_int_equal(uart_read(&u, UART_LSR) & UART_LSR_DR, 0);
	}
}

static void test_fifo_control_clears(void **state)
{
	struct uart u;

	(void)state;
	uart_reset(&u);
	uart_write(&u, UART_IIR_FCR, UART_FCR_ENABLE);
	uart_rx_push(&u, 'a');
	uart_rx_push(&u, 'b');
	uart_write(&u, UART_IIR_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	assert_int_equal(uart_read(&u, UART_LSR) & UART_LSR_DR, 0);
	uart_rx_push(&u, 'c');
	uart_write(&u, UART_IIR_FCR, 0);		/* FIFO off: cleared too */
	assert_int_equal(uart_read(&u, UART_LSR) & UART_LSR_DR, 0);
	assert_int_equal(uart_read(&u, UART_IIR_FCR) & UART_IIR_FIFO, 0);
	assert_int_equal(uart_rx_room(&u), 1);
}

/* Loopback (MCR bit 4), which the 8250 driver's probe uses: sent bytes come back to the
 * receiver, the modem outputs to the inputs, the wire and the interrupt pin are quiet. */
static void test_loopback(void **state)
{
	struct uart u;

	(void)state;
	uart_reset(&u);
	uart_write(&u, UART_MCR, UART_MCR_LOOP | 0x0f);
	assert_int_equal(uart_read(&u, UART_MSR) & 0xf0, 0xf0);
	uart_write(&u, UART_MCR, UART_MCR_LOOP | 0x0a);		/* RTS, OUT2 */
	assert_int_equal(uart_read(&u, UART_MSR) & 0xf0, 0x90);	/* CTS, DCD */
	assert_int_equal(uart_rx_room(&u), 0);			/* the wire is not heard */
	uart_write(&u, UART_IER, UART_IER_RDI);
	assert_false(uart_write(&u, UART_RBR_THR, 'L'));
	assert_int_equal(uart_iir_id(&u), UART_IIR_RDI);
	assert_false(uart_irq_level(&u));
	assert_int_equal(uart_read(&u, UART_RBR_THR), 'L');
}

/* ---- the device on the bus ---- */

static struct vmm *serial_vm(char *out_path)
{
	struct vmm *vm = calloc(1, sizeof(*vm));
	int fd;

	assert_non_null(vm);
	vm->vm_fd = -1;			/* KVM_IRQ_LINE fails quietly: no VM in a unit test */
	strcpy(out_path, "/tmp/kprof-test-uart.XXXXXX");
	fd = mkstemp(out_path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(vmm_serial_init(vm, out_path), 0);
	assert_int_equal(vm->bus.ndev, 1);
	return vm;
}

static void serial_vm_free(struct vmm *vm, const char *out_path)
{
	vmm_iobus_release(&vm->bus);
	unlink(out_path);
	free(vm);
}

static void out(struct vmm *vm, unsigned reg, uint8_t v)
{
	vm->bus.dev[0].d->pio(vm->bus.dev[0].ctx, NULL, (uint16_t)(0x3f8 + reg), &v, 1, true);
}

static uint8_t in(struct vmm *vm, unsigned reg)
{
	uint8_t v = 0;

	vm->bus.dev[0].d->pio(vm->bus.dev[0].ctx, NULL, (uint16_t)(0x3f8 + reg), &v, 1, false);
	return v;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/* Host input waits in the queue and enters the FIFO as the guest reads; a writer turned
 * away by the full queue is told through room_fd once the guest has made room. */
static void test_console_queue(void **state)
{
	static uint8_t data[VMM_CONSOLE_QUEUE + 100];
	char path[64];
	struct vmm *vm = serial_vm(path);
	int room = vmm_console_room_fd(vm);
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	out(vm, UART_IIR_FCR, UART_FCR_ENABLE);
	/* Nothing enters the FIFO before the guest raises DTR: the queue takes what it holds. */
	assert_int_equal(vmm_console_write(vm, data, sizeof(data)), VMM_CONSOLE_QUEUE);
	assert_false(in(vm, UART_LSR) & UART_LSR_DR);
	out(vm, UART_IIR_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);	/* a driver's start-up */
	assert_false(readable(room));
	out(vm, UART_MCR, UART_MCR_DTR);
	assert_true(in(vm, UART_LSR) & UART_LSR_DR);
	assert_true(readable(room));		/* the FIFO took 16 from the queue */
	assert_int_equal(read(room, &v, sizeof(v)), sizeof(v));
	/* The FIFO and the queue full: the rest is turned away. */
	assert_int_equal(vmm_console_write(vm, data + VMM_CONSOLE_QUEUE, 100), 16);
	assert_false(readable(room));
	for (size_t i = 0; i < VMM_CONSOLE_QUEUE + 16; i++) {
		assert_true(in(vm, UART_LSR) & UART_LSR_DR);
		assert_int_equal(in(vm, UART_RBR_THR), data[i]);
		if (i == 0)
			assert_true(readable(room));
	}
	assert_int_equal(read(room, &v, sizeof(v)), sizeof(v));
	assert_false(in(vm, UART_LSR) & UART_LSR_DR);
	assert_int_equal(vmm_console_write(vm, data + VMM_CONSOLE_QUEUE + 16, 84), 84);
	for (size_t i = VMM_CONSOLE_QUEUE + 16; i < sizeof(data); i++)
		assert_int_equal(in(vm, UART_RBR_THR), data[i]);
	assert_false(in(vm, UART_LSR) & UART_LSR_DR);
	serial_vm_free(vm, path);
}

static void save(struct vmm *vm, struct kp_buf *b)
{
	kp_buf_init(b);
	assert_int_equal(vm->bus.dev[0].d->snap_tag, SNAP_TAG_SERIAL);
	assert_int_equal(vm->bus.dev[0].d->save(vm->bus.dev[0].ctx, b), 0);
	assert_int_equal(b->len, sizeof(struct snap_serial));
}

static int restore(struct vmm *vm, const void *data, size_t size)
{
	return vm->bus.dev[0].d->restore(vm->bus.dev[0].ctx, data, size);
}

/* Everything the guest can read back, with the FIFO drained last. */
static void assert_same_guest_state(struct vmm *a, struct vmm *b)
{
	static const unsigned regs[] = { UART_IER, UART_LCR, UART_MCR, UART_SCR, UART_MSR };

	for (size_t i = 0; i < KP_ARRAY_SIZE(regs); i++)
		assert_int_equal(in(a, regs[i]), in(b, regs[i]));
	out(a, UART_LCR, UART_LCR_DLAB);
	out(b, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(in(a, UART_RBR_THR), in(b, UART_RBR_THR));
	assert_int_equal(in(a, UART_IER), in(b, UART_IER));
	out(a, UART_LCR, 0x03);
	out(b, UART_LCR, 0x03);
	assert_int_equal(in(a, UART_IIR_FCR), in(b, UART_IIR_FCR));
	for (int i = 0; i < UART_FIFO_LEN + 1; i++) {
		uint8_t lsr = in(a, UART_LSR);

		assert_int_equal(lsr, in(b, UART_LSR));
		assert_int_equal(in(a, UART_RBR_THR), in(b, UART_RBR_THR));
		if (!(lsr & UART_LSR_DR))
			break;
	}
}

static void test_snapshot_record(void **state)
{
	char pa[64], pb[64];
	struct vmm *a = serial_vm(pa), *b = serial_vm(pb);
	struct kp_buf rec, again;
	struct snap_serial *r;

	(void)state;
	/* A state worth keeping: divisor, line control, FIFO at trigger level 8 holding 10
	 * bytes, the THR-empty interrupt pending, a partial output line. */
	out(a, UART_LCR, UART_LCR_DLAB);
	out(a, UART_RBR_THR, 0x0c);
	out(a, UART_IER, 0x00);
	out(a, UART_LCR, 0x03);
	out(a, UART_IIR_FCR, 0x81);
	out(a, UART_MCR, 0x0b);
	out(a, UART_SCR, 0x42);
	out(a, UART_IER, UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI);
	for (const char *p = "BOOT_TI"; *p; p++)
		out(a, UART_RBR_THR, (uint8_t)*p);
	assert_int_equal(vmm_console_write(a, "0123456789", 10), 10);
	save(a, &rec);
	r = (struct snap_serial *)rec.data;
	assert_int_equal(r->rx_count, 10);
	assert_int_equal(r->linelen, 7);

	/* Restored and saved again: the same record, byte for byte. */
	assert_int_equal(restore(b, rec.data, rec.len), 0);
	save(b, &again);
	assert_memory_equal(again.data, rec.data, rec.len);
	kp_buf_release(&again);
	assert_same_guest_state(a, b);
	kp_buf_release(&rec);

	/* A full FIFO with an overrun pending (loopback: the 17th byte is lost). */
	out(a, UART_MCR, UART_MCR_LOOP | 0x0b);
	for (int i = 0; i <= UART_FIFO_LEN; i++)
		out(a, UART_RBR_THR, (uint8_t)('A' + i));
	out(a, UART_MCR, 0x0b);
	save(a, &rec);
	r = (struct snap_serial *)rec.data;
	assert_int_equal(r->rx_count, UART_FIFO_LEN);
	assert_int_equal(r->lsr_err, UART_LSR_OE);
	assert_int_equal(restore(b, rec.data, rec.len), 0);
	assert_int_equal(in(b, UART_IIR_FCR), UART_IIR_RLSI | UART_IIR_FIFO);
	assert_int_equal(in(a, UART_IIR_FCR), UART_IIR_RLSI | UART_IIR_FIFO);
	assert_same_guest_state(a, b);
	kp_buf_release(&rec);

	/* A record of the first size keeps the FIFO's next byte only. */
	assert_int_equal(vmm_console_write(a, "pq", 2), 2);
	save(a, &rec);
	assert_int_equal(restore(b, rec.data, SNAP_SERIAL_V1_SIZE), 0);
	assert_int_equal(in(b, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	assert_int_equal(in(b, UART_RBR_THR), 'p');
	assert_int_equal(in(b, UART_LSR) & UART_LSR_DR, 0);

	/* Sizes and FIFO counts a saver never writes are refused. */
	r = (struct snap_serial *)rec.data;
	assert_int_equal(restore(b, rec.data, rec.len - 1), -EINVAL);
	r->rx_count = UART_FIFO_LEN + 1;
	assert_int_equal(restore(b, rec.data, rec.len), -EINVAL);
	r->rx_count = 2;
	r->fcr = 0;			/* the FIFO off: one byte at most */
	assert_int_equal(restore(b, rec.data, rec.len), -EINVAL);
	kp_buf_release(&rec);

	serial_vm_free(a, pa);
	serial_vm_free(b, pb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_divisor_latch_and_scratch),
		cmocka_unit_test(test_thr_empty_interrupt),
		cmocka_unit_test(test_receive_16450_mode),
		cmocka_unit_test(test_receive_fifo_trigger_levels),
		cmocka_unit_test(test_fifo_control_clears),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_console_queue),
		cmocka_unit_test(test_snapshot_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
