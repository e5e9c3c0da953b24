/*
 * workload.c: the per-CPU call chains that profiles of this kernel must show.
 *
 * Every CPU runs cpu_work(), which calls one of four chains chosen by cpu % 4;
 * each chain ends in the shared work_leaf().  All of them are noipa (no
 * inlining, cloning or interprocedural shortcuts) and the guest is built with
 * -fno-optimize-sibling-calls, so the symbol names and the frames a profiler
 * sees are exactly the ones written here:
 *
 *   0 hash:   cpu_work > hash_workload > hash_block > hash_mix > work_leaf
 *   1 sort:   cpu_work > sort_workload > quicksort > quicksort... > partition > work_leaf
 *   2 matrix: cpu_work > matrix_workload > matrix_step (4.6 KiB frame) > dot_row > work_leaf
 *   3 crc:    cpu_work > crc_workload > crc_block > crc_word > work_leaf
 */
#include "kernel.h"

#define WORK __attribute__((noipa))

#define HASH_WORDS 32
#define HASH_BLOCKS 8
#define SORT_N 52
#define GRID 24
#define MATRIX_STEPS 1
#define CRC_WORDS 32
#define CRC_BLOCKS 1

volatile uint64_t work_done[MAX_CPUS];

/* Results are stored here so the compiler cannot drop any of the work. */
static volatile uint64_t work_sink[MAX_CPUS];

static const char *const chain_names[4] = { "hash", "sort", "matrix", "crc" };

const char *chain_name(uint32_t cpu)
{
	return chain_names[cpu % 4];
}

static inline uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* The innermost function of every chain: a 64-bit mixer, pure ALU work. */
WORK uint64_t work_leaf(uint64_t x)
{
	LEAF_FRAME();

	for (int i = 0; i < 3; i++) {
		x ^= x >> 31;
		x *= 0x7fb5d329728ea185ULL;
		x ^= x >> 27;
		x *= 0x81dadef4bc2dd44dULL;
		x ^= x >> 33;
	}
	return x;
}

/* ---- chain 0: hash ---- */
WORK uint64_t hash_mix(uint64_t h, uint64_t w)
{
	h ^= work_leaf(w + h);
	return (h << 23) | (h >> 41);
}

WORK uint64_t hash_block(const uint64_t *words, size_t n, uint64_t seed)
{
	uint64_t h = seed;

	for (size_t i = 0; i < n; i++)
		h = hash_mix(h, words[i]);
	return h;
}

WORK uint64_t hash_workload(uint64_t iter)
{
	uint64_t buf[HASH_WORDS];
	uint64_t s = iter * 0x9e3779b97f4a7c15ULL + 1;
	uint64_t h = 0;

	for (int b = 0; b < HASH_BLOCKS; b++) {
		for (int i = 0; i < HASH_WORDS; i++)
			buf[i] = xorshift(&s);
		h ^= hash_block(buf, HASH_WORDS, h + (uint64_t)b);
	}
	return h;
}

/* ---- chain 1: sort (recursive quicksort on keys computed by work_leaf) ---- */
WORK long partition(uint64_t *a, long lo, long hi)
{
	uint64_t pivot = work_leaf(a[hi]);
	long i = lo;

	for (long j = lo; j < hi; j++) {
		if (work_leaf(a[j]) < pivot) {
			uint64_t t = a[i];
			a[i] = a[j];
			a[j] = t;
			i++;
		}
	}
	uint64_t t = a[i];
	a[i] = a[hi];
	a[hi] = t;
	return i;
}

WORK void quicksort(uint64_t *a, long lo, long hi)
{
	if (lo >= hi)
		return;
	long p = partition(a, lo, hi);
	quicksort(a, lo, p - 1);
	quicksort(a, p + 1, hi);
}

WORK uint64_t sort_workload(uint64_t iter)
{
	uint64_t a[SORT_N];
	uint64_t s = iter * 0xbf58476d1ce4e5b9ULL + 7;
	uint64_t sum = 0;

	for (int i = 0; i < SORT_N; i++)
		a[i] = xorshift(&s);
	quicksort(a, 0, SORT_N - 1);
	for (int i = 0; i < SORT_N; i++)
		sum = sum * 31 + a[i];
	return sum;
}

