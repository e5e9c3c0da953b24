/* CPU feature templates: which CPUID feature bits the guest sees, in QEMU's -cpu spelling.
 *
 * A VMM hides CPU features when the guest must not rely on them: Firecracker's CPU templates
 * and QEMU's `-cpu host,-feature` do that for migration between unlike hosts.  kprof needs it
 * for one host (see README.md, "This host's KVM and Linux"): its KVM emulates guest kernel code
 * and fails on some instructions, and Linux picks other code when CPUID does not offer them.
 * Names are QEMU's (target/i386 feature words), '_' and '-' alike. */
#include "vmm/cpu_template.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum { EAX, EBX, ECX, EDX };

struct feature {
	const char *name;
	struct vmm_cpu_bit bit;
	const char *needs;	/* removing that feature removes this one too */
};

#define F1C(n, b) { n, { 1, 0, ECX, b }, NULL }
#define F1D(n, b) { n, { 1, 0, EDX, b }, NULL }
#define F7B(n, b, d) { n, { 7, 0, EBX, b }, d }
#define F7C(n, b, d) { n, { 7, 0, ECX, b }, d }
#define F7D(n, b) { n, { 7, 0, EDX, b }, NULL }
#define FXS(n, b) { n, { 0xd, 1, EAX, b }, "xsave" }
#define FEC(n, b) { n, { 0x80000001, 0, ECX, b }, NULL }
#define FED(n, b) { n, { 0x80000001, 0, EDX, b }, NULL }

static const struct feature features[] = {
	F1D("fpu", 0), F1D("vme", 1), F1D("de", 2), F1D("pse", 3), F1D("tsc", 4), F1D("msr", 5),
	F1D("pae", 6), F1D("mce", 7), F1D("cx8", 8), F1D("apic", 9), F1D("sep", 11),
	F1D("mtrr", 12), F1D("pge", 13), F1D("mca", 14), F1D("cmov", 15), F1D("pat", 16),
	F1D("pse36", 17), F1D("clflush", 19), F1D("ds", 21), F1D("acpi", 22), F1D("mmx", 23),
	F1D("fxsr", 24), F1D("sse", 25), F1D("sse2", 26), F1D("ss", 27), F1D("ht", 28),
	F1D("tm", 29), F1D("pbe", 31),
	F1C("pni", 0), F1C("sse3", 0), F1C("pclmulqdq", 1), F1C("dtes64", 2), F1C("monitor", 3),
	F1C("ds-cpl", 4), F1C("vmx", 5), F1C("smx", 6), F1C("est", 7), F1C("tm2", 8),
	F1C("ssse3", 9), F1C("cid", 10), F1C("fma", 12), F1C("cx16", 13), F1C("xtpr", 14),
	F1C("pdcm", 15), F1C("pcid", 17), F1C("dca", 18), F1C("sse4.1", 19), F1C("sse4-1", 19),
	F1C("sse4.2", 20), F1C("sse4-2", 20), F1C("x2apic", 21), F1C("movbe", 22),
	F1C("popcnt", 23), F1C("tsc-deadline", 24), F1C("aes", 25), F1C("xsave", 26),
	{ "avx", { 1, 0, ECX, 28 }, "xsave" }, { "f16c", { 1, 0, ECX, 29 }, "avx" },
	F1C("rdrand", 30),
	F7B("fsgsbase", 0, NULL), F7B("tsc-adjust", 1, NULL), F7B("bmi1", 3, NULL),
	F7B("hle", 4, NULL), F7B("avx2", 5, "avx"), F7B("smep", 7, NULL), F7B("bmi2", 8, NULL),
	F7B("erms", 9, NULL), F7B("invpcid", 10, NULL), F7B("rtm", 11, NULL),
	F7B("avx512f", 16, "avx"), F7B("avx512dq", 17, "avx512f"), F7B("rdseed", 18, NULL),
	F7B("adx", 19, NULL), F7B("smap", 20, NULL), F7B("avx512ifma", 21, "avx512f"),
	F7B("clflushopt", 23, NULL), F7B("clwb", 24, NULL), F7B("avx512cd", 28, "avx512f"),
	F7B("sha-ni", 29, NULL), F7B("avx512bw", 30, "avx512f"), F7B("avx512vl", 31, "avx512f"),
	F7C("avx512vbmi", 1, "avx512f"), F7C("umip", 2, NULL), F7C("pku", 3, NULL),
	F7C("waitpkg", 5, NULL), F7C("avx512vbmi2", 6, "avx512f"), F7C("gfni", 8, NULL),
	F7C("vaes", 9, "avx"), F7C("vpclmulqdq", 10, "avx"), F7C("avx512vnni", 11, "avx512f"),
	F7C("avx512bitalg", 12, "avx512f"), F7C("avx512-vpopcntdq", 14, "avx512f"),
	F7C("la57", 16, NULL), F7C("rdpid", 22, NULL), F7C("cldemote", 25, NULL),
	F7C("movdiri", 27, NULL), F7C("movdir64b", 28, NULL),
	F7D("fsrm", 4), F7D("md-clear", 10), F7D("serialize", 14), F7D("spec-ctrl", 26),
	F7D("stibp", 27), F7D("flush-l1d", 28), F7D("arch-capabilities", 29), F7D("ssbd", 31),
	FXS("xsaveopt", 0), FXS("xsavec", 1), FXS("xgetbv1", 2), FXS("xsaves", 3),
	FEC("lahf-lm", 0), FEC("cmp-legacy", 1), FEC("svm", 2), FEC("extapic", 3),
	FEC("cr8legacy", 4), FEC("abm", 5), FEC("sse4a", 6), FEC("misalignsse", 7),
	FEC("3dnowprefetch", 8), FEC("osvw", 9), FEC("xop", 11), FEC("fma4", 16), FEC("tbm", 21),
	FEC("topoext", 22), FEC("perfctr-core", 23),
	FED("syscall", 11), FED("nx", 20), FED("mmxext", 22), FED("fxsr-opt", 25),
	FED("pdpe1gb", 26), FED("rdtscp", 27), FED("lm", 29),
	{ "invtsc", { 0x80000007, 0, EDX, 8 }, NULL },
};

