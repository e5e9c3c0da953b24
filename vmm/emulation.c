/* What the monitor does when the host's KVM could not emulate a guest instruction.
 *
 * On the paravirtualized backend (kvm_pvm, see README.md "This host's KVM and Linux") guest
 * kernel code runs in KVM's instruction emulator, which gives up with KVM_EXIT_INTERNAL_ERROR
 * (KVM_INTERNAL_ERROR_EMULATION) on a few instructions.  One of them is `int3` at CPL0, which
 * Linux executes on purpose (its int3 self-test, and text patching: text_poke_bp plants an int3
 * while it rewrites an instruction other CPUs may run).  Its meaning is fixed by the
 * architecture, so the monitor delivers it as the #BP trap it is: RIP past the int3, exception
 * 3 injected with KVM_SET_VCPU_EVENTS.  When the emulator fetched an int3 that is no longer in
 * memory (text_poke_bp on another CPU finished meanwhile; KVM reports the bytes it fetched),
 * the instruction now there is run instead, as the CPU would.  Hardware KVM executes int3 itself and never exits here,
 * and the fix-up is only armed on the emulating backend.
 *
 * `fwait` (Linux's fpu__drop runs one) fails the same way; it only checks for a pending x87
 * exception, so the monitor does what the CPU would: #NM when CR0.TS and CR0.MP are set, #MF
 * when the FPU status word has an unmasked exception pending (ES) and CR0.NE is set, otherwise
 * nothing but the step past it.
 *
 * `ldmxcsr`/`stmxcsr m32` (kernel_fpu_begin loads MXCSR) fail too; the monitor moves the value
 * between the operand (through the guest's page tables) and MXCSR (KVM_GET_FPU/KVM_SET_FPU),
 * with #GP(0) for reserved bits.
 *
 * Any other failure ends the run; its message names the instruction bytes, since "emulation
 * failed" alone does not say which instruction the guest must avoid (--cpu removes CPUID
 * features so that Linux chooses other code). */
#include "vmm/insn_hint.h"
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#define INT3 0xcc
#define FWAIT 0x9b
#define BP_VECTOR 3
#define NM_VECTOR 7
#define MF_VECTOR 16
#define CR0_MP (1ull << 1)
#define CR0_TS (1ull << 3)
#define CR0_NE (1ull << 5)
#define FSW_ES 0x80
#define MXCSR_MASK 0xffffu	/* the bits MXCSR accepts (FXSAVE's MXCSR_MASK on these CPUs) */
/* In the legacy (FXSAVE) area of KVM_GET_XSAVE: this backend's KVM_GET_FPU reads MXCSR as 0
 * and KVM_SET_FPU does not change it (measured), so the x87/SSE status goes through XSAVE. */
#define XSAVE_FSW 2
#define XSAVE_MXCSR 24

static long read_code(struct vmm *vm, const struct kvm_regs *r, const struct kvm_sregs *s,
		      uint8_t *buf, size_t len)
{
	struct vmm_paging pg = { .cr0 = s->cr0, .cr3 = s->cr3, .cr4 = s->cr4, .efer = s->efer };

	return vmm_linear_copy(&vm->mem, &pg, s->cs.base + r->rip, buf, len, 0);
}

/* Inject exception `vector` (none when negative) after moving RIP by `advance` bytes: a trap
 * (#BP) is reported after the instruction, a fault (#NM, #MF) at it. */
