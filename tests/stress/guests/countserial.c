/* Stress guest: counts forever on COM1, one byte per count (count & 0xff),
 * waiting for THRE before each byte as a driver does. The host pauses and
 * resumes the vCPUs thousands of times and then checks the bytes it got
 * are exactly 0, 1, 2, ... 255, 0, 1 ...: no I/O exit lost or repeated
 * across a pause. */
#include "lib.h"

void guest_main(u32 magic, u32 info);

void
guest_main(u32 magic, u32 info)
{
  serial_init(COM1);
  for (u32 c = 0;; c++) {
    while (!(inb(COM1 + 5) & 0x20))
      ;
    outb(COM1, (u8) c);
  }
}
