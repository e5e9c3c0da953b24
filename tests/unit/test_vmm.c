/* Unit tests for vmm/: the page walker on hand-built page tables, ELF/PVH parsing errors,
 * and the target on a real KVM VM running the bundled guest (stop,
 * registers, memory, hardware breakpoint, single step, kill). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/elf_pvh.h"
#include "vmm/pagewalk.h"
#include "vmm/vmm.h"

#define MEM_SIZE (4u << 20)
#define P 1ull
#define RW 2ull
#define PS (1ull << 7)

struct pw_fixture {
	uint8_t *buf;
	struct vmm_physmem mem;
};

static void put64(uint8_t *b, uint64_t pa, uint64_t v)
{
	memcpy(b + pa, &v, 8);
}

static void put32(uint8_t *b, uint64_t pa, uint32_t v)
{
	memcpy(b + pa, &v, 4);
}

/* Tables: PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000; a second PDPT at 0x5000 with a
 * 1 GiB page; PML5 0x6000; PAE PDPT 0x7000; 32-bit PD 0x8000 -> PT 0x9000. */
static int pw_setup(void **state)
{
	struct pw_fixture *f = calloc(1, sizeof(*f));
	uint8_t *b = calloc(1, MEM_SIZE);

	f->buf = b;
	f->mem.base = b;
	f->mem.size = MEM_SIZE;
	put64(b, 0x1000 + 511 * 8, 0x2000 | P | RW);
	put64(b, 0x1000 + 0 * 8, 0x5000 | P | RW);
	put64(b, 0x1000 + 1 * 8, 0x7ff00000000ull | P);	/* a table beyond guest RAM */
	put64(b, 0x2000 + 510 * 8, 0x3000 | P | RW);
	put64(b, 0x3000 + 1 * 8, 0x4000 | P | RW);
	put64(b, 0x3000 + 2 * 8, 0x200000 | P | RW | PS);	/* 2 MiB page at 2 MiB */
	put64(b, 0x4000 + 0 * 8, 0x10000 | P | RW);
	put64(b, 0x4000 + 2 * 8, 0x7ff00000000ull | P);	/* a page beyond guest RAM */
	put64(b, 0x5000 + 0 * 8, 0x0 | P | RW | PS);	/* 1 GiB page at 0 */
	put64(b, 0x6000 + 511 * 8, 0x1000 | P | RW);
	put64(b, 0x7000 + 0 * 8, 0x3000 | P);
	put32(b, 0x8000 + 1 * 4, 0x9000 | P | RW);
	put32(b, 0x8000 + 2 * 4, 0x0 | P | RW | PS);	/* 4 MiB page at 0 */
	put32(b, 0x9000 + 0 * 4, 0x11000 | P | RW);
	*state = f;
	return 0;
}

static int pw_teardown(void **state)
{
	struct pw_fixture *f = *state;

	free(f->buf);
	free(f);
	return 0;
}

static const struct vmm_paging long4 = { .cr0 = 0x80000011ull, .cr3 = 0x1000,
					 .cr4 = 1ull << 5, .efer = 0x500 };

static void test_walk_4level(void **state)
{
	struct pw_fixture *f = *state;
	uint64_t pa, span;

	assert_int_equal(vmm_translate(&f->mem, &long4, 0xffffffff80200123ull, &pa, &span), 0);
	assert_int_equal(pa, 0x10123);
	assert_int_equal(span, 0x1000 - 0x123);
	/* 2 MiB page. */
	assert_int_equal(vmm_translate(&f->mem, &long4, 0xffffffff80401234ull, &pa, &span), 0);
	assert_int_equal(pa, 0x201234);
	assert_int_equal(span, 0x200000 - 0x1234);
	/* 1 GiB page; the span is clipped to guest RAM. */
	assert_int_equal(vmm_translate(&f->mem, &long4, 0x12345, &pa, &span), 0);
	assert_int_equal(pa, 0x12345);
	assert_int_equal(span, MEM_SIZE - 0x12345);
	/* Inside the 1 GiB page but beyond guest RAM. */
	assert_int_equal(vmm_translate(&f->mem, &long4, 0x3000000ull + MEM_SIZE, &pa, &span),
			 -EFAULT);
}

