/*
 * time.c: the TSC as the kernel's clock.
 *
 * The frequency comes from the hypervisor timing leaf 0x40000010 (EAX = TSC kHz)
 * when the hypervisor offers it (kprof's monitor does), otherwise from 10 ms of
 * PIT channel 2.  BOOT_TIME values are nanoseconds since pvh_start32 read the TSC.
 */
#include "kernel.h"

#define PIT_HZ 1193182u
#define PIT_LATCH (PIT_HZ / 100)	/* 10 ms */
#define FALLBACK_KHZ 1000000u

static uint64_t khz = FALLBACK_KHZ;

/* Hypervisor leaf 0x40000010: EAX = TSC kHz, EBX = LAPIC bus kHz. 0 when absent. */
static uint64_t hv_timing_leaf(int want_bus)
{
	uint32_t r[4];

	cpuid(1, r);
	if (!(r[2] & (1u << 31)))	/* no hypervisor */
		return 0;
	cpuid(0x40000000, r);
	if (r[0] < 0x40000010 || r[0] > 0x400000ff)
		return 0;
	cpuid(0x40000010, r);
	return want_bus ? r[1] : r[0];
}

/* The LAPIC timer's input clock from the same leaf, 0 when absent. */
uint64_t hv_lapic_bus_khz(void)
{
	return hv_timing_leaf(1);
}

static uint64_t pit_calibrate(void)
{
	uint64_t t0, t1;
	unsigned spin;

	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));	/* gate on, speaker off */
	outb(0x43, 0xb0);	/* channel 2, lobyte/hibyte, mode 0 */
	outb(0x42, PIT_LATCH & 0xff);
	outb(0x42, PIT_LATCH >> 8);
	t0 = rdtsc();
	for (spin = 0; spin < 2000000; spin++) {
		if (inb(0x61) & 0x20)	/* OUT2 high: the count ran out */
			break;
	}
	t1 = rdtsc();
	if (spin == 2000000)
		return 0;
	return (t1 - t0) * PIT_HZ / PIT_LATCH / 1000;
}

void time_init(void)
{
	uint64_t f = hv_timing_leaf(0);
	const char *src = "cpuid 0x40000010";

	if (f < 1000 || f > 100000000) {
		f = pit_calibrate();
		src = "pit";
	}
	if (f < 1000 || f > 100000000) {
		f = FALLBACK_KHZ;
		src = "fallback guess (pit calibration failed)";
	}
	khz = f;
	kprintf("kprof-guest: tsc %llu kHz (%s)\n", (unsigned long long)khz, src);
}

uint64_t tsc_khz(void)
{
	return khz;
}

uint64_t tsc_to_ns(uint64_t ticks)
{
	/* split so nothing overflows 64 bits for any realistic uptime */
	return ticks / khz * 1000000 + ticks % khz * 1000000 / khz;
}

void delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + us * khz / 1000;

	while (rdtsc() < end)
		cpu_relax();
}

void boot_time(const char *stage, uint64_t tsc)
{
	kprintf("BOOT_TIME:%s:%llu\n", stage, (unsigned long long)tsc_to_ns(tsc - boot_tsc0));
}
