/* Unit tests for flamegraph/: folding and merging, order, masks and CPUs, XML escaping and
 * UTF-8 repair, minwidth pruning, reverse/inverted/flame chart, the gdb backtrace reader and
 * bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "flamegraph/fg_internal.h"
#include "flamegraph/flamegraph.h"

struct text {
	char *data;
	size_t len;
	FILE *f;
};

static FILE *text_open(struct text *t)
{
	t->data = NULL;
	t->len = 0;
	t->f = open_memstream(&t->data, &t->len);
	assert_non_null(t->f);
	return t->f;
}

static char *text_close(struct text *t)
{
	fclose(t->f);
	return t->data;
}

static int add_to_tree(void *arg, const struct fg_stack *s)
{
	return fg_tree_add(arg, s, FG_SLOT_MAIN);
}

/* Read folded text into a new tree (flags), returning the reader's result. */
static int tree_from(const char *input, unsigned flags, struct fg_tree **t)
{
	FILE *f = fmemopen((void *)input, strlen(input), "r");
	int rc;

	assert_non_null(f);
	assert_int_equal(fg_tree_new(flags, t), 0);
	rc = fg_read_folded(f, "test.folded", add_to_tree, *t);
	fclose(f);
	return rc;
}

static char *folded_of(struct fg_tree *t)
{
	struct text out;

	assert_int_equal(fg_write_folded(t, text_open(&out), "out"), 0);
	return text_close(&out);
}

