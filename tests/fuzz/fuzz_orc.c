/* libFuzzer harness for Linux's ORC tables and the ORC unwinder: the input's first bytes are
 * an .orc_unwind_ip/.orc_unwind pair (any length, any format), the rest is guest stack
 * memory.  The tables are indexed (orc.c), then stacks are unwound through them (unwind.c)
 * from pcs in the tables, so every register rule, entry type, pt_regs and iret frame,
 * indirect stack switch and end mark meets corrupted data.  Never a crash, leak or hang. */
#include <stdint.h>
#include <string.h>

#include "profiler/profiler_internal.h"
#include "profiler/unwind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TEXT 0xffffffff81000000ull
#define STACK 0xffffc90000000000ull

static int count_frame(void *ctx, uint64_t pc, unsigned flags)
{
	size_t *n = ctx;

	(void)pc;
	(void)flags;
	return ++*n > 64;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stack_window w;
	struct unwinder uw = { .max_depth = 64 };
	struct orc *o;
	size_t n, ips_len, ents_len;

	if (size < 2)
		return 0;
	/* Byte 0: entry count (0-63) and format; the tables follow, then the stack. */
	n = data[0] & 63;
	ips_len = 4 * n;
	ents_len = ORC_ENTRY_SIZE * n;
	if (size < 2 + ips_len + ents_len)
		return 0;
	if (orc_from_tables(data + 2, ips_len, TEXT, data + 2 + ips_len, ents_len,
			    (enum orc_format)((data[0] >> 6) % 3), &o))
		return 0;
	orc_set_entry_text(o, TEXT, TEXT + 0x100 * (data[1] & 15));
	uw.orc = o;
	w = (struct stack_window){ .base = STACK, .data = data + 2 + ips_len + ents_len,
				   .len = size - 2 - ips_len - ents_len };
	for (size_t i = 0; i < n; i++) {
		struct orc_entry e;
		struct unwind_regs r;
		size_t frames = 0;
		int32_t rel;

		memcpy(&rel, data + 2 + 4 * i, 4);
		memset(&r, 0, sizeof(r));
		for (unsigned k = 0; k < UNW_NREGS; k++)
			r.r[k] = STACK + (k * 24) % (w.len ? w.len : 1);
		r.r[UNW_REG_RA] = TEXT + 4 * i + (uint64_t)(int64_t)rel + (data[1] >> 4);
		r.valid = (1u << UNW_NREGS) - 1;
		orc_find(o, r.r[UNW_REG_RA], &e);
		unwind_stack(&uw, &r, stack_window_read, &w, count_frame, &frames);
	}
	orc_free(o);
	return 0;
}
