/* The x86-64 register file as gdb sees it: the target.xml we serve and the g/p packet
 * layout derived from the same table, so the two can never disagree.
 *
 * gdb's amd64 support insists on the x87 and SSE registers being described even when
 * a stub cannot read them; we describe them and send them as unavailable ('x' digits),
 * which gdb shows as <unavailable> instead of inventing values.
 */
#include "gdbstub/rsp.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define NO_FIELD ((size_t)-1)

struct x86_reg {
	const char *name;
	int bytes;		/* size in the g packet */
	size_t off;		/* offset in struct target_regs, or NO_FIELD: unavailable */
	int field_bytes;	/* size of that field (4 for segments, 8 otherwise) */
};

#define GPR(n, i) { n, 8, offsetof(struct target_regs, gpr) + 8 * (i), 8 }
#define R64(n, f) { n, 8, offsetof(struct target_regs, f), 8 }
#define R32(n, f) { n, 4, offsetof(struct target_regs, f), 4 }
#define NONE(n, b) { n, b, NO_FIELD, 0 }

static const struct x86_reg regs[] = {
	GPR("rax", TREG_RAX), GPR("rbx", TREG_RBX), GPR("rcx", TREG_RCX), GPR("rdx", TREG_RDX),
	GPR("rsi", TREG_RSI), GPR("rdi", TREG_RDI), GPR("rbp", TREG_RBP), GPR("rsp", TREG_RSP),
	GPR("r8", TREG_R8), GPR("r9", TREG_R9), GPR("r10", TREG_R10), GPR("r11", TREG_R11),
	GPR("r12", TREG_R12), GPR("r13", TREG_R13), GPR("r14", TREG_R14), GPR("r15", TREG_R15),
	R64("rip", rip),
	/* eflags is 32 bits wide in gdb's layout; the upper half of rflags is reserved. */
	{ "eflags", 4, offsetof(struct target_regs, rflags), 8 },
	R32("cs", cs), R32("ss", ss), R32("ds", ds), R32("es", es), R32("fs", fs), R32("gs", gs),
	NONE("st0", 10), NONE("st1", 10), NONE("st2", 10), NONE("st3", 10),
	NONE("st4", 10), NONE("st5", 10), NONE("st6", 10), NONE("st7", 10),
	NONE("fctrl", 4), NONE("fstat", 4), NONE("ftag", 4), NONE("fiseg", 4),
	NONE("fioff", 4), NONE("foseg", 4), NONE("fooff", 4), NONE("fop", 4),
	NONE("xmm0", 16), NONE("xmm1", 16), NONE("xmm2", 16), NONE("xmm3", 16),
	NONE("xmm4", 16), NONE("xmm5", 16), NONE("xmm6", 16), NONE("xmm7", 16),
	NONE("xmm8", 16), NONE("xmm9", 16), NONE("xmm10", 16), NONE("xmm11", 16),
	NONE("xmm12", 16), NONE("xmm13", 16), NONE("xmm14", 16), NONE("xmm15", 16),
	NONE("mxcsr", 4),
	R64("fs_base", fs_base), R64("gs_base", gs_base),
	R64("k_gs_base", k_gs_base),
	R64("cr0", cr0), R64("cr2", cr2), R64("cr3", cr3), R64("cr4", cr4), R64("cr8", cr8),
	R64("efer", efer),
};

