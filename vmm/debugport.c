/* Two tiny devices guests use to talk to the monitor:
 * - port 0x80, the POST/debug port: every byte written is a timestamped boot-profile event
 *   (cloud-hypervisor's convention: the value's range names the boot stage);
 * - port 0xf4, isa-debug-exit: any write ends the VM, and kprof exits with the value written
 *   (its low byte).  QEMU's device exits with (value << 1) | 1 instead, so a guest that writes 0
 *   exits 0 here and 1 under QEMU. */
#include "vmm/internal.h"

#include <string.h>

#define DEBUG_PORT 0x80
#define DEBUG_EXIT_PORT 0xf4

static void port80_out(void *dev, struct vmm_vcpu *vcpu, uint16_t port, const uint8_t *data,
		       unsigned size)
{
	(void)port;
	(void)size;
	vmm_profile_port80(dev, data[0]);
	vmm_lab_port80(dev, vcpu, data[0]);	/* boot lab hook: --exit-at, --snapshot-on */
}

static void port80_in(void *dev, struct vmm_vcpu *vcpu, uint16_t port, uint8_t *data,
		      unsigned size)
{
	(void)dev;
	(void)vcpu;
	(void)port;
	memset(data, 0, size);
}

static void exit_out(void *dev, struct vmm_vcpu *vcpu, uint16_t port, const uint8_t *data,
		     unsigned size)
{
	uint32_t v = 0;

	(void)port;
	memcpy(&v, data, size > 4 ? 4 : size);
	vmm_end_run(dev, vcpu, VMM_END_EXIT, (int)(v & 0xff), v,
		    "guest wrote 0x%x to the debug-exit port", v);
}

static const struct vmm_pio_ops port80_ops = { .in = port80_in, .out = port80_out };
static const struct vmm_pio_ops exit_ops = { .in = port80_in, .out = exit_out };

int vmm_debugport_init(struct vmm *vm)
{
	int ret = vmm_iobus_register(&vm->bus, DEBUG_PORT, 1, &port80_ops, vm);

	/* QEMU's isa-debug-exit is usually configured with iosize=4 at 0xf4. */
	if (!ret)
		ret = vmm_iobus_register(&vm->bus, DEBUG_EXIT_PORT, 4, &exit_ops, vm);
	return ret;
}
