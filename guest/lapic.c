/*
 * lapic.c: the local APIC in xAPIC (MMIO) mode: enable, EOI, INIT/SIPI, and
 * the periodic timer.  The MMIO page at 0xfee00000 is identity mapped
 * uncached by boot.S.
 */
#include "kernel.h"

#define LAPIC_BASE 0xfee00000ULL
#define MSR_APIC_BASE 0x1b
#define APIC_BASE_ENABLE (1ULL << 11)

#define REG_ID 0x020
#define REG_EOI 0x0b0
#define REG_SVR 0x0f0
#define REG_ESR 0x280
#define REG_ICR_LO 0x300
#define REG_ICR_HI 0x310
#define REG_LVT_TIMER 0x320
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR 0x390
#define REG_TIMER_DIV 0x3e0

#define ICR_INIT 0x00004500u	/* INIT, level assert */
#define ICR_STARTUP 0x00004600u	/* start-up IPI, vector in bits 0-7 */
#define ICR_FIXED_OTHERS 0x000c4000u	/* fixed, assert, all excluding self */
#define ICR_BUSY (1u << 12)
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define TIMER_DIV_16 0x3
#define TIMER_VECTOR 0x40
#define TIMER_PERIOD_MS 4
#define WAKEUP_VECTOR 0x41

static uint32_t timer_ticks_per_ms;

static inline uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

static inline void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg) = v;
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
}

void lapic_enable(void)
{
	lapic_write(REG_SVR, 0x100 | 0xff);	/* software enable, spurious vector 0xff */
}

uint32_t lapic_id(void)
{
	return lapic_read(REG_ID) >> 24;
}

void lapic_eoi(void)
{
	LEAF_FRAME();

	lapic_write(REG_EOI, 0);
}

static int icr_wait_idle(void)
{
	for (unsigned spin = 0; spin < 1000000; spin++) {
		if (!(lapic_read(REG_ICR_LO) & ICR_BUSY))
			return 0;
		cpu_relax();
	}
	return -1;
}

/* INIT, 10 ms, SIPI, 200 us, SIPI: the MP specification's universal start-up. */
int lapic_start_ap(uint32_t apic_id)
{
	lapic_write(REG_ESR, 0);
	lapic_write(REG_ICR_HI, apic_id << 24);
	lapic_write(REG_ICR_LO, ICR_INIT);
	if (icr_wait_idle())
		return -1;
	delay_us(10000);
	for (int i = 0; i < 2; i++) {
		lapic_write(REG_ICR_HI, apic_id << 24);
		lapic_write(REG_ICR_LO, ICR_STARTUP | (TRAMPOLINE_PADDR >> 12));
		if (icr_wait_idle())
			return -1;
		delay_us(200);
	}
	return 0;
}

/* Wake every other CPU out of hlt. */
void lapic_wake_others(void)
{
	lapic_write(REG_ICR_HI, 0);
	lapic_write(REG_ICR_LO, ICR_FIXED_OTHERS | WAKEUP_VECTOR);
	icr_wait_idle();
}

/*
 * The hypervisor timing leaf gives the LAPIC bus rate when present; otherwise
 * count the timer down for 10 ms of TSC time.
 */
void lapic_timer_calibrate(void)
{
	uint64_t bus_khz = hv_lapic_bus_khz();
	const char *src = "cpuid 0x40000010";

	if (bus_khz >= 1000 && bus_khz < 100000000) {
		timer_ticks_per_ms = (uint32_t)(bus_khz / 16);
	} else {
		lapic_write(REG_TIMER_DIV, TIMER_DIV_16);
		lapic_write(REG_LVT_TIMER, LVT_MASKED | TIMER_VECTOR);
		lapic_write(REG_TIMER_INIT, 0xffffffffu);
		delay_us(10000);
		timer_ticks_per_ms = (0xffffffffu - lapic_read(REG_TIMER_CUR)) / 10;
		lapic_write(REG_TIMER_INIT, 0);
		src = "tsc";
	}
	if (timer_ticks_per_ms == 0)
		timer_ticks_per_ms = 1;
	kprintf("lapic: timer %u ticks/ms (%s), period %u ms, vector 0x%x\n",
		timer_ticks_per_ms, src, TIMER_PERIOD_MS, TIMER_VECTOR);
}

void lapic_timer_start(void)
{
	lapic_write(REG_TIMER_DIV, TIMER_DIV_16);
	lapic_write(REG_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR);
	lapic_write(REG_TIMER_INIT, timer_ticks_per_ms * TIMER_PERIOD_MS);
}
