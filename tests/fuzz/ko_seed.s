# A module-like object for fuzz_kofile's seed (make_kofile_seeds.sh): functions in .text and
# .text.unlikely, a build id note, .modinfo, and ORC tables whose ip table the assembler's
# R_X86_64_PC32 relocations fill, as in a real .ko.
	.section .note.gnu.build-id,"a",@note
	.long 4, 4, 3
	.asciz "GNU"
	.byte 0xde, 0xad, 0xbe, 0xef
	.text
	.globl f_one
	.type f_one, @function
f_one:	push %rbp
	call f_two
	pop %rbp
	ret
	.size f_one, .-f_one
	.type f_two, @function
f_two:	ret
	.size f_two, .-f_two
	.section .text.unlikely,"ax",@progbits
	.type f_cold, @function
f_cold:	ud2
	.size f_cold, .-f_cold
	.section .modinfo,"a"
	.string "name=fake"
	.section .orc_unwind_ip,"a"
	.long f_one - ., f_one + 1 - ., f_two - ., f_cold - .
	.section .orc_unwind,"a"
	.short 8, 0, 0x05
	.short 16, -16, 0x05
	.short 8, 0, 0x05
	.short 8, 0, 0x05
