/* ELF64 entry: the loader starts us in long mode with RSP set. */
    .text
    .globl _start
    .code64
_start:
    lea stack_top(%rip), %rsp
    call guest_main64
1:  hlt
    jmp 1b

    .bss
    .align 16
    .space 16384
stack_top:
