/* Devices and guest RAM through qtest: isa-debug-exit's exit status, the
 * i8042 (0xfe) and port 0x92 resets, RAM round trips with every access
 * command. */
#include "arbor-config.h"

#include <string.h>

#include "libqtest.h"

#define COM1_MCR 0x3fc
#define COM1_SCR 0x3ff

static void
check_debug_exit(guint8 value)
{
  QTestState *s = qtest_init("-device isa-debug-exit,iobase=0xf4,iosize=0x04");
  g_autofree char *line = g_strdup_printf("outb 0xf4 0x%x\n", value);

  /* arbor may exit before the reply reaches us: do not wait for it. */
  qtest_send_bytes(s, line, strlen(line));
  g_assert_cmpint(qtest_wait_exit(s), ==, ((value << 1) | 1) & 0xff);
  qtest_quit(s);
}

static void
test_debug_exit(void)
{
  check_debug_exit(0x00);
  check_debug_exit(0x02);
  check_debug_exit(0x7f);
}

static void
test_debug_exit_wide(void)
{
  QTestState *s = qtest_init("-device isa-debug-exit,iobase=0x501,iosize=0x02");

  qtest_send_bytes(s, "outw 0x501 0x11\n", 16);
  g_assert_cmpint(qtest_wait_exit(s), ==, 0x23);
  qtest_quit(s);
}

/* Leaves marks a reset undoes (COM1 registers) and one it keeps (RAM). */
static void
mark(QTestState *s)
{
  qtest_outb(s, COM1_SCR, 0x5a);
  qtest_outb(s, COM1_MCR, 0x1f);
  qtest_writel(s, 0x1000, 0xcafef00d);
  g_assert_cmphex(qtest_inb(s, COM1_SCR), ==, 0x5a);
}

static void
assert_was_reset(QTestState *s)
{
  g_assert_cmphex(qtest_inb(s, COM1_SCR), ==, 0x00);
  g_assert_cmphex(qtest_inb(s, COM1_MCR), ==, 0x08);
  g_assert_cmphex(qtest_readl(s, 0x1000), ==, 0xcafef00d);
  g_assert_false(qtest_is_broken(s));
}

static void
test_i8042_reset(void)
{
  QTestState *s = qtest_init("-serial null");

  mark(s);
  qtest_outb(s, 0x64, 0xfe); /* pulse the reset line */
  assert_was_reset(s);
  /* Still serving after the reset, and it can be done again. */
  mark(s);
  qtest_outb(s, 0x64, 0xfe);
  assert_was_reset(s);
  qtest_quit(s);
}

static void
test_i8042_no_reboot(void)
{
  QTestState *s = qtest_init("-serial null -no-reboot");

  qtest_send_bytes(s, "outb 0x64 0xfe\n", 15);
  g_assert_cmpint(qtest_wait_exit(s), ==, 0);
  qtest_quit(s);
}

static void
test_port92_reset(void)
{
  QTestState *s = qtest_init("-serial null");

  /* A20 alone: no reset. */
  mark(s);
  qtest_outb(s, 0x92, 0x02);
  g_assert_cmphex(qtest_inb(s, 0x92) & 0x03, ==, 0x02);
  g_assert_cmphex(qtest_inb(s, COM1_SCR), ==, 0x5a);
  /* Bit 0 from 0 to 1: fast reset; the reset bit clears, A20 stays. */
  qtest_outb(s, 0x92, 0x03);
  assert_was_reset(s);
  g_assert_cmphex(qtest_inb(s, 0x92) & 0x03, ==, 0x02);
  qtest_quit(s);
}

