/* Multiboot v1 entry for the e2e guests: a header (ELF, or the a.out
 * kludge with -DAOUT_KLUDGE), a stack, then guest_main(magic, info). */
#define MB_MAGIC 0x1BADB002
#ifdef AOUT_KLUDGE
#define MB_FLAGS 0x00010003
#else
#define MB_FLAGS 0x00000003
#endif

    .section .multiboot, "a"
    .align 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
#ifdef AOUT_KLUDGE
    .long mb_header       /* header_addr */
    .long __load_start    /* load_addr */
    .long __load_end      /* load_end_addr */
    .long __bss_end       /* bss_end_addr */
    .long _start          /* entry_addr */
#endif

    .text
    .globl _start
    .code32
_start:
    cli
    mov $stack_top, %esp
    push %ebx
    push %eax
    call guest_main
1:  hlt
    jmp 1b

    .bss
    .align 16
    .space 16384
stack_top:
