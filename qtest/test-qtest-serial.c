/* The 16550A at COM1 (0x3f8, IRQ 4) through qtest port I/O: reset values,
 * DLAB and divisor, FIFOs, LSR, loopback, IIR priorities and clearing,
 * interrupts seen as "IRQ raise 4" / "IRQ lower 4", and the character
 * timeout driven by clock_step. */
#include "arbor-config.h"

#include "libqtest.h"

#define COM1 0x3f8
#define RBR (COM1 + 0) /* THR on write; DLL with DLAB */
#define IER (COM1 + 1) /* DLM with DLAB */
#define IIR (COM1 + 2) /* FCR on write */
#define LCR (COM1 + 3)
#define MCR (COM1 + 4)
#define LSR (COM1 + 5)
#define MSR (COM1 + 6)
#define SCR (COM1 + 7)
#define COM1_IRQ 4

static QTestState *
start(void)
{
  QTestState *s = qtest_init("-serial null");

  qtest_irq_intercept_in(s, "ioapic");
  return s;
}

static void
test_reset_values(void)
{
  QTestState *s = start();

  g_assert_cmphex(qtest_inb(s, IER), ==, 0x00);
  g_assert_cmphex(qtest_inb(s, IIR), ==, 0x01);
  g_assert_cmphex(qtest_inb(s, LCR), ==, 0x00);
  g_assert_cmphex(qtest_inb(s, MCR), ==, 0x08);
  g_assert_cmphex(qtest_inb(s, LSR), ==, 0x60);
  g_assert_cmphex(qtest_inb(s, MSR), ==, 0xb0);
  g_assert_cmphex(qtest_inb(s, SCR), ==, 0x00);
  g_assert_cmphex(qtest_inb(s, RBR), ==, 0x00);
  g_assert_false(qtest_get_irq(s, COM1_IRQ));
  g_assert_false(qtest_is_broken(s));
  qtest_quit(s);
}

static void
test_dlab_divisor(void)
{
  QTestState *s = start();

  qtest_outb(s, LCR, 0x80);
  /* Reset divisor: 12 (9600 baud). */
  g_assert_cmphex(qtest_inb(s, RBR), ==, 0x0c);
  g_assert_cmphex(qtest_inb(s, IER), ==, 0x00);
  qtest_outb(s, RBR, 0x34);
  qtest_outb(s, IER, 0x12);
  g_assert_cmphex(qtest_inb(s, RBR), ==, 0x34);
  g_assert_cmphex(qtest_inb(s, IER), ==, 0x12);
  g_assert_cmphex(qtest_inb(s, LCR), ==, 0x80);

  /* DLAB off: the same ports are RBR/IER again; the divisor stays. */
  qtest_outb(s, LCR, 0x03);
  g_assert_cmphex(qtest_inb(s, IER), ==, 0x00);
  qtest_outb(s, IER, 0x00);
  qtest_outb(s, LCR, 0x83);
  g_assert_cmphex(qtest_inb(s, RBR), ==, 0x34);
  g_assert_cmphex(qtest_inb(s, IER), ==, 0x12);
  qtest_outb(s, LCR, 0x03);
  g_assert_cmphex(qtest_inb(s, LCR), ==, 0x03);
  g_assert_false(qtest_is_broken(s));
  qtest_quit(s);
}

static void
test_scratch(void)
{
  QTestState *s = start();

  for (guint v = 0; v < 256; v += 51) {
    qtest_outb(s, SCR, v);
    g_assert_cmphex(qtest_inb(s, SCR), ==, v);
  }
  g_assert_false(qtest_is_broken(s));
  qtest_quit(s);
}

static void
test_loopback_msr(void)
{
  QTestState *s = start();

  /* Loopback: CTS<-RTS, DSR<-DTR, RI<-OUT1, DCD<-OUT2. */
  qtest_outb(s, MCR, 0x10);
  g_assert_cmphex(qtest_inb(s, MSR) & 0xf0, ==, 0x00);
  qtest_outb(s, MCR, 0x10 | 0x01);
  g_assert_cmphex(qtest_inb(s, MSR) & 0xf0, ==, 0x20);
  qtest_outb(s, MCR, 0x10 | 0x02);
  g_assert_cmphex(qtest_inb(s, MSR) & 0xf0, ==, 0x10);
  qtest_outb(s, MCR, 0x10 | 0x04);
  g_assert_cmphex(qtest_inb(s, MSR) & 0xf0, ==, 0x40);
  qtest_outb(s, MCR, 0x10 | 0x08);
  g_assert_cmphex(qtest_inb(s, MSR) & 0xf0, ==, 0x80);
  qtest_outb(s, MCR, 0x1f);
  g_assert_cmphex(qtest_inb(s, MSR) & 0xf0, ==, 0xf0);
  g_assert_false(qtest_is_broken(s));
  qtest_quit(s);
}

