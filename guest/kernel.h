/*
 * kprof-guest: the one header of the freestanding SMP test kernel.
 *
 * The kernel is linked in the higher half (KERNEL_VMA + physical) and keeps an
 * identity map of the low 4 GiB, so a physical address below 4 GiB (ACPI tables,
 * hvm_start_info, the LAPIC) is also a valid pointer.
 */
#ifndef KPROF_GUEST_KERNEL_H
#define KPROF_GUEST_KERNEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/pvh.h"	/* the boot information the monitor passes */

#define KERNEL_VMA 0xffffffff80000000ULL
#define MAX_CPUS 16
#define STACK_SIZE 16384
#define TRAMPOLINE_PADDR 0x8000u	/* SIPI vector 0x08 */

/* Port-0x80 boot phase codes (see README.md). */
enum post_code {
	POST_PVH_ENTRY = 0x20,	/* written by boot.S */
	POST_LONG_MODE = 0x21,	/* written by boot.S */
	POST_C_ENTRY = 0x40,
	POST_IDT = 0x41,
	POST_ACPI = 0x42,
	POST_APS_UP = 0x43,
	POST_TIMER = 0x44,
	POST_FAULT = 0x5f,
	POST_WORK_START = 0x60,
	POST_WORK_DONE = 0x61,
};

/* Status bytes written to the isa-debug-exit port 0xf4. */
enum exit_status {
	EXIT_OK = 0,
	EXIT_AP_MISSING = 2,	/* some CPU from the MADT never checked in */
	EXIT_NO_IOAPIC = 4,	/* console=echo and the MADT lists no I/O APIC */
	EXIT_FAULT = 0x7f,	/* a CPU exception */
};

/* Per-CPU state; GS base points at the CPU's own entry. */
struct percpu {
	struct percpu *self;	/* at offset 0: read with %gs:0 */
	uint32_t index;
	uint32_t apic_id;
	volatile uint64_t ticks;	/* LAPIC timer interrupts taken */
	volatile uint32_t online;
	volatile uint32_t started;
	volatile uint32_t finished;
	uint64_t checksum;
};

struct machine {
	uint32_t ncpus;			/* CPUs listed in the MADT (at least 1) */
	uint32_t apic_ids[MAX_CPUS];	/* index 0 is the BSP */
	uint32_t ioapic_addr;		/* the I/O APIC for GSIs 0-23, 0 when the MADT has none */
};

/* Globals that debuggers and kprof tests read or write (kept out of registers). */
extern volatile uint64_t work_done[MAX_CPUS];
extern volatile uint64_t kprof_marker;
extern struct percpu percpu[MAX_CPUS];

/* boot.S */
extern uint64_t boot_tsc0;
extern uint8_t trampoline_start[], trampoline_end[];
extern volatile uint64_t ap_boot_stack;
extern volatile uint32_t ap_boot_cpu;

/*
 * gcc 12 drops the frame pointer of a leaf function that never touches the
 * stack, even with -mno-omit-leaf-frame-pointer.  One volatile stack slot keeps
 * the frame, so a frame-pointer walk from inside the leaf does not skip its
 * caller.  Used in the leaves of the documented chains.
 */
#define LEAF_FRAME() volatile uint8_t leaf_frame_slot = 0; (void)leaf_frame_slot

/* port I/O and CPU helpers */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

static inline void post_code(uint8_t code)
{
	outb(0x80, code);
}

/* lib.c */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int str_prefix(const char *s, const char *prefix);
int strcmp_eq(const char *a, const char *b);
int parse_u64(const char *s, size_t len, uint64_t *out);

/* serial.c */
void serial_init(void);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void serial_write(const char *buf, size_t len);	/* polled, under the print lock */
void kprintf_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* time.c */
void time_init(void);
uint64_t tsc_khz(void);
uint64_t tsc_to_ns(uint64_t ticks);
void delay_us(uint64_t us);
void boot_time(const char *stage, uint64_t tsc);
uint64_t hv_lapic_bus_khz(void);

/* idt.c */
void idt_init(void);
void idt_load(void);
void guest_exit(uint8_t status) __attribute__((noreturn));

/* acpi.c */
void acpi_find_cpus(const struct hvm_start_info *si, struct machine *m);

/* lapic.c */
void lapic_init(void);
void lapic_enable(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
void lapic_timer_calibrate(void);
void lapic_timer_start(void);
int lapic_start_ap(uint32_t apic_id);
void lapic_wake_others(void);

/* console.c: console=echo|poll, lines read from the UART and printed back */
#define SERIAL_VECTOR 0x42
int console_mode_parse(const char *mode);
void console_run(const struct machine *m) __attribute__((noreturn));
void serial_interrupt(void);	/* from the vector 0x42 stub in entry.S */

/* smp.c */
uint32_t smp_boot_aps(const struct machine *m);
void percpu_setup(uint32_t cpu, uint32_t apic_id);

/* timer.c: called from the vector 0x40 stub in entry.S */
void timer_interrupt(void);

/* workload.c */
uint64_t cpu_work(uint32_t cpu, uint64_t iterations);
const char *chain_name(uint32_t cpu);
uint64_t work_leaf(uint64_t x);
uint64_t hash_workload(uint64_t iter);
uint64_t hash_block(const uint64_t *words, size_t n, uint64_t seed);
uint64_t hash_mix(uint64_t h, uint64_t w);
uint64_t sort_workload(uint64_t iter);
void quicksort(uint64_t *a, long lo, long hi);
long partition(uint64_t *a, long lo, long hi);
uint64_t matrix_workload(uint64_t iter);
uint64_t matrix_step(uint64_t seed);
uint64_t dot_row(const uint64_t *row, const uint64_t *vec, size_t n);
uint64_t crc_workload(uint64_t iter);
uint64_t crc_block(const uint64_t *words, size_t n);
uint64_t crc_word(uint64_t crc, uint64_t w);

/* usermode.c */
#define USER_NONE 0xffffffffu
extern uint32_t user_cpu;
void usermode_setup(uint32_t cpu);
void usermode_run(void);
void usermode_trap(uint64_t vector, uint64_t rip);

/* main.c */
void kernel_main(uint32_t start_info_paddr) __attribute__((noreturn));
void ap_main(uint32_t cpu) __attribute__((noreturn));

#endif
