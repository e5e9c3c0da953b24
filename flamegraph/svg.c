/* The SVG flame graph: one section per CPU root of the tree, frames laid out from the sample
 * counts, each a <g> holding a <title> tooltip, a <rect> and an optional truncated <text>.
 * Coordinates are computed in integer hundredths of a pixel from sample offsets, so a child's
 * rectangle always lies within its parent's and the script can find ancestors by geometry. */
#include "flamegraph/fg_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define XPAD 10.0
#define SECTION_GAP 10.0

struct layout {
	const struct fg_tree *t;
	const struct fg_svg_options *o;
	FILE *f;
	bool diff, per_cpu;	/* per_cpu: sections with headings (CPUs, groups) */
	double fontsize, charw, text_dy;
	double top;		/* y of the first section */
	uint64_t seq;		/* frames drawn, the colour seed without --hash */
	struct kp_buf line;	/* one frame's markup */
	struct kp_buf label;	/* a root's label */
	uint32_t *ids;		/* children scratch */
	size_t ids_cap;
	struct work {
		uint32_t node, depth;
		uint64_t x;	/* offset in samples from the section's left edge */
	} *stack;
	size_t nstack, cap;
};

void fg_svg_options_init(struct fg_svg_options *o)
{
	memset(o, 0, sizeof(*o));
	o->countname = "samples";
	o->width = 1200;
	o->frame_height = 16;
	o->minwidth = 0.1;
	o->palette = FG_PALETTE_HOT;
}