static void
test_loopback_no_fifo(void)
{
  QTestState *s = start();

  qtest_outb(s, MCR, 0x10);
  qtest_outb(s, RBR, 'a');
  g_assert_cmphex(qtest_inb(s, LSR), ==, 0x61); /* THRE | TEMT | DR */
  g_assert_cmphex(qtest_inb(s, RBR), ==, 'a');
  g_assert_cmphex(qtest_inb(s, LSR), ==, 0x60);

  /* A second byte before the first is read: overrun, the newest wins. */
  qtest_outb(s, RBR, 'b');
  qtest_outb(s, RBR, 'c');
  g_assert_cmphex(qtest_inb(s, LSR), ==, 0x63); /* OE | DR: OE clears on read */
  g_assert_cmphex(qtest_inb(s, LSR), ==, 0x61);
  g_assert_cmphex(qtest_inb(s, RBR), ==, 'c');
  g_assert_false(qtest_is_broken(s));
  qtest_quit(s);
}

static void
test_fifo(void)
{
  QTestState *s = start();

  qtest_outb(s, MCR, 0x10);
  qtest_outb(s, IIR, 0x07); /* FCR: enable, clear both FIFOs */
  g_assert_cmphex(qtest_inb(s, IIR), ==, 0xc1);
  for (guint i = 0; i < 16; i++)
    qtest_outb(s, RBR, 'A' + i);
  g_assert_cmphex(qtest_inb(s, LSR), ==, 0x61);
  /* The 17th byte does not fit: overrun, the FIFO keeps what it had. */
  qtest_outb(s, RBR, 'z');
  g_assert_cmphex(qtest_inb(s, LSR), ==, 0x63);
  for (guint i = 0; i < 16; i++)
    g_assert_cmphex(qtest_inb(s, RBR), ==, 'A' + i);
  g_assert_cmphex(qtest_inb(s, LSR), ==, 0x60);

  /* FCR "clear receiver" drops what is queued. */
  qtest_outb(s, RBR, 'x');
  qtest_outb(s, RBR, 'y');
  g_assert_cmphex(qtest_inb(s, LSR) & 0x01, ==, 0x01);
  qtest_outb(s, IIR, 0x03);
  g_assert_cmphex(qtest_inb(s, LSR), ==, 0x60);

  /* FIFO off again: IIR's top bits clear. */
  qtest_outb(s, IIR, 0x00);
  g_assert_cmphex(qtest_inb(s, IIR), ==, 0x01);
  g_assert_false(qtest_is_broken(s));
  qtest_quit(s);
}

static void
test_thre_interrupt(void)
{
  QTestState *s = start();

  /* Enabling THRI with an empty transmitter interrupts at once. */
  qtest_outb(s, IER, 0x02);
  g_assert_true(qtest_get_irq(s, COM1_IRQ));
  /* Reading IIR while it reports THRE clears that interrupt. */
  g_assert_cmphex(qtest_inb(s, IIR), ==, 0x02);
  g_assert_false(qtest_get_irq(s, COM1_IRQ));
  g_assert_cmphex(qtest_inb(s, IIR), ==, 0x01);

  /* A transmitted byte makes THR empty again: a new interrupt. */
  qtest_outb(s, RBR, 'x');
  g_assert_true(qtest_get_irq(s, COM1_IRQ));
  /* Disabling the source drops the line. */
  qtest_outb(s, IER, 0x00);
  g_assert_false(qtest_get_irq(s, COM1_IRQ));
  g_assert_false(qtest_is_broken(s));
  qtest_quit(s);
}

static void
test_iir_priorities(void)
{
  QTestState *s = start();

  qtest_outb(s, MCR, 0x10);
  qtest_outb(s, IER, 0x07); /* RLS, RDA, THRE */
  g_assert_true(qtest_get_irq(s, COM1_IRQ));
  /* Two bytes without reading: data ready and an overrun, and THR empty. */
  qtest_outb(s, RBR, '1');
  qtest_outb(s, RBR, '2');
  g_assert_cmphex(qtest_inb(s, IIR), ==, 0x06); /* line status first */
  g_assert_cmphex(qtest_inb(s, LSR) & 0x02, ==, 0x02);
  g_assert_cmphex(qtest_inb(s, IIR), ==, 0x04); /* then received data */
  g_assert_cmphex(qtest_inb(s, RBR), ==, '2');
  g_assert_true(qtest_get_irq(s, COM1_IRQ));
  g_assert_cmphex(qtest_inb(s, IIR), ==, 0x02); /* then THR empty, cleared by this read */
  g_assert_cmphex(qtest_inb(s, IIR), ==, 0x01);
  g_assert_false(qtest_get_irq(s, COM1_IRQ));
  g_assert_false(qtest_is_broken(s));
  qtest_quit(s);
}

