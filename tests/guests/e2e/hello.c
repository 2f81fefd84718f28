/* Prints a greeting on COM1 and leaves through isa-debug-exit with 0x2a:
 * the emulator exits with (0x2a << 1) | 1 = 85. */
#include "lib.h"

void guest_main(u32 magic, u32 info);

void
guest_main(u32 magic, u32 info)
{
  serial_init(COM1);
  puts_serial("Hello from an arbor guest!\n");
  puts_serial(magic == 0x2BADB002 ? "multiboot: ok\n" : "multiboot: bad magic\n");
  debug_exit(0x2a);
}
