/* A running Linux kernel's loadable modules, named and unwound from their .ko files, as gdb's
 * lx-symbols script and the kernel's own kallsyms do ("brd_submit_bio [brd]").
 *
 * The kernel keeps its modules on the list `modules`; each struct module has its name, where
 * its text went (6.1: core_layout and init_layout; 6.4 on: mem[MOD_TEXT] and
 * mem[MOD_INIT_TEXT]) and, for sysfs, one attribute per loaded section with that section's
 * address (sect_attrs, what /sys/module/NAME/sections/ shows).  The section addresses are what
 * a .ko's symbols and ORC relocations are placed with (kofile.c); the text ranges say which
 * module a pc is in, with or without a file.  Struct layouts come from the vmlinux's BTF.
 *
 * The list is read when a pc in the kernel's half is in no known code (modules load and
 * unload while sampling): first only its head, which a newly loaded module changes (the
 * kernel adds modules at the front); the whole list only when the head moved, or when a
 * module was still being set up at the last reading.  A pc that a reading did not explain
 * (BPF programs, ftrace trampolines) is remembered by its page, so it costs nothing more
 * until the list changes.
 */
#include "profiler/btf.h"
#include "profiler/kofile.h"
#include "profiler/profiler_internal.h"
#include "profiler/symbols.h"
#include "target/target.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define KERNEL_HALF 0xffff800000000000ull
#define MAX_MODULES 4096	/* a list longer than this is not a list (a loop, garbage) */
#define MAX_SECTIONS 1024
#define NAME_MAX_LEN 64		/* MODULE_NAME_LEN is 56 */
#define STRUCT_MAX 8192		/* sizeof(struct module) is about 1 KiB */
#define CHECKED_PAGES 64

/* Offsets from the vmlinux's BTF, resolved once. */
struct layout {
	uint64_t size;			/* bytes of struct module read per module */
	uint64_t list, name, state, sect_attrs;
	uint64_t text_base[2], text_size[2];	/* core (or MOD_TEXT), init (or MOD_INIT_TEXT) */
	int64_t unformed;		/* MODULE_STATE_UNFORMED */
	uint64_t nsections, attrs, attr_size, attr_name, attr_address;
};

struct module {
	char name[NAME_MAX_LEN];
	uint64_t text[2][2];		/* [core, init] x [start, end) */
	struct symtab *syms;		/* NULL: no file (its pcs stay "??") */
	struct orc *orc;
	char **display;			/* per symbol: "fn [name]", made on first use */
};

struct modules {
	char *dir;
	struct kodir *files;
	struct layout lay;
	const struct symtab *vmlinux;	/* `modules` is there, at its KASLR offset */
	enum orc_format fmt;
	struct module *mods;
	size_t nmods;
	uint64_t last_next;		/* modules.next at the last reading */
	bool read_once, saw_unformed, warned;
	uint64_t checked[CHECKED_PAGES];	/* pages no reading explained */
	size_t nchecked;
	size_t reads;			/* whole-list readings, for tests and messages */
};

/* ---- struct layouts ---- */

static int member(const struct btf *b, const char *type, const char *path, uint64_t *off)
{
	struct btf_field f;
	int ret = btf_member(b, type, path, &f);

	if (!ret)
		*off = f.offset;
	return ret;
}

static int resolve_layout(const struct btf *b, struct layout *l)
{
	static const char *const text[2][2][2] = {
		{ { "core_layout.base", "core_layout.text_size" },
		  { "init_layout.base", "init_layout.text_size" } },		/* up to 6.3 */
		{ { "mem[MOD_TEXT].base", "mem[MOD_TEXT].size" },
		  { "mem[MOD_INIT_TEXT].base", "mem[MOD_INIT_TEXT].size" } },	/* 6.4 on */
	};
	int ret, v;

	if ((ret = btf_sizeof(b, "module", &l->size)) || (ret = member(b, "module", "list", &l->list)) ||
	    (ret = member(b, "module", "name", &l->name)) ||
	    (ret = member(b, "module", "state", &l->state)) ||
	    (ret = member(b, "module", "sect_attrs", &l->sect_attrs)) ||
	    (ret = btf_enum_value(b, "MODULE_STATE_UNFORMED", &l->unformed)))
		return ret;
	for (v = 0; v < 2; v++) {
		if (!member(b, "module", text[v][0][0], &l->text_base[0]) &&
		    !member(b, "module", text[v][0][1], &l->text_size[0]) &&
		    !member(b, "module", text[v][1][0], &l->text_base[1]) &&
		    !member(b, "module", text[v][1][1], &l->text_size[1]))
			break;
	}
	if (v == 2)
		return -ENOENT;
	if ((ret = member(b, "module_sect_attrs", "nsections", &l->nsections)) ||
	    (ret = member(b, "module_sect_attrs", "attrs", &l->attrs)) ||
	    (ret = btf_sizeof(b, "module_sect_attr", &l->attr_size)) ||
	    (ret = member(b, "module_sect_attr", "battr.attr.name", &l->attr_name)))
		return ret;
	/* Later kernels keep the address in the bin_attribute's private pointer. */
	if (member(b, "module_sect_attr", "address", &l->attr_address) &&
	    (ret = member(b, "module_sect_attr", "battr.private", &l->attr_address)))
		return ret;
	if (l->size > STRUCT_MAX || !l->attr_size)
		return -EINVAL;
	return 0;
}

