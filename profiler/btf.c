/* A BTF reader for struct layouts (btf.h).
 *
 * BTF is a header, a type section and a string section.  Each type is a 12-byte record
 * (name offset, info word with kind and vlen, size or type) followed by a kind-specific tail;
 * ids are positions in the section, 1 upwards (0 is void).  Parsing walks the section once to
 * find where each record starts and to check that every tail fits; lookups are then linear
 * scans, which is fine for the handful of questions kprof asks at start-up (a scan of Debian
 * 6.1's 120,000 types takes about a millisecond).  Every read checks its bounds against the
 * copy, so arbitrary bytes give -EINVAL or -ENOENT, never a read outside it.
 */
#include "profiler/btf.h"
#include "profiler/profiler_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BTF_MAGIC 0xeb9f
#define BTF_HDR_MIN 24
#define BTF_MAX_DEPTH 32	/* typedef chains, anonymous nesting, array dimensions */
/* Aggregates one member lookup may search through anonymous members.  Depth alone does not
 * bound the work: a struct whose anonymous members all lead to the next one is searched
 * vlen^depth times.  In Debian 6.1's vmlinux a lookup searches 14 at most (a miss in sk_buff). */
#define BTF_MAX_ANON_SEARCH 4096

enum {
	K_INT = 1, K_PTR, K_ARRAY, K_STRUCT, K_UNION, K_ENUM, K_FWD, K_TYPEDEF, K_VOLATILE,
	K_CONST, K_RESTRICT, K_FUNC, K_FUNC_PROTO, K_VAR, K_DATASEC, K_FLOAT, K_DECL_TAG,
	K_TYPE_TAG, K_ENUM64,
};

struct btf {
	const struct btf *base;
	uint8_t *raw;
	const uint8_t *types;
	uint32_t types_len;
	const char *strs;
	uint32_t strs_len;
	uint32_t start_id;	/* first id defined here: 1, or the base's count */
	uint32_t start_str;	/* string offset of strs[0]: 0, or the base's string total */
	uint32_t n;		/* types defined here */
	uint32_t *off;		/* where each one starts in types */
};