/* ---- chain 2: matrix (a stencil step in a function with a large frame) ---- */
WORK uint64_t dot_row(const uint64_t *row, const uint64_t *vec, size_t n)
{
	uint64_t sum = 0;

	for (size_t k = 0; k < n; k++) {
		sum += row[k] * vec[k];
		if ((k & 7) == 7)	/* fold every 8 products */
			sum = work_leaf(sum);
	}
	return sum;
}

/* The grid is a local on purpose: this frame is over 4 KiB. */
WORK uint64_t matrix_step(uint64_t seed)
{
	uint64_t grid[GRID][GRID];
	uint64_t vec[GRID];
	uint64_t s = seed | 1;
	uint64_t out = 0;

	for (int r = 0; r < GRID; r++) {
		vec[r] = xorshift(&s);
		for (int c = 0; c < GRID; c++)
			grid[r][c] = (uint64_t)(r * GRID + c) ^ s;
	}
	/* one 4-neighbour stencil pass over the interior */
	for (int r = 1; r < GRID - 1; r++)
		for (int c = 1; c < GRID - 1; c++)
			grid[r][c] += (grid[r - 1][c] + grid[r + 1][c] + grid[r][c - 1] +
				       grid[r][c + 1]) >> 2;
	for (int r = 0; r < GRID; r++)
		out ^= dot_row(grid[r], vec, GRID) + (uint64_t)r;
	return out;
}

WORK uint64_t matrix_workload(uint64_t iter)
{
	uint64_t out = 0;

	for (int i = 0; i < MATRIX_STEPS; i++)
		out += matrix_step(iter * MATRIX_STEPS + (uint64_t)i);
	return out;
}

/* ---- chain 3: crc (CRC-32C, bitwise, folded through work_leaf per word) ---- */
WORK uint64_t crc_word(uint64_t crc, uint64_t w)
{
	uint32_t c = (uint32_t)crc;

	for (int byte = 0; byte < 8; byte++) {
		c ^= (uint8_t)(w >> (8 * byte));
		for (int bit = 0; bit < 8; bit++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
	}
	return c ^ (uint32_t)work_leaf(w ^ c);
}

WORK uint64_t crc_block(const uint64_t *words, size_t n)
{
	uint64_t crc = 0xffffffffu;

	for (size_t i = 0; i < n; i++)
		crc = crc_word(crc, words[i]);
	return crc ^ 0xffffffffu;
}

WORK uint64_t crc_workload(uint64_t iter)
{
	uint64_t buf[CRC_WORDS];
	uint64_t s = iter * 0x94d049bb133111ebULL + 3;
	uint64_t sum = 0;

	for (int b = 0; b < CRC_BLOCKS; b++) {
		for (int i = 0; i < CRC_WORDS; i++)
			buf[i] = xorshift(&s);
		sum = (sum << 32) ^ crc_block(buf, CRC_WORDS);
	}
	return sum;
}

/* ---- the common root ---- */
WORK uint64_t cpu_work(uint32_t cpu, uint64_t iterations)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; iterations == 0 || i < iterations; i++) {
		uint64_t r;

		/* A stage inside the workload, so that a boot profiled by stage has one that
		 * lasts (kprof collect --by-stage): the BSP's second half. */
		if (cpu == 0 && iterations >= 2 && i == iterations / 2)
			boot_time("work_half", rdtsc());

		switch (cpu % 4) {
		case 0:
			r = hash_workload(i);
			break;
		case 1:
			r = sort_workload(i);
			break;
		case 2:
			r = matrix_workload(i);
			break;
		default:
			r = crc_workload(i);
			break;
		}
		sum = sum * 0x100000001b3ULL ^ r;
		work_sink[cpu] = sum;
		work_done[cpu]++;
		if (cpu == user_cpu)
			usermode_run();	/* user=N: as long again at CPL3 */
	}
	return sum;
}