static void
test_rx_interrupt_lines(void)
{
  QTestState *s = start();
  g_autofree char *l1 = NULL, *l2 = NULL, *l3 = NULL, *l4 = NULL;

  qtest_outb(s, MCR, 0x10);
  qtest_outb(s, IER, 0x01);
  g_assert_false(qtest_get_irq(s, COM1_IRQ));
  /* The raw protocol: the IRQ line precedes the reply of the out. */
  qtest_send_bytes(s, "outb 0x3f8 0x55\n", 16);
  l1 = qtest_recv_line(s);
  l2 = qtest_recv_line(s);
  g_assert_cmpstr(l1, ==, "IRQ raise 4");
  g_assert_cmpstr(l2, ==, "OK");
  qtest_send_bytes(s, "inb 0x3f8\n", 10);
  l3 = qtest_recv_line(s);
  l4 = qtest_recv_line(s);
  g_assert_cmpstr(l3, ==, "IRQ lower 4");
  g_assert_cmpstr(l4, ==, "OK 0x0055");
  qtest_quit(s);
}

static void
test_char_timeout_clock_step(void)
{
  QTestState *s = start();
  /* 9600 baud 8N1: 10 bits per character; the timeout is 4 characters. */
  gint64 char_ns = (1000000000 / 9600) * 10;
  gint64 now;

  qtest_outb(s, MCR, 0x10);
  qtest_outb(s, IIR, 0x47); /* FIFO on, cleared, trigger level 4 */
  qtest_outb(s, IER, 0x01);
  qtest_outb(s, RBR, 'q');
  /* One byte is below the trigger level: no interrupt yet. */
  g_assert_cmphex(qtest_inb(s, IIR), ==, 0xc1);
  g_assert_false(qtest_get_irq(s, COM1_IRQ));

  now = qtest_clock_step(s, char_ns);
  g_assert_cmpint(now, ==, char_ns);
  g_assert_false(qtest_get_irq(s, COM1_IRQ));

  /* The next deadline is the character timeout. */
  now = qtest_clock_step_next(s);
  g_assert_cmpint(now, ==, 4 * char_ns);
  g_assert_true(qtest_get_irq(s, COM1_IRQ));
  g_assert_cmphex(qtest_inb(s, IIR), ==, 0xcc);
  g_assert_cmphex(qtest_inb(s, RBR), ==, 'q');
  g_assert_false(qtest_get_irq(s, COM1_IRQ));
  g_assert_cmphex(qtest_inb(s, IIR), ==, 0xc1);
  g_assert_false(qtest_is_broken(s));
  qtest_quit(s);
}

static void
test_trigger_level(void)
{
  QTestState *s = start();

  qtest_outb(s, MCR, 0x10);
  qtest_outb(s, IIR, 0x47); /* trigger level 4 */
  qtest_outb(s, IER, 0x01);
  for (guint i = 0; i < 3; i++)
    qtest_outb(s, RBR, '0' + i);
  g_assert_false(qtest_get_irq(s, COM1_IRQ));
  qtest_outb(s, RBR, '3');
  g_assert_true(qtest_get_irq(s, COM1_IRQ));
  g_assert_cmphex(qtest_inb(s, IIR), ==, 0xc4);
  g_assert_cmphex(qtest_inb(s, RBR), ==, '0');
  /* Below the level again. */
  g_assert_false(qtest_get_irq(s, COM1_IRQ));
  g_assert_false(qtest_is_broken(s));
  qtest_quit(s);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/qtest/serial/reset-values", test_reset_values);
  g_test_add_func("/qtest/serial/dlab-divisor", test_dlab_divisor);
  g_test_add_func("/qtest/serial/scratch", test_scratch);
  g_test_add_func("/qtest/serial/loopback/msr", test_loopback_msr);
  g_test_add_func("/qtest/serial/loopback/no-fifo", test_loopback_no_fifo);
  g_test_add_func("/qtest/serial/fifo", test_fifo);
  g_test_add_func("/qtest/serial/irq/thre", test_thre_interrupt);
  g_test_add_func("/qtest/serial/irq/iir-priorities", test_iir_priorities);
  g_test_add_func("/qtest/serial/irq/rx-lines", test_rx_interrupt_lines);
  g_test_add_func("/qtest/serial/irq/trigger-level", test_trigger_level);
  g_test_add_func("/qtest/serial/clock/char-timeout", test_char_timeout_clock_step);

  return g_test_run();
}
