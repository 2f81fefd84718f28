/* Polled COM1 output, numbers, and the debug-exit port. */
#include "lib.h"

void
serial_init(u16 base)
{
  outb(base + 1, 0x00); /* no interrupts */
  outb(base + 3, 0x80); /* DLAB */
  outb(base + 0, 0x01); /* 115200 */
  outb(base + 1, 0x00);
  outb(base + 3, 0x03); /* 8N1 */
  outb(base + 2, 0xc7); /* FIFOs on, cleared */
  outb(base + 4, 0x03); /* DTR, RTS */
}

void
putc_serial(char c)
{
  while (!(inb(COM1 + 5) & 0x20))
    ;
  outb(COM1, (u8)c);
}

void
puts_serial(const char *s)
{
  while (*s) {
    if (*s == '\n')
      putc_serial('\r');
    putc_serial(*s++);
  }
}

void
put_hex(u64 v, int digits)
{
  static const char hex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; i--)
    putc_serial(hex[(v >> (4 * i)) & 0xf]);
}

void
put_dec(u32 v)
{
  char buf[24];
  int n = 0;
  do {
    buf[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n)
    putc_serial(buf[--n]);
}

int
getc_serial(void)
{
  while (!(inb(COM1 + 5) & 0x01))
    ;
  return inb(COM1);
}

void
debug_exit(u32 value)
{
  outb(DEBUG_EXIT_PORT, (u8)value);
  for (;;)
    __asm__ volatile("cli; hlt");
}

int
str_eq(const char *a, const char *b)
{
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return *a == *b;
}
