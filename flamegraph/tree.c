/* The prefix tree that merges stacks as they are read: memory follows distinct frames, not
 * input lines.  Names are interned once; a child is found through one hash table keyed by
 * (parent, name) rather than per-node tables, which would cost more than the nodes. */
#include "flamegraph/fg_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint32_t hash_edge(uint32_t parent, uint32_t name)
{
	uint64_t h = ((uint64_t)parent << 32 | name) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32);
}

static int strtab_grow_slots(struct fg_strtab *st)
{
	uint32_t n = st->nslots ? st->nslots * 2 : 1024;
	uint32_t *slots;

	if (n < st->nslots)
		return -ENOMEM;
	slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (uint32_t id = 0; id < st->count; id++) {
		const char *s = st->data + st->offset[id];
		uint32_t i = (uint32_t)hash_bytes(s, strlen(s)) & (n - 1);

		while (slots[i])
			i = (i + 1) & (n - 1);
		slots[i] = id + 1;
	}
	free(st->slots);
	st->slots = slots;
	st->nslots = n;
	return 0;
}

static int strtab_intern(struct fg_strtab *st, const char *s, uint32_t *id)
{
	size_t n = strlen(s);
	uint32_t i;

	if ((uint64_t)(st->count + 1) * 2 > st->nslots) {
		int rc = strtab_grow_slots(st);

		if (rc)
			return rc;
	}
	i = (uint32_t)hash_bytes(s, n) & (st->nslots - 1);
	for (; st->slots[i]; i = (i + 1) & (st->nslots - 1)) {
		uint32_t cand = st->slots[i] - 1;

		if (!strcmp(st->data + st->offset[cand], s)) {
			*id = cand;
			return 0;
		}
	}
	if (st->count == UINT32_MAX - 1)
		return -ENOMEM;
	if (st->count == st->cap_ids) {
		uint32_t cap = st->cap_ids ? st->cap_ids * 2 : 1024;
		size_t *off = realloc(st->offset, (size_t)cap * sizeof(*off));

		if (!off)
			return -ENOMEM;
		st->offset = off;
		st->cap_ids = cap;
	}
	if (st->len + n + 1 > st->cap) {
		size_t cap = st->cap ? st->cap : 65536;
		char *d;

		while (cap < st->len + n + 1)
			cap *= 2;
		d = realloc(st->data, cap);
		if (!d)
			return -ENOMEM;
		st->data = d;
		st->cap = cap;
	}
	memcpy(st->data + st->len, s, n + 1);
	st->offset[st->count] = st->len;
	st->len += n + 1;
	st->slots[i] = st->count + 1;
	*id = st->count++;
	return 0;
}

