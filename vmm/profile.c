/* The boot profile: host phases (timed by vmm_create and the run), guest stages from
 * BOOT_TIME:<stage>:<ns> serial lines, and port-0x80 events, printed as a table or JSON. */
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <string.h>

static const char *const phase_names[VMM_PHASE_COUNT] = {
	"kvm_open", "vm_create", "memory", "kernel_load", "initrd_load", "boot_params",
	"vcpu_setup", "boot_wait", "host_misc",
};

const char *vmm_phase_name(enum vmm_phase p)
{
	return (unsigned)p < VMM_PHASE_COUNT ? phase_names[p] : "?";
}

const char *vmm_port80_range(uint8_t code)
{
	if (code < 0x20)
		return "Firmware";
	if (code < 0x40)
		return "Bootloader";
	if (code < 0x60)
		return "Kernel";
	if (code < 0x80)
		return "Userspace";
	return "Custom";
}

void vmm_profile_port80(struct vmm *vm, uint8_t code)
{
	uint64_t now = kp_now_ns();

	pthread_mutex_lock(&vm->prof_lock);
	if (vm->prof.nport80 < VMM_PROFILE_MAX_PORT80) {
		vm->prof.port80[vm->prof.nport80].code = code;
		vm->prof.port80[vm->prof.nport80].host_ns = now - vm->prof.t0_ns;
		vm->prof.nport80++;
	} else {
		vm->prof.port80_dropped++;
	}
	pthread_mutex_unlock(&vm->prof_lock);
}

void vmm_profile_stage(struct vmm *vm, const char *name, uint64_t guest_ns)
{
	uint64_t now = kp_now_ns();

	pthread_mutex_lock(&vm->prof_lock);
	if (vm->prof.nstages < VMM_PROFILE_MAX_STAGES) {
		struct vmm_boot_stage *s = &vm->prof.stages[vm->prof.nstages++];

		snprintf(s->name, sizeof(s->name), "%s", name);
		s->guest_ns = guest_ns;
		s->host_ns = now - vm->prof.t0_ns;
	}
	pthread_mutex_unlock(&vm->prof_lock);
}

void vmm_get_boot_profile(struct vmm *vm, struct vmm_boot_profile *out)
{
	uint64_t start, end;

	pthread_mutex_lock(&vm->lock);
	start = vm->started ? vm->start_ns : 0;
	end = vm->end_ns ? vm->end_ns : kp_now_ns();
	pthread_mutex_unlock(&vm->lock);
	pthread_mutex_lock(&vm->prof_lock);
	*out = vm->prof;
	pthread_mutex_unlock(&vm->prof_lock);
	/* boot_wait: from vmm_start until the guest ended the run (or until now). */
	out->phase_ns[VMM_PHASE_BOOT_WAIT] = start ? end - start : 0;
	/* Boot lab: when the guest started and when the run ended (0: not yet), since t0. */
	out->start_ns = start ? start - out->t0_ns : 0;
	pthread_mutex_lock(&vm->lock);
	out->end_ns = vm->end_ns ? vm->end_ns - out->t0_ns : 0;
	pthread_mutex_unlock(&vm->lock);
}

