# 64-bit long-mode guest (paging and segments set by the test, loaded at
# 0x1000): port I/O, MMIO of 8 bytes (and 1/2/4) at 0xa0000, unassigned
# reads; each read value goes to port 0x20 as two 32-bit halves.
.code64
.globl _start
_start:
	mov $0x77, %al
	out %al, $0x10
	mov $0x8899, %ax
	out %ax, $0x12
	mov $0xaabbccdd, %eax
	out %eax, $0x14
	in $0x14, %eax
	out %eax, $0x20

	movabs $0x1122334455667788, %rax
	mov %rax, 0xa0010
	movb $0x01, 0xa0001
	movw $0x0202, 0xa0002
	movl $0x04040404, 0xa0004
	mov 0xa0018, %rax
	call report64
	movzbl 0xa0003, %eax
	call report64
	movzwl 0xa0004, %eax
	call report64
	mov 0xa0008, %eax
	call report64
	mov 0xb0000, %rax
	call report64
	mov $0x300, %dx
	in %dx, %eax
	call report64
	hlt
	jmp .

report64:
	out %eax, $0x20
	shr $32, %rax
	out %eax, $0x20
	ret
