/* Stacks between the two models: the profile's (innermost frame first, one sample per stop,
 * pcs and flags) and flame-graph stacks (outermost first, names and a count). */
#include "convert/convert_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int convert_profile_copy(struct profile *p, const struct profile_stack *st)
{
	struct profile_sample *smp = profile_add_sample(p, 1);
	struct profile_stack *to;

	if (!smp)
		return -ENOMEM;
	to = &smp->stacks[0];
	to->cpu = KP_MAX(st->cpu, 0);	/* a profile's stacks belong to a CPU */
	to->frames = calloc(st->nframes ? st->nframes : 1, sizeof(*to->frames));
	if (!to->frames)
		return -ENOMEM;
	for (size_t i = 0; i < st->nframes; i++) {
		to->frames[i] = st->frames[i];
		to->frames[i].name = strdup(st->frames[i].name ? st->frames[i].name : "??");
		if (!to->frames[i].name)
			return -ENOMEM;
		to->nframes = i + 1;
	}
	to->has_task = st->has_task;
	to->task = st->task;
	if (to->cpu >= p->ncpus)
		p->ncpus = to->cpu + 1;
	return 0;
}

void convert_task_root(const struct profile_task *t, enum convert_tasks mode, char *buf)
{
	char *p;

	if (t->pid < 0 || mode == CONVERT_TASKS_COMM)
		snprintf(buf, CONVERT_TASK_ROOT_MAX, "%s", t->comm);
	else if (mode == CONVERT_TASKS_PID)
		snprintf(buf, CONVERT_TASK_ROOT_MAX, "%s-%d", t->comm, (int)t->tgid);
	else
		snprintf(buf, CONVERT_TASK_ROOT_MAX, "%s-%d/%d", t->comm, (int)t->tgid, (int)t->pid);
	/* As stackcollapse-perf.pl: no blanks in a frame; ';' separates frames in folded. */
	for (p = buf; *p; p++)
		if (*p == ' ' || *p == ';')
			*p = '_';
}

bool convert_task_wanted(const struct convert_source *src, const struct profile_stack *ps)
{
	return !src->comm || (ps->has_task && !strcmp(ps->task.comm, src->comm));
}

int convert_stack_to_tree(struct convert_source *src, const struct profile_stack *ps,
			  const char *stage, uint64_t count, struct kp_buf *ann)
{
	struct fg_stack st = { .cpu = src->per_cpu && ps->cpu >= 0 ? ps->cpu : FG_CPU_ANY,
			       .count = count };
	/* The graph of a stage, as a root frame in folded output; a sample without one in a
	 * file that has stages is "?" (unknown), as an unknown task is. */
	char group[sizeof("stage ") + PROFILE_STAGE_MAX];
	bool root = ps->has_task && src->tasks != CONVERT_TASKS_NONE;
	size_t *offs, n = ps->nframes + root;
	const char **names;
	int rc = 0;

	if (!ps->nframes)
		return 0;
	if (src->per_stage) {
		snprintf(group, sizeof(group), "stage %s", stage ? stage : "?");
		st.group = group;
	}
	offs = calloc(n, sizeof(*offs));
	names = calloc(n, sizeof(*names));
	if (!offs || !names) {
		free(offs);
		free(names);
		return -ENOMEM;
	}
	/* Names are copied into one buffer first: pointers into it move as it grows. */
	kp_buf_reset(ann);
	if (root) {
		char name[CONVERT_TASK_ROOT_MAX];

		convert_task_root(&ps->task, src->tasks, name);
		offs[0] = 0;
		rc = kp_buf_append(ann, name, strlen(name) + 1);
	}
	for (size_t k = 0; k < ps->nframes && !rc; k++) {
		const struct profile_frame *fr = &ps->frames[ps->nframes - 1 - k];

		offs[k + root] = ann->len;
		rc = kp_buf_puts(ann, fr->name ? fr->name : "??");
		if (!rc && src->annotate_user && (fr->flags & PROFILE_FRAME_USER))
			rc = kp_buf_puts(ann, "_[u]");
		if (!rc)
			rc = kp_buf_putc(ann, '\0');
	}
	for (size_t k = 0; k < n && !rc; k++)
		names[k] = ann->data + offs[k];
	st.frames = names;
	st.nframes = n;
	if (!rc)
		rc = fg_tree_add(src->tree, &st, src->slot);
	free(offs);
	free(names);
	return rc;
}

/* A profile's stacks into the tree: innermost-first frames turned around. */
int convert_add_profile(struct convert_source *src, const struct profile *p)
{
	struct kp_buf ann;
	int rc = 0;

	kp_buf_init(&ann);
	for (size_t i = 0; i < p->nsamples && !rc; i++) {
		for (size_t j = 0; j < p->samples[i].nstacks && !rc; j++) {
			const struct profile_stack *ps = &p->samples[i].stacks[j];

			if (!ps->nframes || !convert_task_wanted(src, ps))
				continue;
			rc = convert_stack_to_tree(src, ps, p->samples[i].stage, 1, &ann);
			src->nstacks++;
		}
	}
	kp_buf_release(&ann);
	if (rc == -EOVERFLOW)
		kp_error("%s: sample counts overflow 64 bits", src->path);
	else if (rc)
		kp_error("%s: %s", src->path, strerror(-rc));
	return rc;
}
