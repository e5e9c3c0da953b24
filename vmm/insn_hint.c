/* Which CPU feature an instruction belongs to, for the message after the host's KVM failed to
 * emulate it: a guest that reads CPUID (Linux does, through its alternatives) runs other code
 * when --cpu removes the feature.  Only the instructions an x86-64 kernel chooses by CPUID are
 * known; the decoder reads prefixes, REX and the opcode bytes, nothing more. */
#include "vmm/insn_hint.h"

#include <stdbool.h>

struct decoded {
	bool rep, repne, opsize, rex_w;
	const uint8_t *op;	/* first opcode byte */
	size_t left;		/* bytes from op on */
};

static bool is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
		return true;
	default:
		return false;
	}
}

static bool decode_prefixes(const uint8_t *code, size_t n, struct decoded *d)
{
	size_t i = 0;

	*d = (struct decoded){ 0 };
	while (i < n && is_legacy_prefix(code[i])) {
		d->rep |= code[i] == 0xf3;
		d->repne |= code[i] == 0xf2;
		d->opsize |= code[i] == 0x66;
		i++;
	}
	if (i < n && (code[i] & 0xf0) == 0x40) {
		d->rex_w = code[i] & 8;
		i++;
	}
	d->op = code + i;
	d->left = n - i;
	return d->left > 0;
}

/* 0f 01 xx: the register-form group 7 instructions. */
static const char *group7(uint8_t m, const char **mn)
{
	switch (m) {
	case 0xca: *mn = "clac"; return "smap";
	case 0xcb: *mn = "stac"; return "smap";
	case 0xd0: *mn = "xgetbv"; return "xsave";
	case 0xd1: *mn = "xsetbv"; return "xsave";
	case 0xee: *mn = "rdpkru"; return "pku";
	case 0xef: *mn = "wrpkru"; return "pku";
	case 0xf9: *mn = "rdtscp"; return "rdtscp";
	default: return NULL;
	}
}

/* 0f ae /r (group 15) and 0f c7 /r (group 9). */
static const char *group15(const struct decoded *d, uint8_t m, const char **mn)
{
	unsigned mod = m >> 6, reg = (m >> 3) & 7;

	if (mod == 3)
		return d->rep && reg <= 3 ? (*mn = "rd/wrfsbase", "fsgsbase") : NULL;
	switch (reg) {
	case 4: *mn = "xsave"; return "xsave";
	case 5: *mn = "xrstor"; return "xsave";
	case 6: *mn = "xsaveopt"; return d->opsize ? (*mn = "clwb", "clwb") : "xsaveopt";
	case 7: return d->opsize ? (*mn = "clflushopt", "clflushopt") : NULL;
	default: return NULL;
	}
}

static const char *group9(const struct decoded *d, uint8_t m, const char **mn)
{
	unsigned mod = m >> 6, reg = (m >> 3) & 7;

	if (mod == 3) {
		if (reg == 6)
			return *mn = "rdrand", "rdrand";
		if (reg == 7)
			return d->rep ? (*mn = "rdpid", "rdpid") : (*mn = "rdseed", "rdseed");
		return NULL;
	}
	switch (reg) {
	case 1: return d->rex_w ? (*mn = "cmpxchg16b", "cx16") : (*mn = "cmpxchg8b", "cx8");
	case 3: *mn = "xrstors"; return "xsaves";
	case 4: *mn = "xsavec"; return "xsavec";
	case 5: *mn = "xsaves"; return "xsaves";
	default: return NULL;
	}
}

