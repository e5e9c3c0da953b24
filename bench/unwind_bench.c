/* Offline unwinding speed: kprof's DWARF unwinder and symbolizer over stacks captured from
 * QEMU by bench/gdb_loop.py (capture mode), the same stops gdb's `bt` was timed on.
 *
 *   unwind_bench KERNEL.elf CAPTURE [SECONDS]
 *
 * Frames are named with inlined functions (collect --inline), as gdb names them.
 * Prints one line "frames F stacks S seconds T frames_per_s R depth D equal E" where E is the
 * number of stacks whose function names match gdb's (gdb's "<signal handler called>" line
 * stands for the interrupt entry frame kprof names by its symbol, so it is skipped).
 * UNWIND_BENCH_VERBOSE=1 prints the stacks that differ on stderr.
 */
#include "common/common.h"
#include "profiler/profiler_internal.h"
#include "profiler/symbols.h"
#include "profiler/unwind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct capture {
	uint32_t cpu, len;
	uint64_t regs[UNW_NREGS];
	uint8_t *data;
	char *gdb_names;	/* newline-separated */
};

struct walk {
	struct symbolizer *sym;
	const char *names[256];
	size_t n;
};

static int on_frame(void *ctx, uint64_t pc, unsigned flags)
{
	struct walk *w = ctx;

	const char *names[16];
	unsigned nflags[16];
	size_t n = symbolizer_frames(w->sym, pc, flags, names, nflags, KP_ARRAY_SIZE(names));

	for (size_t i = 0; i < n && w->n < KP_ARRAY_SIZE(w->names); i++)
		w->names[w->n++] = names[i];
	return 0;
}

static int read_captures(const char *path, struct capture **out, size_t *n)
{
	FILE *f = fopen(path, "rb");
	struct capture *v = NULL;
	size_t cap = 0;
	char magic[4];

	*n = 0;
	if (!f)
		return -1;
	while (fread(magic, 1, 4, f) == 4) {
		struct capture c;
		uint32_t nlen;

		if (memcmp(magic, "KPST", 4) || fread(&c.cpu, 4, 1, f) != 1 || fread(&c.len, 4, 1, f) != 1 ||
		    fread(c.regs, 8, UNW_NREGS, f) != UNW_NREGS)
			break;
		c.data = malloc(c.len ? c.len : 1);
		if (!c.data || fread(c.data, 1, c.len, f) != c.len || fread(&nlen, 4, 1, f) != 1)
			break;
		c.gdb_names = malloc(nlen + 1);
		if (!c.gdb_names || fread(c.gdb_names, 1, nlen, f) != nlen)
			break;
		c.gdb_names[nlen] = '\0';
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				break;
		}
		v[(*n)++] = c;
	}
	fclose(f);
	*out = v;
	return *n ? 0 : -1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Does kprof's walk name the same functions as gdb's bt, in order? */
static bool same_as_gdb(const struct walk *w, const char *gdb_names)
{
	char *copy = strdup(gdb_names), *save = NULL;
	size_t i = 0;
	bool same = copy != NULL;

	for (char *tok = copy ? strtok_r(copy, "\n", &save) : NULL; tok && same;
	     tok = strtok_r(NULL, "\n", &save)) {
		if (!strcmp(tok, "<signal handler called>"))
			continue;
		same = i < w->n && !strcmp(tok, w->names[i]);
		i++;
	}
	free(copy);
	return same && i == w->n;
}

int main(int argc, char **argv)
{
	/* Inlined functions as frames of their own, as gdb's bt shows them. */
	struct kernel_syms_opts o = { .inline_frames = true };
	struct kernel_syms *k;
	struct capture *caps;
	size_t ncaps, frames = 0, stacks = 0, equal = 0, depth_total = 0;
	double budget = argc > 3 ? atof(argv[3]) : 1.0, t0, t;

	if (argc < 3) {
		fprintf(stderr, "usage: unwind_bench KERNEL.elf CAPTURE [SECONDS]\n");
		return 2;
	}
	if (kernel_syms_open(argv[1], &o, &k))
		return 1;
	if (read_captures(argv[2], &caps, &ncaps)) {
		fprintf(stderr, "unwind_bench: %s: no captured stacks\n", argv[2]);
		return 1;
	}
	for (size_t i = 0; i < ncaps; i++) {
		struct walk w = { .sym = k->sym };
		struct unwind_regs r = { .valid = (1u << UNW_NREGS) - 1 };
		struct stack_window win = { caps[i].regs[UNW_REG_RSP], caps[i].data, caps[i].len };

		memcpy(r.r, caps[i].regs, sizeof(r.r));
		unwind_stack(&k->uw, &r, stack_window_read, &win, on_frame, &w);
		if (same_as_gdb(&w, caps[i].gdb_names)) {
			equal++;
		} else if (getenv("UNWIND_BENCH_VERBOSE")) {
			fprintf(stderr, "cpu %u at pc 0x%llx differs\n  kprof:", caps[i].cpu,
				(unsigned long long)caps[i].regs[UNW_REG_RA]);
			for (size_t j = 0; j < w.n; j++)
				fprintf(stderr, " %s", w.names[j]);
			fprintf(stderr, "\n  gdb:   %s\n", caps[i].gdb_names);
		}
		depth_total += w.n;
	}
	t0 = now_s();
	do {
		for (size_t i = 0; i < ncaps; i++) {
			struct walk w = { .sym = k->sym };
			struct unwind_regs r = { .valid = (1u << UNW_NREGS) - 1 };
			struct stack_window win = { caps[i].regs[UNW_REG_RSP], caps[i].data, caps[i].len };

			memcpy(r.r, caps[i].regs, sizeof(r.r));
			unwind_stack(&k->uw, &r, stack_window_read, &win, on_frame, &w);
			frames += w.n;
			stacks++;
		}
		t = now_s() - t0;
	} while (t < budget);
	printf("frames %zu stacks %zu seconds %.3f frames_per_s %.0f depth %.2f equal %zu of %zu\n",
	       frames, stacks, t, (double)frames / t, (double)depth_total / (double)ncaps, equal, ncaps);
	for (size_t i = 0; i < ncaps; i++) {
		free(caps[i].data);
		free(caps[i].gdb_names);
	}
	free(caps);
	kernel_syms_free(k);
	return 0;
}
