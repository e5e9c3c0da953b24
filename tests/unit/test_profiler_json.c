/* Unit tests for trace.json (kprof's and OSDK's), tasks, CPU and task filtering and speedscope
 * output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/profile.h"

static char dir[] = "/tmp/kprof-json-test.XXXXXX";

static int make_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[96];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static void write_text(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Read a file and capture what it printed on stderr. */
static int read_capturing(const char *name, struct profile **p, char *err, size_t errlen)
{
	char errpath[160];
	int saved = dup(2), fd, ret;
	ssize_t n;

	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	fd = open(errpath, O_CREAT | O_TRUNC | O_RDWR, 0600);
	fflush(stderr);
	dup2(fd, 2);
	ret = profile_read_json(path_of(name), p);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, err, errlen - 1);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	return ret;
}

static void set_frame(struct profile_frame *f, const char *name, uint64_t pc, unsigned flags)
{
	f->name = strdup(name);
	f->pc = pc;
	f->flags = flags;
}

static struct profile *sample_profile(void)
{
	struct profile *p = profile_new();

	p->kernel = strdup("build/guest/kprof-guest.elf");
	p->build_id = strdup("0123abcd");
	p->ncpus = 2;
	p->interval_s = 0.01;
	for (int i = 0; i < 3; i++) {
		struct profile_sample *s = profile_add_sample(p, 2);

		s->time_ns = 1000000ull * (uint64_t)i;
		s->stop_ns = 20000 + (uint64_t)i;
		for (int cpu = 0; cpu < 2; cpu++) {
			struct profile_stack *st = &s->stacks[cpu];

			st->cpu = cpu;
			st->nframes = 3;
			st->frames = calloc(3, sizeof(*st->frames));
			set_frame(&st->frames[0], cpu ? "work_b" : "work_leaf",
				  0xffffffff80001000ull + (uint64_t)cpu, 0);
			set_frame(&st->frames[1], "cpu_work", 0xffffffff80002000ull, PROFILE_FRAME_FP);
			set_frame(&st->frames[2], "??", 0x1234, PROFILE_FRAME_UNKNOWN);
		}
	}
	return p;
}

static void test_round_trip(void **state)
{
	struct profile *p = sample_profile(), *q;
	FILE *f = fopen(path_of("trace.json"), "w");

	(void)state;
	assert_int_equal(profile_write_json(p, f, "trace.json"), 0);
	assert_int_equal(kp_close_output(f, "trace.json"), 0);
	assert_int_equal(profile_read_json(path_of("trace.json"), &q), 0);
	assert_int_equal(q->format_version, 1);
	assert_string_equal(q->kernel, p->kernel);
	assert_string_equal(q->build_id, p->build_id);
	assert_int_equal(q->ncpus, 2);
	assert_true(q->interval_s > 0.0099 && q->interval_s < 0.0101);
	assert_int_equal(q->nsamples, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(q->samples[i].time_ns, p->samples[i].time_ns);
		assert_int_equal(q->samples[i].stop_ns, p->samples[i].stop_ns);
		assert_int_equal(q->samples[i].nstacks, 2);
		for (size_t j = 0; j < 2; j++) {
			const struct profile_stack *a = &p->samples[i].stacks[j];
			const struct profile_stack *b = &q->samples[i].stacks[j];

			assert_int_equal(a->cpu, b->cpu);
			assert_int_equal(a->nframes, b->nframes);
			for (size_t k = 0; k < a->nframes; k++) {
				assert_string_equal(a->frames[k].name, b->frames[k].name);
				assert_int_equal(a->frames[k].pc, b->frames[k].pc);
				assert_int_equal(a->frames[k].flags, b->frames[k].flags);
			}
		}
	}
	profile_free(p);
	profile_free(q);
}

