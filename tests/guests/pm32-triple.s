# 32-bit guest run with an empty IDT: the #UD cannot be delivered, nor the
# #DF that follows: a triple fault (KVM_EXIT_SHUTDOWN).
.code32
.globl _start
_start:
	mov $1, %eax
	out %eax, $0x20
	ud2
	jmp .
