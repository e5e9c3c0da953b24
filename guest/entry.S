/*
 * entry.S: interrupt and exception entry stubs.
 *
 * Every stub carries CFI describing the hardware interrupt frame, so a DWARF
 * unwinder (gdb, kprof) walks from the handler back into the interrupted code:
 * the frame is a signal frame (the saved RIP is not a return address, do not
 * subtract one), the CFA sits just above the saved SS, the interrupted RIP is
 * at CFA-40 and the interrupted RSP at CFA-16.  The timer stub also pushes
 * %rbp right on top of the saved RIP and points %rbp at it, so a frame-pointer
 * walk ([rbp] = previous rbp, [rbp+8] = "return address") continues into the
 * interrupted function too.
 */

/* CFI of the hardware frame, given its distance from %rsp to the CFA. */
.macro HW_FRAME_CFI cfa
	.cfi_signal_frame
	.cfi_def_cfa %rsp, \cfa
	.cfi_offset %rip, -40
	.cfi_offset %rsp, -16
.endm

	.text

/* An interrupt whose C handler does the work (and the EOI): the caller-saved registers
 * around the call, with CFI for each, and %rbp chained for frame-pointer walks. */
.macro IRQ_ENTRY name handler
	.globl \name
	.type \name, @function
	.p2align 4
\name:
	.cfi_startproc simple
	HW_FRAME_CFI 40
	pushq %rbp
	.cfi_adjust_cfa_offset 8
	.cfi_offset %rbp, -48
	movq %rsp, %rbp
	.cfi_def_cfa_register %rbp
	/* The caller-saved registers; the C handler preserves the rest. */
	pushq %rax
	.cfi_offset %rax, -56
	pushq %rcx
	.cfi_offset %rcx, -64
	pushq %rdx
	.cfi_offset %rdx, -72
	pushq %rsi
	.cfi_offset %rsi, -80
	pushq %rdi
	.cfi_offset %rdi, -88
	pushq %r8
	.cfi_offset %r8, -96
	pushq %r9
	.cfi_offset %r9, -104
	pushq %r10
	.cfi_offset %r10, -112
	pushq %r11
	.cfi_offset %r11, -120
	subq $8, %rsp			/* 16-byte alignment for the call */
	cld
	call \handler
	addq $8, %rsp
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	popq %rbp
	.cfi_def_cfa %rsp, 40
	.cfi_same_value %rbp
	iretq
	.cfi_endproc
	.size \name, . - \name
.endm

/* Vector 0x40: the periodic LAPIC timer. */
	IRQ_ENTRY timer_entry timer_interrupt

/* Vector 0x41: the wake-up IPI only ends a hlt; acknowledge it and return. */
	.globl wakeup_entry
	.type wakeup_entry, @function
wakeup_entry:
	.cfi_startproc simple
	HW_FRAME_CFI 40
	pushq %rax
	.cfi_adjust_cfa_offset 8
	.cfi_offset %rax, -48
	movabsq $0xfee000b0, %rax	/* LAPIC EOI register */
	movl $0, (%rax)
	popq %rax
	.cfi_adjust_cfa_offset -8
	.cfi_same_value %rax
	iretq
	.cfi_endproc
	.size wakeup_entry, . - wakeup_entry

/* Vector 0x42: the serial port's IRQ 4 through the I/O APIC (console=echo).  The C
 * handler drains the UART and sends the EOI. */
	IRQ_ENTRY serial_entry serial_interrupt

/* Vector 0xff: LAPIC spurious interrupts need no EOI. */
	.globl spurious_entry
	.type spurious_entry, @function
spurious_entry:
	.cfi_startproc simple
	HW_FRAME_CFI 40
	iretq
	.cfi_endproc
	.size spurious_entry, . - spurious_entry

/*
 * Exceptions 0-31: push a zero error code when the CPU does not, then the
 * vector, and join exception_common, which never returns.
 */
.macro EXCEPTION vec, has_error
	.type exception_\vec, @function
exception_\vec:
	.cfi_startproc simple
	.if \has_error
	HW_FRAME_CFI 48
	.else
	HW_FRAME_CFI 40
	pushq $0
	.cfi_adjust_cfa_offset 8
	.endif
	pushq $\vec
	.cfi_adjust_cfa_offset 8
	jmp exception_common
	.cfi_endproc
	.size exception_\vec, . - exception_\vec
.endm

EXCEPTION 0, 0
EXCEPTION 1, 0
EXCEPTION 2, 0
EXCEPTION 3, 0
EXCEPTION 4, 0
EXCEPTION 5, 0
EXCEPTION 6, 0
EXCEPTION 7, 0
EXCEPTION 8, 1
EXCEPTION 9, 0
EXCEPTION 10, 1
EXCEPTION 11, 1
EXCEPTION 12, 1
EXCEPTION 13, 1
EXCEPTION 14, 1
EXCEPTION 15, 0
EXCEPTION 16, 0
EXCEPTION 17, 1
EXCEPTION 18, 0
EXCEPTION 19, 0
EXCEPTION 20, 0
EXCEPTION 21, 1
EXCEPTION 22, 0
EXCEPTION 23, 0
EXCEPTION 24, 0
EXCEPTION 25, 0
EXCEPTION 26, 0
EXCEPTION 27, 0
EXCEPTION 28, 0
EXCEPTION 29, 1
EXCEPTION 30, 1
EXCEPTION 31, 0

/* Stack: vector, error code, then the hardware frame.  Builds struct exc_frame. */
	.type exception_common, @function
exception_common:
	.cfi_startproc simple
	HW_FRAME_CFI 56
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	.cfi_adjust_cfa_offset 120
	cld
	movq %rsp, %rdi
	call exception_handler
	ud2
	.cfi_endproc
	.size exception_common, . - exception_common

	.section .rodata
	.p2align 3
	.globl exception_stubs
exception_stubs:
	.irp vec, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	.quad exception_\vec
	.endr

	.section .note.GNU-stack, "", @progbits