static void test_walk_unmapped(void **state)
{
	struct pw_fixture *f = *state;
	uint64_t pa, span;

	assert_int_equal(vmm_translate(&f->mem, &long4, 0x0000400000000000ull, &pa, &span), -EFAULT);
	assert_int_equal(vmm_translate(&f->mem, &long4, 0xffffffff80201000ull, &pa, &span), -EFAULT);
	/* Non-canonical. */
	assert_int_equal(vmm_translate(&f->mem, &long4, 0x0000800000000000ull, &pa, &span), -EFAULT);
	/* A table and a page outside guest RAM are never read or returned. */
	assert_int_equal(vmm_translate(&f->mem, &long4, 0x0000008000000000ull, &pa, &span), -EFAULT);
	assert_int_equal(vmm_translate(&f->mem, &long4, 0xffffffff80202000ull, &pa, &span), -EFAULT);
	/* CR3 itself beyond RAM. */
	struct vmm_paging bad = long4;
	bad.cr3 = 0x7ff00000000ull;
	assert_int_equal(vmm_translate(&f->mem, &bad, 0x1000, &pa, &span), -EFAULT);
}

static void test_walk_5level(void **state)
{
	struct pw_fixture *f = *state;
	struct vmm_paging pg = long4;
	uint64_t pa, span;

	pg.cr3 = 0x6000;
	pg.cr4 |= 1ull << 12;	/* LA57 */
	assert_int_equal(vmm_translate(&f->mem, &pg, 0xffffffff80200123ull, &pa, &span), 0);
	assert_int_equal(pa, 0x10123);
	/* Canonical for 4 levels, but PML5 entry 0 is empty. */
	assert_int_equal(vmm_translate(&f->mem, &pg, 0x12345, &pa, &span), -EFAULT);
	/* 57-bit canonical address only valid with LA57. */
	assert_int_equal(vmm_translate(&f->mem, &long4, 0xff00000000000000ull, &pa, &span), -EFAULT);
}

static void test_walk_legacy(void **state)
{
	struct pw_fixture *f = *state;
	struct vmm_paging flat = { .cr0 = 0x11 };
	struct vmm_paging pae = { .cr0 = 0x80000011ull, .cr3 = 0x7000, .cr4 = 1ull << 5 };
	struct vmm_paging p32 = { .cr0 = 0x80000011ull, .cr3 = 0x8000, .cr4 = 1ull << 4 };
	uint64_t pa, span;

	/* Paging off: linear = physical, bounded by RAM. */
	assert_int_equal(vmm_translate(&f->mem, &flat, 0x1234, &pa, &span), 0);
	assert_int_equal(pa, 0x1234);
	assert_int_equal(vmm_translate(&f->mem, &flat, MEM_SIZE, &pa, &span), -EFAULT);
	/* PAE. */
	assert_int_equal(vmm_translate(&f->mem, &pae, 0x200010, &pa, &span), 0);
	assert_int_equal(pa, 0x10010);
	assert_int_equal(vmm_translate(&f->mem, &pae, 0x40000000, &pa, &span), -EFAULT);
	/* 32-bit paging, 4 KiB and 4 MiB pages. */
	assert_int_equal(vmm_translate(&f->mem, &p32, 0x400005, &pa, &span), 0);
	assert_int_equal(pa, 0x11005);
	assert_int_equal(vmm_translate(&f->mem, &p32, 0x800007, &pa, &span), 0);
	assert_int_equal(pa, 7);
	assert_int_equal(span, (4u << 20) - 7);
	p32.cr4 = 0;	/* without PSE the 4 MiB entry is a table pointer to 0 (empty) */
	assert_int_equal(vmm_translate(&f->mem, &p32, 0x800007, &pa, &span), -EFAULT);
}

static void test_linear_copy(void **state)
{
	struct pw_fixture *f = *state;
	uint8_t out[0x100], in[0x100];
	long n;

	for (int i = 0; i < 0x100; i++)
		in[i] = (uint8_t)i;
	/* Runs into the unmapped page after 0xffffffff80200000: short count. */
	n = vmm_linear_copy(&f->mem, &long4, 0xffffffff80200f80ull, in, sizeof(in), 1);
	assert_int_equal(n, 0x80);
	assert_memory_equal(f->buf + 0x10f80, in, 0x80);
	n = vmm_linear_copy(&f->mem, &long4, 0xffffffff80200f80ull, out, sizeof(out), 0);
	assert_int_equal(n, 0x80);
	assert_memory_equal(out, in, 0x80);
	n = vmm_linear_copy(&f->mem, &long4, 0xffffffff80201000ull, out, 4, 0);
	assert_int_equal(n, -EFAULT);
}

/* ---- ELF / PVH ---- */
struct mini_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Nhdr nh;
	char name[4];
	uint32_t desc;
	uint8_t code[16];
};

