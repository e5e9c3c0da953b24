/* The guest's current boot stage, for samplers that label each stop with it (kprof collect
 * --by-stage): a marker listener keeps the last BOOT_TIME: stage or port-0x80 code, and the
 * target's stage operation reads it while the vCPUs are stopped.  A marker is handled on the
 * vCPU thread that wrote it, before that vCPU runs on, so a stop never sees code of a stage
 * whose marker is not yet counted. */
#include "vmm/internal.h"

#include <stdio.h>
#include <string.h>

void vmm_stage_init(struct vmm *vm)
{
	snprintf(vm->stage, sizeof(vm->stage), "%s", VMM_STAGE_FIRST);
}

/* A port-0x80 code is the stage "post:0x2a": the code as --exit-at takes it, after a prefix
 * that keeps codes apart from BOOT_TIME names (POST codes, as firmware calls them). */
bool vmm_stage_marker(struct vmm *vm, struct vmm_vcpu *vcpu, const struct vmm_marker *m)
{
	(void)vcpu;
	if (m->kind == VMM_MARK_LINE)
		return false;
	pthread_mutex_lock(&vm->prof_lock);
	if (m->kind == VMM_MARK_PORT80)
		snprintf(vm->stage, sizeof(vm->stage), "post:0x%02x", m->code);
	else
		snprintf(vm->stage, sizeof(vm->stage), "%s", m->stage);
	pthread_mutex_unlock(&vm->prof_lock);
	return false;
}

int vmm_stage_read(struct target *t, char *buf, size_t len)
{
	struct vmm *vm = (struct vmm *)t;	/* the target is the first member */

	if (!len)
		return -EINVAL;
	pthread_mutex_lock(&vm->prof_lock);
	snprintf(buf, len, "%s", vm->stage);
	pthread_mutex_unlock(&vm->prof_lock);
	return 0;
}
