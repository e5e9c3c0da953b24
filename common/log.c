/* Error, warning and debug messages, one line each on stderr; the monotonic clock. */
#include "common/common.h"

#include <stdlib.h>
#include <time.h>

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];

	/* Format first so that one message is one write: lines from vCPU threads do not interleave. */
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "kprof: %s%s\n", prefix, line);
}

void kp_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

int kp_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	return err;
}

void kp_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

void kp_debug(const char *fmt, ...)
{
	va_list ap;

	if (!getenv("KPROF_DEBUG"))
		return;
	va_start(ap, fmt);
	vreport("debug: ", fmt, ap);
	va_end(ap);
}

int kp_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t a;
	int e = pthread_condattr_init(&a);

	if (!e)
		e = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	if (!e)
		e = pthread_cond_init(cond, &a);
	pthread_condattr_destroy(&a);
	return -e;
}

void kp_deadline(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += ms % 1000 * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

uint64_t kp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
