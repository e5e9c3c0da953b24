/* Source of the ELF seeds for fuzz_symtab and fuzz_cfi (make_elf_seeds.sh): a few calls,
 * an inlined function, a variable-size frame, so the seeds carry symbols, CFI and inline DIEs. */
struct pair { long a, b; };
static inline __attribute__((always_inline)) long mix(long x) { return x * 31 + (x >> 3); }
__attribute__((noinline)) long leaf(volatile long *p) { return mix(*p) + 1; }
__attribute__((noinline)) long mid(long n) { volatile long v[8]; long s = 0; for (long i = 0; i < n; i++) { v[i & 7] = i; s += leaf(&v[i & 7]); } return s; }
__attribute__((noinline)) long top(long n) { long buf[n & 15]; buf[0] = n; return mid(buf[0]) + mid(n + 1); }
void _start(void) { volatile long r = top(5); (void)r; for (;;) __asm__ volatile("hlt"); }
