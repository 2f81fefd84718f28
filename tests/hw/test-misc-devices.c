/* isa-debug-exit, port 0x92, the i8042 and the legacy stubs, through ports. */
#include <arbor/arbor.h>

#include "hw-test-util.h"

typedef struct {
  HwTestMachine m;
  GArray *shutdowns; /* int exit codes */
  guint resets;
} Fixture;

static void
on_shutdown(ArborMachine *machine, int code, gpointer user_data)
{
  Fixture *f = user_data;
  g_array_append_val(f->shutdowns, code);
}

static void
on_reset(ArborMachine *machine, gpointer user_data)
{
  ((Fixture *) user_data)->resets++;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  hw_test_machine_init(&f->m, NULL);
  f->shutdowns = g_array_new(FALSE, FALSE, sizeof(int));
  g_signal_connect(f->m.machine, "shutdown-requested", G_CALLBACK(on_shutdown), f);
  g_signal_connect(f->m.machine, "reset-requested", G_CALLBACK(on_reset), f);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  hw_test_machine_clear(&f->m);
  g_array_unref(f->shutdowns);
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

/* Requests are delivered on the main context: run it dry. */
static void
drain(void)
{
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

static void
test_debug_exit(Fixture *f, gconstpointer data)
{
  hw_test_add(&f->m, "isa-debug-exit,iobase=0xf4,iosize=0x04");
  hw_test_add(&f->m, "isa-debug-exit");

  g_assert_cmphex(hw_inb(&f->m, 0xf4), ==, 0x00);
  g_assert_cmphex(hw_inb(&f->m, 0x501), ==, 0x00);
  g_assert_cmpuint(f->shutdowns->len, ==, 0);

  hw_outb(&f->m, 0xf4, 0x00);
  drain();
  hw_outb(&f->m, 0xf4, 0x01);
  drain();
  hw_outb(&f->m, 0x502, 0x10);
  drain();
  guint64 dummy = 0;
  g_assert_cmpint(arbor_address_space_dispatch_write(arbor_machine_get_io(f->m.machine), 0xf4, 4, 0x21), ==,
                  ARBOR_MEMTX_OK);
  drain();
  g_assert_cmpint(arbor_address_space_dispatch_read(arbor_machine_get_io(f->m.machine), 0xf6, 2, &dummy), ==,
                  ARBOR_MEMTX_OK);
  g_assert_cmphex(dummy, ==, 0);

  g_assert_cmpuint(f->shutdowns->len, ==, 4);
  g_assert_cmpint(g_array_index(f->shutdowns, int, 0), ==, 1);
  g_assert_cmpint(g_array_index(f->shutdowns, int, 1), ==, 3);
  g_assert_cmpint(g_array_index(f->shutdowns, int, 2), ==, 0x21);
  g_assert_cmpint(g_array_index(f->shutdowns, int, 3), ==, 0x43);
  /* Ports past iosize are not the device's. */
  guint64 v = 0;
  g_assert_cmpint(arbor_address_space_dispatch_read(arbor_machine_get_io(f->m.machine), 0xf8, 1, &v), ==,
                  ARBOR_MEMTX_DECODE_ERROR);
}

static void
test_port92(Fixture *f, gconstpointer data)
{
  ArborDevice *dev = hw_test_add(&f->m, "port92");

  g_assert_cmphex(hw_inb(&f->m, 0x92), ==, 0x00);
  hw_outb(&f->m, 0x92, 0x02); /* A20 on, no reset */
  g_assert_cmphex(hw_inb(&f->m, 0x92), ==, 0x02);
  drain();
  g_assert_cmpuint(f->resets, ==, 0);

  hw_outb(&f->m, 0x92, 0x03); /* bit 0 from 0 to 1: reset */
  drain();
  g_assert_cmpuint(f->resets, ==, 1);
  hw_outb(&f->m, 0x92, 0x03); /* still 1: no new edge */
  drain();
  g_assert_cmpuint(f->resets, ==, 1);

  /* Device reset clears the reset bit, keeps A20. */
  arbor_device_reset(dev);
  g_assert_cmphex(hw_inb(&f->m, 0x92), ==, 0x02);
  hw_outb(&f->m, 0x92, 0x01);
  drain();
  g_assert_cmpuint(f->resets, ==, 2);
}

static void
test_i8042(Fixture *f, gconstpointer data)
{
  ArborDevice *dev = hw_test_add(&f->m, "i8042");

  g_assert_cmphex(hw_inb(&f->m, 0x64), ==, 0x18);

  /* Read the command byte: output buffer full, IRQ 1 until read. */
  hw_outb(&f->m, 0x64, 0x20);
  g_assert_cmphex(hw_inb(&f->m, 0x64), ==, 0x19);
  g_assert_true(hw_irq_level(&f->m, 1));
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0x03);
  g_assert_false(hw_irq_level(&f->m, 1));
  g_assert_cmphex(hw_inb(&f->m, 0x64), ==, 0x18);
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0x03); /* empty: the last byte again */

  /* Self test and interface test. */
  hw_outb(&f->m, 0x64, 0xaa);
  g_assert_cmphex(hw_inb(&f->m, 0x64), ==, 0x1d);
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0x55);
  hw_outb(&f->m, 0x64, 0xab);
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0x00);

  /* Disable/enable keyboard shows in the command byte; a disabled
   * keyboard interface does not interrupt (as QEMU). */
  hw_outb(&f->m, 0x64, 0xad);
  hw_outb(&f->m, 0x64, 0x20);
  g_assert_cmphex(hw_inb(&f->m, 0x64), ==, 0x1d);
  g_assert_false(hw_irq_level(&f->m, 1));
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0x13);
  hw_outb(&f->m, 0x64, 0xae);
  hw_outb(&f->m, 0x64, 0x20);
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0x03);

  /* Write the command byte: without KBD_INT, no IRQ. */
  hw_outb(&f->m, 0x64, 0x60);
  hw_outb(&f->m, 0x60, 0x00);
  hw_outb(&f->m, 0x64, 0x20);
  g_assert_false(hw_irq_level(&f->m, 1));
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0x00);

  /* Keyboard identify: ACK, then the MF2 id. */
  hw_outb(&f->m, 0x60, 0xf2);
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0xfa);
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0xab);
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0x83);
  g_assert_cmphex(hw_inb(&f->m, 0x64) & 0x01, ==, 0x00);

  /* The mouse answers on the aux channel with IRQ 12. */
  hw_outb(&f->m, 0x64, 0x60);
  hw_outb(&f->m, 0x60, 0x03);
  hw_outb(&f->m, 0x64, 0xd4);
  hw_outb(&f->m, 0x60, 0xf2);
  g_assert_cmphex(hw_inb(&f->m, 0x64), ==, 0x3d);
  g_assert_true(hw_irq_level(&f->m, 12));
  g_assert_false(hw_irq_level(&f->m, 1));
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0xfa);
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0x00);
  g_assert_false(hw_irq_level(&f->m, 12));
  g_assert_cmphex(hw_inb(&f->m, 0x64), ==, 0x1c);
  hw_outb(&f->m, 0x64, 0x60);
  hw_outb(&f->m, 0x60, 0x00);

  /* Output port: read, A20 through 0xdd/0xdf and 0xd1. */
  hw_outb(&f->m, 0x64, 0xd0);
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0xcf);
  hw_outb(&f->m, 0x64, 0xdd);
  hw_outb(&f->m, 0x64, 0xd0);
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0xcd);
  hw_outb(&f->m, 0x64, 0xdf);
  hw_outb(&f->m, 0x64, 0xd0);
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0xcf);
  hw_outb(&f->m, 0x64, 0xd1);
  hw_outb(&f->m, 0x60, 0xcd);
  hw_outb(&f->m, 0x64, 0xd0);
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0xcd);
  drain();
  g_assert_cmpuint(f->resets, ==, 0);

  /* Reset: 0xfe, any even pulse command, or output port bit 0 low. */
  hw_outb(&f->m, 0x64, 0xfe);
  drain();
  g_assert_cmpuint(f->resets, ==, 1);
  hw_outb(&f->m, 0x64, 0xf0);
  drain();
  g_assert_cmpuint(f->resets, ==, 2);
  hw_outb(&f->m, 0x64, 0xff); /* odd: no pulse */
  drain();
  g_assert_cmpuint(f->resets, ==, 2);
  hw_outb(&f->m, 0x64, 0xd1);
  hw_outb(&f->m, 0x60, 0xce);
  drain();
  g_assert_cmpuint(f->resets, ==, 3);

  /* Device reset restores the power-on state. */
  hw_outb(&f->m, 0x64, 0x20);
  arbor_device_reset(dev);
  g_assert_cmphex(hw_inb(&f->m, 0x64), ==, 0x18);
  g_assert_false(hw_irq_level(&f->m, 1));
  hw_outb(&f->m, 0x64, 0xd0);
  g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0xcf);

  /* The output queue is bounded: many queued bytes never overflow. */
  for (int i = 0; i < 100; i++)
    hw_outb(&f->m, 0x60, 0xee);
  int got = 0;
  while (hw_inb(&f->m, 0x64) & 0x01) {
    g_assert_cmphex(hw_inb(&f->m, 0x60), ==, 0xee);
    got++;
  }
  g_assert_cmpint(got, >, 0);
  g_assert_cmpint(got, <=, 100);
}