/* Register numbers are implicit: gdb numbers the <reg> elements in document order. */
static const char target_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n"
	"<architecture>i386:x86-64</architecture>\n"
	"<feature name=\"org.gnu.gdb.i386.core\">\n"
	"<flags id=\"x86_eflags\" size=\"4\">\n"
	"<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"PF\" start=\"2\" end=\"2\"/>\n"
	"<field name=\"AF\" start=\"4\" end=\"4\"/><field name=\"ZF\" start=\"6\" end=\"6\"/>\n"
	"<field name=\"SF\" start=\"7\" end=\"7\"/><field name=\"TF\" start=\"8\" end=\"8\"/>\n"
	"<field name=\"IF\" start=\"9\" end=\"9\"/><field name=\"DF\" start=\"10\" end=\"10\"/>\n"
	"<field name=\"OF\" start=\"11\" end=\"11\"/><field name=\"NT\" start=\"14\" end=\"14\"/>\n"
	"<field name=\"RF\" start=\"16\" end=\"16\"/><field name=\"VM\" start=\"17\" end=\"17\"/>\n"
	"<field name=\"AC\" start=\"18\" end=\"18\"/><field name=\"VIF\" start=\"19\" end=\"19\"/>\n"
	"<field name=\"VIP\" start=\"20\" end=\"20\"/><field name=\"ID\" start=\"21\" end=\"21\"/>\n"
	"</flags>\n"
	"<reg name=\"rax\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	"<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	"<reg name=\"r8\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r10\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r12\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r14\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>\n"
	"<reg name=\"eflags\" bitsize=\"32\" type=\"x86_eflags\"/>\n"
	"<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"</feature>\n"
	"<feature name=\"org.gnu.gdb.i386.sse\">\n"
	"<vector id=\"x86_v2u64\" type=\"uint64\" count=\"2\"/>\n"
	"<vector id=\"x86_v4u32\" type=\"uint32\" count=\"4\"/>\n"
	"<vector id=\"x86_v16u8\" type=\"uint8\" count=\"16\"/>\n"
	"<union id=\"x86_xmm\">\n"
	"<field name=\"v2_int64\" type=\"x86_v2u64\"/>\n"
	"<field name=\"v4_int32\" type=\"x86_v4u32\"/>\n"
	"<field name=\"v16_int8\" type=\"x86_v16u8\"/>\n"
	"<field name=\"uint128\" type=\"uint128\"/>\n"
	"</union>\n"
	"<reg name=\"xmm0\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm1\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm2\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm3\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm4\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm5\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm6\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm7\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm8\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm9\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm10\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm11\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm12\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm13\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm14\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"xmm15\" bitsize=\"128\" type=\"x86_xmm\"/>\n"
	"<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>\n"
	"</feature>\n"
	"<feature name=\"org.gnu.gdb.i386.segments\">\n"
	"<reg name=\"fs_base\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/>\n"
	"</feature>\n"
	/* Not a feature gdb knows: it shows these as plain registers, as QEMU's are shown. */
	"<feature name=\"org.kprof.x86.system\">\n"
	"<reg name=\"k_gs_base\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"cr0\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"cr2\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"cr3\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"cr4\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"cr8\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"efer\" bitsize=\"64\" type=\"int\"/>\n"
	"</feature>\n"
	"</target>\n";

const char *rsp_x86_target_xml(size_t *len)
{
	if (len)
		*len = sizeof(target_xml) - 1;
	return target_xml;
}

int rsp_x86_nregs(void)
{
	return (int)KP_ARRAY_SIZE(regs);
}

int rsp_x86_reg_encode(struct kp_buf *out, int regno, const struct target_regs *r)
{
	const struct x86_reg *d;
	uint8_t bytes[16] = { 0 };
	uint64_t v = 0;
	int e;

	if (regno < 0 || regno >= rsp_x86_nregs())
		return -ENOENT;
	d = &regs[regno];
	if (d->off == NO_FIELD) {
		e = kp_buf_reserve(out, 2 * (size_t)d->bytes);
		if (e)
			return e;
		for (int i = 0; i < 2 * d->bytes; i++)
			kp_buf_putc(out, 'x');
		return 0;
	}
	memcpy(&v, (const char *)r + d->off, (size_t)d->field_bytes);
	/* Little-endian target byte order, whatever the host is. */
	for (int i = 0; i < d->bytes && i < 8; i++)
		bytes[i] = (uint8_t)(v >> (8 * i));
	return rsp_hex_append(out, bytes, (size_t)d->bytes);
}

int rsp_x86_reg_decode(int regno, const char *hex, size_t n, struct target_regs *r)
{
	const struct x86_reg *d;
	uint8_t bytes[16];
	uint64_t v = 0;
	uint32_t v32;

	if (regno < 0 || regno >= rsp_x86_nregs())
		return -ENOENT;
	d = &regs[regno];
	if (n != 2 * (size_t)d->bytes)
		return -EINVAL;
	if (d->off == NO_FIELD)
		return -ENOENT;
	if (rsp_hex_decode(hex, (size_t)d->bytes, bytes))
		return -EINVAL;
	for (int i = d->bytes - 1; i >= 0; i--)
		v = v << 8 | bytes[i];
	if (d->field_bytes == 4) {
		v32 = (uint32_t)v;
		memcpy((char *)r + d->off, &v32, 4);
	} else {
		memcpy((char *)r + d->off, &v, 8);
	}
	return 0;
}

int rsp_x86_regs_encode(struct kp_buf *out, const struct target_regs *r)
{
	for (int i = 0; i < rsp_x86_nregs(); i++) {
		int e = rsp_x86_reg_encode(out, i, r);

		if (e)
			return e;
	}
	return 0;
}

int rsp_x86_regs_decode(const char *hex, size_t n, struct target_regs *r)
{
	struct target_regs tmp = *r;
	size_t pos = 0;

	/* gdb may send fewer registers than we describe; a partial register is an error. */
	for (int i = 0; i < rsp_x86_nregs() && pos < n; i++) {
		size_t w = 2 * (size_t)regs[i].bytes;
		int e;

		if (pos + w > n)
			return -EINVAL;
		e = rsp_x86_reg_decode(i, hex + pos, w, &tmp);
		if (e == -EINVAL && regs[i].off == NO_FIELD)
			e = 0;
		if (e && e != -ENOENT)
			return e;
		pos += w;
	}
	if (pos != n)
		return -EINVAL;
	*r = tmp;
	return 0;
}
