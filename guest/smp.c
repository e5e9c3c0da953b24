/*
 * smp.c: per-CPU state and application-processor start-up.
 *
 * APs are started one at a time: the BSP publishes the next AP's index and
 * stack top (ap_boot_cpu, ap_boot_stack), sends INIT/SIPI/SIPI, and waits for
 * that AP to mark itself online before starting the next one.
 */
#include "kernel.h"

#define MSR_GS_BASE 0xc0000101
#define AP_TIMEOUT_US 1000000

extern uint8_t cpu_stacks[MAX_CPUS][STACK_SIZE];

struct percpu percpu[MAX_CPUS];

void percpu_setup(uint32_t cpu, uint32_t apic_id)
{
	struct percpu *p = &percpu[cpu];

	p->self = p;
	p->index = cpu;
	p->apic_id = apic_id;
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)p);
}

static int wait_online(uint32_t cpu)
{
	uint64_t end = rdtsc() + AP_TIMEOUT_US * tsc_khz() / 1000;

	while (!percpu[cpu].online) {
		if (rdtsc() > end)
			return -1;
		cpu_relax();
	}
	return 0;
}

uint32_t smp_boot_aps(const struct machine *m)
{
	uint32_t online = 1;
	size_t len = (size_t)(trampoline_end - trampoline_start);

	if (m->ncpus < 2)
		return online;
	memcpy((void *)(uintptr_t)TRAMPOLINE_PADDR, trampoline_start, len);
	for (uint32_t cpu = 1; cpu < m->ncpus; cpu++) {
		uint32_t id = m->apic_ids[cpu];

		if (id > 0xfe) {
			kprintf("smp: cpu %u: apic id %u needs x2apic, not started\n", cpu, id);
			continue;
		}
		ap_boot_cpu = cpu;
		ap_boot_stack = (uint64_t)(uintptr_t)&cpu_stacks[cpu][STACK_SIZE];
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (lapic_start_ap(id)) {
			kprintf("smp: cpu %u (apic %u): the ICR stayed busy\n", cpu, id);
			break;
		}
		if (wait_online(cpu)) {
			/*
			 * Stop here: a late AP would still read ap_boot_cpu and
			 * ap_boot_stack, which must not change under it.
			 */
			kprintf("smp: cpu %u (apic %u) did not start within %u ms\n", cpu, id,
				AP_TIMEOUT_US / 1000);
			break;
		}
		online++;
	}
	return online;
}