static int complete(struct vmm_vcpu *vcpu, struct kvm_regs *r, unsigned advance, int vector)
{
	struct kvm_vcpu_events ev;

	if (ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	/* An event already on its way would be lost under ours. */
	if (ev.exception.injected || ev.exception.pending || ev.interrupt.injected ||
	    ev.nmi.injected)
		return -EBUSY;
	if (advance) {
		r->rip += advance;
		if (ioctl(vcpu->fd, KVM_SET_REGS, r) < 0)
			return -errno;
	}
	if (vector < 0)
		return 0;
	memset(&ev.exception, 0, sizeof(ev.exception));
	ev.exception.injected = 1;
	ev.exception.nr = (uint8_t)vector;
	ev.flags = 0;	/* leave NMI, SIPI, shadow and SMM state as they are */
	if (ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	return 0;
}

static int complete_error(struct vmm_vcpu *vcpu, struct kvm_regs *r, int vector, uint32_t error)
{
	struct kvm_vcpu_events ev;
	int ret = complete(vcpu, r, 0, vector);

	if (ret || ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return ret ? ret : -errno;
	ev.exception.has_error_code = 1;
	ev.exception.error_code = error;
	ev.flags = 0;
	return ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev) < 0 ? -errno : 0;
}

static int do_fwait(struct vmm_vcpu *vcpu, struct kvm_regs *r, const struct kvm_sregs *s)
{
	struct kvm_xsave xs;
	uint16_t fsw;

	if ((s->cr0 & CR0_TS) && (s->cr0 & CR0_MP))
		return complete(vcpu, r, 0, NM_VECTOR);
	if (ioctl(vcpu->fd, KVM_GET_XSAVE, &xs) < 0)
		return -errno;
	memcpy(&fsw, (uint8_t *)xs.region + XSAVE_FSW, 2);
	if ((fsw & FSW_ES) && (s->cr0 & CR0_NE))
		return complete(vcpu, r, 0, MF_VECTOR);
	return complete(vcpu, r, 1, -1);
}

#define GP_VECTOR 13

/* ldmxcsr/stmxcsr m32 (Linux's kernel_fpu_begin loads MXCSR): the operand through the guest's
 * page tables, MXCSR through KVM_GET_FPU/KVM_SET_FPU; #GP(0) for reserved bits, as the CPU. */
static int do_mxcsr(struct vmm_vcpu *vcpu, struct kvm_regs *r, const struct kvm_sregs *s,
		    const uint8_t *code, size_t n)
{
	const uint64_t gpr[16] = { r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi,
				   r->rdi, r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14,
				   r->r15 };
	struct vmm_paging pg = { .cr0 = s->cr0, .cr3 = s->cr3, .cr4 = s->cr4, .efer = s->efer };
	struct kvm_xsave xs;
	uint64_t addr;
	unsigned len;
	uint32_t v;
	int op = vmm_insn_mxcsr(code, n, gpr, r->rip, &addr, &len);

	if (!op)
		return -ENOEXEC;
	if (ioctl(vcpu->fd, KVM_GET_XSAVE, &xs) < 0)
		return -errno;
	if (op == 2) {
		memcpy(&v, (uint8_t *)xs.region + XSAVE_MXCSR, 4);
		if (vmm_linear_copy(&vcpu->vm->mem, &pg, addr, &v, 4, 1) != 4)
			return -EFAULT;	/* a #PF the monitor does not deliver: end the run */
		return complete(vcpu, r, len, -1);
	}
	if (vmm_linear_copy(&vcpu->vm->mem, &pg, addr, &v, 4, 0) != 4)
		return -EFAULT;
	if (v & ~MXCSR_MASK)
		return complete_error(vcpu, r, GP_VECTOR, 0);
	memcpy((uint8_t *)xs.region + XSAVE_MXCSR, &v, 4);
	if (ioctl(vcpu->fd, KVM_SET_XSAVE, &xs) < 0)
		return -errno;
	return complete(vcpu, r, len, -1);
}

/* The bytes the emulator failed on, when KVM says (KVM_INTERNAL_ERROR_EMULATION_FLAG_
 * INSTRUCTION_BYTES; PVM does); 0 when it does not. */
static size_t failed_bytes(const struct kvm_run *run, uint8_t *buf, size_t len)
{
	const __typeof__(run->emulation_failure) *f = &run->emulation_failure;
	size_t n;

	if (f->ndata < 3 || !(f->flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES))
		return 0;
	n = f->insn_size < len ? f->insn_size : len;
	n = n < sizeof(f->insn_bytes) ? n : sizeof(f->insn_bytes);
	memcpy(buf, f->insn_bytes, n);
	return n;
}

/* The emulator fetched an int3 that another CPU's text_poke_bp has since replaced by the final
 * instruction (it syncs every CPU before it does): the CPU would run that instruction, so run
 * it again.  An emulator that keeps failing at one address (more than RETRY_MAX times, each
 * within RETRY_NS of the last) still ends the run. */
#define RETRY_MAX 100
#define RETRY_NS 10000000ull

static bool retry_vanished_int3(struct vmm_vcpu *vcpu, uint64_t rip)
{
	uint64_t now = kp_now_ns();

	if (rip != vcpu->int3_retry.rip || now - vcpu->int3_retry.ns > RETRY_NS)
		vcpu->int3_retry.count = 0;
	vcpu->int3_retry.rip = rip;
	vcpu->int3_retry.ns = now;
	return ++vcpu->int3_retry.count <= RETRY_MAX;
}

bool vmm_emulation_failure(struct vmm_vcpu *vcpu, char *why, size_t len)
{
	struct vmm *vm = vcpu->vm;
	struct kvm_regs r;
	struct kvm_sregs s;
	uint8_t code[15], failed[15];
	size_t nfailed = failed_bytes(vcpu->run, failed, sizeof(failed));
	long n;
	int ret;

	snprintf(why, len, "instruction emulation failed");
	if (vmm_vcpu_read_state(vcpu, &r, &s))
		return false;
	n = read_code(vm, &r, &s, code, sizeof(code));
	if (n <= 0) {
		snprintf(why, len, "instruction emulation failed at rip 0x%llx (not mapped)",
			 (unsigned long long)r.rip);
		return false;
	}
	if (vm->emulated_cpl0 && (s.cs.selector & 3) == 0) {
		uint64_t at = r.rip;

		ret = -ENOEXEC;
		if (code[0] == INT3) {
			ret = complete(vcpu, &r, 1, BP_VECTOR);
		} else if (code[0] == FWAIT) {
			ret = do_fwait(vcpu, &r, &s);
		} else if ((ret = do_mxcsr(vcpu, &r, &s, code, (size_t)n)) != -ENOEXEC) {
			/* done (0) or failed (< 0, the run ends) */
		} else if (nfailed && failed[0] == INT3 && retry_vanished_int3(vcpu, at)) {
			return true;
		}
		if (!ret) {
			/* Linux patches text with int3 all through its life: count, do not log. */
			if (atomic_fetch_add(&vm->emulation_completed, 1) == 0)
				kp_debug("cpu %d: %s at 0x%llx done by the monitor", vcpu->id,
					 code[0] == INT3 ? "int3" : code[0] == FWAIT ? "fwait" :
					 "ldmxcsr/stmxcsr", (unsigned long long)at);
			return true;
		}
		if (ret != -ENOEXEC)
			kp_debug("cpu %d: %s at 0x%llx not completed: %s", vcpu->id,
				 code[0] == INT3 ? "int3" : "fwait", (unsigned long long)at,
				 strerror(-ret));
	}
	/* Name what the emulator failed on: its own bytes where KVM gives them. */
	const uint8_t *b = nfailed ? failed : code;
	size_t nb = nfailed ? nfailed : (size_t)n;
	const char *mn = NULL, *feature = vmm_insn_feature(b, nb, &mn);
	int o = snprintf(why, len, "emulation failed at rip 0x%llx:", (unsigned long long)r.rip);

	for (size_t i = 0; i < nb && i < 8 && o > 0 && (size_t)o < len; i++)
		o += snprintf(why + o, len - (size_t)o, " %02x", b[i]);
	if (feature && o > 0 && (size_t)o < len)
		snprintf(why + o, len - (size_t)o, "; %s: try a CPU template without it (host,-%s)", mn, feature);
	return false;
}
