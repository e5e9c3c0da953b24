/* The peer's register layout: read from its target.xml (following xi:include, as QEMU
 * splits its description into several annexes), or gdb's amd64 default when it has none. */
#include "gdbstub/client_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define GC_MAX_XML (256 * 1024)
#define GC_MAX_DEPTH 4
#define GC_MAX_REGS 256

static const char *const field_names[GC_NFIELDS] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	"rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs",
	"fs_base", "gs_base", "k_gs_base", "cr0", "cr2", "cr3", "cr4", "cr8", "efer",
};

struct xml_reg {
	char name[24];
	int bits;
	long num;
};

struct reg_list {
	struct xml_reg r[GC_MAX_REGS];
	int n;
	long next_num;
};

/* Read a whole annex with qXfer, in PacketSize-bounded pieces. */
static int read_annex(struct gclient *c, const char *annex, struct kp_buf *xml)
{
	size_t chunk = c->packet_size > 64 ? c->packet_size / 2 : 1024;

	for (;;) {
		ssize_t n;
		int e;

		if (strlen(annex) > 100)
			return -EINVAL;
		e = gc_request(c, "qXfer:features:read:%s:%zx,%zx", annex, xml->len, chunk);
		if (e)
			return e;
		if (c->reply.len < 1 || (c->reply.data[0] != 'm' && c->reply.data[0] != 'l'))
			return c->reply.len ? -EIO : -ENOTSUP;
		n = rsp_unescape(c->reply.data + 1, c->reply.len - 1);
		if (n < 0 || xml->len + (size_t)n > GC_MAX_XML)
			return -EPROTO;
		kp_buf_append(xml, c->reply.data + 1, (size_t)n);
		if (c->reply.data[0] == 'l' || n == 0)
			return 0;
	}
}

/* The value of attribute attr in the tag that starts at tag and ends at end. */
static bool attr(const char *tag, const char *end, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	for (const char *p = tag; (p = strstr(p, name)) && p < end; p++) {
		const char *q;
		size_t len;

		if (p == tag || (p[-1] != ' ' && p[-1] != '\t' && p[-1] != '\n') ||
		    strncmp(p + nl, "=\"", 2))
			continue;
		q = strchr(p + nl + 2, '"');
		if (!q || q > end)
			return false;
		len = (size_t)(q - (p + nl + 2));
		if (len >= cap)
			return false;
		memcpy(out, p + nl + 2, len);
		out[len] = 0;
		return true;
	}
	return false;
}

static int scan_xml(struct gclient *c, const char *annex, struct reg_list *regs, int depth)
{
	struct kp_buf xml;
	const char *p;
	int e;

	if (depth > GC_MAX_DEPTH)
		return -ELOOP;
	kp_buf_init(&xml);
	e = read_annex(c, annex, &xml);
	for (p = xml.data; !e && p && (p = strchr(p, '<'));) {
		const char *end = strchr(p, '>');
		char v[64];

		/* QEMU comments registers out: a comment is not a description. */
		if (!strncmp(p, "<!--", 4)) {
			p = strstr(p + 4, "-->");
			continue;
		}
		if (!end)
			break;
		if (!strncmp(p, "<xi:include", 11) && attr(p, end, "href", v, sizeof(v))) {
			e = scan_xml(c, v, regs, depth + 1);
		} else if (!strncmp(p, "<reg", 4) && (p[4] == ' ' || p[4] == '\n')) {
			struct xml_reg *r = &regs->r[regs->n];

			if (regs->n == GC_MAX_REGS)
				break;
			if (!attr(p, end, "name", r->name, sizeof(r->name)))
				r->name[0] = 0;
			r->bits = attr(p, end, "bitsize", v, sizeof(v)) ? atoi(v) : 0;
			if (attr(p, end, "regnum", v, sizeof(v)))
				regs->next_num = atol(v);
			r->num = regs->next_num++;
			if (r->bits <= 0 || r->bits % 8 || r->bits > 1024) {
				e = -EPROTO;
				break;
			}
			regs->n++;
		}
		p = end;
	}
	kp_buf_release(&xml);
	return e;
}

