/* Prints what the Multiboot loader handed over, one "key=value" a line,
 * then exits through debug-exit with 0 (emulator exit code 1). */
#include "lib.h"

void guest_main(u32 magic, u32 info);

static void
kv_hex(const char *key, u64 v)
{
  puts_serial(key);
  puts_serial("=0x");
  put_hex(v, 8);
  puts_serial("\n");
}

void
guest_main(u32 magic, u32 info_addr)
{
  const u32 *mbi = (const u32 *)info_addr;

  serial_init(COM1);
  kv_hex("magic", magic);
  kv_hex("info", info_addr);
  kv_hex("flags", mbi[0]);
  puts_serial("mem_lower=");
  put_dec(mbi[1]);
  puts_serial("\nmem_upper=");
  put_dec(mbi[2]);
  puts_serial("\ncmdline=");
  puts_serial((const char *)mbi[4]);
  puts_serial("\nloader=");
  puts_serial((const char *)mbi[16]);
  puts_serial("\nmods_count=");
  put_dec(mbi[5]);
  puts_serial("\n");
  const u32 *mods = (const u32 *)mbi[6];
  for (u32 i = 0; i < mbi[5]; i++) {
    const u32 *m = mods + 4 * i;
    puts_serial("mod=");
    puts_serial((const char *)m[2]);
    puts_serial(" size=");
    put_dec(m[1] - m[0]);
    puts_serial(" aligned=");
    puts_serial((m[0] & 0xfff) ? "no" : "yes");
    puts_serial(" data=");
    const char *d = (const char *)m[0];
    for (u32 j = 0; j < m[1] - m[0] && j < 16 && d[j] >= ' '; j++)
      putc_serial(d[j]);
    puts_serial("\n");
  }
  u32 p = mbi[12], end = mbi[12] + mbi[11];
  while (p < end) {
    const u32 *e = (const u32 *)p;
    u64 base = e[1] | ((u64)e[2] << 32), len = e[3] | ((u64)e[4] << 32);
    puts_serial("mmap=0x");
    put_hex(base, 9);
    puts_serial("+0x");
    put_hex(len, 9);
    puts_serial(" type=");
    put_dec(e[5]);
    puts_serial("\n");
    p += e[0] + 4;
  }
  puts_serial("done\n");
  debug_exit(0);
}
