/* libFuzzer harness for convert/'s format sniffing and the reader it picks: the bytes are a
 * file of unknown kind, loaded as kprof parse loads one into a tree, or as kprof report does
 * through the stack sink (then printed), and decoded as a bare pprof message, whatever they are:
 * no crash, no leak. */
#include "convert/convert_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct convert_source src = { .slot = FG_SLOT_MAIN };
	struct convert_report *report = NULL;
	FILE *out;
	char path[64];
	int fd;

	convert_sniff(data, size);
	/* The bytes as a pprof message too: through gzip, mutations rarely reach the decoder. */
	if (!convert_report_new(true, &report)) {
		struct profile meta = { 0 };

		convert_pprof_decode(data, size, "fuzz", &meta, convert_report_add, report);
		free(meta.kernel);
		free(meta.build_id);
		convert_report_free(report);
		report = NULL;
	}
	fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	src.path = path;
	/* The low bit of the size picks the tree or the stack sink (a report), so both are
	 * explored.  Not the profile: expanding a count of millions into samples is slow by
	 * design (and bounded), which a fuzzer would only report as a timeout. */
	if (size & 1) {
		if (convert_report_new(size & 2, &report)) {
			close(fd);
			return 0;
		}
		src.on_stack = convert_report_add;
		src.on_stack_arg = report;
		src.per_cpu = size & 2;
	} else if (fg_tree_new(0, &src.tree)) {
		close(fd);
		return 0;
	}
	if (!convert_load(&src) && report && (out = fopen("/dev/null", "w"))) {
		struct convert_report_opts o = { .input = "fuzz", .per_cpu = size & 2,
						  .children = size & 4, .json = size & 8 };

		convert_report_print(report, &o, out, "fuzz");
		fclose(out);
	}
	convert_report_free(report);
	fg_tree_free(src.tree);
	close(fd);
	return 0;
}