static void mini_elf(struct mini_elf *e)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
	e->eh.e_ident[EI_CLASS] = ELFCLASS64;
	e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	e->eh.e_ident[EI_VERSION] = EV_CURRENT;
	e->eh.e_type = ET_EXEC;
	e->eh.e_machine = EM_X86_64;
	e->eh.e_version = EV_CURRENT;
	e->eh.e_entry = 0x100000;
	e->eh.e_phoff = offsetof(struct mini_elf, ph);
	e->eh.e_ehsize = sizeof(Elf64_Ehdr);
	e->eh.e_phentsize = sizeof(Elf64_Phdr);
	e->eh.e_phnum = 2;
	e->ph[0].p_type = PT_LOAD;
	e->ph[0].p_offset = offsetof(struct mini_elf, code);
	e->ph[0].p_paddr = 0x100000;
	e->ph[0].p_filesz = sizeof(e->code);
	e->ph[0].p_memsz = 0x2000;
	e->ph[1].p_type = PT_NOTE;
	e->ph[1].p_offset = offsetof(struct mini_elf, nh);
	e->ph[1].p_filesz = sizeof(Elf64_Nhdr) + 8;
	e->nh.n_namesz = 4;
	e->nh.n_descsz = 4;
	e->nh.n_type = 18;
	memcpy(e->name, "Xen", 4);
	e->desc = 0x100000;
}

static int parse(struct mini_elf *e, size_t len, struct vmm_elf_image *img, char *err)
{
	return vmm_elf_parse((const uint8_t *)e, len, img, err, 200);
}

static void test_elf_good(void **state)
{
	struct mini_elf e;
	struct vmm_elf_image img;
	char err[200];

	(void)state;
	mini_elf(&e);
	assert_int_equal(parse(&e, sizeof(e), &img, err), 0);
	assert_int_equal(img.pvh_entry, 0x100000);
	assert_int_equal(img.nsegs, 1);
	assert_int_equal(img.segs[0].memsz, 0x2000);
	assert_int_equal(vmm_elf_check_fit(&img, 0x100000, 2u << 20, err, sizeof(err)), 0);
	/* Does not fit in 1 MiB + 4 KiB of RAM. */
	assert_int_equal(vmm_elf_check_fit(&img, 0x100000, 0x101000, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "outside guest memory"));
}

static void test_elf_errors(void **state)
{
	struct mini_elf e;
	struct vmm_elf_image img;
	char err[200];

	(void)state;
	mini_elf(&e);
	assert_int_equal(parse(&e, 3, &img, err), -ENOEXEC);
	assert_string_equal(err, "not an ELF file");
	e.eh.e_machine = EM_AARCH64;
	assert_int_equal(parse(&e, sizeof(e), &img, err), -ENOEXEC);
	assert_non_null(strstr(err, "wrong machine aarch64"));
	mini_elf(&e);
	e.eh.e_machine = EM_386;
	e.eh.e_ident[EI_CLASS] = ELFCLASS32;
	assert_int_equal(parse(&e, sizeof(e), &img, err), -ENOEXEC);
	assert_non_null(strstr(err, "wrong machine i386"));
	mini_elf(&e);
	e.nh.n_type = 17;	/* some other Xen note */
	assert_int_equal(parse(&e, sizeof(e), &img, err), -ENOEXEC);
	assert_non_null(strstr(err, "no PVH entry note"));
	mini_elf(&e);
	e.nh.n_descsz = 3;
	assert_int_equal(parse(&e, sizeof(e), &img, err), -ENOEXEC);
	assert_non_null(strstr(err, "malformed PVH entry note"));
	mini_elf(&e);
	e.nh.n_namesz = 4000;	/* runs past the note segment */
	assert_int_equal(parse(&e, sizeof(e), &img, err), -ENOEXEC);
	mini_elf(&e);
	e.ph[0].p_filesz = 1u << 20;	/* past the end of the file */
	e.ph[0].p_memsz = 1u << 20;
	assert_int_equal(parse(&e, sizeof(e), &img, err), -ENOEXEC);
	assert_non_null(strstr(err, "outside the file"));
	mini_elf(&e);
	e.eh.e_phoff = 1u << 30;
	assert_int_equal(parse(&e, sizeof(e), &img, err), -ENOEXEC);
	mini_elf(&e);
	e.eh.e_type = ET_DYN;	/* a host program */
	assert_int_equal(parse(&e, sizeof(e), &img, err), -ENOEXEC);
	assert_non_null(strstr(err, "no PVH entry note"));
	/* Truncated in the middle of the header. */
	mini_elf(&e);
	assert_int_equal(parse(&e, 40, &img, err), -ENOEXEC);
}

