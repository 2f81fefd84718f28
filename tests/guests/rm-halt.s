# Real-mode guest: reports 1, halts; once woken reports 2 and halts again.
.code16
.globl _start
_start:
	mov $1, %eax
	out %eax, $0x20
	hlt
	mov $2, %eax
	out %eax, $0x20
	hlt
	jmp _start