/* One type record, decoded. */
struct btf_t {
	uint32_t name_off;
	unsigned kind;
	unsigned vlen;
	bool kflag;
	uint32_t size_type;
	const uint8_t *tail;	/* the kind-specific part, bounds already checked */
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Bytes of the tail that follows a type record of this kind, or -1 for an unknown kind. */
static long tail_size(unsigned kind, unsigned vlen)
{
	switch (kind) {
	case K_INT: case K_VAR: case K_DECL_TAG: return 4;
	case K_PTR: case K_FWD: case K_TYPEDEF: case K_VOLATILE: case K_CONST: case K_RESTRICT:
	case K_FUNC: case K_FLOAT: case K_TYPE_TAG: return 0;
	case K_ARRAY: return 12;
	case K_STRUCT: case K_UNION: case K_DATASEC: case K_ENUM64: return 12L * vlen;
	case K_ENUM: case K_FUNC_PROTO: return 8L * vlen;
	default: return -1;
	}
}

static uint32_t str_total(const struct btf *b)
{
	return b->start_str + b->strs_len;
}

/* The NUL-terminated string at offset off, or NULL when off is outside every string section
 * (the section's last byte is checked to be NUL at parse time). */
static const char *str_at(const struct btf *b, uint32_t off)
{
	if (off < b->start_str)
		return b->base ? str_at(b->base, off) : NULL;
	off -= b->start_str;
	return off < b->strs_len ? b->strs + off : NULL;
}

static bool type_at(const struct btf *b, uint32_t id, struct btf_t *t)
{
	const uint8_t *p;
	uint32_t info;

	if (id < b->start_id)
		return b->base && type_at(b->base, id, t);
	if (id - b->start_id >= b->n)
		return false;
	p = b->types + b->off[id - b->start_id];
	info = rd32(p + 4);
	t->name_off = rd32(p);
	t->vlen = info & 0xffff;
	t->kind = (info >> 24) & 0x1f;
	t->kflag = info >> 31;
	t->size_type = rd32(p + 8);
	t->tail = p + 12;
	return true;
}

uint32_t btf_type_count(const struct btf *b)
{
	return b->start_id + b->n;
}

static int index_types(struct btf *b)
{
	uint32_t pos = 0, cap = 0;

	while (pos < b->types_len) {
		long tail;
		uint32_t info;

		if (b->types_len - pos < 12)
			return -EINVAL;
		info = rd32(b->types + pos + 4);
		tail = tail_size((info >> 24) & 0x1f, info & 0xffff);
		if (tail < 0 || (uint64_t)b->types_len - pos - 12 < (uint64_t)tail)
			return -EINVAL;
		if (b->n == cap) {
			uint32_t *o;

			cap = cap ? 2 * cap : 1024;
			o = realloc(b->off, (size_t)cap * sizeof(*o));
			if (!o)
				return -ENOMEM;
			b->off = o;
		}
		if ((uint64_t)b->start_id + b->n + 1 > UINT32_MAX)
			return -EINVAL;
		b->off[b->n++] = pos;
		pos += 12 + (uint32_t)tail;
	}
	return 0;
}

int btf_parse(const void *data, size_t len, const struct btf *base, struct btf **out)
{
	const uint8_t *d = data;
	uint32_t hdr_len, type_off, type_len, str_off, str_len;
	struct btf *b;
	int ret;

	*out = NULL;
	if (len < BTF_HDR_MIN || len > UINT32_MAX || d[0] != (BTF_MAGIC & 0xff) ||
	    d[1] != BTF_MAGIC >> 8 || d[2] != 1)
		return -EINVAL;
	hdr_len = rd32(d + 4);
	type_off = rd32(d + 8);
	type_len = rd32(d + 12);
	str_off = rd32(d + 16);
	str_len = rd32(d + 20);
	if (hdr_len < BTF_HDR_MIN || hdr_len > len ||
	    (uint64_t)type_off + type_len > len - hdr_len ||
	    (uint64_t)str_off + str_len > len - hdr_len)
		return -EINVAL;
	/* vlen tails are read as 4-byte words; the strings must end in NUL; vmlinux's string
	 * section starts with the empty string (offset 0 is "no name"). */
	if (str_len && d[hdr_len + str_off + str_len - 1] != 0)
		return -EINVAL;
	if (!base && (!str_len || d[hdr_len + str_off] != 0))
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->raw = malloc(len);
	if (!b->raw) {
		free(b);
		return -ENOMEM;
	}
	memcpy(b->raw, d, len);
	b->base = base;
	b->types = b->raw + hdr_len + type_off;
	b->types_len = type_len;
	b->strs = (const char *)b->raw + hdr_len + str_off;
	b->strs_len = str_len;
	b->start_id = base ? btf_type_count(base) : 1;
	b->start_str = base ? str_total(base) : 0;
	if ((uint64_t)b->start_str + str_len > UINT32_MAX) {
		btf_free(b);
		return -EINVAL;
	}
	if ((ret = index_types(b))) {
		btf_free(b);
		return ret;
	}
	*out = b;
	return 0;
}

int btf_from_symtab(const struct symtab *st, const char *path, const struct btf *base,
		    struct btf **out)
{
	const void *data;
	size_t len;
	uint64_t addr;
	int ret;