static void test_osdk_plain(void **state)
{
	struct profile *p;

	(void)state;
	/* OSDK's file: stack_traces only, CPU keys in any order, no addresses. */
	write_text("osdk.json",
		   "{\n  \"stack_traces\": [\n"
		   "    {\"1\": [\"aster_nix::thread::work\", \"ostd::task::run\"],\n"
		   "     \"0\": [\"ostd::arch::idle\"]},\n"
		   "    {\"0\": [\"ostd::arch::idle\"]}\n  ]\n}\n");
	assert_int_equal(profile_read_json(path_of("osdk.json"), &p), 0);
	assert_int_equal(p->format_version, 0);
	assert_null(p->kernel);
	assert_int_equal(p->ncpus, 2);
	assert_int_equal(p->nsamples, 2);
	assert_int_equal(p->samples[0].nstacks, 2);
	assert_int_equal(p->samples[0].stacks[0].cpu, 0);
	assert_int_equal(p->samples[0].stacks[1].cpu, 1);
	assert_string_equal(p->samples[0].stacks[1].frames[1].name, "ostd::task::run");
	assert_int_equal(p->samples[0].stacks[1].frames[1].pc, 0);
	assert_int_equal(p->samples[1].nstacks, 1);
	profile_free(p);

	/* A capture with no CPU in it (found by the fuzzer): read, kept, empty. */
	write_text("empty.json", "{\"stack_traces\":[{}]}\n");
	assert_int_equal(profile_read_json(path_of("empty.json"), &p), 0);
	assert_int_equal(p->nsamples, 1);
	assert_int_equal(p->samples[0].nstacks, 0);
	profile_free(p);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *message;
	} bad[] = {
		{ "{\n\"stack_traces\": [\n{\"0\": [\"a\",]}\n]\n}\n", "osdk.json: line 3: " },
		{ "[1, 2]\n", "expected an object" },
		{ "{\"stack_traces\": {}}", "stack_traces: expected an array" },
		{ "{\"other\": []}", "no \"stack_traces\" key" },
		{ "{\"stack_traces\": [{\"zero\": []}]}", "key \"zero\" is not a CPU number" },
		{ "{\"stack_traces\": [{\"0\": [1]}]}", "frame 0 is not a string" },
		{ "{\"stack_traces\": [[\"a\"]]}", "stack_traces[0]: expected an object" },
		{ "{\"stack_traces\": []} trailing", "osdk.json: line 1: unexpected character" },
		{ "{\"stack_traces\": [", "unexpected end of file" },
		{ "", "unexpected end of file" },
		{ "{\"stack_traces\": [{\"0\": [\"a\"]}], \"kprof\": {\"samples\": []}}",
		  "one entry per stack_traces entry" },
		{ "{\"stack_traces\": [{\"0\": [\"a\"]}], \"kprof\": {\"samples\": [{\"pcs\": "
		  "{\"0\": [\"0x1\", \"0x2\"]}}]}}", "pcs must have one entry per frame" },
		{ "{\"stack_traces\": [{\"0\": [\"a\"]}], \"kprof\": {\"format_version\": 99}}",
		  "format version 99 is not supported" },
		{ "{\"stack_traces\": [{\"0\": [\"a\"]}], \"kprof\": {\"samples\": [{\"tasks\": "
		  "{\"1\": {\"comm\": \"a\", \"pid\": 1, \"tgid\": 1}}}]}}",
		  "tasks: key \"1\" names no CPU of this capture" },
		{ "{\"stack_traces\": [{\"0\": [\"a\"]}], \"kprof\": {\"samples\": [{\"tasks\": "
		  "{\"0\": {\"comm\": \"a\", \"pid\": 1}}}]}}", "tasks: CPU 0: expected" },
		{ "{\"stack_traces\": [{\"0\": [\"a\"]}], \"kprof\": {\"samples\": [{\"tasks\": "
		  "{\"0\": {\"comm\": \"12345678901234567\", \"pid\": 1, \"tgid\": 1}}}]}}",
		  "a comm of 1 to 16 bytes" },
		{ "{\"stack_traces\": [{\"0\": [\"a\"]}], \"kprof\": {\"samples\": [{\"tasks\": "
		  "{\"0\": {\"comm\": \"a\", \"pid\": -2, \"tgid\": 1}}}]}}",
		  "pids from -1 to 2^31-1" },
		{ "{\"stack_traces\": [{\"0\": [\"a\"]}], \"kprof\": {\"samples\": [{\"tasks\": "
		  "[]}]}}", "\"tasks\" is not an object" },
	};
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct profile *p = (struct profile *)1;

		write_text("osdk.json", bad[i].text);
		assert_true(read_capturing("osdk.json", &p, err, sizeof(err)) < 0);
		assert_null(p);
		if (!strstr(err, bad[i].message))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, bad[i].message);
		/* One line, naming the file. */
		assert_non_null(strstr(err, "osdk.json"));
		assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err));
	}
	assert_true(read_capturing("missing.json", &(struct profile *){ NULL }, err,
				   sizeof(err)) < 0);
	assert_non_null(strstr(err, "missing.json: No such file"));
}

