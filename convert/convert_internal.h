/* convert/'s files among themselves (and its unit test). */
#ifndef KPROF_CONVERT_INTERNAL_H
#define KPROF_CONVERT_INTERNAL_H

#include "convert/convert.h"

/* Expanding folded counts into samples for a profile stops here: a folded file of a few
 * lines can claim billions of samples. */
#define CONVERT_MAX_EXPANDED_SAMPLES 10000000ull

/* Append one sample holding stack s (outermost first) to p, innermost first. */
int convert_profile_append(struct profile *p, const struct fg_stack *s);

#endif
