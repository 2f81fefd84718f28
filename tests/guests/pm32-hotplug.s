# 32-bit guest: polls 0x10000000 (unassigned at first: MMIO exits, reads 0)
# until a RAM region holding 0xcafef00d appears there, reports it, halts.
.code32
.globl _start
_start:
1:	mov 0x10000000, %eax
	cmp $0xcafef00d, %eax
	jne 1b
	out %eax, $0x20
	hlt
	jmp .
