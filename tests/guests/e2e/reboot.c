/* Prints "boot" and asks for a reset through the i8042 (0xFE), then port
 * 0x92: under -no-reboot the emulator exits 0, else the guest boots again. */
#include "lib.h"

void guest_main(u32 magic, u32 info);

void
guest_main(u32 magic, u32 info)
{
  serial_init(COM1);
  puts_serial("boot\n");
  outb(0x64, 0xfe);
  outb(0x92, inb(0x92) | 1);
  for (;;)
    __asm__ volatile("hlt");
}
