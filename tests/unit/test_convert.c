/* Unit tests for convert/: format sniffing, loading each kind of input (files and standard
 * input replayed after sniffing), CPU masks, conversions between the profile model and
 * flame-graph stacks both ways, output formats from names, and outputs that are complete or
 * not written at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert/convert_internal.h"

static const char folded[] = "main;work;leaf 3\nmain;idle 1\n";
static const char json[] =
	"{\"stack_traces\":[{\"0\":[\"leaf\",\"work\",\"main\"],\"1\":[\"idle\",\"main\"]},"
	"{\"0\":[\"leaf\",\"work\",\"main\"]}]}";
static const char bt[] = "Thread 2 (Thread 1.2 (CPU#1 [running])):\n"
			 "#0  0xffffffff81001234 in leaf ()\n#1  0xffffffff81002000 in main ()\n";

static char dir[] = "/tmp/kprof-convert-test.XXXXXX";

/* A scratch file holding text; the path is static storage per slot. */
static const char *scratch(int slot, const char *text)
{
	static char paths[4][64];
	FILE *f;

	snprintf(paths[slot], sizeof(paths[slot]), "%s/in%d", dir, slot);
	f = fopen(paths[slot], "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return paths[slot];
}

/* Load text through convert_load and return its folded rendering (caller frees). */
static char *folded_of_load(const char *text, const struct kp_cpumask *mask, bool per_cpu,
			    int *rc)
{
	struct convert_source src = { .path = scratch(0, text), .mask = mask,
				      .per_cpu = per_cpu };
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(fg_tree_new(0, &src.tree), 0);
	*rc = convert_load(&src);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	if (!*rc)
		assert_int_equal(fg_write_folded(src.tree, f, "test"), 0);
	fclose(f);
	fg_tree_free(src.tree);
	unlink(src.path);
	return out;
}

static void test_sniff(void **state)
{
	(void)state;
	assert_int_equal(convert_sniff(folded, sizeof(folded) - 1), CONVERT_IN_FOLDED);
	assert_int_equal(convert_sniff(json, sizeof(json) - 1), CONVERT_IN_JSON);
	assert_int_equal(convert_sniff(bt, sizeof(bt) - 1), CONVERT_IN_GDB_BT);
	assert_int_equal(convert_sniff("\xef\xbb\xbf {", 5), CONVERT_IN_JSON);
	assert_int_equal(convert_sniff("", 0), CONVERT_IN_FOLDED);
}

static void test_load_each_kind(void **state)
{
	struct kp_cpumask cpu1;
	char *out;
	int rc;

	(void)state;
	out = folded_of_load(folded, NULL, false, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "main;idle 1\nmain;work;leaf 3\n");
	free(out);
	out = folded_of_load(json, NULL, false, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "main;idle 1\nmain;work;leaf 2\n");
	free(out);
	out = folded_of_load(json, NULL, true, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "CPU 0;main;work;leaf 2\nCPU 1;main;idle 1\n");
	free(out);
	assert_int_equal(kp_cpumask_parse("0x2", &cpu1), 0);
	out = folded_of_load(json, &cpu1, false, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "main;idle 1\n");
	free(out);
	out = folded_of_load(bt, &cpu1, false, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "main;leaf 1\n");
	free(out);
	/* Folded stacks have no CPU ids: a mask on them is refused, not ignored. */
	out = folded_of_load(folded, &cpu1, false, &rc);
	assert_int_equal(rc, -EINVAL);
	free(out);
}

/* Standard input is read once: its sniffed first bytes are served again to the reader. */
static void test_load_stdin_replays_head(void **state)
{
	struct kp_buf big;
	struct convert_source src = { .path = "-" };
	int saved = dup(0);

	(void)state;
	kp_buf_init(&big);
	/* Longer than the sniffed head, so the rest comes from the stream itself. */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(kp_buf_printf(&big, "main;f%d 1\n", i), 0);
	assert_non_null(freopen(scratch(1, big.data), "r", stdin));
	assert_int_equal(fg_tree_new(0, &src.tree), 0);
	assert_int_equal(convert_load(&src), 0);
	assert_int_equal(src.nstacks, 1000);
	assert_int_equal(fg_tree_total(src.tree, FG_SLOT_MAIN), 1000);
	fg_tree_free(src.tree);
	dup2(saved, 0);
	close(saved);
	clearerr(stdin);
	unlink(scratch(1, ""));
	kp_buf_release(&big);
}

/* Folded counts become that many samples of a profile, innermost frame first. */
static void test_folded_to_profile(void **state)
{
	struct convert_source src = { .path = scratch(2, folded), .want_profile = true };
	const struct profile_stack *st;

	(void)state;
	assert_int_equal(convert_load(&src), 0);
	assert_non_null(src.profile);
	assert_int_equal(src.profile->nsamples, 4);
	assert_int_equal(src.nstacks, 4);
	st = &src.profile->samples[0].stacks[0];
	assert_int_equal(st->nframes, 3);
	assert_string_equal(st->frames[0].name, "leaf");
	assert_string_equal(st->frames[2].name, "main");
	profile_free(src.profile);
	unlink(src.path);
}

static void test_folded_expansion_limit(void **state)
{
	struct convert_source src = { .path = scratch(2, "a;b 10000001\n"), .want_profile = true };

	(void)state;
	assert_int_not_equal(convert_load(&src), 0);
	profile_free(src.profile);
	unlink(src.path);
}

/* A profile's user-mode frames carry "_[u]" into the tree for the kernel palette. */
static void test_profile_to_tree_annotates_user(void **state)
{
	struct profile *p = profile_new();
	struct profile_sample *s = profile_add_sample(p, 1);
	struct convert_source src = { .path = "mem", .annotate_user = true };
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	s->stacks[0].frames = calloc(2, sizeof(struct profile_frame));
	s->stacks[0].nframes = 2;
	s->stacks[0].frames[0].name = strdup("[user]");
	s->stacks[0].frames[0].flags = PROFILE_FRAME_USER;
	s->stacks[0].frames[1].name = strdup("syscall");
	assert_int_equal(fg_tree_new(0, &src.tree), 0);
	assert_int_equal(convert_add_profile(&src, p), 0);
	f = open_memstream(&out, &len);
	assert_int_equal(fg_write_folded(src.tree, f, "mem"), 0);
	fclose(f);
	assert_string_equal(out, "syscall;[user]_[u] 1\n");
	free(out);
	fg_tree_free(src.tree);
	profile_free(p);
}

static void test_formats(void **state)
{
	enum convert_format f;

	(void)state;
	assert_int_equal(convert_format_from_path("a.speedscope.json", &f), 0);
	assert_int_equal(f, CONVERT_SPEEDSCOPE);
	assert_int_equal(convert_format_from_path("A.JSON", &f), 0);
	assert_int_equal(f, CONVERT_JSON);
	assert_int_equal(convert_format_from_path("x.txt", &f), 0);
	assert_int_equal(f, CONVERT_FOLDED);
	assert_int_equal(convert_format_from_path("x.svg", &f), 0);
	assert_int_equal(f, CONVERT_SVG);
	assert_int_equal(convert_format_from_path("x.png", &f), -EINVAL);
	assert_int_equal(convert_format_parse("speedscope", &f), 0);
	assert_int_equal(f, CONVERT_SPEEDSCOPE);
	assert_int_equal(convert_format_parse("SVG", &f), -EINVAL);
	assert_true(convert_format_wants_profile(CONVERT_JSON));
	assert_false(convert_format_wants_profile(CONVERT_FOLDED));
}

/* A collected profile (no tree) written as folded; then the output refuses to replace an
 * input, and a failed writer leaves no file behind. */
static void test_write(void **state)
{
	const char *in = scratch(3, folded);
	char out[64], *text;
	size_t len;
	struct convert_source src = { .path = in, .want_profile = true };
	const char *inputs[] = { in };

	(void)state;
	snprintf(out, sizeof(out), "%s/out.folded", dir);
	assert_int_equal(convert_load(&src), 0);
	assert_int_equal(convert_write(&src, CONVERT_FOLDED, NULL, out, inputs, 1), 0);
	assert_int_equal(kp_read_file(out, &text, &len), 0);
	assert_string_equal(text, "main;idle 1\nmain;work;leaf 3\n");
	free(text);
	assert_int_equal(convert_write(&src, CONVERT_FOLDED, NULL, in, inputs, 1), -EIO);
	assert_int_equal(kp_read_file(in, &text, &len), 0);
	assert_string_equal(text, folded);
	free(text);
	/* A writer that fails (here: an image geometry the SVG writer refuses) leaves no file. */
	struct fg_svg_options bad;
	fg_svg_options_init(&bad);
	bad.width = 1;
	assert_int_equal(convert_write(&src, CONVERT_SVG, &bad, out, inputs, 1), -EINVAL);
	assert_int_not_equal(access(out, F_OK), 0);
	unlink(out);
	profile_free(src.profile);
	unlink(in);
}

static void frame(struct profile_stack *st, const char *name, uint64_t pc, unsigned flags)
{
	struct profile_frame *f = realloc(st->frames, (st->nframes + 1) * sizeof(*f));

	assert_non_null(f);
	st->frames = f;
	f[st->nframes].name = strdup(name);
	f[st->nframes].pc = pc;
	f[st->nframes].flags = flags;
	st->nframes++;
}

struct decoded {
	struct profile *p;
	uint64_t counts[8];
	size_t n;
};

static int collect_decoded(void *arg, const struct profile_stack *st, uint64_t count)
{
	struct decoded *d = arg;

	assert_true(d->n < 8);
	d->counts[d->n++] = count;
	return convert_profile_copy(d->p, st);
}

/* Encode and decode in memory: identical stacks of one CPU merge into one counted sample,
 * inlined frames stay flagged, user-mode and unknown frames keep their marks. */
static void test_pprof_round_trip(void **state)
{
	struct profile *p = profile_new();
	struct decoded d = { .p = profile_new() };
	struct kp_buf pb, gz, back;
	const struct profile_stack *st;

	(void)state;
	p->kernel = strdup("vmlinux");
	p->build_id = strdup("abcd");
	p->interval_s = 0.01;
	p->start_unix_ns = 1700000000000000000ull;
	for (int i = 0; i < 3; i++) {
		struct profile_sample *s = profile_add_sample(p, 2);

		s->time_ns = (uint64_t)i * 10000000;
		s->stacks[0].cpu = 0;
		frame(&s->stacks[0], "xorshift", 0xffffffff81000010, PROFILE_FRAME_INLINE);
		frame(&s->stacks[0], "hash_workload", 0xffffffff81000010, 0);
		frame(&s->stacks[0], "cpu_work", 0xffffffff81000100, 0);
		s->stacks[1].cpu = 1;
		frame(&s->stacks[1], i ? "[user]" : "??", i ? 0x401000 : 0xffffffff81900000,
		      i ? PROFILE_FRAME_USER : PROFILE_FRAME_UNKNOWN);
		frame(&s->stacks[1], "cpu_work", 0xffffffff81000100, 0);
	}
	kp_buf_init(&pb);
	kp_buf_init(&gz);
	kp_buf_init(&back);
	assert_int_equal(convert_pprof_encode(p, &pb), 0);
	assert_int_equal(kp_gzip(pb.data, pb.len, &gz), 0);
	assert_int_equal(convert_sniff(gz.data, gz.len), CONVERT_IN_PPROF);
	assert_int_equal(kp_gunzip(gz.data, gz.len, 1 << 20, &back), 0);
	assert_int_equal(back.len, pb.len);
	assert_memory_equal(back.data, pb.data, pb.len);
	assert_int_equal(convert_pprof_decode(back.data, back.len, "mem", d.p, collect_decoded, &d),
			 0);
	/* CPU 0's three identical stacks are one sample of 3; CPU 1 has "??" once, [user] twice. */
	assert_int_equal(d.n, 3);
	assert_int_equal(d.counts[0], 3);
	assert_int_equal(d.counts[1], 1);
	assert_int_equal(d.counts[2], 2);
	st = &d.p->samples[0].stacks[0];
	assert_int_equal(st->cpu, 0);
	assert_int_equal(st->nframes, 3);
	assert_string_equal(st->frames[0].name, "xorshift");
	assert_int_equal(st->frames[0].flags, PROFILE_FRAME_INLINE);
	assert_int_equal(st->frames[1].pc, 0xffffffff81000010);
	assert_int_equal(st->frames[1].flags, 0);
	st = &d.p->samples[1].stacks[0];
	assert_int_equal(st->cpu, 1);
	assert_int_equal(st->frames[0].flags, PROFILE_FRAME_UNKNOWN);
	st = &d.p->samples[2].stacks[0];
	assert_string_equal(st->frames[0].name, "[user]");
	assert_int_equal(st->frames[0].flags, PROFILE_FRAME_USER);
	assert_int_equal(st->frames[0].pc, 0x401000);
	assert_string_equal(d.p->kernel, "vmlinux");
	assert_string_equal(d.p->build_id, "abcd");
	assert_true(d.p->interval_s > 0.0099 && d.p->interval_s < 0.0101);
	assert_int_equal(d.p->start_unix_ns, p->start_unix_ns);
	assert_int_equal(d.p->ncpus, 2);
	/* Damaged data: gzip's own checks, then the message's. */
	kp_buf_reset(&back);
	assert_int_equal(kp_gunzip(gz.data, gz.len / 2, 1 << 20, &back), -EINVAL);
	kp_buf_reset(&back);
	assert_int_equal(kp_gunzip(gz.data, gz.len, 16, &back), -EFBIG);
	assert_int_equal(convert_pprof_decode("\xff\xff\xff", 3, "mem", d.p, collect_decoded, &d),
			 -EBADMSG);
	kp_buf_release(&pb);
	kp_buf_release(&gz);
	kp_buf_release(&back);
	profile_free(p);
	profile_free(d.p);
}

/* Feed a report folded-style stacks (outermost first, as written) on a CPU. */
static void report_stack(struct convert_report *r, int cpu, const char *folded_stack,
			 uint64_t count, unsigned innermost_flags)
{
	struct profile_stack st = { .cpu = cpu };
	char *copy = strdup(folded_stack), *save = NULL;
	const char *names[16];
	size_t n = 0;

	for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
		names[n++] = tok;
	for (size_t i = n; i-- > 0;)
		frame(&st, names[i], 0, i == n - 1 ? innermost_flags : 0);
	assert_int_equal(convert_report_add(r, &st, count), 0);
	for (size_t i = 0; i < st.nframes; i++)
		free(st.frames[i].name);
	free(st.frames);
	free(copy);
}

static char *report_text(const struct convert_report *r, const struct convert_report_opts *o)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_int_equal(convert_report_print(r, o, f, "mem"), 0);
	fclose(f);
	return out;
}

