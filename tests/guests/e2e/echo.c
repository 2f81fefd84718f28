/* Echoes COM1 input upper-cased until a '.', then exits (debug-exit 0). */
#include "lib.h"

void guest_main(u32 magic, u32 info);

void
guest_main(u32 magic, u32 info)
{
  serial_init(COM1);
  puts_serial("ready\n");
  for (;;) {
    int c = getc_serial();
    if (c == '.')
      break;
    if (c >= 'a' && c <= 'z')
      c -= 'a' - 'A';
    putc_serial((char)c);
  }
  puts_serial("\nbye\n");
  debug_exit(0);
}
