/* libFuzzer: any file given to `kprof run --restore` -> the header checks, and any state
 * section -> the record walk (the state's CRC is made to match, so mutations reach the
 * records).  Neither may read outside its buffer (ASan watches). */
#include "vmm/snapshot_format.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_view v;
	char err[160];
	/* Exact-size copies, so a read one byte past the end is caught. */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	vmm_snap_check_header(copy, size < sizeof(v.h) ? size : sizeof(v.h), size, &v.h, err,
			      sizeof(err));

	/* The input as the state of a 1-vCPU, 128 MiB snapshot with 4 memory extents (as the
	 * seed in tests/fuzz/corpus/snapshot/ is). */
	memset(&v, 0, sizeof(v));
	v.h.ncpus = 1;
	v.h.mem_size = 128u << 20;
	v.h.nextents = 4;
	v.h.mem_offset = SNAP_PAGE;
	v.h.file_size = 1u << 30;
	v.h.state_size = size;
	v.state = (char *)copy;
	v.h.state_crc = vmm_snap_crc(0, copy, size);
	if (vmm_snap_index_state(&v, err, sizeof(err)) == 0) {
		for (uint32_t i = 0; i < v.h.nextents; i++)
			if (v.ext[i].gpa + v.ext[i].npages * SNAP_PAGE > v.h.mem_size)
				abort();	/* an accepted extent must lie inside guest RAM */
	}
	free(copy);
	return 0;
}