/* Self is the innermost frame's; total counts a function once per stack, however deep it
 * recursed; perf's layout; --children lists callers and sorts by total. */
static void test_report(void **state)
{
	struct convert_report *r;
	struct convert_report_opts o = { .input = "t" };
	char *text;

	(void)state;
	assert_int_equal(convert_report_new(false, &r), 0);
	report_stack(r, 0, "main;sort;sort;sort;swap", 6, 0);
	report_stack(r, 1, "main;sort;sort", 3, 0);
	report_stack(r, 1, "main;[user]", 1, PROFILE_FRAME_USER);
	assert_int_equal(convert_report_samples(r), 10);
	text = report_text(r, &o);
	assert_string_equal(text,
		"# kprof report of t\n"
		"# Samples: 10 on 2 CPUs; self: innermost frame, total: anywhere on the stack\n"
		"#\n"
		"#     Self     Total  Samples  Symbol\n"
		"# ........  ........  .......  .................................................\n"
		"#\n"
		"    60.00%    60.00%        6  [k] swap\n"
		"    30.00%    90.00%        3  [k] sort\n"
		"    10.00%    10.00%        1  [.] [user]\n");
	free(text);
	o.children = true;
	o.limit = 2;
	text = report_text(r, &o);
	assert_non_null(strstr(text, "# Children      Self  Samples  Symbol\n"));
	assert_non_null(strstr(text, "#\n   100.00%     0.00%       10  [k] main\n"
				     "    90.00%    30.00%        9  [k] sort\n"));
	assert_null(strstr(text, "swap"));
	free(text);
	o.children = false;
	o.limit = 0;
	o.json = true;
	o.sort = CONVERT_SORT_TOTAL;
	text = report_text(r, &o);
	assert_non_null(strstr(text, "\"sort\":\"total\",\"children\":false"));
	assert_non_null(strstr(text, "{\"symbol\":\"sort\",\"mode\":\"kernel\",\"self\":3,"
				     "\"total\":9,\"self_share\":0.300000,\"total_share\":0.900000}"));
	assert_non_null(strstr(text, "\"symbol\":\"[user]\",\"mode\":\"user\""));
	free(text);
	convert_report_free(r);

	/* Per CPU: one table each, shares of that CPU's own samples. */
	assert_int_equal(convert_report_new(true, &r), 0);
	report_stack(r, 0, "main;a", 1, 0);
	report_stack(r, 2, "main;b", 3, 0);
	o = (struct convert_report_opts){ .input = "t", .per_cpu = true };
	text = report_text(r, &o);
	assert_non_null(strstr(text, "# CPU 0: 1 samples (25.00% of all)\n"));
	assert_non_null(strstr(text, "# CPU 2: 3 samples (75.00% of all)\n"));
	assert_non_null(strstr(text, "   100.00%   100.00%        3  [k] b\n"));
	assert_null(strstr(text, "CPU 1"));
	free(text);
	convert_report_free(r);
}

/* Names too long for 80 columns are cut with "...", and the counts overflow is caught. */
static void test_report_limits(void **state)
{
	struct convert_report *r;
	struct convert_report_opts o = { .input = "t" };
	char longname[200], *text, *line;
	struct profile_stack st = { .cpu = 0 };

	(void)state;
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(convert_report_new(false, &r), 0);
	report_stack(r, 0, longname, 1, 0);
	text = report_text(r, &o);
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		assert_true(strlen(line) <= 80);
	free(text);
	frame(&st, "a", 0, 0);
	assert_int_equal(convert_report_add(r, &st, UINT64_MAX), -EOVERFLOW);
	free(st.frames[0].name);
	free(st.frames);
	convert_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_load_each_kind),
		cmocka_unit_test(test_load_stdin_replays_head),
		cmocka_unit_test(test_folded_to_profile),
		cmocka_unit_test(test_folded_expansion_limit),
		cmocka_unit_test(test_profile_to_tree_annotates_user),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_pprof_round_trip),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_report_limits),
	};

	int failed;

	if (!mkdtemp(dir))
		return 1;
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return failed;
}
