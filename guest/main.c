/*
 * main.c: boot sequence of the BSP and the APs, the start/finish rendezvous,
 * the command line, and the exit through isa-debug-exit.
 */
#include "kernel.h"

#define DEFAULT_ITERATIONS 100
#define CMDLINE_MAX 256
#define READY_TIMEOUT_US 1000000

/* Debuggers write this with `set var` and read it back; printed at the end. */
volatile uint64_t kprof_marker = 0x6b70726f66ULL;	/* "kprof" */

static volatile uint32_t go;
static uint64_t iterations = DEFAULT_ITERATIONS;
static int console;		/* console=echo|poll: console_run instead of the workloads */
static struct machine machine;

/*
 * fault=exception|triple|int3|fwait: fail on purpose, for tests of fault reporting.
 * "exception" runs ud2 (the guest reports it and exits with EXIT_FAULT);
 * "triple" loads an empty IDT first, so the CPU shuts down (triple fault);
 * "int3" runs an int3, reported as #BP with the RIP after it (a trap), then EXIT_FAULT;
 * "fwait" runs an fwait with no x87 exception pending, which does nothing: the boot goes on.
 * "mxcsr" enables SSE state (CR4.OSFXSR), flips MXCSR's rounding bits with ldmxcsr and reads
 * them back with stmxcsr, then loads a reserved bit, which must raise #GP (EXIT_FAULT).
 * The last three are instructions a host's emulator may fail on (vmm/emulation.c).
 */
extern const char int3_site[];

static void inject_fault(const char *kind)
{
	if (strcmp_eq(kind, "fwait")) {
		__asm__ volatile("fwait");
		kprintf("kprof-guest: fwait done\n");
		return;
	}
	if (strcmp_eq(kind, "mxcsr")) {
		uint32_t before, set, after, bad = 0x10000;
		uint64_t cr4;

		__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
		__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | (1ull << 9)));
		__asm__ volatile("stmxcsr %0" : "=m"(before));
		set = before ^ 0x6000;
		__asm__ volatile("ldmxcsr %0" : : "m"(set));
		__asm__ volatile("stmxcsr %0" : "=m"(after));
		kprintf("kprof-guest: mxcsr 0x%x, loaded 0x%x, read back 0x%x\n", before, set, after);
		__asm__ volatile("ldmxcsr %0" : : "m"(bad));
		return;
	}
	if (strcmp_eq(kind, "int3")) {
		kprintf("kprof-guest: injecting fault 'int3' at 0x%llx\n",
			(unsigned long long)(uintptr_t)int3_site);
		__asm__ volatile(".globl int3_site\nint3_site: int3");
		return;
	}
	if (!strcmp_eq(kind, "exception") && !strcmp_eq(kind, "triple")) {
		kprintf("kprof-guest: ignoring unknown fault kind '%s'\n", kind);
		return;
	}
	kprintf("kprof-guest: injecting fault '%s'\n", kind);
	if (strcmp_eq(kind, "triple")) {
		struct {
			uint16_t limit;
			uint64_t base;
		} __attribute__((packed)) empty = { 0, 0 };

		__asm__ volatile("lidt %0" : : "m"(empty));
	}
	__asm__ volatile("ud2");
}

/*
 * flood=serial|port80: hostile-guest tests of the monitor.  Writes the UART's transmit register
 * (no status polling, one long line without a newline) or port 0x80 as fast as the CPU can,
 * forever: the monitor must stay responsive and bounded in memory, and the run ends when the
 * monitor is stopped.
 */