#define NFEATURES (sizeof(features) / sizeof(features[0]))

bool vmm_cpu_feature(unsigned i, const char **name, struct vmm_cpu_bit *bit)
{
	if (i >= NFEATURES)
		return false;
	if (name)
		*name = features[i].name;
	if (bit)
		*bit = features[i].bit;
	return true;
}

/* QEMU treats '_' and '-' in feature names alike. */
static bool name_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen && b[i]; i++) {
		char x = a[i] == '_' ? '-' : a[i], y = b[i];

		if (x != y)
			return false;
	}
	return i == alen && !b[i];
}

static int lookup(const char *name, size_t len)
{
	for (unsigned i = 0; i < NFEATURES; i++)
		if (name_eq(name, len, features[i].name))
			return (int)i;
	return -1;
}

int vmm_cpu_template_parse(const char *spec, struct vmm_cpu_template *t, char *err, size_t len)
{
	const char *p = spec, *comma;
	size_t n;

	memset(t, 0, sizeof(*t));
	comma = strchr(p, ',');
	n = comma ? (size_t)(comma - p) : strlen(p);
	if (!name_eq(p, n, "host") && !name_eq(p, n, "max")) {
		snprintf(err, len, "'%.*s' is not a CPU model this monitor has (host)", (int)n, p);
		return -EINVAL;
	}
	while (comma) {
		const char *item = comma + 1, *eq;
		bool on = true;
		int f;

		comma = strchr(item, ',');
		n = comma ? (size_t)(comma - item) : strlen(item);
		eq = memchr(item, '=', n);
		if (n && (item[0] == '+' || item[0] == '-')) {
			on = item[0] == '+';
			item++;
			n--;
		} else if (eq) {
			size_t vlen = n - (size_t)(eq - item) - 1;

			if (vlen == 2 && !strncmp(eq + 1, "on", 2))
				on = true;
			else if (vlen == 3 && !strncmp(eq + 1, "off", 3))
				on = false;
			else {
				snprintf(err, len, "'%.*s': a feature is =on or =off", (int)n, item);
				return -EINVAL;
			}
			n = (size_t)(eq - item);
		}
		if (!n) {
			snprintf(err, len, "empty feature name");
			return -EINVAL;
		}
		f = lookup(item, n);
		if (f < 0) {
			snprintf(err, len, "'%.*s' is not a CPU feature kprof knows", (int)n, item);
			return -EINVAL;
		}
		if (t->n >= VMM_CPU_TEMPLATE_MAX) {
			snprintf(err, len, "more than %d features", VMM_CPU_TEMPLATE_MAX);
			return -EINVAL;
		}
		t->items[t->n].feature = (unsigned)f;
		t->items[t->n].on = on;
		t->n++;
	}
	return 0;
}

static struct vmm_cpuid_leaf *find_leaf(struct vmm_cpuid_leaf *l, size_t n, uint32_t leaf,
					uint32_t sub)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].leaf == leaf && l[i].subleaf == sub)
			return &l[i];
	return NULL;
}

static void clear_feature(unsigned f, struct vmm_cpuid_leaf *l, size_t n, unsigned depth)
{
	const struct vmm_cpu_bit *b = &features[f].bit;
	struct vmm_cpuid_leaf *e = find_leaf(l, n, b->leaf, b->subleaf);

	if (e)
		e->reg[b->reg] &= ~(1u << b->bit);
	/* The dependency chains are short (avx512dq -> avx512f -> avx -> xsave); the bound only
	 * guards against a loop in the table. */
	if (depth > 8)
		return;
	for (unsigned i = 0; i < NFEATURES; i++)
		if (features[i].needs && !strcmp(features[i].needs, features[f].name))
			clear_feature(i, l, n, depth + 1);
}

/* The last mention of a feature wins, as in QEMU.  An added feature must be one KVM offers
 * (the supported table already has every bit it can virtualize; more would describe a CPU the
 * guest cannot have), and must survive the removals, or the CPU would be inconsistent. */
int vmm_cpu_template_apply(const struct vmm_cpu_template *t, struct vmm_cpuid_leaf *leaves,
			   size_t nleaves, char *err, size_t len)
{
	for (int pass = 0; pass < 3; pass++) {
		for (unsigned i = 0; i < t->n; i++) {
			unsigned f = t->items[i].feature;
			const struct vmm_cpu_bit *b = &features[f].bit;
			struct vmm_cpuid_leaf *e = find_leaf(leaves, nleaves, b->leaf, b->subleaf);
			bool last = true, set = e && (e->reg[b->reg] & (1u << b->bit));

			for (unsigned j = i + 1; j < t->n; j++)
				if (t->items[j].feature == f)
					last = false;
			if (!last)
				continue;
			if (pass == 1 && !t->items[i].on)
				clear_feature(f, leaves, nleaves, 0);
			if (pass != 1 && t->items[i].on && !set) {
				snprintf(err, len, pass == 0 ?
					 "+%s: not supported by this host's KVM" :
					 "+%s: needs a feature the template removes",
					 features[f].name);
				return -ENOTSUP;
			}
		}
	}
	return 0;
}
