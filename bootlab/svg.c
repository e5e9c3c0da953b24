/* Histograms of total boot time as a standalone SVG: one panel for kprof's totals and, after a
 * QEMU comparison, one for QEMU's wall times, on the same time axis so they compare by eye. */
#include "bootlab/bootlab.h"

#include "common/common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 900
#define PANEL_H 260
#define MARGIN_L 60
#define MARGIN_R 20
#define BINS 40

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, f);
		}
	}
}

static void panel(FILE *f, const struct bl_series *s, const char *title, const char *color,
		  uint64_t lo, uint64_t hi, int y0)
{
	size_t bins[BINS] = { 0 }, top = 1;
	double span = hi > lo ? (double)(hi - lo) : 1.0;
	double bw = (double)(WIDTH - MARGIN_L - MARGIN_R) / BINS;
	int base = y0 + PANEL_H - 40, height = PANEL_H - 80;

	for (size_t i = 0; i < s->n; i++) {
		size_t b = (size_t)((double)(s->v[i] - lo) / span * BINS);

		bins[b >= BINS ? BINS - 1 : b]++;
	}
	for (int b = 0; b < BINS; b++)
		top = KP_MAX(top, bins[b]);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"14\">", MARGIN_L, y0 + 24);
	xml_text(f, title);
	fprintf(f, " (%zu boots)</text>\n", s->n);
	for (int b = 0; b < BINS; b++) {
		double h = (double)bins[b] / (double)top * height;

		if (!bins[b])
			continue;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
			   "<title>%.3f-%.3f ms: %zu</title></rect>\n",
			MARGIN_L + b * bw, base - h, bw - 1, h, color,
			((double)lo + span * b / BINS) / 1e6, ((double)lo + span * (b + 1) / BINS) / 1e6,
			bins[b]);
	}
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", MARGIN_L,
		base, WIDTH - MARGIN_R, base);
	/* The median as a dashed line, labelled. */
	uint64_t *sorted = malloc(s->n * sizeof(*sorted));
	if (sorted) {
		struct bl_stats st;
		double x;

		memcpy(sorted, s->v, s->n * sizeof(*sorted));
		bl_stats_compute(sorted, s->n, &st);
		x = MARGIN_L + (double)(st.median - lo) / span * (WIDTH - MARGIN_L - MARGIN_R);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#222\" "
			   "stroke-dasharray=\"4 3\"/>\n<text x=\"%.1f\" y=\"%d\" font-size=\"11\">"
			   "median %.2f ms</text>\n", x, base - height - 10, x, base, x + 4,
			base - height - 2, (double)st.median / 1e6);
		free(sorted);
	}
	for (int t = 0; t <= 4; t++) {
		double x = MARGIN_L + (double)(WIDTH - MARGIN_L - MARGIN_R) * t / 4;

		/* End labels anchored inwards so they stay on the canvas. */
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"%s\">"
			   "%.2f ms</text>\n", x, base + 16,
			t == 0 ? "start" : t == 4 ? "end" : "middle", ((double)lo + span * t / 4) / 1e6);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%zu</text>\n",
		MARGIN_L - 6, base - height + 4, top);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">0</text>\n",
		MARGIN_L - 6, base);
}

int bootlab_write_svg(const struct bootlab *lab, const struct bl_report *r, FILE *f)
{
	const struct bl_series *k = bootlab_find(lab, BL_GROUP_SPLIT, "total");
	const struct bl_series *q = bootlab_find(lab, BL_GROUP_QEMU, "wall");
	uint64_t lo = UINT64_MAX, hi = 0;
	int panels = (k ? 1 : 0) + (q ? 1 : 0);

	for (int p = 0; p < 2; p++) {
		const struct bl_series *s = p ? q : k;

		for (size_t i = 0; s && i < s->n; i++) {
			lo = KP_MIN(lo, s->v[i]);
			hi = KP_MAX(hi, s->v[i]);
		}
	}
	if (lo > hi)
		lo = hi = 0;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "font-family=\"sans-serif\">\n", WIDTH, 40 + PANEL_H * (panels ? panels : 1));
	fprintf(f, "<text x=\"%d\" y=\"24\" font-size=\"16\">Total boot time: ", MARGIN_L);
	xml_text(f, r->kernel);
	fprintf(f, ", %u vCPU%s, ended at ", r->cpus, r->cpus == 1 ? "" : "s");
	xml_text(f, r->end_point);
	fprintf(f, "</text>\n");
	if (k)
		panel(f, k, "kprof (KVM), vmm_create to the end point", "#4a7ebb", lo, hi, 40);
	if (q)
		panel(f, q, "QEMU (TCG), process start to the end point", "#d9822b", lo, hi,
		      40 + (k ? PANEL_H : 0));
	fprintf(f, "</svg>\n");
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
