/* A raw binary for -device loader,file=flat.bin,addr=0x100000,cpu-num=0:
 * 32-bit protected mode, prints "flat" on COM1, debug-exit 3 (exit code 7). */
    .text
    .code32
    .globl _start
_start:
    mov $0x3f8, %dx
    mov $'f', %al
    out %al, %dx
    mov $'l', %al
    out %al, %dx
    mov $'a', %al
    out %al, %dx
    mov $'t', %al
    out %al, %dx
    mov $'\n', %al
    out %al, %dx
    mov $0xf4, %dx
    mov $3, %al
    out %al, %dx
1:  hlt
    jmp 1b
