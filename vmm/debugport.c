/* Two tiny devices guests use to talk to the monitor:
 * - port 0x80, the POST/debug port: every byte written is a guest marker (vmm_marker; by
 *   cloud-hypervisor's convention the value's range names the boot stage);
 * - port 0xf4, isa-debug-exit: any write ends the VM, and kprof exits with the value written
 *   (its low byte).  QEMU's device exits with (value << 1) | 1 instead, so a guest that writes 0
 *   exits 0 here and 1 under QEMU. */
#include "vmm/internal.h"

#include <string.h>

#define DEBUG_PORT 0x80
#define DEBUG_EXIT_PORT 0xf4

static void port80_pio(void *ctx, struct vmm_vcpu *vcpu, uint16_t port, uint8_t *data,
		      unsigned size, bool out)
{
	(void)port;
	if (out)
		vmm_marker(ctx, vcpu, &(struct vmm_marker){ .kind = VMM_MARK_PORT80,
							    .code = data[0] });
	else
		memset(data, 0, size);
}

static void exit_pio(void *ctx, struct vmm_vcpu *vcpu, uint16_t port, uint8_t *data,
		     unsigned size, bool out)
{
	uint32_t v = 0;

	(void)port;
	if (!out) {
		memset(data, 0, size);
		return;
	}
	memcpy(&v, data, size > 4 ? 4 : size);
	vmm_end_run(ctx, vcpu, VMM_END_EXIT, (int)(v & 0xff), v,
		    "guest wrote 0x%x to the debug-exit port", v);
}

static const struct vmm_device port80_device = {
	.name = "port80",
	.ports = { { DEBUG_PORT, 1 } },
	.pio = port80_pio,
};

/* QEMU's isa-debug-exit is usually configured with iosize=4 at 0xf4. */
static const struct vmm_device exit_device = {
	.name = "debug-exit",
	.ports = { { DEBUG_EXIT_PORT, 4 } },
	.pio = exit_pio,
};

int vmm_debugport_init(struct vmm *vm)
{
	int ret = vmm_device_register(&vm->bus, &port80_device, vm);

	return ret ? ret : vmm_device_register(&vm->bus, &exit_device, vm);
}
