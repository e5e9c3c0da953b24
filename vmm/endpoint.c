/* End points (--exit-at): a marker listener that ends the run when the guest prints the
 * configured BOOT_TIME stage or a serial line containing the configured text, or writes a
 * port-0x80 code in the configured range.
 *
 * An end point ends the run exactly as a debug-exit write of 0 would (vmm_end_run), so every
 * consumer of the run (kprof run, boot, collect) treats it as a clean end.  Whether it was the
 * end point that ended the run, and not another vCPU's debug-exit or fault at the same moment,
 * is what vmm_end_run answers: only the first end of a run counts. */
#include "vmm/internal.h"

#include <string.h>

static bool end_at(struct vmm *vm, struct vmm_vcpu *vcpu, const char *what)
{
	if (vmm_end_run(vm, vcpu, VMM_END_EXIT, 0, 0, "end point reached: %s", what))
		atomic_store(&vm->end_hit, true);
	return true;
}

bool vmm_endpoint_marker(struct vmm *vm, struct vmm_vcpu *vcpu, const struct vmm_marker *m)
{
	const struct vmm_config *cfg = &vm->cfg;
	char what[64];

	if (m->kind == VMM_MARK_LINE) {
		if (!cfg->end_text || !strstr(m->stage, cfg->end_text))
			return false;
		snprintf(what, sizeof(what), "serial text '%.40s'", cfg->end_text);
		return end_at(vm, NULL, what);
	}
	if (m->kind == VMM_MARK_STAGE) {
		if (!cfg->end_stage || strcmp(cfg->end_stage, m->stage))
			return false;
		snprintf(what, sizeof(what), "BOOT_TIME:%s", m->stage);
		return end_at(vm, NULL, what);
	}
	if (!cfg->end_port80 || m->code < cfg->end_port80_lo || m->code > cfg->end_port80_hi)
		return false;
	snprintf(what, sizeof(what), "port 0x80 code 0x%02x", m->code);
	return end_at(vm, vcpu, what);
}

bool vmm_end_point_reached(struct vmm *vm)
{
	return atomic_load(&vm->end_hit);
}
