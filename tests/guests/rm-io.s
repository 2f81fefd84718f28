# Real-mode guest (loaded at 0x1000, CS=DS=ES=SS=0): port I/O of every size,
# string I/O, MMIO (1/2/4 bytes through ES=0xa000), unassigned port and
# MMIO reads. Every value it reads is echoed to the report port 0x20.
.code16
.globl _start
_start:
	mov $0x12, %al
	out %al, $0x10
	mov $0x3456, %ax
	out %ax, $0x12
	mov $0x789abcde, %eax
	out %eax, $0x14

	xor %eax, %eax
	in $0x10, %al
	out %eax, $0x20
	xor %eax, %eax
	in $0x12, %ax
	out %eax, $0x20
	in $0x14, %eax
	out %eax, $0x20

	# unassigned port: all ones of each size
	mov $0x300, %dx
	xor %eax, %eax
	in %dx, %al
	out %eax, $0x20
	xor %eax, %eax
	in %dx, %ax
	out %eax, $0x20
	in %dx, %eax
	out %eax, $0x20

	# string I/O: 4 bytes out to 0x18, 3 words in from 0x1a
	cld
	mov $text, %si
	mov $4, %cx
	mov $0x18, %dx
	rep outsb
	mov $buf, %di
	mov $3, %cx
	mov $0x1a, %dx
	rep insw
	movzwl buf, %eax
	out %eax, $0x20
	movzwl buf+2, %eax
	out %eax, $0x20
	movzwl buf+4, %eax
	out %eax, $0x20

	# MMIO at 0xa0000
	mov $0xa000, %bx
	mov %bx, %es
	movb $0x5a, %es:0x0
	movw $0x1234, %es:0x2
	movl $0xcafebabe, %es:0x4
	xor %eax, %eax
	movb %es:0x8, %al
	out %eax, $0x20
	xor %eax, %eax
	movw %es:0xa, %ax
	out %eax, $0x20
	movl %es:0xc, %eax
	out %eax, $0x20

	# unassigned MMIO at 0xb0000 reads 0
	mov $0xb000, %bx
	mov %bx, %es
	movl $0x55555555, %eax
	movl %es:0x0, %eax
	out %eax, $0x20
	hlt
	jmp .

text:	.ascii "arbr"
buf:	.word 0, 0, 0