static void
test_ram_sized(void)
{
  QTestState *s = qtest_init("-m 64");

  qtest_writeb(s, 0x500, 0xab);
  qtest_writew(s, 0x502, 0xbeef);
  qtest_writel(s, 0x504, 0x12345678);
  qtest_writeq(s, 0x508, 0x0123456789abcdefULL);
  g_assert_cmphex(qtest_readb(s, 0x500), ==, 0xab);
  g_assert_cmphex(qtest_readw(s, 0x502), ==, 0xbeef);
  g_assert_cmphex(qtest_readl(s, 0x504), ==, 0x12345678);
  g_assert_cmphex(qtest_readq(s, 0x508), ==, 0x0123456789abcdefULL);
  /* Little-endian view of the same bytes. */
  g_assert_cmphex(qtest_readb(s, 0x508), ==, 0xef);
  g_assert_cmphex(qtest_readw(s, 0x50e), ==, 0x0123);
  g_assert_cmphex(qtest_readq(s, 0x500), ==, 0x12345678beef00abULL);
  /* The last bytes of RAM. */
  qtest_writeq(s, (64 << 20) - 8, 0x1122334455667788ULL);
  g_assert_cmphex(qtest_readq(s, (64 << 20) - 8), ==, 0x1122334455667788ULL);
  /* Past the end of RAM: unassigned, reads 0. */
  qtest_writel(s, 64 << 20, 0xffffffff);
  g_assert_cmphex(qtest_readl(s, 64 << 20), ==, 0);
  g_assert_false(qtest_is_broken(s));
  qtest_quit(s);
}

static void
test_ram_bulk(void)
{
  QTestState *s = qtest_init("-m 64");
  gsize size = 256 * 1024;
  g_autofree guint8 *pattern = g_malloc(size);
  g_autofree guint8 *back = g_malloc(size);
  GRand *rand = g_rand_new_with_seed(0x5eed);

  for (gsize i = 0; i < size; i++)
    pattern[i] = (guint8)g_rand_int(rand);
  g_rand_free(rand);

  /* hex write, hex read; base64 both ways; mixed. */
  qtest_memwrite(s, 0x200000, pattern, size);
  qtest_memread(s, 0x200000, back, size);
  g_assert_true(memcmp(back, pattern, size) == 0);

  qtest_bufwrite(s, 0x300001, pattern, size); /* unaligned */
  memset(back, 0, size);
  qtest_bufread(s, 0x300001, back, size);
  g_assert_true(memcmp(back, pattern, size) == 0);
  memset(back, 0, size);
  qtest_memread(s, 0x300001, back, size);
  g_assert_true(memcmp(back, pattern, size) == 0);

  qtest_memset(s, 0x300100, 0xee, 16);
  qtest_memread(s, 0x3000f0, back, 48);
  g_assert_true(memcmp(back, pattern + 0xef, 16) == 0);
  for (guint i = 16; i < 32; i++)
    g_assert_cmphex(back[i], ==, 0xee);
  g_assert_true(memcmp(back + 32, pattern + 0x10f, 16) == 0);

  /* Across the start of the VGA hole at 0xa0000: RAM below, nothing in it. */
  qtest_memset(s, 0x9fff0, 0x77, 32);
  qtest_memread(s, 0x9fff0, back, 32);
  for (guint i = 0; i < 16; i++)
    g_assert_cmphex(back[i], ==, 0x77);
  for (guint i = 16; i < 32; i++)
    g_assert_cmphex(back[i], ==, 0x00);
  g_assert_false(qtest_is_broken(s));
  qtest_quit(s);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/qtest/devices/debug-exit/codes", test_debug_exit);
  g_test_add_func("/qtest/devices/debug-exit/wide", test_debug_exit_wide);
  g_test_add_func("/qtest/devices/i8042/reset", test_i8042_reset);
  g_test_add_func("/qtest/devices/i8042/no-reboot", test_i8042_no_reboot);
  g_test_add_func("/qtest/devices/port92/reset", test_port92_reset);
  g_test_add_func("/qtest/ram/sized", test_ram_sized);
  g_test_add_func("/qtest/ram/bulk", test_ram_bulk);

  return g_test_run();
}