/* Tasks per stack: written, read back, filtered by comm; a profile without them has none. */
static void test_tasks(void **state)
{
	struct profile *p = sample_profile(), *q;
	static const char *const comms[] = { "busybox-dd", "swapper/1", "?" };
	FILE *f;

	(void)state;
	assert_false(profile_has_tasks(p));
	for (size_t i = 0; i < 3; i++) {
		struct profile_stack *st = &p->samples[i].stacks[1];

		st->has_task = true;
		if (i == 2) {
			profile_task_unknown(&st->task);
		} else {
			snprintf(st->task.comm, sizeof(st->task.comm), "%s", comms[i]);
			st->task.pid = i ? 0 : 124;
			st->task.tgid = i ? 0 : 123;
		}
	}
	f = fopen(path_of("tasks.json"), "w");
	assert_int_equal(profile_write_json(p, f, "tasks.json"), 0);
	assert_int_equal(kp_close_output(f, "tasks.json"), 0);
	assert_int_equal(profile_read_json(path_of("tasks.json"), &q), 0);
	assert_true(profile_has_tasks(q));
	for (size_t i = 0; i < 3; i++) {
		const struct profile_stack *a = &q->samples[i].stacks[0], *b = &q->samples[i].stacks[1];

		assert_false(a->has_task);
		assert_true(b->has_task);
		assert_string_equal(b->task.comm, comms[i]);
		assert_int_equal(b->task.pid, i == 2 ? -1 : i ? 0 : 124);
		assert_int_equal(b->task.tgid, i == 2 ? -1 : i ? 0 : 123);
	}
	profile_filter_comm(q, "busybox-dd");
	assert_int_equal(q->nsamples, 1);
	assert_int_equal(q->samples[0].nstacks, 1);
	assert_int_equal(q->samples[0].stacks[0].task.pid, 124);
	profile_filter_comm(q, "nobody");
	assert_int_equal(q->nsamples, 0);
	profile_free(p);
	profile_free(q);
}

/* collect --by-stage: each sample's boot stage, written and read back; a file of an older
 * kprof (or OSDK's) has none; a stage that is no name is refused. */
static void test_stages(void **state)
{
	static const char *const stages[] = { "kernel", "post:0x21", "init_entry" };
	struct profile *p = sample_profile(), *q;
	char err[512];
	FILE *f;

	(void)state;
	assert_false(profile_has_stages(p));
	for (size_t i = 0; i < 3; i++)
		p->samples[i].stage = strdup(stages[i]);
	/* Before the APs start only CPU 0 has a stack. */
	for (size_t k = 0; k < p->samples[0].stacks[1].nframes; k++)
		free(p->samples[0].stacks[1].frames[k].name);
	free(p->samples[0].stacks[1].frames);
	p->samples[0].nstacks = 1;
	f = fopen(path_of("stages.json"), "w");
	assert_int_equal(profile_write_json(p, f, "stages.json"), 0);
	assert_int_equal(kp_close_output(f, "stages.json"), 0);
	assert_int_equal(profile_read_json(path_of("stages.json"), &q), 0);
	assert_true(profile_has_stages(q));
	assert_int_equal(q->nsamples, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(q->samples[i].stage, stages[i]);
	assert_int_equal(q->samples[0].nstacks, 1);
	assert_int_equal(q->samples[1].nstacks, 2);
	/* A sample dropped by a filter takes its stage along (no leak under ASan). */
	profile_filter_cpus(q, &(struct kp_cpumask){ .bits = { 2 } });
	assert_int_equal(q->nsamples, 2);
	assert_string_equal(q->samples[0].stage, "post:0x21");
	profile_free(q);
	profile_free(p);

	/* Files without stages (older kprof, OSDK): read, every stage NULL. */
	p = sample_profile();
	f = fopen(path_of("old.json"), "w");
	assert_int_equal(profile_write_json(p, f, "old.json"), 0);
	assert_int_equal(kp_close_output(f, "old.json"), 0);
	profile_free(p);
	assert_int_equal(profile_read_json(path_of("old.json"), &q), 0);
	assert_false(profile_has_stages(q));
	for (size_t i = 0; i < q->nsamples; i++)
		assert_null(q->samples[i].stage);
	profile_free(q);
	write_text("old1.json", "{\"stack_traces\":[{\"0\":[\"f\"]}],\"kprof\":{\"format_version\":1,"
		   "\"samples\":[{\"time_ns\":5}]}}");
	assert_int_equal(profile_read_json(path_of("old1.json"), &q), 0);
	assert_null(q->samples[0].stage);
	profile_free(q);

	static const char *const bad[] = { "3", "\"\"", "\"a;b\"", "\"a\\nb\"",
		"\"0123456789012345678901234567890123456789012345678901234567890123\"" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), "{\"stack_traces\":[{\"0\":[\"f\"]}],\"kprof\":"
			 "{\"format_version\":1,\"samples\":[{\"stage\":%s}]}}", bad[i]);
		write_text("bad-stage.json", text);
		q = NULL;
		assert_int_equal(read_capturing("bad-stage.json", &q, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "kprof.samples[0]: stage: expected a name"));
		assert_int_equal(strchr(err, '\n') - err, (long)strlen(err) - 1);	/* one line */
	}
}

