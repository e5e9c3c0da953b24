/* The profile model: allocation, filtering by CPU or task, release. */
#include "profiler/profile.h"

#include <stdlib.h>
#include <string.h>

struct profile *profile_new(void)
{
	struct profile *p = calloc(1, sizeof(*p));

	if (p)
		p->format_version = 1;
	return p;
}

struct profile_sample *profile_add_sample(struct profile *p, size_t nstacks)
{
	struct profile_sample *grown, *s;

	/* The array holds max(16, next power of two) entries: grow at 0, 16, 32, 64, ... */
	if (!p->nsamples || (p->nsamples >= 16 && !(p->nsamples & (p->nsamples - 1)))) {
		size_t cap = p->nsamples ? p->nsamples * 2 : 16;

		grown = realloc(p->samples, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		p->samples = grown;
	}
	s = &p->samples[p->nsamples];
	memset(s, 0, sizeof(*s));
	if (nstacks) {
		s->stacks = calloc(nstacks, sizeof(*s->stacks));
		if (!s->stacks)
			return NULL;
	}
	s->nstacks = nstacks;
	p->nsamples++;
	return s;
}

static void stack_release(struct profile_stack *st)
{
	for (size_t i = 0; i < st->nframes; i++)
		free(st->frames[i].name);
	free(st->frames);
	st->frames = NULL;
	st->nframes = 0;
}

/* Keep the stacks keep() accepts; samples left with none are dropped. */
static void filter(struct profile *p, bool (*keep)(const struct profile_stack *, const void *),
		   const void *ctx)
{
	size_t w = 0;

	for (size_t i = 0; i < p->nsamples; i++) {
		struct profile_sample *s = &p->samples[i];
		size_t k = 0;

		for (size_t j = 0; j < s->nstacks; j++) {
			if (keep(&s->stacks[j], ctx))
				s->stacks[k++] = s->stacks[j];
			else
				stack_release(&s->stacks[j]);
		}
		s->nstacks = k;
		if (!k) {
			free(s->stacks);
			free(s->stage);
			continue;
		}
		p->samples[w++] = *s;
	}
	p->nsamples = w;
}

static bool in_mask(const struct profile_stack *st, const void *mask)
{
	return st->cpu >= 0 && st->cpu < KP_CPUMASK_BITS && kp_cpumask_test(mask, (unsigned)st->cpu);
}

void profile_filter_cpus(struct profile *p, const struct kp_cpumask *mask)
{
	filter(p, in_mask, mask);
}

static bool has_comm(const struct profile_stack *st, const void *comm)
{
	return st->has_task && !strcmp(st->task.comm, comm);
}

void profile_filter_comm(struct profile *p, const char *comm)
{
	filter(p, has_comm, comm);
}

bool profile_has_tasks(const struct profile *p)
{
	for (size_t i = 0; i < p->nsamples; i++)
		for (size_t j = 0; j < p->samples[i].nstacks; j++)
			if (p->samples[i].stacks[j].has_task)
				return true;
	return false;
}

bool profile_has_stages(const struct profile *p)
{
	for (size_t i = 0; i < p->nsamples; i++)
		if (p->samples[i].stage)
			return true;
	return false;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nsamples; i++) {
		for (size_t j = 0; j < p->samples[i].nstacks; j++)
			stack_release(&p->samples[i].stacks[j]);
		free(p->samples[i].stacks);
		free(p->samples[i].stage);
	}
	free(p->samples);
	free(p->kernel);
	free(p->build_id);
	free(p);
}
