/* The I/O bus: devices (struct vmm_device) register with their port ranges; the vCPU loop
 * dispatches KVM_EXIT_IO and KVM_EXIT_MMIO here, vmm_wait flushes them, vmm_destroy releases
 * them, and a snapshot saves and restores them through the same list.  Unknown accesses read
 * as all ones and are logged once each. */
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

static bool overlaps(const struct vmm_device *a, const struct vmm_device *b)
{
	for (unsigned i = 0; i < VMM_DEV_MAX_RANGES && a->ports[i].len; i++)
		for (unsigned k = 0; k < VMM_DEV_MAX_RANGES && b->ports[k].len; k++)
			if (a->ports[i].base < b->ports[k].base + b->ports[k].len &&
			    b->ports[k].base < a->ports[i].base + a->ports[i].len)
				return true;
	return false;
}

int vmm_device_register(struct vmm_iobus *bus, const struct vmm_device *d, void *ctx)
{
	if (bus->ndev == VMM_MAX_DEVICES)
		return -ENOSPC;
	for (unsigned i = 0; i < bus->ndev; i++)
		if (overlaps(d, bus->dev[i].d))
			return -EBUSY;
	bus->dev[bus->ndev].d = d;
	bus->dev[bus->ndev].ctx = ctx;
	bus->ndev++;
	return 0;
}

void vmm_iobus_flush(struct vmm_iobus *bus)
{
	for (unsigned i = 0; i < bus->ndev; i++)
		if (bus->dev[i].d->flush)
			bus->dev[i].d->flush(bus->dev[i].ctx);
}

void vmm_iobus_release(struct vmm_iobus *bus)
{
	while (bus->ndev) {
		bus->ndev--;
		if (bus->dev[bus->ndev].d->release)
			bus->dev[bus->ndev].d->release(bus->dev[bus->ndev].ctx);
	}
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
	uint16_t port = run->io.port;
	const struct vmm_device *d = NULL;
	void *ctx = NULL;

	for (unsigned k = 0; k < vm->bus.ndev && !d; k++)
		for (unsigned j = 0; j < VMM_DEV_MAX_RANGES; j++)
			if (port >= vm->bus.dev[k].d->ports[j].base &&
			    port - vm->bus.dev[k].d->ports[j].base < vm->bus.dev[k].d->ports[j].len) {
				d = vm->bus.dev[k].d;
				ctx = vm->bus.dev[k].ctx;
			}
	/* String I/O (rep outsb) arrives as count items back to back. */
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		if (d) {
			d->pio(ctx, vcpu, port, data, size, out);
			continue;
		}
		if (!out)
			memset(data, 0xff, size);
		log_port_once(vm, vcpu, port, out);
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
