# 32-bit protected-mode guest (flat segments set by the test, loaded at
# 0x1000, ESP at 0x8000): string I/O with counts, MMIO of 1/2/4 bytes at
# 0xa0000 (flat), unassigned reads; every read value goes to port 0x20.
.code32
.globl _start
_start:
	cld
	mov $text, %esi
	mov $3, %ecx
	mov $0x18, %dx
	rep outsw
	mov $buf, %edi
	mov $5, %ecx
	mov $0x19, %dx
	rep insb
	mov buf, %eax
	out %eax, $0x20
	movzbl buf+4, %eax
	out %eax, $0x20

	movb $0x11, 0xa0000
	movw $0x2222, 0xa0002
	movl $0x33333333, 0xa0004
	movzbl 0xa0001, %eax
	out %eax, $0x20
	movzwl 0xa0006, %eax
	out %eax, $0x20
	mov 0xa0008, %eax
	out %eax, $0x20

	mov $0x300, %dx
	in %dx, %eax
	out %eax, $0x20
	mov 0xb0000, %eax
	out %eax, $0x20
	hlt
	jmp .

text:	.ascii "abcdef"
buf:	.long 0, 0
