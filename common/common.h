/* common: logging, errors, time, parsing and small buffers shared by every module.
 *
 * Conventions (see shared/STYLE.md): library functions return 0 or a negative errno;
 * only the command line exits.  Messages are one lowercase line that names the thing.
 */
#ifndef KPROF_COMMON_H
#define KPROF_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define KP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define KP_MAX(a, b) ((a) > (b) ? (a) : (b))
#define KP_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Print "kprof: <message>" on stderr and return -1, as git's error() does. */
int kp_error(const char *fmt, ...) KP_PRINTF(1, 2);
/* Print "kprof: <message>" on stderr and return err (a negative errno), for lower layers:
 * "return kp_fail(-EINVAL, \"%s: not an ELF file\", path);". */
int kp_fail(int err, const char *fmt, ...) KP_PRINTF(2, 3);
/* Print "kprof: warning: <message>" on stderr. */
void kp_warn(const char *fmt, ...) KP_PRINTF(1, 2);
/* Print "kprof: <message>" on stderr when verbose logging is on (KPROF_DEBUG set in the environment). */
void kp_debug(const char *fmt, ...) KP_PRINTF(1, 2);

/* Monotonic clock in nanoseconds. */
uint64_t kp_now_ns(void);

/* Parse "64M", "1G", "4096", "2k" (binary units). Returns 0 or -EINVAL / -ERANGE. */
int kp_parse_size(const char *s, uint64_t *out);
/* Parse a whole decimal or 0x-hex unsigned number; rejects trailing junk. */
int kp_parse_u64(const char *s, uint64_t *out);
/* Parse a decimal floating number > 0 (e.g. an interval in seconds). */
int kp_parse_seconds(const char *s, double *out);

/* A set of up to 128 CPUs, like OSDK's u128 mask. */
#define KP_CPUMASK_BITS 128
struct kp_cpumask {
	uint64_t bits[2];
};
/* Decimal or 0x-hex, up to 128 bits. Returns 0 or -EINVAL / -ERANGE. */
int kp_cpumask_parse(const char *s, struct kp_cpumask *m);
void kp_cpumask_all(struct kp_cpumask *m);
bool kp_cpumask_test(const struct kp_cpumask *m, unsigned cpu);
void kp_cpumask_set(struct kp_cpumask *m, unsigned cpu);
/* Hex rendering ("0x3"), buf of at least 35 bytes. */
void kp_cpumask_format(const struct kp_cpumask *m, char *buf, size_t len);

/* A growable byte buffer, always NUL-terminated. */
struct kp_buf {
	char *data;
	size_t len;
	size_t cap;
};
void kp_buf_init(struct kp_buf *b);
void kp_buf_release(struct kp_buf *b);
int kp_buf_reserve(struct kp_buf *b, size_t extra);
int kp_buf_append(struct kp_buf *b, const void *data, size_t len);
int kp_buf_puts(struct kp_buf *b, const char *s);
int kp_buf_putc(struct kp_buf *b, char c);
int kp_buf_printf(struct kp_buf *b, const char *fmt, ...) KP_PRINTF(2, 3);
void kp_buf_reset(struct kp_buf *b);

/* Read a whole file into memory (NUL-terminated). Returns 0 or -errno. */
int kp_read_file(const char *path, char **data, size_t *len);

/* True when two paths name the same file (same device and inode). */
bool kp_same_file(const char *a, const char *b);

/* CRC-32 (the zlib/IEEE polynomial), continuing from crc (0 to start). */
uint32_t kp_crc32(uint32_t crc, const void *data, size_t len);
/* Append data, gzip-compressed, to out.  0 or -ENOMEM / -EIO. */
int kp_gzip(const void *data, size_t len, struct kp_buf *out);
/* Append the decompressed content of one gzip stream to out, at most max bytes: 0, -EINVAL
 * (not gzip, damaged or truncated), -EFBIG (more than max), -ENOMEM. */
int kp_gunzip(const void *data, size_t len, size_t max, struct kp_buf *out);

/* Flush and check a stream that held results: a failed write is an error (as perf does). */
int kp_close_output(FILE *f, const char *name);

#endif
