/* kprof: one command, several subcommands, dispatched through a table as perf does. */
#include "cli/commands.h"
#include "common/common.h"

#include <stdio.h>
#include <string.h>

#define KPROF_VERSION "0.1.0"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "run", cmd_run, "boot a kernel ELF under KVM (serial console, gdb stub, boot profile)" },
	{ "collect", cmd_collect, "sample a kernel's stacks (in-process VM or --remote gdb stub)" },
	{ "parse", cmd_parse, "re-render a profile (json, folded, svg, speedscope, pprof)" },
	{ "diff", cmd_diff, "differential flame graph of two profiles" },
	{ "report", cmd_report, "the hottest functions of a profile, as perf report shows them" },
	{ "boot", cmd_boot, "boot a kernel many times and report boot-latency distributions" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: kprof <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < KP_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'kprof <command> --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("kprof %s\n", KPROF_VERSION);
		return 0;
	}
	for (size_t i = 0; i < KP_ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	kp_error("'%s' is not a kprof command; see 'kprof --help'", argv[1]);
	return 2;
}
