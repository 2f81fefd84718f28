# 32-bit guest that spins without a single exit: increments [0x500] forever.
.code32
.globl _start
_start:
1:	incl 0x500
	jmp 1b