const char *vmm_insn_feature(const uint8_t *code, size_t n, const char **mnemonic)
{
	struct decoded d;
	const char *mn = NULL, *f = NULL;

	if (!decode_prefixes(code, n, &d))
		return NULL;
	const uint8_t *op = d.op;

	if (op[0] == 0xc4 || op[0] == 0xc5) {
		mn = "a VEX-encoded instruction";
		f = "avx";
	} else if (op[0] == 0x62) {
		mn = "an EVEX-encoded instruction";
		f = "avx512f";
	} else if (op[0] == 0x0f && d.left >= 3) {
		switch (op[1]) {
		case 0x01: f = group7(op[2], &mn); break;
		case 0xae: f = group15(&d, op[2], &mn); break;
		case 0xc7: f = group9(&d, op[2], &mn); break;
		case 0xb8: if (d.rep) { mn = "popcnt"; f = "popcnt"; } break;
		case 0xbc: if (d.rep) { mn = "tzcnt"; f = "bmi1"; } break;
		case 0xbd: if (d.rep) { mn = "lzcnt"; f = "abm"; } break;
		case 0x38:
			if ((op[2] == 0xf0 || op[2] == 0xf1) && !d.repne) {
				mn = "movbe";
				f = "movbe";
			} else if (op[2] >= 0xdc && op[2] <= 0xdf && d.opsize) {
				mn = "aes";
				f = "aes";
			} else if (op[2] == 0xf6 && (d.opsize || d.rep)) {
				mn = d.rep ? "adox" : "adcx";
				f = "adx";
			}
			break;
		case 0x3a:
			if (op[2] == 0x44 && d.opsize) {
				mn = "pclmulqdq";
				f = "pclmulqdq";
			}
			break;
		}
	}
	if (f && mnemonic)
		*mnemonic = mn;
	return f;
}

/* The memory operand of a ModRM byte (mod != 3) in 64-bit mode: base + index * scale + disp,
 * or rip-relative.  m points at the ModRM byte; returns the bytes from it to the end of the
 * instruction, 0 when they run past n. */
static size_t modrm_address(const uint8_t *m, size_t n, unsigned rex, const uint64_t gpr[16],
			    uint64_t next_rip_base, uint64_t *addr)
{
	unsigned mod = m[0] >> 6, rm = m[0] & 7;
	size_t len = 1, disp_len = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	uint64_t a = 0;
	bool rip_rel = false;

	if (rm == 4) {		/* SIB */
		if (n < 2)
			return 0;
		unsigned sib = m[1], base = sib & 7, index = ((sib >> 3) & 7) | ((rex & 2) << 2);

		len = 2;
		if (index != 4)
			a += gpr[index] << (sib >> 6);
		if (base == 5 && mod == 0)
			disp_len = 4;
		else
			a += gpr[base | ((rex & 1) << 3)];
	} else if (rm == 5 && mod == 0) {
		rip_rel = true;
		disp_len = 4;
	} else {
		a = gpr[rm | ((rex & 1) << 3)];
	}
	if (len + disp_len > n)
		return 0;
	if (disp_len == 1)
		a += (uint64_t)(int64_t)(int8_t)m[len];
	else if (disp_len == 4)
		a += (uint64_t)(int64_t)(int32_t)((uint32_t)m[len] | (uint32_t)m[len + 1] << 8 |
						  (uint32_t)m[len + 2] << 16 |
						  (uint32_t)m[len + 3] << 24);
	len += disp_len;
	if (rip_rel)
		a += next_rip_base + len;	/* rip of the next instruction */
	*addr = a;
	return len;
}

int vmm_insn_mxcsr(const uint8_t *code, size_t n, const uint64_t gpr[16], uint64_t rip,
		   uint64_t *addr, unsigned *len)
{
	size_t i = 0, rest;
	unsigned rex = 0;

	if (i < n && (code[i] & 0xf0) == 0x40)
		rex = code[i++] & 0xf;
	if (n - i < 3 || code[i] != 0x0f || code[i + 1] != 0xae || (code[i + 2] >> 6) == 3)
		return 0;
	unsigned reg = (code[i + 2] >> 3) & 7;

	if (reg != 2 && reg != 3)
		return 0;
	rest = modrm_address(code + i + 2, n - i - 2, rex, gpr, rip + i + 2, addr);
	if (!rest)
		return 0;
	*len = (unsigned)(i + 2 + rest);
	return reg == 2 ? 1 : 2;
}
