/* Prints a line, then faults with an empty IDT: a triple fault. */
#include "lib.h"

void guest_main(u32 magic, u32 info);

void
guest_main(u32 magic, u32 info)
{
  static const struct {
    u16 limit;
    u32 base;
  } __attribute__((packed)) empty_idt = { 0, 0 };

  serial_init(COM1);
  puts_serial("faulting\n");
  __asm__ volatile("lidt %0; int3" : : "m"(empty_idt));
  for (;;)
    ;
}
