# 32-bit counting guest: forever { eax++; out eax -> port DX; eax -> [EBX] }.
# The test gives each vCPU its own DX and EBX; every access must arrive
# exactly once and in order, however often the vCPU is paused.
.code32
.globl _start
_start:
1:	inc %eax
	out %eax, %dx
	mov %eax, (%ebx)
	jmp 1b
