/* convert/'s files among themselves (and its unit test). */
#ifndef KPROF_CONVERT_INTERNAL_H
#define KPROF_CONVERT_INTERNAL_H

#include "convert/convert.h"

/* Expanding folded counts into samples for a profile stops here: a folded file of a few
 * lines can claim billions of samples. */
#define CONVERT_MAX_EXPANDED_SAMPLES 10000000ull


/* Append one sample holding a copy of st (innermost first, pcs and flags kept) to p. */
int convert_profile_copy(struct profile *p, const struct profile_stack *st);
/* Add stack ps (innermost first) count times to src->tree, as convert_add_profile does;
 * stage is its sample's boot stage (NULL: none); ann is scratch space kept across calls. */
int convert_stack_to_tree(struct convert_source *src, const struct profile_stack *ps,
			  const char *stage, uint64_t count, struct kp_buf *ann);
/* Whether src's --comm keeps ps (a profile stack with its task). */
bool convert_task_wanted(const struct convert_source *src, const struct profile_stack *ps);

/* Byte strings to dense ids 1, 2, ... (intern.c).  Zero-initialise; keys are kept, each
 * followed by a NUL (so a string key reads back as a C string). */
struct intern {
	struct kp_buf keys;	/* every key back to back */
	size_t *off, *len;	/* of id - 1 */
	size_t n, cap;
	size_t *slot;		/* open addressing over ids; 0 is empty */
	size_t nslots;
};
/* The id of key, added when new (*added says so).  0 or -ENOMEM. */
int intern(struct intern *t, const void *key, size_t len, size_t *id, bool *added);
/* The key of id (1..n), and its length when len is not NULL. */
const void *intern_key(const struct intern *t, size_t id, size_t *len);
void intern_release(struct intern *t);

/* pprof (pprof.c, libprotobuf-c): profile.proto messages, uncompressed. */
int convert_pprof_encode(const struct profile *p, struct kp_buf *out);
/* Decode a message: fn once per sample (cpu -1 when the sample has no "cpu" label); meta gets the kernel, build id, interval, start time
 * and CPU count.  A malformed message: one line naming name, -EBADMSG. */
int convert_pprof_decode(const void *data, size_t len, const char *name, struct profile *meta,
			 convert_stack_fn fn, void *arg);

#endif