void vmm_boot_profile_finish(struct vmm_boot_profile *p, uint64_t now_ns)
{
	uint64_t named = 0;

	p->total_ns = now_ns - p->t0_ns;
	for (int i = 0; i < VMM_PHASE_COUNT; i++)
		if (i != VMM_PHASE_HOST_MISC)
			named += p->phase_ns[i];
	p->phase_ns[VMM_PHASE_HOST_MISC] = p->total_ns > named ? p->total_ns - named : 0;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double share(uint64_t part, uint64_t total)
{
	return total ? 100.0 * (double)part / (double)total : 0.0;
}

static void print_text(const struct vmm_boot_profile *p, FILE *f)
{
	fprintf(f, "boot profile\n");
	fprintf(f, "  %-16s %12s %8s\n", "host phase", "time (ms)", "share");
	for (int i = 0; i < VMM_PHASE_COUNT; i++)
		fprintf(f, "  %-16s %12.3f %7.1f%%\n", phase_names[i], ms(p->phase_ns[i]),
			share(p->phase_ns[i], p->total_ns));
	fprintf(f, "  %-16s %12.3f %7.1f%%\n", "total", ms(p->total_ns), 100.0);
	vmm_lab_profile_print_text(p, f);	/* boot lab: create-VM steps, tVMM/tFW/tKernel */

	fprintf(f, "\n  %-24s %12s %12s %12s\n", "guest stage (BOOT_TIME)", "delta (ms)",
		"guest (ms)", "host (ms)");
	if (!p->nstages)
		fprintf(f, "  (the guest printed no BOOT_TIME lines)\n");
	for (unsigned i = 0; i < p->nstages; i++) {
		const struct vmm_boot_stage *s = &p->stages[i];
		uint64_t prev = i ? p->stages[i - 1].guest_ns : 0;
		uint64_t delta = s->guest_ns >= prev ? s->guest_ns - prev : 0;

		fprintf(f, "  %-24s %12.3f %12.3f %12.3f\n", s->name, ms(delta), ms(s->guest_ns),
			ms(s->host_ns));
	}

	fprintf(f, "\n  %-24s %12s %12s\n", "port 0x80 event", "host (ms)", "delta (ms)");
	if (!p->nport80)
		fprintf(f, "  (the guest wrote nothing to port 0x80)\n");
	for (unsigned i = 0; i < p->nport80; i++) {
		const struct vmm_port80_event *e = &p->port80[i];
		uint64_t prev = i ? p->port80[i - 1].host_ns : 0;
		char label[32];

		snprintf(label, sizeof(label), "0x%02x %s", e->code, vmm_port80_range(e->code));
		fprintf(f, "  %-24s %12.3f %12.3f\n", label, ms(e->host_ns), ms(e->host_ns - prev));
	}
	if (p->port80_dropped)
		fprintf(f, "  (%u more events not recorded)\n", p->port80_dropped);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Written by hand: json-c belongs to the profiler's trace writer, and this is flat. */
static void print_json(const struct vmm_boot_profile *p, FILE *f)
{
	fprintf(f, "{\"host_phases\":[");
	for (int i = 0; i < VMM_PHASE_COUNT; i++)
		fprintf(f, "%s{\"name\":\"%s\",\"ns\":%llu,\"share\":%.4f}", i ? "," : "",
			phase_names[i], (unsigned long long)p->phase_ns[i],
			share(p->phase_ns[i], p->total_ns) / 100.0);
	fprintf(f, "],\"total_ns\":%llu,\"guest_stages\":[", (unsigned long long)p->total_ns);
	for (unsigned i = 0; i < p->nstages; i++) {
		const struct vmm_boot_stage *s = &p->stages[i];
		uint64_t prev = i ? p->stages[i - 1].guest_ns : 0;

		fprintf(f, "%s{\"name\":", i ? "," : "");
		json_string(f, s->name);
		fprintf(f, ",\"delta_ns\":%llu,\"cumulative_ns\":%llu,\"host_ns\":%llu}",
			(unsigned long long)(s->guest_ns >= prev ? s->guest_ns - prev : 0),
			(unsigned long long)s->guest_ns, (unsigned long long)s->host_ns);
	}
	fprintf(f, "],\"port80\":[");
	for (unsigned i = 0; i < p->nport80; i++)
		fprintf(f, "%s{\"code\":%u,\"range\":\"%s\",\"host_ns\":%llu}", i ? "," : "",
			p->port80[i].code, vmm_port80_range(p->port80[i].code),
			(unsigned long long)p->port80[i].host_ns);
	fprintf(f, "],\"port80_dropped\":%u", p->port80_dropped);
	vmm_lab_profile_print_json(p, f);	/* boot lab: create_vm steps, split */
	fprintf(f, "}\n");
}

int vmm_boot_profile_print(const struct vmm_boot_profile *p, enum vmm_profile_format fmt, FILE *f)
{
	if (p->restored)	/* boot lab hook: a restore has its own profile */
		vmm_restore_profile_print(p, fmt, f);
	else if (fmt == VMM_PROFILE_JSON)
		print_json(p, f);
	else if (fmt == VMM_PROFILE_TEXT)
		print_text(p, f);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
