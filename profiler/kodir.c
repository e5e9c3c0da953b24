/* A tree of kernel module files, indexed by module name once (kofile.h): what `--modules DIR`
 * names, such as lib/modules/VERSION/ (kernel/drivers/block/brd.ko, or .ko.xz) or the -dbg
 * package's usr/lib/debug/lib/modules/VERSION/.  The kernel's name for a module is its file
 * name less .ko, with '-' read as '_' (snd-hda-intel.ko is snd_hda_intel). */
#include "profiler/kofile.h"

#include <errno.h>
#include <fts.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct file {
	char *name;			/* the module name */
	char *path;
};

struct kodir {
	char *dir;
	struct file *files;
	size_t nfiles;
};

/* A .ko or .ko.xz file: its module name (the kernel's: '-' read as '_'). */
static int add_file(struct kodir *m, const char *path, const char *base)
{
	size_t len = strlen(base), stem;
	struct file *grown, *f;

	if (len > 3 && !strcmp(base + len - 3, ".ko"))
		stem = len - 3;
	else if (len > 6 && !strcmp(base + len - 6, ".ko.xz"))
		stem = len - 6;
	else
		return 0;
	grown = realloc(m->files, (m->nfiles + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	m->files = grown;
	f = &grown[m->nfiles];
	f->name = strndup(base, stem);
	f->path = strdup(path);
	if (!f->name || !f->path) {
		free(f->name);
		free(f->path);
		return -ENOMEM;
	}
	for (char *p = f->name; *p; p++)
		if (*p == '-')
			*p = '_';
	m->nfiles++;
	return 0;
}

/* By name; a .ko before a .ko.xz of the same module, then by path, for a stable choice. */
static int cmp_file(const void *a, const void *b)
{
	const struct file *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	size_t lx = strlen(x->path), ly = strlen(y->path);
	bool xz_x = lx > 3 && !strcmp(x->path + lx - 3, ".xz");
	bool xz_y = ly > 3 && !strcmp(y->path + ly - 3, ".xz");

	if (c)
		return c;
	if (xz_x != xz_y)
		return xz_x ? 1 : -1;
	return strcmp(x->path, y->path);
}

const char *kodir_find(const struct kodir *m, const char *name)
{
	size_t lo = 0, hi = m->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(m->files[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->nfiles && !strcmp(m->files[lo].name, name) ? m->files[lo].path : NULL;
}

static int index_dir(struct kodir *m)
{
	char *const roots[] = { m->dir, NULL };
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_COMFOLLOW | FTS_NOCHDIR, NULL);
	FTSENT *e;
	int ret = 0;

	if (!fts)
		return kp_fail(-errno, "--modules %s: %s", m->dir, strerror(errno));
	while (!ret && (e = fts_read(fts))) {
		if (e->fts_info == FTS_F)
			ret = add_file(m, e->fts_path, e->fts_name);
		else if (e->fts_level == 0 && (e->fts_info == FTS_ERR || e->fts_info == FTS_NS ||
					       e->fts_info == FTS_DNR))
			ret = -(e->fts_errno ? e->fts_errno : ENOENT);
	}
	fts_close(fts);
	if (ret)
		return kp_fail(ret, "--modules %s: %s", m->dir, strerror(-ret));
	if (!m->nfiles)
		return kp_fail(-ENOENT, "--modules %s: no .ko or .ko.xz files in it", m->dir);
	qsort(m->files, m->nfiles, sizeof(*m->files), cmp_file);
	return 0;
}

int kodir_open(const char *dir, struct kodir **out)
{
	struct kodir *d = calloc(1, sizeof(*d));
	int ret;

	*out = NULL;
	if (!d || !(d->dir = strdup(dir))) {
		free(d);
		return kp_fail(-ENOMEM, "--modules %s: out of memory", dir);
	}
	ret = index_dir(d);
	if (ret) {
		kodir_free(d);
		return ret;
	}
	*out = d;
	return 0;
}

void kodir_free(struct kodir *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nfiles; i++) {
		free(d->files[i].name);
		free(d->files[i].path);
	}
	free(d->files);
	free(d->dir);
	free(d);
}
