/* Stress guest: writes 100 MiB to COM1 as fast as it can (rep outsb, one
 * page per instruction), then leaves through isa-debug-exit with 0x10
 * (arbor's exit status 0x21). The host side gives it a backend that never
 * reads or has gone away: the guest must still finish, promptly. */
#include "lib.h"

void guest_main(u32 magic, u32 info);

static u8 page[4096];

void
guest_main(u32 magic, u32 info)
{
  serial_init(COM1);
  for (u32 i = 0; i < sizeof(page); i++)
    page[i] = 'a' + (i % 26);
  page[sizeof(page) - 1] = '\n';
  for (u32 n = 0; n < (100u << 20) / sizeof(page); n++) {
    const u8 *p = page;
    u32 count = sizeof(page);
    __asm__ volatile("cld; rep outsb" : "+S"(p), "+c"(count) : "d"((u16) COM1) : "memory");
  }
  debug_exit(0x10);
}