__attribute__((noipa)) static void flood(const char *kind)
{
	uint16_t port;

	if (strcmp_eq(kind, "serial")) {
		port = 0x3f8;
	} else if (strcmp_eq(kind, "port80")) {
		port = 0x80;
	} else {
		kprintf("kprof-guest: ignoring unknown flood kind '%s'\n", kind);
		return;
	}
	kprintf("kprof-guest: flooding port 0x%x until stopped\n", port);
	for (uint8_t b = 0;; b++)
		outb(port, port == 0x3f8 ? (uint8_t)('a' + b % 26) : b);
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Options are cut in place (a NUL after each), so the copy is static. */
static void parse_cmdline(const struct hvm_start_info *si)
{
	static char line[CMDLINE_MAX];
	const char *fault = NULL, *flood_kind = NULL;
	const char *src;
	size_t n = 0;

	if (!si || !si->cmdline_paddr || si->cmdline_paddr >= 0x100000000ULL)
		return;
	src = (const char *)(uintptr_t)si->cmdline_paddr;
	for (; n + 1 < sizeof(line) && src[n]; n++)
		line[n] = src[n];
	line[n] = '\0';
	kprintf("kprof-guest: command line '%s'\n", line);

	for (size_t i = 0; i < n;) {
		size_t start, len;

		while (i < n && is_blank(line[i]))
			i++;
		start = i;
		while (i < n && !is_blank(line[i]))
			i++;
		len = i - start;
		if (len == 0)
			continue;
		line[i] = '\0';
		if (str_prefix(&line[start], "iterations=")) {
			uint64_t v;
			size_t k = strlen("iterations=");

			if (parse_u64(&line[start + k], len - k, &v) == 0)
				iterations = v;
			else
				kprintf("kprof-guest: ignoring bad value in '%s'\n", &line[start]);
		} else if (str_prefix(&line[start], "user=")) {
			uint64_t v;
			size_t k = strlen("user=");

			if (parse_u64(&line[start + k], len - k, &v) == 0 && v < MAX_CPUS)
				user_cpu = (uint32_t)v;
			else
				kprintf("kprof-guest: ignoring bad value in '%s'\n", &line[start]);
		} else if (str_prefix(&line[start], "fault=")) {
			fault = &line[start + strlen("fault=")];
		} else if (str_prefix(&line[start], "console=")) {
			if (console_mode_parse(&line[start + strlen("console=")]) < 0)
				kprintf("kprof-guest: ignoring bad value in '%s'\n", &line[start]);
			else
				console = 1;
		} else if (str_prefix(&line[start], "flood=")) {
			flood_kind = &line[start + strlen("flood=")];
		} else {
			kprintf("kprof-guest: ignoring unknown option '%s'\n", &line[start]);
		}
		i++;
	}
	if (fault)
		inject_fault(fault);
	if (flood_kind)
		flood(flood_kind);
}

/* Module 0 (the loader's initrd): its place, size and FNV-1a 64 hash, which tests compare
 * with the file's.  Physical memory below 4 GiB is identity-mapped. */
static void print_module(const struct hvm_modlist_entry *m)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)m->paddr;
	uint64_t h = 0xcbf29ce484222325ull;

	if (m->paddr >= 0x100000000ull || m->paddr + m->size > 0x100000000ull) {
		kprintf("kprof-guest: module 0 at 0x%llx is above 4 GiB\n",
			(unsigned long long)m->paddr);
		return;
	}
	for (uint64_t i = 0; i < m->size; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	kprintf("kprof-guest: initrd at 0x%llx, %llu bytes, fnv1a64 0x%016llx\n",
		(unsigned long long)m->paddr, (unsigned long long)m->size, (unsigned long long)h);
}

