/* The I/O bus: devices register port ranges; the vCPU loop dispatches KVM_EXIT_IO and
 * KVM_EXIT_MMIO here.  Unknown accesses read as all ones and are logged once each. */
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

int vmm_iobus_register(struct vmm_iobus *bus, uint16_t base, uint16_t len,
		       const struct vmm_pio_ops *ops, void *dev)
{
	if (bus->n == VMM_PIO_MAX)
		return -ENOSPC;
	for (unsigned i = 0; i < bus->n; i++)
		if (base < bus->r[i].base + bus->r[i].len && bus->r[i].base < base + len)
			return -EBUSY;
	bus->r[bus->n++] = (struct vmm_pio_range){ .base = base, .len = len, .ops = ops, .dev = dev };
	return 0;
}

static uint64_t guest_rip(struct vmm_vcpu *vcpu)
{
	struct kvm_regs regs;

	/* Only reached on the first unknown access to a port, so the ioctl's cost is fine. */
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
		return 0;
	return regs.rip;
}

static void log_port_once(struct vmm *vm, struct vmm_vcpu *vcpu, uint16_t port, bool write)
{
	uint64_t bit = 1ull << (port % 64);

	if (atomic_fetch_or(&vm->bus.port_logged[port / 64], bit) & bit)
		return;
	kp_warn("cpu %d: unhandled port %s 0x%x at rip 0x%llx (logged once)", vcpu->id,
		write ? "write to" : "read from", port, (unsigned long long)guest_rip(vcpu));
}

void vmm_iobus_pio(struct vmm *vm, struct vmm_vcpu *vcpu, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned size = run->io.size;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	/* String I/O (rep outsb) arrives as count items back to back. */
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		const struct vmm_pio_range *r = NULL;
		uint16_t port = run->io.port;

		for (unsigned k = 0; k < vm->bus.n; k++)
			if (port >= vm->bus.r[k].base && port < vm->bus.r[k].base + vm->bus.r[k].len)
				r = &vm->bus.r[k];
		if (r && out && r->ops->out) {
			r->ops->out(r->dev, vcpu, port, data, size);
		} else if (r && !out && r->ops->in) {
			r->ops->in(r->dev, vcpu, port, data, size);
		} else {
			if (!out)
				memset(data, 0xff, size);
			if (!r)
				log_port_once(vm, vcpu, port, out);
		}
	}
}

void vmm_iobus_mmio(struct vmm *vm, struct vmm_vcpu *vcpu, struct kvm_run *run)
{
	uint64_t addr = run->mmio.phys_addr;
	bool seen = false, full = false;

	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	pthread_mutex_lock(&vm->bus.mmio_lock);
	for (unsigned i = 0; i < vm->bus.nmmio_logged; i++)
		if (vm->bus.mmio_logged[i] == addr)
			seen = true;
	if (!seen && vm->bus.nmmio_logged < KP_ARRAY_SIZE(vm->bus.mmio_logged))
		vm->bus.mmio_logged[vm->bus.nmmio_logged++] = addr;
	else if (!seen)
		full = true;
	pthread_mutex_unlock(&vm->bus.mmio_lock);
	if (!seen && !full)
		kp_warn("cpu %d: unhandled MMIO %s 0x%llx (%u bytes) at rip 0x%llx (logged once)",
			vcpu->id, run->mmio.is_write ? "write to" : "read from",
			(unsigned long long)addr, run->mmio.len,
			(unsigned long long)guest_rip(vcpu));
}
