/* libFuzzer harness for convert/'s format sniffing and the reader it picks: the bytes are a
 * file of unknown kind, loaded as kprof parse loads one (into a tree, or into a profile as the
 * JSON outputs need), whatever they are: no crash, no leak. */
#include "convert/convert.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct convert_source src = { .slot = FG_SLOT_MAIN };
	char path[64];
	int fd;

	convert_sniff(data, size);
	fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	src.path = path;
	/* The low bit of the size picks the profile path, so both are explored. */
	src.want_profile = size & 1;
	if (!src.want_profile && fg_tree_new(0, &src.tree)) {
		close(fd);
		return 0;
	}
	convert_load(&src);
	fg_tree_free(src.tree);
	profile_free(src.profile);
	close(fd);
	return 0;
}