int modules_open(const char *dir, const struct symtab *vmlinux, const struct btf *btf,
		 enum orc_format fmt, struct modules **out)
{
	const struct symtab_linux *lx = symtab_linux(vmlinux);
	struct modules *m;
	int ret;

	*out = NULL;
	if (!lx || !lx->modules)
		return kp_fail(-ENOENT, "--modules: the kernel's symbols have no `modules` list "
			       "(not a Linux vmlinux built with module support)");
	if (!btf)
		return kp_fail(-ENOENT, "--modules: the vmlinux has no BTF (.BTF), which kprof "
			       "reads struct module's layout from");
	m = calloc(1, sizeof(*m));
	if (!m || !(m->dir = strdup(dir))) {
		free(m);
		return kp_fail(-ENOMEM, "--modules %s: out of memory", dir);
	}
	m->fmt = fmt;
	m->vmlinux = vmlinux;
	ret = resolve_layout(btf, &m->lay);
	if (ret) {
		kp_error("--modules: the vmlinux's BTF does not describe struct module and "
			 "module_sect_attrs as kprof knows them (%s)", strerror(-ret));
		modules_free(m);
		return ret;
	}
	ret = kodir_open(dir, &m->files);
	if (ret) {
		modules_free(m);
		return ret;
	}
	*out = m;
	return 0;
}

static void release(struct module *mod)
{
	for (size_t i = 0; mod->display && i < symtab_count(mod->syms); i++)
		free(mod->display[i]);
	free(mod->display);
	symtab_free(mod->syms);
	orc_free(mod->orc);
}

void modules_free(struct modules *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nmods; i++)
		release(&m->mods[i]);
	free(m->mods);
	kodir_free(m->files);
	free(m->dir);
	free(m);
}

/* Runtime address of `modules`. */
static uint64_t list_head(const struct modules *m)
{
	return symtab_linux(m->vmlinux)->modules + symtab_offset(m->vmlinux);
}

/* ---- reading the guest ---- */

static uint64_t get(const uint8_t *buf, uint64_t off, size_t len)
{
	uint64_t v = 0;

	memcpy(&v, buf + off, len);	/* little-endian, len <= 8 */
	return v;
}

static int read_exact(struct target *t, int cpu, uint64_t addr, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = target_read_mem(t, cpu, addr + got, (uint8_t *)buf + got, len - got);

		if (n <= 0)
			return -EFAULT;
		got += (size_t)n;
	}
	return 0;
}

/* A C string in guest memory (a section name). */
static int read_string(struct target *t, int cpu, uint64_t addr, char *out, size_t max)
{
	ssize_t n = target_read_mem(t, cpu, addr, out, max - 1);

	if (n <= 0)
		return -EFAULT;
	out[n] = '\0';
	return memchr(out, '\0', (size_t)n) ? 0 : -EINVAL;
}

/* The k-th section attribute called name: its address, or 0. */
struct attr {
	char name[NAME_MAX_LEN];
	uint64_t addr;
};

static uint64_t attr_addr(const struct attr *a, size_t n, const char *name, size_t k)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i].name, name) && k-- == 0)
			return a[i].addr;
	return 0;
}

/* The section addresses of the module at mod_addr, from its sect_attrs. */
static int read_sections(struct modules *m, struct target *t, int cpu, uint64_t sect_attrs,
			 struct attr **out, size_t *nout)
{
	const struct layout *l = &m->lay;
	uint8_t hdr[8];
	uint64_t n;
	uint8_t *raw;
	struct attr *a;

	if (!sect_attrs || read_exact(t, cpu, sect_attrs + l->nsections, hdr, 4))
		return -EFAULT;
	n = get(hdr, 0, 4);
	if (!n || n > MAX_SECTIONS)
		return -EINVAL;
	raw = malloc(n * l->attr_size);
	a = calloc(n, sizeof(*a));
	if (!raw || !a) {
		free(raw);
		free(a);
		return -ENOMEM;
	}
	int ret = read_exact(t, cpu, sect_attrs + l->attrs, raw, n * l->attr_size);
	for (uint64_t i = 0; !ret && i < n; i++) {
		const uint8_t *at = raw + i * l->attr_size;

		a[i].addr = get(at, l->attr_address, 8);
		ret = read_string(t, cpu, get(at, l->attr_name, 8), a[i].name, sizeof(a[i].name));
	}
	free(raw);
	if (ret) {
		free(a);
		return ret;
	}
	*out = a;
	*nout = n;
	return 0;
}

