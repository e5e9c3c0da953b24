/* A minimal bzImage for kprof run's tests of the Linux 64-bit boot protocol: a setup header
 * (protocol 2.15, XLF_KERNEL_64, relocatable, pref_address 16 MiB) and, after two setup
 * sectors, a protected-mode kernel whose 64-bit entry (load address + 0x200) uses 64-bit-only
 * registers and rip-relative data, prints the zero page's command line on the serial port and
 * exits through port 0xf4 with
 *   e820_entries | 0x10 when ramdisk_size is not zero | 0x20 when type_of_loader is 0xff
 *   | 0x40 when ramdisk_image + ramdisk_size is page-aligned-start and below initrd_addr_max.
 * Variants for the bad-input tests come from --defsym: VERSION, XLF, INIT_SIZE.  With ELF
 * defined it is instead an ELF "vmlinux" without a PVH note but with a Linux note, entered at
 * entry64 through the same protocol (the header bytes are then plain data).
 * Build: as --64 [--defsym VERSION=0x20b] -o b.o bz-tiny.S && ld -m elf_x86_64 --oformat binary
 *        -Ttext=0 -o b.bin b.o
 *    or: as --64 --defsym ELF=1 -o e.o bz-tiny.S && ld -m elf_x86_64 -Ttext=0x1000000
 *        -e entry64 -o e.elf e.o */
	.ifndef VERSION
	.set VERSION, 0x020f
	.endif
	.ifndef XLF
	.set XLF, 1
	.endif
	.ifndef INIT_SIZE
	.set INIT_SIZE, 0x100000
	.endif

	.ifdef ELF
	.section .note.Linux, "a", @note
	.p2align 2
	.long 6, 4, 1		/* namesz ("Linux" and its NUL), descsz, type */
	.asciz "Linux"
	.p2align 2
	.long 0
	.endif

	.text
	.org 0x1f1
	.byte 1			/* setup_sects: the kernel starts at 2 * 512 */
	.word 0			/* root_flags */
	.long 0			/* syssize */
	.word 0			/* ram_size */
	.word 0xffff		/* vid_mode */
	.word 0			/* root_dev */
	.word 0xaa55		/* boot_flag */
	.byte 0xeb, hdr_end - hdrs	/* jump: its offset is the header's length */
hdrs:	.ascii "HdrS"
	.word VERSION
	.long 0			/* realmode_swtch */
	.word 0			/* start_sys_seg */
	.word 0			/* kernel_version */
	.byte 0			/* type_of_loader */
	.byte 1			/* loadflags: LOADED_HIGH */
	.word 0			/* setup_move_size */
	.long 0x100000		/* code32_start */
	.long 0			/* ramdisk_image */
	.long 0			/* ramdisk_size */
	.long 0			/* bootsect_kludge */
	.word 0			/* heap_end_ptr */
	.byte 0, 0		/* ext_loader_ver, ext_loader_type */
	.long 0			/* cmd_line_ptr */
	.long 0x7fffffff	/* initrd_addr_max */
	.long 0x200000		/* kernel_alignment */
	.byte 1			/* relocatable_kernel */
	.byte 21		/* min_alignment */
	.word XLF		/* xloadflags */
	.long 255		/* cmdline_size */
	.long 0			/* hardware_subarch */
	.quad 0			/* hardware_subarch_data */
	.long 0, 0		/* payload_offset, payload_length */
	.quad 0			/* setup_data */
	.quad 0x1000000		/* pref_address */
	.long INIT_SIZE		/* init_size */
	.long 0			/* handover_offset */
	.long 0			/* kernel_info_offset */
hdr_end:

	.org 0x400		/* the protected-mode kernel: its 32-bit entry is not used */
	hlt
	.org 0x400 + 0x200
	.code64
	.globl entry64
entry64:
	mov %rsi, %r15			/* the zero page */
	mov 0x228(%r15), %r8d		/* cmd_line_ptr */
	lea hello(%rip), %r9
	call puts9
	mov %r8, %r9
	call puts9
	lea newline(%rip), %r9
	call puts9
	movzbl 0x1e8(%r15), %r10d	/* e820_entries */
	mov 0x21c(%r15), %eax		/* ramdisk_size */
	test %eax, %eax
	jz 1f
	or $0x10, %r10d
	mov 0x218(%r15), %ecx		/* ramdisk_image */
	test $0xfff, %ecx
	jnz 1f
	add %rcx, %rax
	cmp 0x22c(%r15), %eax		/* below initrd_addr_max */
	ja 1f
	or $0x40, %r10d
1:	cmpb $0xff, 0x210(%r15)		/* type_of_loader */
	jne 2f
	or $0x20, %r10d
2:	mov %r10d, %eax
	out %eax, $0xf4
	hlt

/* Print the NUL-terminated string at %r9 on COM1. */
puts9:
	mov $0x3f8, %dx
3:	movb (%r9), %al
	test %al, %al
	jz 4f
	out %al, %dx
	inc %r9
	jmp 3b
4:	ret

hello:	.asciz "bz-tiny: cmdline '"
newline: .asciz "'\n"
