/*
 * boot.S: PVH entry, page tables, the switch to long mode, and the AP trampoline.
 *
 * A PVH loader enters pvh_start32 in 32-bit protected mode with paging off and
 * %ebx = physical address of struct hvm_start_info.  The code here runs at its
 * physical address (the low .boot sections, VMA == LMA); everything after the
 * jump to start64_bsp runs in the higher half (KERNEL_VMA + physical).
 */
#define KERNEL_VMA	0xffffffff80000000
#define MAX_CPUS	16
#define STACK_SIZE	16384
#define CR0_PE		0x00000001
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020
#define MSR_EFER	0xc0000080
#define EFER_LME	0x00000100
#define SEL_CODE64	0x08
#define SEL_DATA	0x10
#define SEL_CODE32	0x18
/* A physical address of a higher-half symbol, for the 32-bit code. */
#define PHYS(sym)	((sym) - KERNEL_VMA)

/*
 * XEN_ELFNOTE_PHYS32_ENTRY (18): the 32-bit physical entry point.  The
 * descriptor is 8 bytes in this ELF64 file, as in Linux's vmlinux, because
 * QEMU reads a 64-bit value from a 64-bit ELF.
 */
	.section .note.Xen, "a", @note
	.p2align 2
	.long 4
	.long 8
	.long 18
	.asciz "Xen"
	.p2align 2
	.quad pvh_start32

/* ------------------------------------------------------------------ */
	.section .boot.text, "ax", @progbits
	.code32

/* Paging on, long mode on, then a far jump to the 64-bit \target (low). */
.macro ENTER_LONG_MODE target
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE64, $\target
.endm

	.globl pvh_start32
	.type pvh_start32, @function
pvh_start32:
	cli
	cld
	movb $0x20, %al			/* port 0x80: PVH entry */
	outb %al, $0x80
	movl %ebx, %esi			/* hvm_start_info; kept in %esi */
	rdtsc				/* time zero for BOOT_TIME */
	movl %eax, PHYS(boot_tsc0)
	movl %edx, PHYS(boot_tsc0) + 4
	lgdtl gdt_ptr
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	ENTER_LONG_MODE bsp_long_low
	.size pvh_start32, . - pvh_start32

	/* APs arrive here from the real-mode trampoline, GDT already loaded. */
	.globl ap_start32
	.type ap_start32, @function
ap_start32:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	ENTER_LONG_MODE ap_long_low
	.size ap_start32, . - ap_start32

	.code64
bsp_long_low:
	movb $0x21, %al			/* port 0x80: long mode */
	outb %al, $0x80
	movabsq $start64_bsp, %rax
	jmp *%rax
ap_long_low:
	movabsq $start64_ap, %rax
	jmp *%rax

/* ------------------------------------------------------------------ */
	.section .boot.data, "aw", @progbits
	.p2align 3
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08: 64-bit code (accessed bit preset) */
	.quad 0x00cf93000000ffff	/* 0x10: flat data */
	.quad 0x00cf9b000000ffff	/* 0x18: flat 32-bit code */
gdt_end:
	.p2align 3
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt

/*
 * Page tables, fully static so boot spends no instructions building them:
 * PML4[0]   -> identity map of 0..4 GiB in 2 MiB pages (3..4 GiB, where the
 *              LAPIC and other MMIO live, uncached: PCD|PWT);
 * PML4[511] -> PDPT[510] -> the first identity PD: the -2 GiB kernel window
 *              maps physical 0..1 GiB.
 */
	.p2align 12
	.globl pml4
pml4:
	.quad pdpt_low + 0x3
	.fill 510, 8, 0
	.quad pdpt_high + 0x3
pdpt_low:
	.quad pd_ident + 0x0000 + 0x3
	.quad pd_ident + 0x1000 + 0x3
	.quad pd_ident + 0x2000 + 0x3
	.quad pd_ident + 0x3000 + 0x3
	.fill 508, 8, 0
pdpt_high:
	.fill 510, 8, 0
	.quad pd_ident + 0x3
	.quad 0
pd_ident:
	.set page, 0
	.rept 2048
	.if page >= 1536
	.quad (page << 21) | 0x9b	/* present, writable, 2 MiB, PWT, PCD */
	.else
	.quad (page << 21) | 0x83	/* present, writable, 2 MiB */
	.endif
	.set page, page + 1
	.endr

/* ------------------------------------------------------------------ */
/*
 * Real-mode AP trampoline.  smp.c copies trampoline_start..trampoline_end to
 * TRAMPOLINE_PADDR (0x8000) and sends SIPI vector 0x08, so the AP starts here
 * with CS = 0x0800, IP = 0.  Only offsets from trampoline_start are used until
 * the far jump into the GDT's flat 32-bit code segment.
 */
	.section .rodata.trampoline, "a", @progbits
	.code16
	.globl trampoline_start, trampoline_end
trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl (tramp_gdt_ptr - trampoline_start)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $ap_start32
	.p2align 2
tramp_gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
trampoline_end:

/* ------------------------------------------------------------------ */
	.text
	.code64
/* The BSP's first higher-half code: stack, segments, then C. */
	.globl start64_bsp
	.type start64_bsp, @function
start64_bsp:
	.cfi_startproc
	.cfi_undefined rip
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq $(cpu_stacks + STACK_SIZE), %rsp
	xorl %ebp, %ebp
	movl %esi, %edi			/* kernel_main(start_info_paddr) */
	call kernel_main
	ud2
	.cfi_endproc
	.size start64_bsp, . - start64_bsp

/* An AP's first higher-half code: smp.c published its stack and index. */
	.globl start64_ap
	.type start64_ap, @function
start64_ap:
	.cfi_startproc
	.cfi_undefined rip
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq ap_boot_stack(%rip), %rsp
	xorl %ebp, %ebp
	movl ap_boot_cpu(%rip), %edi	/* ap_main(cpu) */
	call ap_main
	ud2
	.cfi_endproc
	.size start64_ap, . - start64_ap

	.data
	.p2align 3
	.globl boot_tsc0, ap_boot_stack, ap_boot_cpu
boot_tsc0:
	.quad 0
ap_boot_stack:
	.quad 0
ap_boot_cpu:
	.long 0

	.section .bss.stacks, "aw", @nobits
	.p2align 12
	.globl cpu_stacks
cpu_stacks:
	.skip MAX_CPUS * STACK_SIZE

	.section .note.GNU-stack, "", @progbits
