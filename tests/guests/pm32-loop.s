# 32-bit benchmark loop: ECX iterations of one exit each, then HLT.
# ESI = 0: "out %eax, %dx" (port DX); ESI = 1: "mov %eax, (%ebx)" (MMIO).
.code32
.globl _start
_start:
	test %esi, %esi
	jnz 2f
1:	out %eax, %dx
	dec %ecx
	jnz 1b
	hlt
2:	mov %eax, (%ebx)
	dec %ecx
	jnz 2b
	hlt
