/* A minimal PVH kernel for kprof run's tests: 32-bit code at the PVH entry, no paging.
 * Its command line picks what it does:
 *   exit=N    print a line, a BOOT_TIME stage and port-0x80 codes, then write N to port 0xf4
 *   fault     load an empty IDT and execute ud2: #UD -> #GP -> #DF -> triple fault
 *   unknown   touch an unhandled port and an unhandled MMIO address twice each, then exit 0
 *   spin      loop forever (for host-side stop/kill tests)
 *   emul      execute rdrand, which the paravirtualized KVM here cannot emulate at CPL0
 *             (an emulation failure); where it runs natively, exit with 33
 * Build: as --64 -o t.o pvh-tiny.S && ld -m elf_x86_64 -Ttext=0x100000 -e pvh_start -o t.elf t.o */
	.section .note.Xen, "a", @note
	.p2align 2
	.long 4			/* name size */
	.long 4			/* descriptor size */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start

	.text
	.code32
	.globl pvh_start
pvh_start:
	mov $stack_top, %esp
	mov %ebx, %ebp			/* hvm_start_info */
	mov $0x10, %al
	out %al, $0x80
	mov $hello, %esi
	call puts
	mov $0x40, %al
	out %al, $0x80
	mov 24(%ebp), %esi		/* cmdline_paddr (low half) */
	cmpl $0x74697865, (%esi)	/* "exit" */
	je do_exit
	cmpl $0x6c756166, (%esi)	/* "faul" */
	je do_fault
	cmpl $0x6e6b6e75, (%esi)	/* "unkn" */
	je do_unknown
	cmpl $0x6e697073, (%esi)	/* "spin" */
	je do_spin
	cmpl $0x6c756d65, (%esi)	/* "emul" */
	je do_emul
	xor %eax, %eax
	jmp finish

do_exit:
	add $5, %esi			/* skip "exit=" */
	xor %eax, %eax
1:	movzbl (%esi), %ecx
	sub $'0', %ecx
	cmp $9, %ecx
	ja finish
	imul $10, %eax
	add %ecx, %eax
	inc %esi
	jmp 1b

do_fault:
	lidt null_idt
	ud2

do_unknown:
	mov $2, %ecx
2:	in $0x71, %al
	mov 0xd0000000, %eax
	loop 2b
	xor %eax, %eax
	jmp finish

do_emul:
	rdrand %eax
	mov $33, %eax
	jmp finish

do_spin:
	inc %eax
	jmp do_spin

finish:					/* eax: exit value */
	push %eax
	mov $boot_time, %esi
	call puts
	mov $0x60, %al
	out %al, $0x80
	pop %eax
	out %al, $0xf4
	hlt
	jmp finish

puts:					/* esi: NUL-terminated string */
	mov $0x3f8, %dx
3:	lodsb
	test %al, %al
	jz 4f
	out %al, %dx
	jmp 3b
4:	ret

	.data
hello:	.asciz "pvh-tiny: hello\n"
boot_time: .asciz "BOOT_TIME:tiny_done:1234\n"
	.p2align 3
null_idt:
	.word 0
	.long 0

	.bss
	.p2align 4
	.skip 4096
stack_top:
