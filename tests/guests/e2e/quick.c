/* Leaves at once through debug-exit 0 (emulator exit code 1): startup benchmark. */
#include "lib.h"

void guest_main(u32 magic, u32 info);

void
guest_main(u32 magic, u32 info)
{
  debug_exit(0);
}
