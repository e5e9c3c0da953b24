/* Folded output in exactly the order `LC_ALL=C sort` gives, without holding the lines: at each
 * node, a child contributes its own line ("name COUNT") and the block of its descendants'
 * lines (all starting "name;"); sorting those keys bytewise orders whole lines, because
 * descendant keys never prefix each other and a count line sorts by its digits. */
#include "flamegraph/fg_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct item {
	const char *key;	/* valid only while the siblings are sorted */
	size_t key_off;
	uint32_t node;
	uint32_t depth;
	bool self;		/* the child's own line, not its descendants */
};

struct folded {
	const struct fg_tree *t;
	struct item *stack;	/* items still to write; the next one is on top */
	size_t nstack, cap;
	struct kp_buf path;
	struct kp_buf keys;	/* sort keys of one node's children, reused */
	size_t *plen;		/* length of the path prefix at each depth */
	size_t nplen;
};

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->key, ((const struct item *)b)->key);
}

/* Frame names cannot hold the separators of the format; neither can they be dropped. */
static int put_name(struct kp_buf *b, const char *s)
{
	size_t start = b->len;
	int rc = kp_buf_puts(b, s);

	for (size_t i = start; !rc && i < b->len; i++) {
		if (b->data[i] == ';')
			b->data[i] = ':';
		else if (b->data[i] == '\n' || b->data[i] == '\r')
			b->data[i] = ' ';
	}
	return rc;
}

static int push_children(struct folded *w, uint32_t node, uint32_t depth)
{
	const struct fg_tree *t = w->t;
	size_t base = w->nstack, n;
	int rc = 0;

	kp_buf_reset(&w->keys);
	for (uint32_t c = t->nodes[node].first_child; c && !rc; c = t->nodes[c].next_sibling) {
		const struct fg_node *nd = &t->nodes[c];

		for (int kind = 0; kind < 2 && !rc; kind++) {
			struct item *it;

			if (kind == 0 ? !nd->self[FG_SLOT_MAIN] : !nd->first_child)
				continue;
			if (w->nstack == w->cap) {
				size_t cap = w->cap ? w->cap * 2 : 256;
				struct item *st = realloc(w->stack, cap * sizeof(*st));

				if (!st) {
					rc = -ENOMEM;
					break;
				}
				w->stack = st;
				w->cap = cap;
			}
			it = &w->stack[w->nstack++];
			it->key_off = w->keys.len;
			it->node = c;
			it->depth = depth;
			it->self = kind == 0;
			rc = put_name(&w->keys, fg_name(t, nd->name));
			if (!rc && kind == 0)
				rc = kp_buf_printf(&w->keys, " %" PRIu64, nd->self[FG_SLOT_MAIN]);
			else if (!rc)
				rc = kp_buf_putc(&w->keys, ';');
			if (!rc)
				rc = kp_buf_putc(&w->keys, '\0');
		}
	}
	if (rc)
		return rc;
	n = w->nstack - base;
	/* The key buffer has stopped moving: point at the keys now. */
	for (size_t i = base; i < w->nstack; i++)
		w->stack[i].key = w->keys.data + w->stack[i].key_off;
	qsort(w->stack + base, n, sizeof(*w->stack), cmp_item);
	/* Reverse so that the smallest key is popped first. */
	for (size_t i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
		struct item tmp = w->stack[base + i];

		w->stack[base + i] = w->stack[base + j];
		w->stack[base + j] = tmp;
	}
	return 0;
}

static int set_plen(struct folded *w, uint32_t depth, size_t len)
{
	if (depth >= w->nplen) {
		size_t n = w->nplen ? w->nplen * 2 : 64;
		size_t *p;

		while (n <= depth)
			n *= 2;
		p = realloc(w->plen, n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		w->plen = p;
		w->nplen = n;
	}
	w->plen[depth] = len;
	return 0;
}

static int write_root(struct folded *w, const struct fg_root *r, FILE *f)
{
	int rc;

	kp_buf_reset(&w->path);
	rc = r->group == FG_NO_GROUP ? 0 : put_name(&w->path, fg_name(w->t, w->t->groups[r->group]));
	if (!rc && r->group != FG_NO_GROUP)
		rc = kp_buf_putc(&w->path, ';');
	if (!rc && r->cpu != FG_CPU_ANY)
		rc = kp_buf_printf(&w->path, "CPU %d;", r->cpu);
	if (!rc)
		rc = set_plen(w, 0, w->path.len);
	if (!rc)
		rc = push_children(w, r->node, 0);
	while (!rc && w->nstack) {
		struct item it = w->stack[--w->nstack];

		w->path.len = w->plen[it.depth];
		rc = put_name(&w->path, fg_name(w->t, w->t->nodes[it.node].name));
		if (rc)
			break;
		if (it.self) {
			fwrite(w->path.data, 1, w->path.len, f);
			fprintf(f, " %" PRIu64 "\n", w->t->nodes[it.node].self[FG_SLOT_MAIN]);
			continue;
		}
		rc = kp_buf_putc(&w->path, ';');
		if (!rc)
			rc = set_plen(w, it.depth + 1, w->path.len);
		if (!rc)
			rc = push_children(w, it.node, it.depth + 1);
	}
	return rc;
}

int fg_write_folded(const struct fg_tree *t, FILE *f, const char *name)
{
	struct folded w = { .t = t };
	int rc = 0;

	kp_buf_init(&w.path);
	kp_buf_init(&w.keys);
	for (size_t i = 0; i < t->nroots && !rc; i++)
		rc = write_root(&w, &t->roots[i], f);
	free(w.stack);
	kp_buf_release(&w.keys);
	free(w.plen);
	kp_buf_release(&w.path);
	if (rc) {
		kp_error("%s: %s", name, strerror(-rc));
		return rc;
	}
	if (ferror(f)) {
		kp_error("%s: write error", name);
		return -EIO;
	}
	return 0;
}
