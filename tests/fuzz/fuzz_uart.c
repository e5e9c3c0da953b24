/* libFuzzer: any sequence of guest register reads and writes and bytes from the wire -> the
 * 16550A model (the guest is the untrusted side of it).  After every step the FIFO holds no
 * more than it can, the receiver's room is in range, IIR reports a defined interrupt and the
 * interrupt pin is high only with OUT2 set outside loopback. */
#include "vmm/uart.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uart u;

	uart_reset(&u);
	for (size_t i = 0; i + 1 < size; i += 2) {
		uint8_t op = data[i], v = data[i + 1];
		unsigned cap = (u.fcr & UART_FCR_ENABLE) ? UART_FIFO_LEN : 1, id;

		if (op & 0x10) {
			if (uart_rx_room(&u))
				uart_rx_push(&u, v);
		} else if (op & 0x08) {
			uart_write(&u, op & 7, v);
		} else {
			uart_read(&u, op & 7);
		}
		cap = (u.fcr & UART_FCR_ENABLE) ? UART_FIFO_LEN : 1;
		id = uart_iir_id(&u);
		if (u.rx_count > cap || uart_rx_room(&u) > cap || u.rx_head >= UART_FIFO_LEN ||
		    (id != UART_IIR_NONE && id != UART_IIR_RLSI && id != UART_IIR_RDI &&
		     id != UART_IIR_TIMEOUT && id != UART_IIR_THRI) ||
		    (uart_irq_level(&u) && (u.mcr & (UART_MCR_OUT2 | UART_MCR_LOOP)) != UART_MCR_OUT2))
			abort();
	}
	return 0;
}
