# A 64 KiB BIOS for QEMU (check-with-qemu.sh): flat 32-bit protected mode with an empty IDT,
# EDX = 0x100, EBX = 0xa1000, ECX = 3, ESI = 0 (as the tests set them), jump to 0x1000.
.code16
.org 0xf000
start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	lgdtl %cs:gdtdesc - 0xf0000 + 0xf0000
	lidtl %cs:idtdesc
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x8, $0xff000 + pm - 0xf000
.code32
pm:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0x8000, %esp
	xor %eax, %eax
	xor %ecx, %ecx
	mov $0x100, %edx
	mov $0xa1000, %ebx
	mov $3, %ecx
	xor %esi, %esi
	mov $0x1000, %edi
	jmp *%edi
.p2align 3
gdt:	.quad 0
	.quad 0x00cf9b000000ffff
	.quad 0x00cf93000000ffff
gdtdesc: .word 23
	.long 0xff000 + gdt - 0xf000
idtdesc: .word 0
	.long 0
.code16
.org 0xfff0
	ljmp $0xf000, $0xf000
.org 0x10000