static int push(struct layout *l, uint32_t node, uint32_t depth, uint64_t x)
{
	if (l->nstack == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct work *s = realloc(l->stack, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		l->stack = s;
		l->cap = cap;
	}
	l->stack[l->nstack++] = (struct work){ node, depth, x };
	return 0;
}

static double scale_of(const struct layout *l, uint32_t root)
{
	uint64_t total = l->t->nodes[root].total[FG_SLOT_MAIN];

	return total ? ((double)l->o->width - 2 * XPAD) / (double)total : 0;
}

/* Hundredths of a pixel: exact and monotonic, so nesting survives rounding. */
static long long hundredths(double px)
{
	return llround(px * 100.0);
}

/* Push a node's visible children, leftmost on top. */
static int push_children(struct layout *l, uint32_t node, uint32_t depth, uint64_t x,
			 double scale)
{
	long n = fg_children(l->t, node, &l->ids, &l->ids_cap);
	uint64_t *offs;
	uint64_t off = x;
	int rc = 0;

	if (n <= 0)
		return (int)n;
	offs = malloc((size_t)n * sizeof(*offs));
	if (!offs)
		return -ENOMEM;
	for (long i = 0; i < n; i++) {
		offs[i] = off;
		off += l->t->nodes[l->ids[i]].total[FG_SLOT_MAIN];
	}
	for (long i = n - 1; i >= 0 && !rc; i--) {
		uint64_t w = l->t->nodes[l->ids[i]].total[FG_SLOT_MAIN];

		if (w && (double)w * scale >= l->o->minwidth)
			rc = push(l, l->ids[i], depth + 1, offs[i]);
	}
	free(offs);
	return rc;
}

/* Depth of the deepest frame wide enough to draw. */
static int max_depth(struct layout *l, uint32_t root, uint32_t *out)
{
	double scale = scale_of(l, root);
	int rc = push(l, root, 0, 0);

	*out = 0;
	while (!rc && l->nstack) {
		struct work w = l->stack[--l->nstack];

		*out = KP_MAX(*out, w.depth);
		rc = push_children(l, w.node, w.depth, w.x, scale);
	}
	l->nstack = 0;
	return rc;
}

static const char *title_of(const struct layout *l)
{
	if (l->o->title)
		return l->o->title;
	if (l->diff)
		return "Differential Flame Graph";
	if (l->t->flags & FG_TREE_FLAMECHART)
		return "Flame Chart";
	return l->o->inverted ? "Icicle Graph" : "Flame Graph";
}

static void diff_color(int64_t delta, double maxdelta, unsigned char rgb[3])
{
	/* White for no change; full red or blue for the largest change in the graph. */
	double v = maxdelta > 0 ? fabs((double)delta) / maxdelta : 0;
	unsigned char shade = (unsigned char)(245.0 - 205.0 * KP_MIN(v, 1.0));

	if (delta > 0)
		rgb[0] = 255, rgb[1] = rgb[2] = shade;
	else if (delta < 0)
		rgb[2] = 255, rgb[0] = rgb[1] = shade;
	else
		rgb[0] = rgb[1] = rgb[2] = 245;
}

struct section {
	const struct fg_root *root;
	double y0;		/* top of the frames */
	uint32_t depth;
	double before_scale;	/* baseline counts are multiplied by this (--normalize) */
	double maxdelta;
};

static int64_t scaled_before(const struct section *s, uint64_t v)
{
	return (int64_t)llround((double)v * s->before_scale);
}

static int64_t self_delta(const struct layout *l, const struct section *s, uint32_t id)
{
	const struct fg_node *nd = &l->t->nodes[id];

	return (int64_t)nd->self[FG_SLOT_MAIN] - scaled_before(s, nd->self[FG_SLOT_BEFORE]);
}

/* The largest change of a frame's own count, which sets the colour intensity. */
static int find_maxdelta(struct layout *l, struct section *s)
{
	double scale = scale_of(l, s->root->node);
	int rc = push(l, s->root->node, 0, 0);

	s->maxdelta = 0;
	while (!rc && l->nstack) {
		struct work w = l->stack[--l->nstack];

		s->maxdelta = KP_MAX(s->maxdelta, fabs((double)self_delta(l, s, w.node)));
		rc = push_children(l, w.node, w.depth, w.x, scale);
	}
	l->nstack = 0;
	return rc;
}

static int frame_markup(struct layout *l, const struct section *s, const struct work *w,
			double scale)
{
	const struct fg_tree *t = l->t;
	const struct fg_node *nd = &t->nodes[w->node];
	uint64_t total = t->nodes[s->root->node].total[FG_SLOT_MAIN];
	uint64_t n = nd->total[FG_SLOT_MAIN];
	long long x0 = hundredths(XPAD + (double)w->x * scale);
	long long x1 = hundredths(XPAD + (double)(w->x + n) * scale);
	double y = l->o->inverted ? s->y0 + w->depth * (double)l->o->frame_height
				  : s->y0 + (double)(s->depth - w->depth) * l->o->frame_height;
	const char *name;
	size_t dlen;
	unsigned char rgb[3];
	struct kp_buf *b = &l->line;
	int rc = 0;

	if (nd->name == FG_ROOT_NAME) {
		if (fg_root_label(t, s->root, &l->label))
			return -ENOMEM;
		name = l->label.data;
		dlen = l->label.len;
	} else {
		name = fg_name(t, nd->name);
		dlen = fg_display_len(name);
	}
	if (l->diff)
		diff_color(self_delta(l, s, w->node), s->maxdelta, rgb);
	else
		fg_palette_color(l->o->palette, name, l->o->hash, l->seq, rgb);
	l->seq++;

	kp_buf_reset(b);
	/* Each write runs only while the ones before it succeeded: rc is the first error. */
	rc = kp_buf_puts(b, "<g><title>");
	rc = rc ? rc : fg_xml_escape(b, name, dlen);
	rc = rc ? rc : kp_buf_printf(b, " (%" PRIu64 " ", n);
	rc = rc ? rc : fg_xml_escape(b, l->o->countname, strlen(l->o->countname));
	rc = rc ? rc : kp_buf_printf(b, ", %.2f%%",
				     total ? 100.0 * (double)n / (double)total : 0.0);
	if (l->diff) {
		int64_t before = scaled_before(s, nd->total[FG_SLOT_BEFORE]);

		rc = rc ? rc : kp_buf_printf(b, "; before %" PRId64 ", change %+" PRId64
					     ", self %+" PRId64, before, (int64_t)n - before,
					     self_delta(l, s, w->node));
	}
	rc = rc ? rc : kp_buf_printf(b, ")</title><rect x=\"%lld.%02lld\" y=\"%.1f\" "
				     "width=\"%lld.%02lld\" height=\"%.1f\" "
				     "fill=\"rgb(%u,%u,%u)\" rx=\"2\" ry=\"2\"/>",
				     x0 / 100, x0 % 100, y, (x1 - x0) / 100, (x1 - x0) % 100,
				     (double)l->o->frame_height - 1.0, rgb[0], rgb[1], rgb[2]);
	{
		double width = (double)(x1 - x0) / 100.0;
		long avail = (long)floor((width - 6.0) / l->charw);
		size_t chars = fg_utf8_chars(name, dlen);

		if (avail >= 3) {
			rc = rc ? rc : kp_buf_printf(b, "<text x=\"%.2f\" y=\"%.1f\">",
						     (double)x0 / 100.0 + 3, y + l->text_dy);
			if (chars <= (size_t)avail) {
				rc = rc ? rc : fg_xml_escape(b, name, dlen);
			} else {
				rc = rc ? rc : fg_xml_escape(b, name, fg_utf8_prefix(name, dlen,
									(size_t)avail - 2));
				rc = rc ? rc : kp_buf_puts(b, "..");
			}
			rc = rc ? rc : kp_buf_puts(b, "</text>");
		}
	}
	rc = rc ? rc : kp_buf_puts(b, "</g>\n");
	if (rc)
		return -ENOMEM;
	fwrite(b->data, 1, b->len, l->f);
	return 0;
}

static int put_escaped(struct layout *l, const char *s)
{
	kp_buf_reset(&l->line);
	if (fg_xml_escape(&l->line, s, strlen(s)))
		return -ENOMEM;
	fwrite(l->line.data, 1, l->line.len, l->f);
	return 0;
}

static int write_section(struct layout *l, struct section *s, uint64_t all)
{
	const struct fg_node *root = &l->t->nodes[s->root->node];
	double scale = scale_of(l, s->root->node);
	int rc;

	fprintf(l->f, "<g class=\"sec\" data-total=\"%" PRIu64 "\" data-inv=\"%d\">\n",
		root->total[FG_SLOT_MAIN], l->o->inverted ? 1 : 0);
	if (l->per_cpu) {
		fprintf(l->f, "<text class=\"heading\" x=\"%.2f\" y=\"%.1f\">", XPAD, s->y0 - 6);
		rc = fg_root_label(l->t, s->root, &l->label);
		rc = rc ? rc : put_escaped(l, l->label.data);
		if (!rc)
			fprintf(l->f, ": %" PRIu64 " ", root->total[FG_SLOT_MAIN]);
		rc = rc ? rc : put_escaped(l, l->o->countname);
		if (rc)
			return rc;
		fprintf(l->f, " (%.2f%% of all)</text>\n",
			all ? 100.0 * (double)root->total[FG_SLOT_MAIN] / (double)all : 0.0);
	}
	rc = push(l, s->root->node, 0, 0);
	while (!rc && l->nstack) {
		struct work w = l->stack[--l->nstack];

		rc = frame_markup(l, s, &w, scale);
		if (!rc)
			rc = push_children(l, w.node, w.depth, w.x, scale);
	}
	l->nstack = 0;
	fputs("</g>\n", l->f);
	return rc;
}

static int write_all(struct layout *l, struct section *secs, size_t nsecs)
{
	const struct fg_svg_options *o = l->o;
	double height, y = l->top;
	uint64_t all = l->t->total[FG_SLOT_MAIN];
	int rc = 0;

	for (size_t i = 0; i < nsecs && !rc; i++) {
		struct section *s = &secs[i];
		uint64_t before = l->t->nodes[s->root->node].total[FG_SLOT_BEFORE];
		uint64_t after = l->t->nodes[s->root->node].total[FG_SLOT_MAIN];

		s->before_scale = o->normalize && before ? (double)after / (double)before : 1.0;
		if (l->per_cpu)
			y += l->fontsize + 10;
		s->y0 = y;
		rc = max_depth(l, s->root->node, &s->depth);
		if (!rc && l->diff)
			rc = find_maxdelta(l, s);
		y += (s->depth + 1.0) * o->frame_height + SECTION_GAP;
	}
	if (rc)
		return rc;
	height = y + l->fontsize * 2 + 4;

	fprintf(l->f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" "
		"height=\"%.0f\" viewBox=\"0 0 %u %.0f\" data-charw=\"%.3f\" data-texty=\"%.1f\">\n",
		o->width, ceil(height), o->width, ceil(height), l->charw, l->text_dy);
	fprintf(l->f, "<style>\ntext { font-family: Verdana, Helvetica, sans-serif; "
		"font-size: %.0fpx; fill: #000; }\n%s</style>\n", l->fontsize, fg_svg_style);
	fprintf(l->f, "<defs><linearGradient id=\"bg\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">"
		"<stop offset=\"5%%\" stop-color=\"#f4f4f4\"/><stop offset=\"95%%\" "
		"stop-color=\"#ececd4\"/></linearGradient></defs>\n"
		"<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"url(#bg)\"/>\n");
	fprintf(l->f, "<text id=\"title\" x=\"%.1f\" y=\"24\">", o->width / 2.0);
	rc = put_escaped(l, title_of(l));
	fputs("</text>\n", l->f);
	if (o->subtitle) {
		fprintf(l->f, "<text id=\"subtitle\" x=\"%.1f\" y=\"%.0f\">", o->width / 2.0,
			24 + l->fontsize + 6);
		rc = rc ? rc : put_escaped(l, o->subtitle);
		fputs("</text>\n", l->f);
	}
	fprintf(l->f, "<text id=\"unzoom\" class=\"btn hide\" x=\"%.1f\" y=\"24\">Reset Zoom"
		"</text>\n<text id=\"search\" class=\"btn\" x=\"%.1f\" y=\"24\">Search</text>\n"
		"<text id=\"details\" x=\"%.1f\" y=\"%.0f\"> </text>\n"
		"<text id=\"matched\" x=\"%.1f\" y=\"%.0f\"> </text>\n",
		XPAD, o->width - XPAD, XPAD, height - 10, o->width - XPAD, height - 10);
	for (size_t i = 0; i < nsecs && !rc; i++)
		rc = write_section(l, &secs[i], all);
	if (rc)
		return rc;
	fprintf(l->f, "<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n</svg>\n",
		fg_svg_script);
	return 0;
}

int fg_write_svg(const struct fg_tree *t, const struct fg_svg_options *o, FILE *f,
		 const char *name)
{
	struct layout l = { .t = t, .o = o, .f = f };
	struct section *secs;
	size_t nsecs = 0;
	int rc;

	if (o->width < 100 || o->width > 1000000 || o->frame_height < 4 ||
	    o->frame_height > 1000 || !(o->minwidth >= 0)) {
		kp_error("%s: bad image geometry (width 100..1000000, frame height 4..1000)", name);
		return -EINVAL;
	}
	l.diff = t->total[FG_SLOT_BEFORE] > 0;
	l.per_cpu = t->nroots > 1 || (t->nroots == 1 && (t->roots[0].cpu != FG_CPU_ANY ||
							  t->roots[0].group != FG_NO_GROUP));
	l.fontsize = o->frame_height >= 15 ? 12 : KP_MAX(o->frame_height - 3.0, 4.0);
	l.charw = l.fontsize * 0.59;
	l.text_dy = o->frame_height / 2.0 + l.fontsize / 2.0 - 2;
	l.top = 24 + 16 + (o->subtitle ? l.fontsize + 6 : 0);
	secs = calloc(t->nroots ? t->nroots : 1, sizeof(*secs));
	if (!secs)
		return -ENOMEM;
	/* A CPU seen only in a diff's baseline has nothing to draw at AFTER's widths. */
	for (size_t i = 0; i < t->nroots; i++)
		if (t->nodes[t->roots[i].node].total[FG_SLOT_MAIN])
			secs[nsecs++].root = &t->roots[i];
	kp_buf_init(&l.line);
	kp_buf_init(&l.label);
	rc = write_all(&l, secs, nsecs);
	kp_buf_release(&l.line);
	kp_buf_release(&l.label);
	free(l.ids);
	free(l.stack);
	free(secs);
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
