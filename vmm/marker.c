/* Guest markers: what a guest tells the monitor about its boot (BOOT_TIME:<stage>:<ns> serial
 * lines, port-0x80 codes).  The devices that see them call vmm_marker and know nothing else;
 * the listeners below act on them, in this order: the boot profile records every marker, the
 * current stage follows it (samples labelled by stage), an end point may end the run, a snapshot trigger may ask for a stop.  A listener that ended the
 * run stops the rest (a code that is both an end point and a trigger only ends the run). */
#include "vmm/internal.h"

typedef bool (*marker_listener)(struct vmm *vm, struct vmm_vcpu *vcpu,
				const struct vmm_marker *m);

static const marker_listener listeners[] = {
	vmm_profile_marker,
	vmm_stage_marker,
	vmm_endpoint_marker,
	vmm_trigger_marker,
};

void vmm_marker(struct vmm *vm, struct vmm_vcpu *vcpu, const struct vmm_marker *m)
{
	for (size_t i = 0; i < KP_ARRAY_SIZE(listeners); i++)
		if (listeners[i](vm, vcpu, m))
			return;
}