static int by_num(const void *a, const void *b)
{
	const struct xml_reg *x = a, *y = b;

	return (x->num > y->num) - (x->num < y->num);
}

static void default_layout(struct gclient *c)
{
	/* gdb's amd64 g packet starts with 16 GPRs, rip, eflags and six 32-bit segments. */
	int off = 0;

	for (int i = 0; i < GC_NFIELDS; i++)
		c->layout[i] = (struct gc_reg){ -1, 0 };
	for (int i = 0; i <= GC_GS; i++) {
		int b = i < GC_EFLAGS ? 8 : 4;

		c->layout[i] = (struct gc_reg){ off, b };
		off += b;
	}
}

int gc_learn_layout(struct gclient *c)
{
	struct reg_list *regs = calloc(1, sizeof(*regs));
	int e, off = 0;

	if (!regs)
		return -ENOMEM;
	e = scan_xml(c, "target.xml", regs, 0);
	if (e || regs->n == 0) {
		free(regs);
		default_layout(c);
		return e == -ENOTSUP || e == 0 ? 0 : e;
	}
	qsort(regs->r, (size_t)regs->n, sizeof(regs->r[0]), by_num);
	for (int i = 0; i < GC_NFIELDS; i++)
		c->layout[i] = (struct gc_reg){ -1, 0 };
	for (int i = 0; i < regs->n; i++) {
		for (int f = 0; f < GC_NFIELDS; f++)
			if (!strcmp(regs->r[i].name, field_names[f]) && regs->r[i].bits <= 64)
				c->layout[f] = (struct gc_reg){ off, regs->r[i].bits / 8 };
		off += regs->r[i].bits / 8;
	}
	free(regs);
	return 0;
}

static void *field_ptr(struct target_regs *r, int f)
{
	if (f < GC_RIP)
		return &r->gpr[f - GC_GPR0];
	switch (f) {
	case GC_RIP: return &r->rip;
	case GC_EFLAGS: return &r->rflags;
	case GC_CS: return &r->cs;
	case GC_SS: return &r->ss;
	case GC_DS: return &r->ds;
	case GC_ES: return &r->es;
	case GC_FS: return &r->fs;
	case GC_GS: return &r->gs;
	case GC_FS_BASE: return &r->fs_base;
	case GC_GS_BASE: return &r->gs_base;
	case GC_K_GS_BASE: return &r->k_gs_base;
	case GC_CR0: return &r->cr0;
	case GC_CR2: return &r->cr2;
	case GC_CR3: return &r->cr3;
	case GC_CR4: return &r->cr4;
	case GC_CR8: return &r->cr8;
	default: return &r->efer;
	}
}

int gc_decode_regs(const struct gclient *c, const char *hex, size_t n, struct target_regs *r)
{
	memset(r, 0, sizeof(*r));
	for (int f = 0; f < GC_NFIELDS; f++) {
		const struct gc_reg *l = &c->layout[f];
		uint8_t b[8];
		uint64_t v = 0;

		if (l->offset < 0 || 2 * (size_t)(l->offset + l->bytes) > n)
			continue;	/* not described, or not sent */
		if (rsp_hex_decode(hex + 2 * l->offset, (size_t)l->bytes, b))
			continue;	/* 'x': unavailable */
		for (int i = l->bytes - 1; i >= 0; i--)
			v = v << 8 | b[i];
		if (f >= GC_CS && f <= GC_GS)
			*(uint32_t *)field_ptr(r, f) = (uint32_t)v;
		else
			*(uint64_t *)field_ptr(r, f) = v;
	}
	return c->layout[GC_RIP].offset >= 0 ? 0 : -EPROTO;
}