static void test_filter_cpus(void **state)
{
	struct profile *p = sample_profile();
	struct kp_cpumask m;

	(void)state;
	kp_cpumask_parse("0x2", &m);
	profile_filter_cpus(p, &m);
	assert_int_equal(p->nsamples, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(p->samples[i].nstacks, 1);
		assert_int_equal(p->samples[i].stacks[0].cpu, 1);
		assert_string_equal(p->samples[i].stacks[0].frames[0].name, "work_b");
	}
	kp_cpumask_parse("0x4", &m);
	profile_filter_cpus(p, &m);
	assert_int_equal(p->nsamples, 0);
	/* A filtered-out profile still grows again. */
	assert_non_null(profile_add_sample(p, 0));
	assert_int_equal(p->nsamples, 1);
	profile_free(p);
}

static void test_many_samples(void **state)
{
	struct profile *p = profile_new();

	(void)state;
	for (int i = 0; i < 1000; i++) {
		struct profile_sample *s = profile_add_sample(p, 1);

		assert_non_null(s);
		s->time_ns = (uint64_t)i;
	}
	for (int i = 0; i < 1000; i++)
		assert_int_equal(p->samples[i].time_ns, i);
	profile_free(p);
}

static void test_speedscope(void **state)
{
	struct profile *p = sample_profile();
	FILE *f = fopen(path_of("s.json"), "w");
	char *text;
	size_t len;

	(void)state;
	assert_int_equal(profile_write_speedscope(p, f, "s.json"), 0);
	assert_int_equal(kp_close_output(f, "s.json"), 0);
	assert_int_equal(kp_read_file(path_of("s.json"), &text, &len), 0);
	assert_non_null(strstr(text, "file-format-schema.json"));
	/* Shared frames, each name once, in order of first appearance from the root. */
	assert_non_null(strstr(text, "\"frames\":[{\"name\":\"??\"},{\"name\":\"cpu_work\"},"
				     "{\"name\":\"work_leaf\"},{\"name\":\"work_b\"}]"));
	/* One sampled profile per CPU; stacks listed root first. */
	assert_non_null(strstr(text, "\"name\":\"CPU 0\""));
	assert_non_null(strstr(text, "\"name\":\"CPU 1\""));
	assert_non_null(strstr(text, "\"type\":\"sampled\""));
	assert_non_null(strstr(text, "\"samples\":[[0,1,2],[0,1,2],[0,1,2]]"));
	assert_non_null(strstr(text, "\"samples\":[[0,1,3],[0,1,3],[0,1,3]]"));
	assert_non_null(strstr(text, "\"weights\":[1,1,1]"));
	assert_non_null(strstr(text, "\"endValue\":3"));
	free(text);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_osdk_plain),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_tasks),
		cmocka_unit_test(test_stages),
		cmocka_unit_test(test_filter_cpus),
		cmocka_unit_test(test_many_samples),
		cmocka_unit_test(test_speedscope),
	};
	return cmocka_run_group_tests_name("profiler json", tests, make_dir, remove_dir);
}