/* Does the build id in the file match the one the kernel loaded?  (A tree of another build
 * would name every frame wrong.)  True when either has none. */
static bool same_build(const struct kofile *k, const uint64_t *addr, struct target *t, int cpu)
{
	size_t len, idx;
	const uint8_t *want = kofile_build_id(k, &len, &idx);
	uint8_t got[64];

	if (!want || len > sizeof(got) || !addr[idx])
		return true;
	/* The note: namesz, descsz, type (4 bytes each), "GNU\0", then the id. */
	if (read_exact(t, cpu, addr[idx] + 16, got, len))
		return true;
	return !memcmp(got, want, len);
}

/* Load mod's file, placed where the kernel put its sections. */
static void load_file(struct modules *m, struct module *mod, const char *path, struct target *t,
		      int cpu, uint64_t sect_attrs)
{
	struct kofile *k;
	struct attr *a;
	size_t na, n;
	uint64_t *addr;
	int ret;

	if (kofile_open(path, &k))
		return;
	ret = read_sections(m, t, cpu, sect_attrs, &a, &na);
	if (ret) {
		kp_warn("%s: its section addresses could not be read from the kernel (%s): its "
			"frames stay ??", mod->name, strerror(-ret));
		kofile_free(k);
		return;
	}
	n = kofile_loaded_count(k);
	addr = calloc(n ? n : 1, sizeof(*addr));
	for (size_t i = 0; addr && i < n; i++) {
		const char *name = kofile_loaded_name(k, i);
		size_t before = 0;

		for (size_t j = 0; j < i; j++)
			before += !strcmp(kofile_loaded_name(k, j), name);
		addr[i] = attr_addr(a, na, name, before);
	}
	if (!addr)
		kp_error("%s: out of memory", path);
	else if (!same_build(k, addr, t, cpu))
		kp_warn("%s is not the %s module the kernel loaded (their build ids differ): its "
			"frames stay ??", path, mod->name);
	else if (!kofile_place(k, addr, n, m->fmt, &mod->syms, &mod->orc) &&
		 !(mod->display = calloc(symtab_count(mod->syms), sizeof(*mod->display)))) {
		symtab_free(mod->syms);
		orc_free(mod->orc);
		mod->syms = NULL;
		mod->orc = NULL;
	}
	free(addr);
	free(a);
	kofile_free(k);
}

/* The same module as before (its name, its core text where it was): keep what was loaded. */
static struct module *known(struct modules *m, const struct module *mod)
{
	for (size_t i = 0; i < m->nmods; i++)
		if (!strcmp(m->mods[i].name, mod->name) && m->mods[i].text[0][0] == mod->text[0][0])
			return &m->mods[i];
	return NULL;
}

/* Read the whole list: the modules that are new get their files loaded, the ones still
 * there keep theirs, the ones gone are dropped. */
static int read_list(struct modules *m, struct target *t, int cpu, uint64_t first)
{
	const struct layout *l = &m->lay;
	struct module *mods = NULL;
	size_t n = 0, missing = 0, seen = 0;
	uint8_t *buf = malloc(l->size);
	uint64_t next = first, head = list_head(m);
	char missing_names[160] = "";
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	m->saw_unformed = false;
	while (next != head) {
		uint64_t addr = next - l->list;
		struct module mod = { 0 }, *old;
		struct module *grown;

		if (seen++ == MAX_MODULES || read_exact(t, cpu, addr, buf, l->size)) {
			ret = -EFAULT;
			break;
		}
		next = get(buf, l->list, 8);
		memcpy(mod.name, buf + l->name, KP_MIN((size_t)NAME_MAX_LEN - 1,
						       (size_t)(l->size - l->name)));
		mod.name[NAME_MAX_LEN - 1] = '\0';
		for (int i = 0; i < 2; i++) {
			uint64_t size = get(buf, l->text_size[i], 4);

			/* Freed init text has base NULL: no range. */
			mod.text[i][0] = get(buf, l->text_base[i], 8);
			mod.text[i][1] = mod.text[i][0] ? mod.text[i][0] + size : 0;
		}
		if ((int64_t)get(buf, l->state, 4) == l->unformed || !mod.text[0][0]) {
			m->saw_unformed = true;	/* not set up yet: read again later */
			continue;
		}
		grown = realloc(mods, (n + 1) * sizeof(*mods));
		if (!grown) {
			ret = -ENOMEM;
			break;
		}
		mods = grown;
		if ((old = known(m, &mod))) {
			memcpy(old->text, mod.text, sizeof(mod.text));	/* init text freed */
			mods[n++] = *old;
			*old = (struct module){ 0 };	/* moved */
			continue;
		}
		const char *path = kodir_find(m->files, mod.name);
		if (path)
			load_file(m, &mod, path, t, cpu, get(buf, l->sect_attrs, 8));
		else if (missing++ < 4)
			snprintf(missing_names + strlen(missing_names),
				 sizeof(missing_names) - strlen(missing_names), "%s%s",
				 missing > 1 ? ", " : "", mod.name);
		mods[n++] = mod;
	}
	free(buf);
	if (missing)
		kp_warn("--modules %s: no file for %zu loaded module%s (%s%s): %s frames stay ??",
			m->dir, missing, missing > 1 ? "s" : "", missing_names,
			missing > 4 ? ", ..." : "", missing > 1 ? "their" : "its");
	if (ret) {
		for (size_t i = 0; i < n; i++)
			release(&mods[i]);
		free(mods);
		return ret;
	}
	for (size_t i = 0; i < m->nmods; i++)
		release(&m->mods[i]);
	free(m->mods);
	m->mods = mods;
	m->nmods = n;
	m->reads++;
	return 0;
}