	*out = NULL;
	if (symtab_section(st, ".BTF", &data, &len, &addr) || !data)
		return -ENOENT;
	ret = btf_parse(data, len, base, out);
	if (ret == -EINVAL)
		return kp_fail(ret, "%s: the .BTF section is not valid BTF", path);
	return ret;
}

void btf_free(struct btf *b)
{
	if (!b)
		return;
	free(b->off);
	free(b->raw);
	free(b);
}

/* Through typedefs and qualifiers to the type that has a layout. */
static int resolve(const struct btf *b, uint32_t id, uint32_t *out, struct btf_t *t)
{
	for (int depth = 0; depth < BTF_MAX_DEPTH; depth++) {
		if (!type_at(b, id, t))
			return -EINVAL;
		switch (t->kind) {
		case K_TYPEDEF: case K_VOLATILE: case K_CONST: case K_RESTRICT: case K_TYPE_TAG:
			id = t->size_type;
			continue;
		default:
			*out = id;
			return 0;
		}
	}
	return -EINVAL;
}

static int type_size(const struct btf *b, uint32_t id, int depth, uint64_t *size)
{
	struct btf_t t;
	int ret;

	if (depth > BTF_MAX_DEPTH)
		return -EINVAL;
	if ((ret = resolve(b, id, &id, &t)))
		return ret;
	switch (t.kind) {
	case K_INT: case K_ENUM: case K_ENUM64: case K_STRUCT: case K_UNION: case K_FLOAT:
	case K_DATASEC:
		*size = t.size_type;
		return 0;
	case K_PTR:
		*size = 8;	/* x86-64 */
		return 0;
	case K_ARRAY: {
		uint64_t elem;
		uint32_t n = rd32(t.tail + 8);

		if ((ret = type_size(b, rd32(t.tail), depth + 1, &elem)))
			return ret;
		if (elem && n > UINT64_MAX / elem)
			return -EINVAL;
		*size = elem * n;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

static bool is_aggregate(unsigned kind)
{
	return kind == K_STRUCT || kind == K_UNION;
}

/* The named type: "struct X" and "union X" want that kind, "enum X" an enum, a bare name
 * a struct or union first, then a typedef.  Forward declarations have no layout. */
static int find_type(const struct btf *b, const char *spec, uint32_t *id)
{
	int want = 0;	/* 0: struct/union, then typedef */
	uint32_t typedef_id = 0;
	uint32_t count = btf_type_count(b);

	if (!strncmp(spec, "struct ", 7))
		want = K_STRUCT, spec += 7;
	else if (!strncmp(spec, "union ", 6))
		want = K_UNION, spec += 6;
	else if (!strncmp(spec, "enum ", 5))
		want = K_ENUM, spec += 5;
	if (!*spec)
		return -EINVAL;
	for (uint32_t i = 1; i < count; i++) {
		struct btf_t t;
		const char *name;

		if (!type_at(b, i, &t) || !t.name_off || !(name = str_at(b, t.name_off)) ||
		    strcmp(name, spec))
			continue;
		if (want == K_ENUM ? (t.kind == K_ENUM || t.kind == K_ENUM64) :
		    want ? t.kind == (unsigned)want : is_aggregate(t.kind)) {
			*id = i;
			return 0;
		}
		if (!want && t.kind == K_TYPEDEF && !typedef_id)
			typedef_id = i;
	}
	if (typedef_id) {
		*id = typedef_id;
		return 0;
	}
	return -ENOENT;
}

/* Member name (len bytes) of aggregate sid, searching anonymous members as C does.
 * *bits gets its offset in bits, *bitsize its bit-field width (0: not a bit-field).  *left
 * counts down the aggregates this lookup may still search (BTF_MAX_ANON_SEARCH). */
static int find_member(const struct btf *b, uint32_t sid, const char *name, size_t len,
		       int depth, unsigned *left, uint64_t *bits, uint32_t *bitsize,
		       uint32_t *mtype)
{
	struct btf_t t;

	if (depth > BTF_MAX_DEPTH || !*left || !type_at(b, sid, &t) || !is_aggregate(t.kind))
		return -EINVAL;
	--*left;
	for (unsigned i = 0; i < t.vlen; i++) {
		const uint8_t *m = t.tail + 12 * i;
		uint32_t moff = rd32(m + 8), mt = rd32(m + 4);
		uint32_t boff = t.kflag ? moff & 0xffffff : moff;
		uint32_t bsz = t.kflag ? moff >> 24 : 0;
		const char *mname = str_at(b, rd32(m));

		if (!mname)
			continue;
		if (!*mname) {
			struct btf_t at;
			uint32_t aid;
			uint64_t inner;

			if (resolve(b, mt, &aid, &at) || !is_aggregate(at.kind) ||
			    find_member(b, aid, name, len, depth + 1, left, &inner, bitsize,
					mtype))
				continue;
			*bits = boff + inner;
			return 0;
		}
		if (strlen(mname) != len || memcmp(mname, name, len))
			continue;
		*bits = boff;
		*bitsize = bsz;
		*mtype = mt;
		return 0;
	}
	return *left ? -ENOENT : -EINVAL;
}

/* An index inside [...]: a number (decimal or 0x hex) or an enumerator's name. */
static int parse_index(const struct btf *b, const char *s, size_t len, uint64_t *idx)
{
	char buf[128];
	char *end;
	int64_t v;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (isdigit((unsigned char)buf[0])) {
		errno = 0;
		*idx = strtoull(buf, &end, 0);
		return *end || errno ? -EINVAL : 0;
	}
	if (btf_enum_value(b, buf, &v))
		return -ENOENT;
	if (v < 0)
		return -ERANGE;
	*idx = (uint64_t)v;
	return 0;
}

static bool is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

int btf_member(const struct btf *b, const char *type, const char *path, struct btf_field *out)
{
	uint32_t cur;
	struct btf_t t;
	uint64_t bits = 0;
	uint32_t bitsize = 0;
	const char *p = path;
	unsigned left;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = find_type(b, type, &cur)) || (ret = resolve(b, cur, &cur, &t)))
		return ret;
	while (*p) {
		const char *name = p;
		uint64_t mbits;
		uint32_t mtype;

		if (bitsize)
			return -EINVAL;	/* nothing lies inside a bit-field */
		while (is_ident(*p))
			p++;
		if (p == name)
			return -EINVAL;
		if (!is_aggregate(t.kind))
			return -EINVAL;
		left = BTF_MAX_ANON_SEARCH;
		if ((ret = find_member(b, cur, name, (size_t)(p - name), 0, &left, &mbits,
				       &bitsize, &mtype)))
			return ret;
		bits += mbits;
		if ((ret = resolve(b, mtype, &cur, &t)))
			return ret;
		while (*p == '[') {
			const char *s = ++p;
			uint64_t idx, elem;
			uint32_t n;

			while (*p && *p != ']')
				p++;
			if (*p != ']' || t.kind != K_ARRAY || bitsize)
				return -EINVAL;
			if ((ret = parse_index(b, s, (size_t)(p - s), &idx)))
				return ret;
			p++;
			n = rd32(t.tail + 8);
			if (idx >= n)
				return -ERANGE;
			if ((ret = type_size(b, rd32(t.tail), 0, &elem)))
				return ret;
			if (elem > (UINT64_MAX / 8 - bits / 8) / (idx + 1))
				return -EINVAL;
			bits += idx * elem * 8;
			if ((ret = resolve(b, rd32(t.tail), &cur, &t)))
				return ret;
		}
		if (*p == '.' && p[1])
			p++;
		else if (*p)
			return -EINVAL;
	}
	out->offset = bits / 8;
	out->type_id = cur;
	if (bitsize) {
		out->bit_offset = (uint32_t)(bits & 0xffffffff);
		out->bit_size = bitsize;
		out->size = (bitsize + 7) / 8;
		return 0;
	}
	if (bits % 8)
		return -EINVAL;
	return type_size(b, cur, 0, &out->size);
}

int btf_sizeof(const struct btf *b, const char *type, uint64_t *size)
{
	uint32_t id;
	int ret;

	if ((ret = find_type(b, type, &id)))
		return ret;
	return type_size(b, id, 0, size);
}

int btf_enum_value(const struct btf *b, const char *name, int64_t *value)
{
	uint32_t count = btf_type_count(b);

	for (uint32_t i = 1; i < count; i++) {
		struct btf_t t;

		if (!type_at(b, i, &t) || (t.kind != K_ENUM && t.kind != K_ENUM64))
			continue;
		for (unsigned k = 0; k < t.vlen; k++) {
			const uint8_t *e = t.tail + (t.kind == K_ENUM ? 8 : 12) * k;
			const char *ename = str_at(b, rd32(e));

			if (!ename || strcmp(ename, name))
				continue;
			if (t.kind == K_ENUM64)
				*value = (int64_t)(rd32(e + 4) | (uint64_t)rd32(e + 8) << 32);
			else	/* kind_flag marks a signed enum */
				*value = t.kflag ? (int64_t)(int32_t)rd32(e + 4) : rd32(e + 4);
			return 0;
		}
	}
	return -ENOENT;
}

int btf_var_offset(const struct btf *b, const char *section, const char *var, uint64_t *offset,
		   uint64_t *size)
{
	uint32_t count = btf_type_count(b);

	for (uint32_t i = 1; i < count; i++) {
		struct btf_t t;
		const char *name;

		if (!type_at(b, i, &t) || t.kind != K_DATASEC ||
		    !(name = str_at(b, t.name_off)) || strcmp(name, section))
			continue;
		for (unsigned k = 0; k < t.vlen; k++) {
			const uint8_t *v = t.tail + 12 * k;
			struct btf_t vt;
			const char *vname;

			if (!type_at(b, rd32(v), &vt) || vt.kind != K_VAR ||
			    !(vname = str_at(b, vt.name_off)) || strcmp(vname, var))
				continue;
			*offset = rd32(v + 4);
			if (size)
				*size = rd32(v + 8);
			return 0;
		}
	}
	return -ENOENT;
}
