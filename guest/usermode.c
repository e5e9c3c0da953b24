/*
 * usermode.c: user=N makes CPU N spend part of its workload at CPL3, so a
 * profiler sees a vCPU in user mode (kprof shows it as one `[user]` frame).
 *
 * After every kernel iteration of cpu_work(), CPU N iretq's to user_loop
 * (user_entry.S), which spins on the TSC for as long as that kernel iteration
 * took (so kernel and user time are about even wherever it runs: CPL0 is
 * emulated and CPL3 native on the PVM machines, both emulated under QEMU
 * TCG), and comes back with a `ud2` at user_exit
 * (see user_entry.S for why).  For that the CPU loads its own GDT (the boot
 * GDT plus user code/data and a TSS whose RSP0 is the stack interrupts and
 * exceptions from CPL3 run on), and sets the U/S bit on the identity-map
 * entries leading to the 2 MiB pages that hold user_loop and the user stack.  Only one CPU can be the
 * user CPU: the GDT, TSS and saved stack pointer are single.
 */
#include "kernel.h"

#define PTE_USER 0x4ULL
#define PTE_HUGE 0x80ULL
#define PTE_ADDR 0x000ffffffffff000ULL

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2;
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

uint32_t user_cpu = USER_NONE;

extern uint64_t pml4[512];
void user_enter(uint64_t deadline, uint64_t rip, uint64_t rsp);
void user_return(void) __attribute__((noreturn));
void user_loop(void);
void user_exit(void);

static struct tss64 tss __attribute__((aligned(16)));
/* 0x08 kernel code, 0x10 kernel data, 0x18 32-bit code (as boot.S), 0x20 user data,
 * 0x28 user code, 0x30 the TSS (two slots) */
static uint64_t gdt[8] __attribute__((aligned(16)));
static uint8_t kernel_stack[STACK_SIZE] __attribute__((aligned(16)));
static uint8_t user_stack[4096] __attribute__((aligned(4096)));
static uint64_t kernel_since;	/* TSC at the end of the last trip to user mode */

static uint64_t identity(const void *p)
{
	return (uint64_t)(uintptr_t)p - KERNEL_VMA;
}

/* Set U/S on every paging entry on the way to the identity address va (the map is static). */
static void make_user(uint64_t va)
{
	uint64_t *table = pml4;

	for (int shift = 39; shift >= 21; shift -= 9) {
		uint64_t *e = &table[(va >> shift) & 511];

		*e |= PTE_USER;
		if ((*e & PTE_HUGE) || shift == 21)
			break;
		table = (uint64_t *)(uintptr_t)(*e & PTE_ADDR);	/* identity mapped */
	}
}

void usermode_setup(uint32_t cpu)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;
	uint64_t cr3;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };

	tss.rsp0 = (uint64_t)(uintptr_t)&kernel_stack[STACK_SIZE];
	tss.iomap_base = sizeof(tss);	/* no I/O bitmap */
	gdt[1] = 0x00af9b000000ffffULL;
	gdt[2] = 0x00cf93000000ffffULL;
	gdt[3] = 0x00cf9b000000ffffULL;
	gdt[4] = 0x00cff3000000ffffULL;	/* user data, DPL 3 */
	gdt[5] = 0x00affb000000ffffULL;	/* user 64-bit code, DPL 3 */
	gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[7] = base >> 32;
	__asm__ volatile("lgdt %0" : : "m"(ptr));
	__asm__ volatile("ltr %w0" : : "r"(0x30));
	make_user(identity(user_loop));
	make_user(identity(user_stack));
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
	kprintf("cpu %u: user mode on: user_loop at 0x%llx after every iteration\n",
		cpu, (unsigned long long)identity(user_loop));
	kernel_since = rdtsc();
}

/*
 * Called by the exception handler for an exception from CPL3.  The invalid
 * opcode at user_exit on the user CPU is the way back: it does not return.
 * Anything else returns, and is reported as the fault it is.
 */
void usermode_trap(uint64_t vector, uint64_t rip)
{
	if (vector == 6 && rip == identity(user_exit) && this_cpu()->index == user_cpu)
		user_return();
}

/* One trip to CPL3 and back; noipa keeps it a frame of its own under cpu_work. */
__attribute__((noipa)) void usermode_run(void)
{
	uint64_t now = rdtsc();

	user_enter(now + (now - kernel_since), identity(user_loop),
		   identity(&user_stack[sizeof(user_stack)]));
	kernel_since = rdtsc();
}
