/* libFuzzer harness for the trace.json reader: any bytes, never a crash, leak or hang.
 * A parsed profile is also written back, filtered and rendered for speedscope. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "profiler/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("trace.json", 0);
	char path[64];
	struct profile *p;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (profile_read_json(path, &p) == 0) {
		FILE *null = fopen("/dev/null", "w");
		struct kp_cpumask m;

		profile_write_json(p, null, "null");
		profile_write_speedscope(p, null, "null");
		kp_cpumask_parse("0x5", &m);
		profile_filter_cpus(p, &m);
		profile_write_json(p, null, "null");
		fclose(null);
		profile_free(p);
	}
	close(fd);
	return 0;
}
