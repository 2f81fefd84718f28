/* A 64-bit guest entered directly in long mode: prints its mode and
 * leaves through debug-exit with 0x21 (emulator exit code 67). */
#include "lib.h"

void guest_main64(void);

void
guest_main64(void)
{
  u64 cr0, cr4, cs;
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  __asm__ volatile("mov %%cs, %0" : "=r"(cs));
  serial_init(COM1);
  puts_serial("Hello from long mode\ncr0=0x");
  put_hex(cr0, 8);
  puts_serial(" cr4=0x");
  put_hex(cr4, 8);
  puts_serial(" cs=0x");
  put_hex(cs, 4);
  puts_serial("\n");
  debug_exit(0x21);
}
