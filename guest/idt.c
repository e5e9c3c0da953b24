/*
 * idt.c: the interrupt descriptor table and the fatal-exception path.
 *
 * A CPU exception is never silent: it prints the vector, error code and RIP
 * on the serial port and leaves through isa-debug-exit with EXIT_FAULT.
 */
#include "kernel.h"

#define TIMER_VECTOR 0x40
#define WAKEUP_VECTOR 0x41
#define SPURIOUS_VECTOR 0xff

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t zero;
} __attribute__((packed));

/* Built by exception_common in entry.S. */
struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

extern const uint64_t exception_stubs[32];
void timer_entry(void);
void wakeup_entry(void);
void serial_entry(void);
void spurious_entry(void);
void exception_handler(struct exc_frame *f) __attribute__((noreturn));

static struct idt_gate idt[256] __attribute__((aligned(16)));

static const char *const exception_names[32] = {
	"divide error", "debug", "nmi", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault", "coprocessor overrun",
	"invalid tss", "segment not present", "stack fault", "general protection",
	"page fault", "reserved", "x87 fp", "alignment check", "machine check",
	"simd fp", "virtualization", "control protection", "reserved", "reserved",
	"reserved", "reserved", "reserved", "reserved", "hypervisor injection",
	"vmm communication", "security", "reserved",
};

static void set_gate(unsigned vec, uint64_t handler)
{
	struct idt_gate *g = &idt[vec];

	g->offset_lo = (uint16_t)handler;
	g->selector = 0x08;
	g->ist = 0;
	g->type = 0x8e;		/* present, DPL 0, 64-bit interrupt gate */
	g->offset_mid = (uint16_t)(handler >> 16);
	g->offset_hi = (uint32_t)(handler >> 32);
	g->zero = 0;
}

void idt_init(void)
{
	for (unsigned v = 0; v < 32; v++)
		set_gate(v, exception_stubs[v]);
	set_gate(TIMER_VECTOR, (uint64_t)(uintptr_t)timer_entry);
	set_gate(WAKEUP_VECTOR, (uint64_t)(uintptr_t)wakeup_entry);
	set_gate(SERIAL_VECTOR, (uint64_t)(uintptr_t)serial_entry);
	set_gate(SPURIOUS_VECTOR, (uint64_t)(uintptr_t)spurious_entry);
	/* Other vectors stay not-present: a stray one raises #GP, which reports it. */
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(ptr));
}

void guest_exit(uint8_t status)
{
	outb(0xf4, status);
	/* No isa-debug-exit device: stop here rather than run on. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

void exception_handler(struct exc_frame *f)
{
	uint64_t cr2;
	uint32_t cpu = 0;
	struct percpu *p;

	if (f->cs & 3)
		usermode_trap(f->vector, f->rip);	/* user=N's way back from CPL3 */
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	post_code(POST_FAULT);
	/* GS base may not be set yet if the fault is early in boot */
	if (rdmsr(0xc0000101) != 0) {
		p = this_cpu();
		cpu = p->index;
	}
	kprintf_panic("kprof-guest: cpu %u: exception %llu (%s) error 0x%llx rip 0x%llx "
		      "rsp 0x%llx rflags 0x%llx cr2 0x%llx\n",
		      cpu, (unsigned long long)f->vector,
		      f->vector < 32 ? exception_names[f->vector] : "?",
		      (unsigned long long)f->error, (unsigned long long)f->rip,
		      (unsigned long long)f->rsp, (unsigned long long)f->rflags,
		      (unsigned long long)cr2);
	kprintf_panic("kprof-guest: rax %llx rbx %llx rcx %llx rdx %llx rsi %llx rdi %llx rbp %llx\n",
		      (unsigned long long)f->rax, (unsigned long long)f->rbx,
		      (unsigned long long)f->rcx, (unsigned long long)f->rdx,
		      (unsigned long long)f->rsi, (unsigned long long)f->rdi,
		      (unsigned long long)f->rbp);
	guest_exit(EXIT_FAULT);
}
