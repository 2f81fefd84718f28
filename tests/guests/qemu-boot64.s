# A 64 KiB BIOS for QEMU (check-with-qemu.sh): long mode, 1 GiB identity-mapped with 2 MiB
# pages at 0x2000 (as the tests build them), jump to 0x1000.
.code16
.org 0xf000
start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	lgdtl %cs:gdtdesc
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
	movl $0x3003, 0x2000
	movl $0, 0x2004
	movl $0x4003, 0x3000
	movl $0, 0x3004
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax
	mov %eax, 0x4000(,%ecx,8)
	movl $0, 0x4004(,%ecx,8)
	inc %ecx
	cmp $512, %ecx
	jne 1b
	mov $0x2000, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x20, %eax
	mov %eax, %cr4
	mov $0xc0000080, %ecx
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000000, %eax
	mov %eax, %cr0
	ljmp $0x18, $0xff000 + lm - 0xf000
.code64
lm:
	mov $0x1000, %rdi
	jmp *%rdi
.p2align 3
gdt:	.quad 0
	.quad 0x00cf9b000000ffff
	.quad 0x00cf93000000ffff
	.quad 0x00af9b000000ffff
gdtdesc: .word 31
	.long 0xff000 + gdt - 0xf000
.code16
.org 0xfff0
	ljmp $0xf000, $0xf000
.org 0x10000