/* ---- the target on a real VM ---- */
static const char *guest_path(void)
{
	const char *p = getenv("KPROF_GUEST");

	return p ? p : "build/guest/kprof-guest.elf";
}

/* Timed by the clock, not by counting polls: poll returns early whenever the event fd is
 * readable, so a count of 10 ms polls could give up long before timeout_ms. */
static int wait_event(struct target *t, struct target_event *ev, int timeout_ms)
{
	struct pollfd p = { .fd = target_event_fd(t), .events = POLLIN };
	uint64_t end = kp_now_ns() + (uint64_t)timeout_ms * 1000000;

	while (kp_now_ns() < end) {
		if (target_poll_event(t, ev) == 0)
			return 0;
		poll(&p, 1, 10);
	}
	return target_poll_event(t, ev) == 0 ? 0 : -ETIMEDOUT;
}

/* True once the serial file holds every line start in want[]. */
static bool serial_has_all(const char *path, const char *const *want, size_t n)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	size_t len;

	if (!f)
		return false;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	for (size_t i = 0; i < n; i++)
		if (!strstr(buf, want[i]))
			return false;
	return true;
}

static void test_target_live(void **state)
{
	struct vmm_config cfg;
	struct vmm *vm;
	struct target *t;
	struct target_regs r;
	struct target_event ev;
	uint8_t code[16];
	enum target_resume_action act[2] = { TARGET_RESUME_STEP, TARGET_RESUME_STAY };

	(void)state;
	vmm_config_init(&cfg);
	cfg.ncpus = 2;
	cfg.kernel = guest_path();
	cfg.cmdline = "iterations=0";	/* work until stopped */
	char serial[] = "/tmp/kprof-test-vmm-serial.XXXXXX";
	int sfd = mkstemp(serial);
	assert_true(sfd >= 0);
	close(sfd);
	cfg.serial_path = serial;
	cfg.start_halted = true;
	assert_int_equal(vmm_create(&cfg, &vm), 0);
	t = vmm_target(vm);
	assert_int_equal(target_cpu_count(t), 2);
	assert_int_equal(vmm_start(vm), 0);
	/* Started halted: stopped until the first resume, the BSP at the PVH entry. */
	assert_true(target_is_stopped(t));
	assert_int_equal(target_get_regs(t, 0, &r), 0);
	assert_int_equal(r.gpr[TREG_RBX], 0x6000);
	assert_int_equal(target_cpu_state(t, 1), TARGET_CPU_OFFLINE);
	assert_int_equal(target_resume(t, NULL), 0);

	/* Let both CPUs reach their workloads: each prints its "chain ... start" line just
	 * before it loops for good.  Until then CPU 0 may be in code that runs once (waiting for
	 * the APs, printing), where the breakpoint below would never be hit again. */
	static const char *const started[] = { "cpu 0: chain", "cpu 1: chain" };
	uint64_t give_up = kp_now_ns() + 120ull * 1000000000;
	while (!serial_has_all(serial, started, 2) && kp_now_ns() < give_up) {
		struct timespec ts = { 0, 20 * 1000000 };
		nanosleep(&ts, NULL);
	}
	assert_true(serial_has_all(serial, started, 2));
	assert_int_equal(target_stop(t), 0);
	assert_int_equal(target_get_regs(t, 0, &r), 0);
	assert_true(r.rip >> 63);	/* a higher-half kernel address */
	assert_true(target_read_mem(t, 0, r.rip, code, sizeof(code)) > 0);
	assert_true(target_read_mem(t, 0, 0x0000400000000000ull, code, 4) <= 0);
	uint64_t stop_rip = r.rip;

	/* A hardware breakpoint where CPU 0 was: the workload loops back to it. */
	assert_int_equal(t->ops->set_bp(t, TARGET_BP_HW, stop_rip, 1), 0);
	assert_int_equal(target_resume(t, NULL), 0);
	assert_int_equal(wait_event(t, &ev, 20000), 0);
	assert_int_equal(ev.kind, TARGET_EV_BREAKPOINT);
	assert_int_equal(ev.addr, stop_rip);
	assert_true(target_is_stopped(t));
	assert_int_equal(target_get_regs(t, ev.cpu, &r), 0);
	assert_int_equal(r.rip, stop_rip);
	assert_int_equal(t->ops->clear_bp(t, TARGET_BP_HW, stop_rip, 1), 0);
	/* Debug registers run out after four. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(t->ops->set_bp(t, TARGET_BP_HW, 0x1000 + (uint64_t)i, 1), 0);
	assert_int_equal(t->ops->set_bp(t, TARGET_BP_HW, 0x2000, 1), -ENOSPC);
	for (int i = 0; i < 4; i++)
		assert_int_equal(t->ops->clear_bp(t, TARGET_BP_HW, 0x1000 + (uint64_t)i, 1), 0);

	/* A write watchpoint just below CPU 0's stack pointer: its next call or push hits it. */
	assert_int_equal(target_get_regs(t, 0, &r), 0);
	uint64_t slot = (r.gpr[TREG_RSP] - 8) & ~7ull;
	assert_int_equal(t->ops->set_bp(t, TARGET_WP_READ, slot, 8), -ENOTSUP);
	assert_int_equal(t->ops->set_bp(t, TARGET_WP_WRITE, slot + 1, 8), -EINVAL);
	if (access("/sys/module/kvm_pvm", F_OK) == 0) {
		/* PVM emulates guest kernel code without data breakpoints: refused, not ignored. */
		assert_int_equal(t->ops->set_bp(t, TARGET_WP_WRITE, slot, 8), -ENOTSUP);
	} else {
		assert_int_equal(t->ops->set_bp(t, TARGET_WP_WRITE, slot, 8), 0);
		assert_int_equal(target_resume(t, NULL), 0);
		assert_int_equal(wait_event(t, &ev, 20000), 0);
		assert_int_equal(ev.kind, TARGET_EV_WATCHPOINT);
		assert_int_equal(ev.watch_kind, TARGET_WP_WRITE);
		assert_int_equal(ev.addr, slot);
		assert_int_equal(ev.cpu, 0);
		assert_int_equal(t->ops->clear_bp(t, TARGET_WP_WRITE, slot, 8), 0);
	}

	/* Single-step CPU 0 a few times while CPU 1 stays where it is. */
	struct target_regs other;
	assert_int_equal(target_get_regs(t, 1, &other), 0);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(target_get_regs(t, 0, &r), 0);
		stop_rip = r.rip;
		assert_int_equal(target_resume(t, act), 0);
		assert_int_equal(wait_event(t, &ev, 20000), 0);
		assert_int_equal(ev.kind, TARGET_EV_STEP);
		assert_int_equal(ev.cpu, 0);
		assert_int_equal(target_get_regs(t, 0, &r), 0);
		assert_int_not_equal(r.rip, stop_rip);
	}
	struct target_regs other_after;
	assert_int_equal(target_get_regs(t, 1, &other_after), 0);
	assert_int_equal(other_after.rip, other.rip);

	/* Memory written through the page walk reads back. */
	uint8_t saved[8], probe[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, back[8];
	assert_int_equal(target_read_mem(t, 0, r.gpr[TREG_RSP] - 64, saved, 8), 8);
	assert_int_equal(target_write_mem(t, 0, r.gpr[TREG_RSP] - 64, probe, 8), 8);
	assert_int_equal(target_read_mem(t, 0, r.gpr[TREG_RSP] - 64, back, 8), 8);
	assert_memory_equal(back, probe, 8);
	assert_int_equal(target_write_mem(t, 0, r.gpr[TREG_RSP] - 64, saved, 8), 8);

	/* Stop/resume rounds, as the profiler does them. */
	uint64_t t0 = kp_now_ns();
	int rounds = 300;
	for (int i = 0; i < rounds; i++) {
		assert_int_equal(target_resume(t, NULL), 0);
		assert_int_equal(target_stop(t), 0);
		assert_int_equal(target_get_regs(t, i & 1, &r), 0);
		assert_true(target_read_mem(t, i & 1, r.gpr[TREG_RSP], code, 16) == 16);
	}
	print_message("stop/read/resume: %.0f rounds/s with 2 vCPUs\n",
		      rounds / ((double)(kp_now_ns() - t0) / 1e9));

	assert_int_equal(t->ops->kill(t), 0);
	assert_int_equal(wait_event(t, &ev, 5000), 0);
	assert_int_equal(ev.kind, TARGET_EV_EXITED);
	assert_int_equal(target_resume(t, NULL), -ESRCH);
	vmm_destroy(vm);
	unlink(serial);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_walk_4level, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_walk_unmapped, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_walk_5level, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_walk_legacy, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_linear_copy, pw_setup, pw_teardown),
		cmocka_unit_test(test_elf_good),
		cmocka_unit_test(test_elf_errors),
		cmocka_unit_test(test_target_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
