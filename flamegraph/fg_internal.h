/* flamegraph internals shared by the tree, the writers and the unit tests; not public. */
#ifndef KPROF_FLAMEGRAPH_INTERNAL_H
#define KPROF_FLAMEGRAPH_INTERNAL_H

#include "common/common.h"
#include "flamegraph/flamegraph.h"

#include <sys/types.h>

#define FG_NONE 0u	/* node id 0 is never a real node */
#define FG_ROOT_NAME UINT32_MAX

/* Nodes live in one array and name each other by index, which halves the size of links on
 * 64-bit machines and keeps a 100 MB input within a few times its size (48 bytes a node). */
struct fg_node {
	uint32_t name;		/* string id, or FG_ROOT_NAME for a CPU's root */
	uint32_t parent;
	uint32_t first_child;	/* the newest child: children are prepended */
	uint32_t next_sibling;	/* the next older sibling */
	uint64_t total[2];	/* inclusive counts per fg_slot */
	uint64_t self[2];	/* counts of stacks ending here */
};

#define FG_NO_GROUP UINT32_MAX
struct fg_root {
	uint32_t group;		/* index in fg_tree.groups, or FG_NO_GROUP */
	int cpu;
	uint32_t node;
};

/* Interned frame names: each distinct name is stored once. */
struct fg_strtab {
	char *data;		/* names, each NUL-terminated */
	size_t len, cap;
	size_t *offset;		/* by string id */
	uint32_t count, cap_ids;
	uint32_t *slots;	/* open-addressing table of id + 1, 0 = empty */
	uint32_t nslots;	/* a power of two */
};

struct fg_tree {
	unsigned flags;
	struct fg_node *nodes;
	uint32_t nnodes, cap_nodes;
	uint32_t *edges;	/* open-addressing table of child node ids, keyed (parent, name) */
	uint32_t nedges;	/* slots, a power of two */
	struct fg_root *roots;	/* ascending (group, cpu) */
	size_t nroots;
	uint32_t *groups;	/* group names (string ids) in the order they first came */
	size_t ngroups;
	uint64_t total[2];
	struct fg_strtab names;
	const char **scratch;	/* reversed frames for FG_TREE_REVERSE */
	size_t scratch_cap;
};

static inline const char *fg_name(const struct fg_tree *t, uint32_t id)
{
	return t->names.data + t->names.offset[id];
}

/* A root's label into out (reset first): "GROUP, CPU N", "GROUP", "CPU N", or "all".
 * 0 or -ENOMEM. */
int fg_root_label(const struct fg_tree *t, const struct fg_root *r, struct kp_buf *out);

/* The children of a node in drawing order: by name, or as they came for a flame chart.
 * *ids is reallocated as needed; returns the number of children or -ENOMEM. */
long fg_children(const struct fg_tree *t, uint32_t node, uint32_t **ids, size_t *cap);

/* A growable vector of frame names, for the readers. */
struct fg_frames {
	const char **v;
	size_t n, cap;
};
int fg_frames_push(struct fg_frames *fr, const char *name);
/* Print "name: line N: <what rc means>" and return rc. */
int fg_report_line(const char *name, size_t lineno, int rc);
/* Reject a line holding NUL bytes; strip its line ending. */
int fg_line_check(const char *name, size_t lineno, char *line, ssize_t *n);

/* Append s[0..n) to b as XML character data: escape markup characters, replace bytes that are
 * not valid UTF-8 and control characters XML forbids with U+FFFD. */
int fg_xml_escape(struct kp_buf *b, const char *s, size_t n);
/* Number of characters (code points, invalid bytes count one each) in s[0..n). */
size_t fg_utf8_chars(const char *s, size_t n);
/* Bytes of the first `chars` characters of s[0..n). */
size_t fg_utf8_prefix(const char *s, size_t n, size_t chars);

/* A name without its flamegraph.pl-style annotation ("_[k]", "_[u]", ...), as a length. */
size_t fg_display_len(const char *name);
/* Fill rgb[3] for a frame.  seed varies colours when not hashing by name. */
void fg_palette_color(enum fg_palette p, const char *name, bool hash, uint64_t seed,
		      unsigned char rgb[3]);

/* The SVG's embedded style rules and script (svg_script.c). */
extern const char fg_svg_style[];
extern const char fg_svg_script[];

#endif