static char *svg_of(struct fg_tree *t, const struct fg_svg_options *o)
{
	struct text out;

	assert_int_equal(fg_write_svg(t, o, text_open(&out), "out.svg"), 0);
	return text_close(&out);
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_fold_merges_and_sorts(void **state)
{
	struct fg_tree *t;
	char *out;

	(void)state;
	assert_int_equal(tree_from("main;b 3\nmain;a;x 2\n\nmain;b 4\nmain 1\nmain;a;x 5\r\n", 0, &t),
			 0);
	out = folded_of(t);
	assert_string_equal(out, "main 1\nmain;a;x 7\nmain;b 7\n");
	assert_int_equal(fg_tree_total(t, FG_SLOT_MAIN), 15);
	assert_int_equal(fg_tree_nodes(t), 5);	/* root, main, a, x, b */
	free(out);
	fg_tree_free(t);
}

/* Byte order of whole lines, as LC_ALL=C sort: "foo 5" < "foo1 2" < "foo;x 1" < "foo~ 1". */
static void test_fold_order_is_bytewise(void **state)
{
	struct fg_tree *t;
	char *out;

	(void)state;
	assert_int_equal(tree_from("foo~ 1\nfoo;x 1\nfoo1 2\nfoo 5\nfoo 1x;y 3\n", 0, &t), 0);
	out = folded_of(t);
	assert_string_equal(out, "foo 1x;y 3\nfoo 5\nfoo1 2\nfoo;x 1\nfoo~ 1\n");
	free(out);
	fg_tree_free(t);
}

static void test_reverse_and_flamechart(void **state)
{
	struct fg_tree *t;
	char *out;

	(void)state;
	assert_int_equal(tree_from("a;b;c 2\na;d;c 3\n", FG_TREE_REVERSE, &t), 0);
	out = folded_of(t);
	assert_string_equal(out, "c;b;a 2\nc;d;a 3\n");
	free(out);
	fg_tree_free(t);

	/* Flame chart: adjacent equal frames merge, the same frame later in time does not. */
	assert_int_equal(tree_from("a;b 1\na;b 1\na;c 1\na;b 1\n", FG_TREE_FLAMECHART, &t), 0);
	assert_int_equal(fg_tree_nodes(t), 5);	/* root, a, b, c, b again */
	fg_tree_free(t);
}

/* Groups (boot stages): one graph each, in the order they first came (not by name), split by
 * CPU within; the group is the folded root frame and the SVG heading with its share. */
static void test_groups(void **state)
{
	const char *frames[] = { "start", "work" };
	struct fg_stack s = { .cpu = FG_CPU_ANY, .nframes = 2, .frames = frames, .count = 1,
			      .group = "stage smp_done" };
	struct fg_svg_options o;
	struct fg_tree *t;
	char *out;

	(void)state;
	assert_int_equal(fg_tree_new(0, &t), 0);
	assert_int_equal(fg_tree_add(t, &s, FG_SLOT_MAIN), 0);
	s.group = "stage acpi;done";
	s.nframes = 1;
	assert_int_equal(fg_tree_add(t, &s, FG_SLOT_MAIN), 0);
	s.group = "stage smp_done";
	s.count = 2;
	assert_int_equal(fg_tree_add(t, &s, FG_SLOT_MAIN), 0);
	s.group = "";
	assert_int_equal(fg_tree_add(t, &s, FG_SLOT_MAIN), -EINVAL);
	out = folded_of(t);
	assert_string_equal(out, "stage smp_done;start 2\nstage smp_done;start;work 1\n"
				 "stage acpi:done;start 1\n");
	free(out);
	fg_svg_options_init(&o);
	out = svg_of(t, &o);
	assert_non_null(strstr(out, ">stage smp_done: 3 samples (75.00% of all)</text>"));
	assert_non_null(strstr(out, ">stage acpi;done: 1 samples (25.00% of all)</text>"));
	assert_true(strstr(out, ">stage smp_done: ") < strstr(out, ">stage acpi;done: "));
	assert_int_equal(count_of(out, "class=\"heading\""), 2);
	free(out);
	fg_tree_free(t);

	/* With CPU ids: "GROUP, CPU N", groups first. */
	assert_int_equal(fg_tree_new(0, &t), 0);
	s.group = "stage b";
	s.cpu = 1;
	assert_int_equal(fg_tree_add(t, &s, FG_SLOT_MAIN), 0);
	s.group = "stage a";
	s.cpu = 0;
	assert_int_equal(fg_tree_add(t, &s, FG_SLOT_MAIN), 0);
	s.group = "stage b";
	assert_int_equal(fg_tree_add(t, &s, FG_SLOT_MAIN), 0);
	out = folded_of(t);
	assert_string_equal(out, "stage b;CPU 0;start 2\nstage b;CPU 1;start 2\n"
				 "stage a;CPU 0;start 2\n");
	free(out);
	out = svg_of(t, &o);
	assert_non_null(strstr(out, ">stage b, CPU 1: 2 samples (33.33% of all)</text>"));
	free(out);
	fg_tree_free(t);
}

static void test_cpus_and_masks(void **state)
{
	const char *frames[] = { "start", "work" };
	struct fg_stack s = { .cpu = 2, .nframes = 2, .frames = frames, .count = 4 };
	struct kp_cpumask m;
	struct fg_tree *t;
	char *out;

	(void)state;
	assert_int_equal(fg_tree_new(0, &t), 0);
	assert_int_equal(fg_tree_add(t, &s, FG_SLOT_MAIN), 0);
	s.cpu = 0;
	s.count = 1;
	assert_int_equal(fg_tree_add(t, &s, FG_SLOT_MAIN), 0);
	s.cpu = -2;
	assert_int_equal(fg_tree_add(t, &s, FG_SLOT_MAIN), -EINVAL);
	out = folded_of(t);
	assert_string_equal(out, "CPU 0;start;work 1\nCPU 2;start;work 4\n");
	free(out);
	fg_tree_free(t);

	/* The masks the command line filters with: 128 bits, decimal or hex. */
	assert_int_equal(kp_cpumask_parse("0x80000000000000000000000000000001", &m), 0);
	assert_true(kp_cpumask_test(&m, 0) && kp_cpumask_test(&m, 127) && !kp_cpumask_test(&m, 1));
	assert_int_equal(kp_cpumask_parse("5", &m), 0);
	assert_true(kp_cpumask_test(&m, 0) && kp_cpumask_test(&m, 2) && !kp_cpumask_test(&m, 1));
	assert_int_equal(kp_cpumask_parse("0x1ffffffffffffffffffffffffffffffff", &m), -ERANGE);
}

static void test_xml_escape_and_utf8(void **state)
{
	struct kp_buf b;
	const char in[] = "a<b>&\"'\xc3\xa9\xff\x01\xe2\x82" "z\xed\xa0\x80" "\xf0\x9f\x94\xa5";

	(void)state;
	kp_buf_init(&b);
	assert_int_equal(fg_xml_escape(&b, in, sizeof(in) - 1), 0);
	/* é kept; 0xff, 0x01, a cut sequence, a surrogate replaced; the emoji kept. */
	assert_string_equal(b.data, "a&lt;b&gt;&amp;&quot;&apos;\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd"
				    "\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				    "\xf0\x9f\x94\xa5");
	kp_buf_release(&b);
	assert_int_equal(fg_utf8_chars("h\xc3\xa9llo", 6), 5);
	assert_int_equal(fg_utf8_prefix("h\xc3\xa9llo", 6, 2), 3);
}

static void test_svg_escapes_names_and_titles(void **state)
{
	struct fg_svg_options o;
	struct fg_tree *t;
	char *svg;

	(void)state;
	fg_svg_options_init(&o);
	o.title = "T<&>";
	assert_int_equal(tree_from("main;Vec<T>::push&\"q\" 3\nmain;caf\xc3\xa9\xff 1\n", 0, &t), 0);
	svg = svg_of(t, &o);
	assert_non_null(strstr(svg, "<title>Vec&lt;T&gt;::push&amp;&quot;q&quot; (3 samples, 75.00%)"));
	assert_non_null(strstr(svg, "<title>caf\xc3\xa9\xef\xbf\xbd (1 samples, 25.00%)"));
	assert_non_null(strstr(svg, ">T&lt;&amp;&gt;</text>"));
	assert_null(strstr(svg, "Vec<T>"));
	free(svg);
	fg_tree_free(t);
}

static void test_minwidth_prunes(void **state)
{
	struct fg_svg_options o;
	struct fg_tree *t;
	char *svg;

	(void)state;
	fg_svg_options_init(&o);
	/* 1180 px for 100001 samples: "thin" is 0.0118 px wide, below the 0.1 px default. */
	assert_int_equal(tree_from("main;wide 100000\nmain;thin 1\n", 0, &t), 0);
	svg = svg_of(t, &o);
	assert_non_null(strstr(svg, "<title>wide ("));
	assert_null(strstr(svg, "<title>thin ("));
	assert_int_equal(count_of(svg, "<g><title>"), 3);
	free(svg);
	o.minwidth = 0;
	svg = svg_of(t, &o);
	assert_non_null(strstr(svg, "<title>thin ("));
	free(svg);
	/* A frame wider than minwidth is drawn with its label cut to fit. */
	fg_tree_free(t);
	assert_int_equal(tree_from("main;a_very_long_function_name_here 4\nmain;x 96\n", 0, &t), 0);
	o.minwidth = 0.1;
	svg = svg_of(t, &o);
	assert_non_null(strstr(svg, ">a_v..</text>"));
	free(svg);
	fg_tree_free(t);
}

/* y of the rectangle drawn for name. */
static double rect_y(const char *svg, const char *name)
{
	char key[128];
	const char *p;

	snprintf(key, sizeof(key), "<title>%s (", name);
	p = strstr(svg, key);
	assert_non_null(p);
	p = strstr(p, " y=\"");
	assert_non_null(p);
	return strtod(p + 4, NULL);
}

static void test_inverted_and_determinism(void **state)
{
	struct fg_svg_options o;
	struct fg_tree *t;
	char *a, *b;

	(void)state;
	fg_svg_options_init(&o);
	assert_int_equal(tree_from("main;leaf 2\nmain;other 1\n", 0, &t), 0);
	a = svg_of(t, &o);
	b = svg_of(t, &o);
	assert_string_equal(a, b);
	assert_true(rect_y(a, "leaf") < rect_y(a, "main"));	/* flames grow upwards */
	free(b);
	o.inverted = true;
	b = svg_of(t, &o);
	assert_true(rect_y(b, "leaf") > rect_y(b, "main"));	/* icicles hang down */
	assert_non_null(strstr(b, ">Icicle Graph</text>"));
	free(a);
	free(b);
	fg_tree_free(t);
}

static void test_deep_stack(void **state)
{
	struct fg_svg_options o;
	struct kp_buf in;
	struct fg_tree *t;
	char *svg, *folded;

	(void)state;
	kp_buf_init(&in);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(kp_buf_printf(&in, "%sf%d", i ? ";" : "", i), 0);
	assert_int_equal(kp_buf_puts(&in, " 7\n"), 0);
	assert_int_equal(tree_from(in.data, 0, &t), 0);
	assert_int_equal(fg_tree_nodes(t), 5001);
	folded = folded_of(t);
	assert_string_equal(folded, in.data);
	fg_svg_options_init(&o);
	svg = svg_of(t, &o);
	assert_int_equal(count_of(svg, "<g><title>"), 5001);
	free(svg);
	free(folded);
	kp_buf_release(&in);
	fg_tree_free(t);
}

static void test_diff_colours(void **state)
{
	const char *grew[] = { "main", "grew" }, *shrank[] = { "main", "shrank" };
	struct fg_stack s = { .cpu = FG_CPU_ANY, .nframes = 2 };
	struct fg_svg_options o;
	struct fg_tree *t;
	char *svg, *p;

	(void)state;
	fg_svg_options_init(&o);
	assert_int_equal(fg_tree_new(0, &t), 0);
	s.frames = grew, s.count = 10;
	assert_int_equal(fg_tree_add(t, &s, FG_SLOT_BEFORE), 0);
	s.count = 30;
	assert_int_equal(fg_tree_add(t, &s, FG_SLOT_MAIN), 0);
	s.frames = shrank, s.count = 30;
	assert_int_equal(fg_tree_add(t, &s, FG_SLOT_BEFORE), 0);
	s.count = 10;
	assert_int_equal(fg_tree_add(t, &s, FG_SLOT_MAIN), 0);
	svg = svg_of(t, &o);
	p = strstr(svg, "<title>grew (30 samples, 75.00%; before 10, change +20, self +20)");
	assert_non_null(p);
	assert_non_null(strstr(p, "fill=\"rgb(255,40,40)\""));
	p = strstr(svg, "<title>shrank (10 samples, 25.00%; before 30, change -20, self -20)");
	assert_non_null(p);
	assert_non_null(strstr(p, "fill=\"rgb(40,40,255)\""));
	assert_non_null(strstr(svg, ">Differential Flame Graph</text>"));
	free(svg);
	fg_tree_free(t);
}

static const char bt_text[] =
	"[Switching to thread 1]\n"
	"Thread 2 (Thread 1.2 (CPU#1 [running])):\n"
	"#0  0xffffffff81001234 in spin_wait (lock=0x0) at src/lock.rs:10\n"
	"#1  0xffffffff81002000 in ostd::task::run<T> () at src/task.rs:3\n"
	"#2  kernel_main () at src/main.rs:1\n"
	"\n"
	"Thread 1 (Thread 1.1 (CPU#0 [halted ])):\n"
	"#0  cpu_halt ()\n"
	"#1  0xffffffff81000010 in kernel_main ()\n"
	"Backtrace stopped: previous frame identical to this frame (corrupt stack?)\n"
	"Thread 3 (Thread 7):\n"
	"#0  0x0000000000401000 in idle () from libfoo.so\n";

static void test_gdb_bt(void **state)
{
	struct fg_tree *t;
	FILE *f = fmemopen((void *)bt_text, sizeof(bt_text) - 1, "r");
	char *out;

	(void)state;
	assert_int_equal(fg_detect_input(bt_text, sizeof(bt_text) - 1), FG_INPUT_GDB_BT);
	assert_int_equal(fg_detect_input(" \n{\"stack_traces\":[]}", 20), FG_INPUT_JSON);
	assert_int_equal(fg_detect_input("a;b 1\n", 6), FG_INPUT_FOLDED);
	assert_int_equal(fg_tree_new(0, &t), 0);
	assert_int_equal(fg_read_gdb_bt(f, "bt.txt", add_to_tree, t), 0);
	fclose(f);
	out = folded_of(t);
	assert_string_equal(out, "CPU 0;kernel_main;cpu_halt 1\n"
				 "CPU 1;kernel_main;ostd::task::run<T>;spin_wait 1\n"
				 "CPU 2;idle 1\n");
	free(out);
	fg_tree_free(t);
}

static int read_folded_str(const char *input)
{
	struct fg_tree *t;
	int rc = tree_from(input, 0, &t);

	fg_tree_free(t);
	return rc;
}

static int read_bt_str(const char *input, size_t len)
{
	struct fg_tree *t;
	FILE *f = fmemopen((void *)input, len, "r");
	int rc;

	assert_int_equal(fg_tree_new(0, &t), 0);
	rc = fg_read_gdb_bt(f, "bt.txt", add_to_tree, t);
	fclose(f);
	fg_tree_free(t);
	return rc;
}

static void test_bad_input(void **state)
{
	(void)state;
	assert_int_equal(read_folded_str(""), -EINVAL);			/* empty */
	assert_int_equal(read_folded_str("\n \n"), -EINVAL);		/* blank */
	assert_int_equal(read_folded_str("a;b 1\na;b;c\n"), -EINVAL);	/* truncated */
	assert_int_equal(read_folded_str("a;b -3\n"), -EINVAL);		/* negative */
	assert_int_equal(read_folded_str("a;b 1.5\n"), -EINVAL);	/* not whole */
	assert_int_equal(read_folded_str("a 99999999999999999999\n"), -ERANGE);
	assert_int_equal(read_folded_str(" 5\n"), -EINVAL);		/* no stack */
	assert_int_equal(read_folded_str("a 9223372036854775808\nb 9223372036854775808\n"),
			 -EOVERFLOW);
	assert_int_equal(read_folded_str("a 18446744073709551615\n"), 0);
	{
		static const char garbage[] = "\x7f" "ELF\x02\x01\x01\0\0\0 1\n";

		assert_int_equal(read_bt_str(garbage, sizeof(garbage) - 1), -EINVAL);
	}
	assert_int_equal(read_bt_str("Thread 1 (x):\n#1  foo ()\n", 25), -EINVAL);
	assert_int_equal(read_bt_str("Thread x (x):\n", 14), -EINVAL);
	assert_int_equal(read_bt_str("#0  0x1234 foo ()\n", 18), -EINVAL);
	assert_int_equal(read_bt_str("nothing here\n", 13), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_merges_and_sorts),
		cmocka_unit_test(test_fold_order_is_bytewise),
		cmocka_unit_test(test_reverse_and_flamechart),
		cmocka_unit_test(test_cpus_and_masks),
		cmocka_unit_test(test_xml_escape_and_utf8),
		cmocka_unit_test(test_svg_escapes_names_and_titles),
		cmocka_unit_test(test_minwidth_prunes),
		cmocka_unit_test(test_inverted_and_determinism),
		cmocka_unit_test(test_deep_stack),
		cmocka_unit_test(test_diff_colours),
		cmocka_unit_test(test_gdb_bt),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
