/*
 * user_entry.S: the CPL3 part of the user=N workload (see usermode.c).
 *
 * user_enter(deadline, user_rip, user_rsp) saves the callee-saved registers and
 * its stack pointer, then iretq's to user_loop at CPL3 with interrupts on.
 * user_loop spins until the TSC reaches %rdi and comes back to the kernel with `ud2`: the
 * invalid-opcode exception from CPL3 at user_exit is the exit (idt.c hands it
 * to usermode_trap(), which calls user_return), and user_return restores the
 * saved stack and returns from user_enter.  An exception rather than
 * `syscall` or `int $0x80` through a DPL-3 gate: on the PVM KVM backend of the
 * test machines the first faulted at LSTAR still in user mode and the second
 * raised #UD, while exceptions from CPL3 arrive as on hardware.  Timer interrupts taken in user mode run on the TSS's RSP0 stack.
 */
#define SEL_DATA	0x10
#define SEL_UDATA	0x23	/* 0x20 | RPL 3 */
#define SEL_UCODE	0x2b	/* 0x28 | RPL 3 */

	.text
	.globl user_enter
	.type user_enter, @function
user_enter:
	.cfi_startproc
	pushq %rbp
	.cfi_adjust_cfa_offset 8
	.cfi_offset %rbp, -16
	movq %rsp, %rbp
	.cfi_def_cfa_register %rbp
	pushq %rbx
	.cfi_offset %rbx, -24
	pushq %r12
	.cfi_offset %r12, -32
	pushq %r13
	.cfi_offset %r13, -40
	pushq %r14
	.cfi_offset %r14, -48
	pushq %r15
	.cfi_offset %r15, -56
	movq %rsp, user_saved_rsp(%rip)
	pushq $SEL_UDATA		/* SS */
	pushq %rdx			/* RSP */
	pushq $0x202			/* RFLAGS: IF */
	pushq $SEL_UCODE		/* CS */
	pushq %rsi			/* RIP */
	iretq
	.cfi_endproc
	.size user_enter, . - user_enter

/* Called from the exception path: back onto user_enter's stack, then return from it. */
	.globl user_return
	.type user_return, @function
user_return:
	.cfi_startproc simple
	.cfi_undefined rip
	movq user_saved_rsp(%rip), %rsp
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	sti
	ret
	.cfi_endproc
	.size user_return, . - user_return

/*
 * Runs at CPL3 from its identity-mapped address: position independent, no
 * memory access.  %rdi = the TSC value to stop at (rdtsc is allowed at CPL3:
 * CR4.TSD is clear).
 */
	.p2align 4
	.globl user_loop
	.type user_loop, @function
user_loop:
1:	rdtsc
	shlq $32, %rdx
	orq %rdx, %rax
	cmpq %rdi, %rax
	jb 1b
	.globl user_exit
user_exit:
	ud2
	.size user_loop, . - user_loop

	.bss
	.p2align 3
user_saved_rsp:
	.quad 0

	.section .note.GNU-stack, "", @progbits
