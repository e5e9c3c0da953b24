/* libFuzzer harness for the folded-stack and gdb-backtrace readers, and the writers behind
 * them: whatever the bytes, no crash, no leak, and an accepted input renders. */
#include "flamegraph/flamegraph.h"

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int add(void *arg, const struct fg_stack *s)
{
	return fg_tree_add(arg, s, FG_SLOT_MAIN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_svg_options o;
	struct fg_tree *t;
	FILE *in, *out;
	int rc;

	if (!size || !(in = fmemopen((void *)data, size, "r")))
		return 0;
	if (fg_tree_new(size & 1 ? FG_TREE_REVERSE : 0, &t)) {
		fclose(in);
		return 0;
	}
	if (fg_detect_input((const char *)data, size) == FG_INPUT_GDB_BT)
		rc = fg_read_gdb_bt(in, "fuzz", add, t);
	else
		rc = fg_read_folded(in, "fuzz", add, t);
	fclose(in);
	out = fopen("/dev/null", "w");
	if (!rc && out) {
		fg_svg_options_init(&o);
		fg_write_folded(t, out, "fuzz");
		fg_write_svg(t, &o, out, "fuzz");
	}
	if (out)
		fclose(out);
	fg_tree_free(t);
	return 0;
}
