/* common: logging, errors, time, parsing, CPU masks, buffers and files, shared by every
 * module.
 *
 * Conventions: library functions return 0 or a negative errno (kp_fail below); only the
 * command line exits.  Messages are one lowercase line that names the thing.
 */
#ifndef KPROF_COMMON_H
#define KPROF_COMMON_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define KP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define KP_MAX(a, b) ((a) > (b) ? (a) : (b))
#define KP_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* The error convention: a function returns 0 or a negative errno, and the one message is
 * printed once, by the level that knows the input's name.  kp_fail prints "kprof: <message>"
 * on stderr and returns err: "return kp_fail(-EINVAL, \"%s: not an ELF file\", path);".
 * kp_error only prints, for a caller that goes on or cleans up before it returns (a
 * "kp_error(...); return -EINVAL;" with nothing between is kp_fail written long). */
int kp_fail(int err, const char *fmt, ...) KP_PRINTF(2, 3);
void kp_error(const char *fmt, ...) KP_PRINTF(1, 2);
/* Print "kprof: warning: <message>" on stderr. */
void kp_warn(const char *fmt, ...) KP_PRINTF(1, 2);
/* Print "kprof: <message>" on stderr when verbose logging is on (KPROF_DEBUG set in the environment). */
void kp_debug(const char *fmt, ...) KP_PRINTF(1, 2);

/* Monotonic clock in nanoseconds. */
uint64_t kp_now_ns(void);
/* Timed waits run on the monotonic clock, so a change of the wall clock neither cuts them
 * short nor stretches them: a condition variable initialised by kp_cond_init, waited on with
 * pthread_cond_timedwait until the deadline kp_deadline sets ms milliseconds from now. */
int kp_cond_init(pthread_cond_t *cond);
void kp_deadline(struct timespec *ts, long ms);

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

/* The length of the valid UTF-8 sequence at s (at most n bytes, n >= 1) and its code point
 * in *cp, or 0 when s does not start one: overlong forms, surrogates and code points above
 * U+10FFFF are not valid. */
size_t kp_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);
/* Write str as a JSON string, quoted: '"', '\\' and control characters escaped, valid UTF-8
 * as is, any other byte as the code point of the same value (\u00XX), so the output is valid
 * JSON whatever the input. */
void kp_json_string(FILE *f, const char *str);
/* CRC-32 (the zlib/IEEE polynomial), continuing from crc (0 to start). */
uint32_t kp_crc32(uint32_t crc, const void *data, size_t len);
/* Append data, gzip-compressed, to out.  0 or -ENOMEM / -EIO. */
int kp_gzip(const void *data, size_t len, struct kp_buf *out);
/* Append the decompressed content of one gzip stream to out, at most max bytes: 0, -EINVAL
 * (not gzip, damaged or truncated), -EFBIG (more than max), -ENOMEM. */
int kp_gunzip(const void *data, size_t len, size_t max, struct kp_buf *out);

/* ---- command-line options (common/options.c), one table per command as perf's
 * parse-options: a row says an option's name, its argument and where the value goes, and the
 * same rows print the command's --help.  Adding an option is one row and one field. ---- */
enum kp_opt_kind {
	KP_OPT_FLAG,	/* no argument: stores .value (1 when 0) in a bool, int or enum field */
	KP_OPT_STR,	/* a string, kept as given (argv's own pointer) */
	KP_OPT_PATH,	/* a string that must not be empty ("empty file name") */
	KP_OPT_UINT,	/* a decimal or 0x-hex number in [min, max], "not a <what> from..." */
	KP_OPT_SIZE,	/* 64M, 1G...; a bare number times .scale; in [min, max], a multiple of
			 * .align when set; "out of range (<what>)" */
	KP_OPT_DOUBLE,	/* a decimal number in [dmin, dmax] */
	KP_OPT_ENUM,	/* one of .choices; stores its value in an int or enum field */
	KP_OPT_CALL,	/* .set(target, opt, arg) checks and stores (arg NULL: no argument) */
};

struct kp_opt_choice {
	const char *name;
	int value;
};

struct kp_opt {
	const char *name;	/* long name without "--"; NULL (with short_name) for a short one only */
	char short_name;	/* 'o' for -o; 0: none */
	enum kp_opt_kind kind;
	const char *arg;	/* the value's name in --help ("FILE"); NULL: takes no value */
	const char *help;	/* '\n' between lines; NULL: not listed (an alias) */
	size_t offset, size;	/* the field in the group's target (KP_OPT_FIELD) */
	bool optional;		/* the value only as --name=VALUE; without it .value is stored */
	int value;		/* KP_OPT_FLAG and optional KP_OPT_ENUM: what the bare option stores */
	uint64_t min, max;	/* KP_OPT_UINT, KP_OPT_SIZE */
	uint64_t scale, align;	/* KP_OPT_SIZE */
	double dmin, dmax;	/* KP_OPT_DOUBLE */
	const char *what;	/* KP_OPT_UINT: the noun ("count"); SIZE: the range in words; ENUM:
				 * the choices in words (default "a, b or c") */
	const struct kp_opt_choice *choices;	/* KP_OPT_ENUM, ended by a NULL name */
	int (*set)(void *target, const struct kp_opt *opt, const char *arg);	/* KP_OPT_CALL */
};
#define KP_OPT_FIELD(type, field) .offset = offsetof(type, field), .size = sizeof(((type *)0)->field)
#define KP_OPT_END { .name = NULL }

/* A table and the struct its rows write.  A tail group is only matched after the options of
 * the groups before it have ended: at "--" or at the first argument none of them takes
 * (`kprof collect [options] -- [run options] KERNEL.elf`).  When two groups have a row of the
 * same name, the first one's is used and listed. */
struct kp_opt_group {
	const char *title;	/* printed before the group's rows in --help ("\noptions:"), or NULL */
	const struct kp_opt *opts;
	void *target;
	bool tail;
};

struct kp_opts {
	const char *cmd;	/* "collect": "see 'kprof collect --help'" */
	const char *usage;	/* --help's text before the options */
	const char *epilog;	/* ... and after them, or NULL */
	const struct kp_opt_group *groups;
	size_t ngroups;
	/* Called with each argument that is no option, in order (after "--" every argument is
	 * one); 0 or -errno after printing.  NULL: any such argument is an error. */
	int (*operand)(void *ctx, const char *arg);
	void *ctx;
};

/* Parse argv[*next...] (argv[0], the command's name, is not looked at unless *next is 0).
 * Returns 0, KP_OPTS_HELP after printing --help on stdout (-h, --help), or -EINVAL after one
 * line naming the option.  On 0, *next is where a tail group began taking arguments (argc
 * when none did). */
#define KP_OPTS_HELP 1
int kp_opts_parse(const struct kp_opts *c, int argc, char **argv, int *next);
void kp_opts_help(const struct kp_opts *c, FILE *f);

/* Flush and check a stream that held results: a failed write is an error (as perf does). */
int kp_close_output(FILE *f, const char *name);

#endif