static void
test_legacy_stubs(Fixture *f, gconstpointer data)
{
  hw_test_add(&f->m, "legacy-stubs");

  g_assert_cmphex(hw_inb(&f->m, 0x80), ==, 0xff);
  hw_outb(&f->m, 0x80, 0x12);
  g_assert_cmphex(hw_inb(&f->m, 0x80), ==, 0xff);
  g_assert_cmphex(hw_inb(&f->m, 0x21), ==, 0x00);
  g_assert_cmphex(hw_inb(&f->m, 0xa1), ==, 0x00);
  g_assert_cmphex(hw_inb(&f->m, 0x43), ==, 0x00);
  g_assert_cmphex(hw_inb(&f->m, 0x71), ==, 0xff);
  guint64 v = 0;
  g_assert_cmpint(arbor_address_space_dispatch_read(arbor_machine_get_io(f->m.machine), 0x40, 4, &v), ==,
                  ARBOR_MEMTX_OK);
  g_assert_cmphex(v, ==, 0);

  /* A real device at a stubbed port wins. */
  hw_test_add(&f->m, "isa-debug-exit,iobase=0x80,iosize=1");
  g_assert_cmphex(hw_inb(&f->m, 0x80), ==, 0x00);
}

static void
test_default_devices(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true(arbor_machine_add_default_devices(f->m.machine, "null", &error));
  g_assert_no_error(error);
  g_assert_cmphex(hw_inb(&f->m, 0x3fd), ==, 0x60); /* COM1 LSR */
  g_assert_cmphex(hw_inb(&f->m, 0x3fe), ==, 0xb0); /* COM1 MSR */
  g_assert_cmphex(hw_inb(&f->m, 0x64), ==, 0x18);
  g_assert_cmphex(hw_inb(&f->m, 0x92), ==, 0x00);
  g_assert_cmphex(hw_inb(&f->m, 0x80), ==, 0xff);
  g_assert_cmpuint(arbor_machine_get_devices(f->m.machine)->len, ==, 4);

  /* Machine reset resets every device. */
  hw_outb(&f->m, 0x3ff, 0x99);
  g_assert_true(arbor_machine_reset(f->m.machine, &error));
  g_assert_no_error(error);
  g_assert_cmphex(hw_inb(&f->m, 0x3ff), ==, 0x00);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD("/hw/debug-exit", test_debug_exit);
  ADD("/hw/port92", test_port92);
  ADD("/hw/i8042", test_i8042);
  ADD("/hw/legacy-stubs", test_legacy_stubs);
  ADD("/hw/default-devices", test_default_devices);
#undef ADD
  return g_test_run();
}