static const struct hvm_start_info *start_info(uint32_t paddr)
{
	const struct hvm_start_info *si = (const struct hvm_start_info *)(uintptr_t)paddr;

	if (!si || si->magic != HVM_START_MAGIC) {
		kprintf("kprof-guest: no hvm_start_info at 0x%x (bad magic), no command line\n",
			paddr);
		return NULL;
	}
	if (si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
		const struct hvm_memmap_entry *e =
			(const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;
		uint64_t ram = 0;

		for (uint32_t i = 0; i < si->memmap_entries; i++)
			if (e[i].type == 1)
				ram += e[i].size;
		kprintf("kprof-guest: start info v%u, %llu MiB ram in %u memory map entries\n",
			si->version, (unsigned long long)(ram >> 20), si->memmap_entries);
	} else {
		kprintf("kprof-guest: start info v%u\n", si->version);
	}
	if (si->nr_modules && si->modlist_paddr)
		print_module((const struct hvm_modlist_entry *)(uintptr_t)si->modlist_paddr);
	return si;
}

/* noipa: keeps this frame between ap_main/kernel_main and cpu_work in every stack */
__attribute__((noipa)) static void run_workload(uint32_t cpu)
{
	struct percpu *p = &percpu[cpu];

	if (cpu == user_cpu)
		usermode_setup(cpu);
	p->started = 1;
	kprintf("cpu %u: chain %s start, %llu iterations%s\n", cpu, chain_name(cpu),
		(unsigned long long)iterations, iterations ? "" : " (until stopped)");
	p->checksum = cpu_work(cpu, iterations);
	kprintf("cpu %u: chain %s done, checksum 0x%016llx\n", cpu, chain_name(cpu),
		(unsigned long long)p->checksum);
	__atomic_store_n(&p->finished, 1, __ATOMIC_RELEASE);
}

static int all_set(uint32_t n, size_t field)
{
	for (uint32_t i = 0; i < n; i++) {
		const volatile uint32_t *f =
			(const volatile uint32_t *)((const char *)&percpu[i] + field);
		if (!*f)
			return 0;
	}
	return 1;
}

void ap_main(uint32_t cpu)
{
	percpu_setup(cpu, lapic_id());
	idt_load();
	lapic_enable();
	lapic_timer_start();
	__atomic_store_n(&percpu[cpu].online, 1, __ATOMIC_RELEASE);
	kprintf("cpu %u: online, apic %u\n", cpu, percpu[cpu].apic_id);
	__asm__ volatile("sti");
	/* halt, not spin, while later APs start: waiting must not cost instructions */
	while (!go)
		__asm__ volatile("sti; hlt");
	run_workload(cpu);
	for (;;)
		__asm__ volatile("hlt");
}

void kernel_main(uint32_t start_info_paddr)
{
	uint64_t t_entry = rdtsc();
	const struct hvm_start_info *si;
	uint32_t online;
	uint64_t end, t_idt;

	post_code(POST_C_ENTRY);
	percpu_setup(0, 0);
	serial_init();
	idt_init();
	idt_load();
	t_idt = rdtsc();
	post_code(POST_IDT);
	/* The legacy 8259 would deliver the PIT on vector 8: mask it, the LAPIC is used. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	kprintf("kprof-guest: freestanding x86-64 SMP test kernel, PVH boot\n");
	time_init();
	/* BOOT_TIME needs the TSC rate, so the first stages print only now */
	boot_time("init_entry", t_entry);
	boot_time("idt_ready", t_idt);
	boot_time("clock_ready", rdtsc());

	{
		uint32_t r1[4], r7[4] = { 0, 0, 0, 0 };

		/* What --cpu left of the features (tests check the template reached the guest). */
		cpuid(1, r1);
		cpuid(0, r7);
		if (r7[0] >= 7)
			cpuid(7, r7);	/* subleaf 0 */
		kprintf("kprof-guest: cpuid 1 ecx 0x%08x edx 0x%08x, 7 ebx 0x%08x\n", r1[2], r1[3],
			r7[1]);
	}
	si = start_info(start_info_paddr);
	parse_cmdline(si);
	lapic_init();
	acpi_find_cpus(si, &machine);
	percpu[0].apic_id = machine.apic_ids[0];
	post_code(POST_ACPI);
	kprintf("kprof-guest: %u cpus in the madt\n", machine.ncpus);
	boot_time("acpi_done", rdtsc());

	lapic_enable();
	if (console)
		console_run(&machine);
	lapic_timer_calibrate();
	percpu[0].online = 1;
	online = smp_boot_aps(&machine);
	post_code(POST_APS_UP);
	kprintf("kprof-guest: %u of %u cpus online\n", online, machine.ncpus);
	boot_time("smp_done", rdtsc());

	lapic_timer_start();
	__asm__ volatile("sti");
	post_code(POST_TIMER);

	go = 1;
	if (online > 1)
		lapic_wake_others();
	post_code(POST_WORK_START);
	boot_time("work_start", rdtsc());
	/* "ready" once every other CPU has entered its workload */
	end = rdtsc() + READY_TIMEOUT_US * tsc_khz() / 1000;
	percpu[0].started = 1;
	while (!all_set(online, __builtin_offsetof(struct percpu, started)) && rdtsc() < end)
		cpu_relax();
	boot_time("ready", rdtsc());
	run_workload(0);

	while (!all_set(online, __builtin_offsetof(struct percpu, finished)))
		__asm__ volatile("sti; hlt");
	post_code(POST_WORK_DONE);
	boot_time("work_done", rdtsc());
	for (uint32_t i = 0; i < online; i++)
		kprintf("cpu %u: %llu iterations, %llu timer ticks\n", i,
			(unsigned long long)work_done[i], (unsigned long long)percpu[i].ticks);
	kprintf("kprof-guest: kprof_marker 0x%llx\n", (unsigned long long)kprof_marker);
	kprintf("kprof-guest: all %u cpus done\n", online);
	guest_exit(online == machine.ncpus ? EXIT_OK : EXIT_AP_MISSING);
}
