/* Growable buffers and whole-file helpers. */
#include "common/common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void kp_buf_init(struct kp_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void kp_buf_release(struct kp_buf *b)
{
	free(b->data);
	kp_buf_init(b);
}

void kp_buf_reset(struct kp_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

int kp_buf_reserve(struct kp_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return -ENOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int kp_buf_append(struct kp_buf *b, const void *data, size_t len)
{
	int r = kp_buf_reserve(b, len);

	if (r)
		return r;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = 0;
	return 0;
}

int kp_buf_puts(struct kp_buf *b, const char *s)
{
	return kp_buf_append(b, s, strlen(s));
}

int kp_buf_putc(struct kp_buf *b, char c)
{
	return kp_buf_append(b, &c, 1);
}

int kp_buf_printf(struct kp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	r = kp_buf_reserve(b, (size_t)n);
	if (r)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int kp_read_file(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct kp_buf b;
	char chunk[65536];
	size_t n;
	int r = 0;

	if (!f)
		return -errno;
	kp_buf_init(&b);
	if (kp_buf_reserve(&b, 0)) {
		fclose(f);
		return -ENOMEM;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		r = kp_buf_append(&b, chunk, n);
		if (r)
			break;
	}
	if (!r && ferror(f))
		r = -EIO;
	fclose(f);
	if (r) {
		kp_buf_release(&b);
		return r;
	}
	*data = b.data;
	*len = b.len;
	return 0;
}

bool kp_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) || stat(b, &sb))
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int kp_close_output(FILE *f, const char *name)
{
	int err = fflush(f) != 0 || ferror(f) ? (errno ? errno : EIO) : 0;

	if (f != stdout && f != stderr && fclose(f) != 0 && !err)
		err = errno ? errno : EIO;
	return err ? kp_fail(-err, "%s: write failed: %s", name, strerror(err)) : 0;
}
