/* zlib, used from this file only: CRC-32 (snapshot checksums) and gzip streams (pprof). */
#include "common/common.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

/* zlib counts in uInt: feed it at most this much at a time. */
#define ZCHUNK (1u << 30)

uint32_t kp_crc32(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		uInt n = len > ZCHUNK ? ZCHUNK : (uInt)len;

		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

/* Give zlib the next piece of the input once it has taken the last. */
static void feed(z_stream *z, size_t *left)
{
	if (!z->avail_in && *left) {
		z->avail_in = *left > ZCHUNK ? ZCHUNK : (uInt)*left;
		*left -= z->avail_in;
	}
}

/* Room for zlib's output at the end of out (grown first), at most max - out->len. */
static int make_room(z_stream *z, struct kp_buf *out, size_t max)
{
	size_t room;

	if (kp_buf_reserve(out, KP_MIN(max - out->len, (size_t)64 * 1024)))
		return -ENOMEM;
	room = KP_MIN(out->cap - out->len - 1, max - out->len);
	z->next_out = (Bytef *)out->data + out->len;
	z->avail_out = room > ZCHUNK ? ZCHUNK : (uInt)room;
	return 0;
}

int kp_gzip(const void *data, size_t len, struct kp_buf *out)
{
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip header and trailer around the deflate stream. */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY))
		return -ENOMEM;
	z.next_in = (Bytef *)data;
	do {
		feed(&z, &len);
		if (make_room(&z, out, SIZE_MAX - 1)) {
			deflateEnd(&z);
			return -ENOMEM;
		}
		rc = deflate(&z, len || z.avail_in ? Z_NO_FLUSH : Z_FINISH);
		out->len = (size_t)((char *)z.next_out - out->data);
	} while (rc == Z_OK || rc == Z_BUF_ERROR);
	deflateEnd(&z);
	if (out->data)
		out->data[out->len] = 0;
	return rc == Z_STREAM_END ? 0 : -EIO;
}

int kp_gunzip(const void *data, size_t len, size_t max, struct kp_buf *out)
{
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16))	/* gzip only */
		return -ENOMEM;
	z.next_in = (Bytef *)data;
	do {
		feed(&z, &len);
		if (out->len >= max) {
			rc = Z_MEM_ERROR;
			break;
		}
		if (make_room(&z, out, max)) {
			inflateEnd(&z);
			return -ENOMEM;
		}
		rc = inflate(&z, Z_NO_FLUSH);
		out->len = (size_t)((char *)z.next_out - out->data);
		/* Out of input before the end of the stream: truncated. */
		if (rc == Z_BUF_ERROR && !z.avail_in && !len)
			break;
	} while (rc == Z_OK || rc == Z_BUF_ERROR);
	inflateEnd(&z);
	if (out->data)
		out->data[out->len] = 0;
	if (rc == Z_STREAM_END)
		return 0;
	return rc == Z_MEM_ERROR && out->len >= max ? -EFBIG : -EINVAL;
}
