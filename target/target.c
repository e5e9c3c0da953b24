/* Helpers shared by every target implementation and its users. */
#include "target/target.h"

#include <stdio.h>

int target_describe_cpu(struct target *t, int cpu, char *buf, size_t len)
{
	const char *state;

	if (t->ops->describe_cpu)
		return t->ops->describe_cpu(t, cpu, buf, len);
	switch (target_cpu_state(t, cpu)) {
	case TARGET_CPU_RUNNING:
		state = "running";
		break;
	case TARGET_CPU_HALTED:
		state = "halted ";
		break;
	default:
		state = "offline";
		break;
	}
	/* QEMU's wording, so scripts written for it read ours. */
	snprintf(buf, len, "CPU#%d [%s]", cpu, state);
	return 0;
}

const char *target_event_name(enum target_event_kind kind)
{
	switch (kind) {
	case TARGET_EV_STOPPED:
		return "stopped";
	case TARGET_EV_BREAKPOINT:
		return "breakpoint";
	case TARGET_EV_WATCHPOINT:
		return "watchpoint";
	case TARGET_EV_STEP:
		return "step";
	case TARGET_EV_EXITED:
		return "exited";
	case TARGET_EV_FAULT:
		return "fault";
	case TARGET_EV_GONE:
		return "connection lost";
	}
	return "unknown";
}
