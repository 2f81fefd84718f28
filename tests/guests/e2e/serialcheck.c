/* Drives COM1 as a 16550 driver would and prints each check; exits with
 * debug-exit 0 when every check passed (emulator exit code 1), 1 (exit
 * code 3) otherwise. Reset values are QEMU's. */
#include "lib.h"

void guest_main(u32 magic, u32 info);

typedef struct {
  const char *name;
  u32 got, want;
} Check;

static Check checks[32];
static int nchecks;

static void
check(const char *name, u32 got, u32 want)
{
  checks[nchecks].name = name;
  checks[nchecks].got = got;
  checks[nchecks].want = want;
  nchecks++;
}

void
guest_main(u32 magic, u32 info)
{
  const u16 b = COM1;

  /* Power-on state, before anything is written. */
  check("reset-ier", inb(b + 1), 0x00);
  check("reset-iir", inb(b + 2), 0x01);
  check("reset-lcr", inb(b + 3), 0x00);
  check("reset-mcr", inb(b + 4), 0x08);
  check("reset-lsr", inb(b + 5), 0x60);
  check("reset-msr", inb(b + 6) & 0xf0, 0xb0);
  check("reset-scr", inb(b + 7), 0x00);

  outb(b + 7, 0x5a);
  check("scratch", inb(b + 7), 0x5a);

  outb(b + 3, 0x80);
  check("dlab-dll", inb(b + 0), 0x0c);
  check("dlab-dlm", inb(b + 1), 0x00);
  outb(b + 0, 0x01);
  check("dlab-write", inb(b + 0), 0x01);
  outb(b + 3, 0x03);
  check("lcr", inb(b + 3), 0x03);

  /* Loopback: the modem outputs come back as inputs, THR goes to RBR. */
  outb(b + 4, 0x1f);
  check("loop-msr", inb(b + 6) & 0xf0, 0xf0);
  outb(b + 0, 'A');
  check("loop-dr", inb(b + 5) & 0x01, 0x01);
  check("loop-rbr", inb(b + 0), 'A');
  check("loop-empty", inb(b + 5) & 0x01, 0x00);
  outb(b + 4, 0x03);

  outb(b + 2, 0x07);
  check("fifo-iir", inb(b + 2), 0xc1);
  outb(b + 1, 0x02);
  check("thre-iir", inb(b + 2), 0xc2);
  check("thre-cleared", inb(b + 2), 0xc1);
  outb(b + 1, 0x00);

  serial_init(COM1);
  int failed = 0;
  for (int i = 0; i < nchecks; i++) {
    puts_serial("check ");
    puts_serial(checks[i].name);
    if (checks[i].got == checks[i].want) {
      puts_serial(": ok\n");
    } else {
      failed++;
      puts_serial(": FAIL got 0x");
      put_hex(checks[i].got, 2);
      puts_serial(" want 0x");
      put_hex(checks[i].want, 2);
      puts_serial("\n");
    }
  }
  puts_serial(failed ? "serial: FAIL\n" : "serial: PASS\n");
  debug_exit(failed ? 1 : 0);
}