/* Index of the module whose text holds pc, or -1. */
static long module_at(const struct modules *m, uint64_t pc)
{
	for (size_t i = 0; i < m->nmods; i++)
		for (int k = 0; k < 2; k++)
			if (pc >= m->mods[i].text[k][0] && pc < m->mods[i].text[k][1])
				return (long)i;
	return -1;
}

/* Is pc in a module's init text?  That text is freed once the module's init function
 * returns, without the list head moving, and another module may be loaded there: a pc in it
 * is only trusted after a reading that still shows it. */
bool modules_in_init(const struct modules *m, uint64_t pc)
{
	for (size_t i = 0; i < m->nmods; i++)
		if (pc >= m->mods[i].text[1][0] && pc < m->mods[i].text[1][1])
			return true;
	return false;
}

/* Is pc in a function of a module with a file? */
static bool named(const struct modules *m, uint64_t pc)
{
	long i = module_at(m, pc);

	return i >= 0 && m->mods[i].syms && symtab_lookup(m->mods[i].syms, pc, NULL) >= 0;
}

int modules_check(struct modules *m, struct target *t, int cpu, uint64_t pc)
{
	uint64_t page = pc & ~4095ull, next = 0;
	bool init = modules_in_init(m, pc), reread;
	int ret;

	if (pc < KERNEL_HALF || (!init && named(m, pc)))
		return 0;
	for (size_t i = 0; !init && i < KP_MIN(m->nchecked, (size_t)CHECKED_PAGES); i++)
		if (m->checked[i] == page)
			return 0;
	ret = read_exact(t, cpu, list_head(m), &next, 8);
	reread = init || !m->read_once || next != m->last_next || m->saw_unformed;
	if (!ret && reread)
		ret = read_list(m, t, cpu, next);
	if (ret) {
		/* Not asked again for this page until the list changes; said once. */
		m->checked[m->nchecked++ % CHECKED_PAGES] = page;
		if (!m->warned)
			kp_warn("--modules: the kernel's module list could not be read (%s): module "
				"frames stay ??", strerror(-ret));
		m->warned = true;
		return ret;
	}
	if (reread) {
		m->read_once = true;
		m->last_next = next;
		m->nchecked = 0;
		ret = 1;
	}
	if (!named(m, pc) && !modules_in_init(m, pc))
		m->checked[m->nchecked++ % CHECKED_PAGES] = page;
	return ret;
}

bool modules_code(const struct modules *m, uint64_t pc, const struct symtab **syms,
		  const struct orc **orc)
{
	long i = module_at(m, pc);

	if (i < 0 || !m->mods[i].syms)
		return false;
	*syms = m->mods[i].syms;
	*orc = m->mods[i].orc;
	return true;
}

const char *modules_name(struct modules *m, uint64_t pc, struct cleaner *c)
{
	long i = module_at(m, pc), idx;
	struct module *mod = i >= 0 ? &m->mods[i] : NULL;

	if (!mod || !mod->syms || (idx = symtab_lookup(mod->syms, pc, NULL)) < 0)
		return NULL;
	if (!mod->display[idx]) {
		char *clean = cleaner_clean(c, symtab_name(mod->syms, idx));

		if (!clean || asprintf(&mod->display[idx], "%s [%s]", clean, mod->name) < 0)
			mod->display[idx] = NULL;
		free(clean);
		if (!mod->display[idx])
			return symtab_name(mod->syms, idx);	/* out of memory: the raw name */
	}
	return mod->display[idx];
}

size_t modules_count(const struct modules *m)
{
	return m->nmods;
}

size_t modules_reads(const struct modules *m)
{
	return m->reads;
}