int fg_tree_new(unsigned flags, struct fg_tree **out)
{
	struct fg_tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->flags = flags;
	t->cap_nodes = 1024;
	t->nodes = calloc(t->cap_nodes, sizeof(*t->nodes));
	t->nnodes = 1;	/* id 0 stays unused so that 0 means "none" */
	if (!t->nodes) {
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void fg_tree_free(struct fg_tree *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->edges);
	free(t->roots);
	free(t->groups);
	free(t->names.data);
	free(t->names.offset);
	free(t->names.slots);
	free(t->scratch);
	free(t);
}

int fg_root_label(const struct fg_tree *t, const struct fg_root *r, struct kp_buf *out)
{
	int rc = 0;

	kp_buf_reset(out);
	if (r->group != FG_NO_GROUP)
		rc = kp_buf_puts(out, fg_name(t, t->groups[r->group]));
	if (!rc && r->cpu != FG_CPU_ANY)
		rc = kp_buf_printf(out, "%sCPU %d", out->len ? ", " : "", r->cpu);
	if (!rc && !out->len)
		rc = kp_buf_puts(out, "all");
	return rc;
}

uint64_t fg_tree_total(const struct fg_tree *t, enum fg_slot slot)
{
	return t->total[slot];
}

size_t fg_tree_nodes(const struct fg_tree *t)
{
	return t->nnodes - 1;
}

static int edges_grow(struct fg_tree *t)
{
	uint32_t n = t->nedges ? t->nedges * 2 : 4096;
	uint32_t *e;

	if (n < t->nedges)
		return -ENOMEM;
	e = calloc(n, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (uint32_t id = 1; id < t->nnodes; id++) {
		const struct fg_node *nd = &t->nodes[id];
		uint32_t i;

		if (nd->name == FG_ROOT_NAME)
			continue;
		i = hash_edge(nd->parent, nd->name) & (n - 1);
		while (e[i])
			i = (i + 1) & (n - 1);
		e[i] = id;
	}
	free(t->edges);
	t->edges = e;
	t->nedges = n;
	return 0;
}

static int new_node(struct fg_tree *t, uint32_t parent, uint32_t name, uint32_t *id)
{
	struct fg_node *nd;

	if (t->nnodes == UINT32_MAX)
		return -ENOMEM;
	if (t->nnodes == t->cap_nodes) {
		uint32_t cap = t->cap_nodes > UINT32_MAX / 2 ? UINT32_MAX : t->cap_nodes * 2;
		struct fg_node *n = realloc(t->nodes, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->nodes = n;
		t->cap_nodes = cap;
	}
	*id = t->nnodes++;
	nd = &t->nodes[*id];
	memset(nd, 0, sizeof(*nd));
	nd->name = name;
	nd->parent = parent;
	if (parent) {
		nd->next_sibling = t->nodes[parent].first_child;
		t->nodes[parent].first_child = *id;
	}
	return 0;
}

/* The child of parent named name, created when missing. */
static int child(struct fg_tree *t, uint32_t parent, uint32_t name, uint32_t *out)
{
	uint32_t i;
	int rc;

	if (t->flags & FG_TREE_FLAMECHART) {
		uint32_t last = t->nodes[parent].first_child;

		if (last && t->nodes[last].name == name) {
			*out = last;
			return 0;
		}
		return new_node(t, parent, name, out);
	}
	if ((uint64_t)t->nnodes * 2 > t->nedges) {
		rc = edges_grow(t);
		if (rc)
			return rc;
	}
	i = hash_edge(parent, name) & (t->nedges - 1);
	for (; t->edges[i]; i = (i + 1) & (t->nedges - 1)) {
		const struct fg_node *nd = &t->nodes[t->edges[i]];

		if (nd->parent == parent && nd->name == name) {
			*out = t->edges[i];
			return 0;
		}
	}
	rc = new_node(t, parent, name, out);
	if (!rc)
		t->edges[i] = *out;
	return rc;
}

/* The index of group name in t->groups, added at the end when new.  Few groups (boot stages)
 * and stacks of one group in a row: the last one found is tried first. */
static int group_of(struct fg_tree *t, const char *name, uint32_t *out)
{
	uint32_t id, *g;
	int rc;

	if (!name) {
		*out = FG_NO_GROUP;
		return 0;
	}
	rc = strtab_intern(&t->names, name, &id);
	if (rc)
		return rc;
	if (*out < t->ngroups && t->groups[*out] == id)
		return 0;
	for (size_t i = 0; i < t->ngroups; i++) {
		if (t->groups[i] == id) {
			*out = (uint32_t)i;
			return 0;
		}
	}
	if (t->ngroups >= FG_NO_GROUP - 1)
		return -EOVERFLOW;
	g = realloc(t->groups, (t->ngroups + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	t->groups = g;
	g[t->ngroups] = id;
	*out = (uint32_t)t->ngroups++;
	return 0;
}

static int root_cmp(const struct fg_root *r, uint32_t group, int cpu)
{
	if (r->group != group)
		return r->group < group ? -1 : 1;
	return r->cpu == cpu ? 0 : r->cpu < cpu ? -1 : 1;
}

static int root(struct fg_tree *t, uint32_t group, int cpu, uint32_t *out)
{
	size_t lo = 0, hi = t->nroots;
	struct fg_root *r;
	int rc;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = root_cmp(&t->roots[mid], group, cpu);

		if (!c) {
			*out = t->roots[mid].node;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	r = realloc(t->roots, (t->nroots + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	t->roots = r;
	rc = new_node(t, FG_NONE, FG_ROOT_NAME, out);
	if (rc)
		return rc;
	memmove(&r[lo + 1], &r[lo], (t->nroots - lo) * sizeof(*r));
	r[lo].group = group;
	r[lo].cpu = cpu;
	r[lo].node = *out;
	t->nroots++;
	return 0;
}

int fg_tree_add(struct fg_tree *t, const struct fg_stack *s, enum fg_slot slot)
{
	const char *const *frames = s->frames;
	uint32_t node, group = t->ngroups ? (uint32_t)t->ngroups - 1 : FG_NO_GROUP;
	int rc;

	if (!s->nframes || s->cpu < FG_CPU_ANY || (slot != FG_SLOT_MAIN && slot != FG_SLOT_BEFORE) ||
	    (s->group && !s->group[0]))
		return -EINVAL;
	if (t->total[slot] + s->count < t->total[slot])
		return -EOVERFLOW;
	if (!s->count)
		return 0;
	if (t->flags & FG_TREE_REVERSE) {
		if (s->nframes > t->scratch_cap) {
			const char **sc = realloc(t->scratch, s->nframes * sizeof(*sc));

			if (!sc)
				return -ENOMEM;
			t->scratch = sc;
			t->scratch_cap = s->nframes;
		}
		for (size_t i = 0; i < s->nframes; i++)
			t->scratch[i] = s->frames[s->nframes - 1 - i];
		frames = t->scratch;
	}
	rc = group_of(t, s->group, &group);
	if (!rc)
		rc = root(t, group, s->cpu, &node);
	if (rc)
		return rc;
	t->nodes[node].total[slot] += s->count;
	for (size_t i = 0; i < s->nframes; i++) {
		uint32_t name;

		rc = strtab_intern(&t->names, frames[i], &name);
		if (!rc)
			rc = child(t, node, name, &node);
		if (rc)
			return rc;
		t->nodes[node].total[slot] += s->count;
	}
	t->nodes[node].self[slot] += s->count;
	t->total[slot] += s->count;
	return 0;
}

/* qsort has no context argument; sort (name pointer, id) pairs instead of ids. */
struct named_id {
	const char *name;
	uint32_t id;
};

static int cmp_named(const void *a, const void *b)
{
	const struct named_id *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->id > y->id) - (x->id < y->id);
}

long fg_children(const struct fg_tree *t, uint32_t node, uint32_t **ids, size_t *cap)
{
	size_t n = 0;
	struct named_id *tmp;

	for (uint32_t c = t->nodes[node].first_child; c; c = t->nodes[c].next_sibling) {
		if (n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 16;
			uint32_t *p = realloc(*ids, ncap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			*ids = p;
			*cap = ncap;
		}
		(*ids)[n++] = c;
	}
	if (t->flags & FG_TREE_FLAMECHART) {
		/* Newest first in the list; time order is the reverse. */
		for (size_t i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
			uint32_t swap = (*ids)[i];

			(*ids)[i] = (*ids)[j];
			(*ids)[j] = swap;
		}
		return (long)n;
	}
	if (n < 2)
		return (long)n;
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		tmp[i].id = (*ids)[i];
		tmp[i].name = fg_name(t, t->nodes[(*ids)[i]].name);
	}
	qsort(tmp, n, sizeof(*tmp), cmp_named);
	for (size_t i = 0; i < n; i++)
		(*ids)[i] = tmp[i].id;
	free(tmp);
	return (long)n;
}
