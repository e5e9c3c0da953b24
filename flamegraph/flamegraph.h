/* flamegraph: folded stacks and interactive SVG flame graphs.
 *
 * This module knows stacks of frame names with counts and CPU ids, and nothing of where they
 * came from (KVM, gdb, DWARF, JSON are other modules' business).  Readers turn folded text
 * and gdb backtrace text into stacks; a prefix tree merges stacks as they arrive, so memory
 * grows with the number of distinct frames, not with the number of input lines; writers
 * render the tree as folded text or as a standalone SVG with its own script.
 *
 * All functions return 0 or a negative errno; readers and writers print one line that names
 * the input or output (and the line number) before returning an error.
 */
#ifndef KPROF_FLAMEGRAPH_H
#define KPROF_FLAMEGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The CPU id of stacks that are not split per CPU. */
#define FG_CPU_ANY (-1)

/* One stack as readers deliver it and the tree takes it: outermost frame first. */
struct fg_stack {
	int cpu;			/* FG_CPU_ANY, or a CPU id >= 0 */
	size_t nframes;
	const char *const *frames;	/* NUL-terminated names, outermost first */
	uint64_t count;
	const char *group;		/* NULL, or the name of the graph this stack belongs to
					 * (a boot stage): groups are drawn in the order they
					 * first came, each split by CPU id as above */
};

/* Called once per stack read; a negative return stops the reader, which reports it with the
 * line number (-ECANCELED: the callback has printed its own message). */
typedef int (*fg_stack_fn)(void *arg, const struct fg_stack *s);

enum fg_input_kind {
	FG_INPUT_FOLDED,	/* "a;b;c 12" lines */
	FG_INPUT_GDB_BT,	/* gdb "thread apply all bt" text */
	FG_INPUT_JSON,		/* starts with '{': not read here */
};

/* Guess an input's kind from its first bytes (the content decides, not the file name). */
enum fg_input_kind fg_detect_input(const char *head, size_t len);

/* Read folded text; every stack has cpu FG_CPU_ANY.  An empty input is an error. */
int fg_read_folded(FILE *f, const char *name, fg_stack_fn fn, void *arg);
/* Read gdb backtraces ("Thread N ...:" headers, "#0  0x... in func (...) at ..." frames); each
 * thread's backtrace is one sample (count 1) of CPU N-1, or of the "CPU#k" QEMU names. */
int fg_read_gdb_bt(FILE *f, const char *name, fg_stack_fn fn, void *arg);

/* The prefix tree of stacks. */
struct fg_tree;

enum fg_tree_flags {
	FG_TREE_REVERSE = 1u << 0,	/* reverse each stack (innermost frame at the root) */
	FG_TREE_FLAMECHART = 1u << 1,	/* keep time order: merge a frame only with the last sibling */
};

/* Which count a stack adds to: the profile itself, or the baseline of a differential graph. */
enum fg_slot {
	FG_SLOT_MAIN = 0,
	FG_SLOT_BEFORE = 1,
};

int fg_tree_new(unsigned flags, struct fg_tree **out);
void fg_tree_free(struct fg_tree *t);
/* Merge one stack.  -EOVERFLOW when the counts no longer fit 64 bits, -EINVAL for an empty
 * stack or a cpu id below FG_CPU_ANY. */
int fg_tree_add(struct fg_tree *t, const struct fg_stack *s, enum fg_slot slot);
/* Sum of all counts in a slot. */
uint64_t fg_tree_total(const struct fg_tree *t, enum fg_slot slot);
/* Number of frames (tree nodes) held, for tests and benchmarks. */
size_t fg_tree_nodes(const struct fg_tree *t);

/* Folded text, one line per distinct stack, in byte order (LC_ALL=C sort) within each graph
 * (groups in their order, then CPU ids), counts summed.  Stacks of a group get its name as
 * the leading frame, then stacks of a CPU id (not FG_CPU_ANY) a "CPU N" frame. */
int fg_write_folded(const struct fg_tree *t, FILE *f, const char *name);

enum fg_palette {
	FG_PALETTE_HOT,		/* flamegraph.pl's default: reds, oranges, yellows */
	FG_PALETTE_MEM,		/* greens */
	FG_PALETTE_IO,		/* blues */
	FG_PALETTE_KERNEL,	/* kernel frames warm, user frames ("_[u]") aqua, unknown grey */
	FG_PALETTE_RED,
	FG_PALETTE_GREEN,
	FG_PALETTE_BLUE,
	FG_PALETTE_AQUA,
	FG_PALETTE_YELLOW,
	FG_PALETTE_PURPLE,
	FG_PALETTE_ORANGE,
};

/* "hot", "mem", ...; -EINVAL for an unknown name. */
int fg_palette_parse(const char *s, enum fg_palette *out);
/* The accepted palette names, comma separated, for usage texts. */
const char *fg_palette_names(void);

struct fg_svg_options {
	const char *title;	/* NULL: chosen from the kind of graph */
	const char *subtitle;	/* NULL: none */
	const char *countname;	/* "samples" */
	unsigned width;		/* image width in pixels, 1200 */
	unsigned frame_height;	/* 16 */
	double minwidth;	/* frames narrower than this many pixels are left out, 0.1 */
	enum fg_palette palette;
	bool hash;		/* colour by name (stable), not by position */
	bool inverted;		/* icicle graph: roots at the top */
	bool normalize;		/* differential graphs: scale the baseline to the same total */
};

void fg_svg_options_init(struct fg_svg_options *o);
/* Render the tree.  One graph per group and CPU id found in the tree, stacked with a heading
 * each ("GROUP, CPU N: count (share of all)"; a tree fed only FG_CPU_ANY stacks without
 * groups gives one graph).  When the tree holds FG_SLOT_BEFORE
 * counts the graph is differential: widths from FG_SLOT_MAIN, red where a frame's own count
 * grew against the baseline, blue where it shrank. */
int fg_write_svg(const struct fg_tree *t, const struct fg_svg_options *o, FILE *f,
		 const char *name);

#endif
