/* The 16550A through its ports: reset values, DLAB, FIFOs, IIR
 * priorities, LSR, loopback, IRQ line, and real backends. */
#include <arbor/arbor.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>

#include "hw-test-util.h"

#define COM1 0x3f8
#define RBR (COM1 + 0)
#define THR (COM1 + 0)
#define DLL (COM1 + 0)
#define IER (COM1 + 1)
#define DLM (COM1 + 1)
#define IIR (COM1 + 2)
#define FCR (COM1 + 2)
#define LCR (COM1 + 3)
#define MCR (COM1 + 4)
#define LSR (COM1 + 5)
#define MSR (COM1 + 6)
#define SCR (COM1 + 7)

static GLogWriterOutput
quiet_warnings(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  /* Dropped-output warnings are part of the closed-backend test. */
  if (level & G_LOG_LEVEL_WARNING)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default(level, fields, n_fields, user_data);
}

typedef struct {
  HwTestMachine m;
  ArborDevice *serial; /* owned by the machine */
  char *dir;
} Fixture;

static void
fixture_setup_with(Fixture *f, const char *chardev_spec, ArborAccel *accel)
{
  hw_test_machine_init(&f->m, accel);
  g_autofree char *opts = chardev_spec != NULL ? g_strdup_printf("isa-serial,chardev=%s", chardev_spec)
                                               : g_strdup("isa-serial");
  f->serial = hw_test_add(&f->m, opts);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  fixture_setup_with(f, data, NULL);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  if (f->m.machine != NULL)
    hw_test_machine_clear(&f->m);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  if (f->dir != NULL) {
    g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
    const char *name;
    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
      g_autofree char *p = g_build_filename(f->dir, name, NULL);
      g_unlink(p);
    }
    g_rmdir(f->dir);
    g_free(f->dir);
  }
}

static void
test_reset_values(Fixture *f, gconstpointer data)
{
  const guint8 expected[8] = {0x00, 0x00, 0x01, 0x00, 0x08, 0x60, 0xb0, 0x00};

  for (guint i = 0; i < 8; i++)
    g_assert_cmphex(hw_inb(&f->m, COM1 + i), ==, expected[i]);
  g_assert_false(hw_irq_level(&f->m, 4));

  /* Dirty every register, then a device reset puts them back. */
  hw_outb(&f->m, LCR, 0x83);
  hw_outb(&f->m, DLL, 0x01);
  hw_outb(&f->m, LCR, 0x1b);
  hw_outb(&f->m, IER, 0x0f);
  hw_outb(&f->m, FCR, 0xc7);
  hw_outb(&f->m, MCR, 0x1f);
  hw_outb(&f->m, SCR, 0x77);
  g_assert_true(hw_irq_level(&f->m, 4));
  arbor_device_reset(f->serial);
  for (guint i = 0; i < 8; i++)
    g_assert_cmphex(hw_inb(&f->m, COM1 + i), ==, expected[i]);
  hw_outb(&f->m, LCR, 0x80);
  g_assert_cmphex(hw_inb(&f->m, DLL), ==, 0x0c);
  g_assert_cmphex(hw_inb(&f->m, DLM), ==, 0x00);
  g_assert_false(hw_irq_level(&f->m, 4));
}

static void
test_dlab_divisor_scr(Fixture *f, gconstpointer data)
{
  hw_outb(&f->m, LCR, 0x83);
  g_assert_cmphex(hw_inb(&f->m, LCR), ==, 0x83);
  g_assert_cmphex(hw_inb(&f->m, DLL), ==, 0x0c);
  g_assert_cmphex(hw_inb(&f->m, DLM), ==, 0x00);
  hw_outb(&f->m, DLL, 0x01);
  hw_outb(&f->m, DLM, 0x02);
  g_assert_cmphex(hw_inb(&f->m, DLL), ==, 0x01);
  g_assert_cmphex(hw_inb(&f->m, DLM), ==, 0x02);
  /* With DLAB clear the same ports are THR/RBR and IER (low 4 bits). */
  hw_outb(&f->m, LCR, 0x03);
  g_assert_cmphex(hw_inb(&f->m, IER), ==, 0x00);
  hw_outb(&f->m, IER, 0xf0);
  g_assert_cmphex(hw_inb(&f->m, IER), ==, 0x00);
  hw_outb(&f->m, LCR, 0x83);
  g_assert_cmphex(hw_inb(&f->m, DLM), ==, 0x02);
  hw_outb(&f->m, LCR, 0x03);

  hw_outb(&f->m, SCR, 0x5a);
  g_assert_cmphex(hw_inb(&f->m, SCR), ==, 0x5a);
  /* LSR and MSR ignore writes. */
  hw_outb(&f->m, LSR, 0x00);
  hw_outb(&f->m, MSR, 0x00);
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x60);
  g_assert_cmphex(hw_inb(&f->m, MSR), ==, 0xb0);
  /* MCR keeps 5 bits. */
  hw_outb(&f->m, MCR, 0xff);
  g_assert_cmphex(hw_inb(&f->m, MCR), ==, 0x1f);
}

static void
test_thre_interrupt(Fixture *f, gconstpointer data)
{
  hw_outb(&f->m, IER, 0x02);
  g_assert_true(hw_irq_level(&f->m, 4));
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0x02);
  /* Reading IIR while it reports THRE clears that interrupt. */
  g_assert_false(hw_irq_level(&f->m, 4));
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0x01);

  /* Re-enabling THRI with THR empty raises it again. */
  hw_outb(&f->m, IER, 0x00);
  hw_outb(&f->m, IER, 0x02);
  g_assert_true(hw_irq_level(&f->m, 4));
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0x02);
  g_assert_false(hw_irq_level(&f->m, 4));

  /* A transmitted byte empties THR at once (QEMU's timing) and raises THRE. */
  guint raises = f->m.raises[4];
  hw_outb(&f->m, THR, 'A');
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x60);
  g_assert_true(hw_irq_level(&f->m, 4));
  g_assert_cmpuint(f->m.raises[4], ==, raises + 1);
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0x02);
  g_assert_false(hw_irq_level(&f->m, 4));

  /* Masked: no line. */
  hw_outb(&f->m, IER, 0x00);
  hw_outb(&f->m, THR, 'B');
  g_assert_false(hw_irq_level(&f->m, 4));
}

static void
test_fifo_trigger_levels(Fixture *f, gconstpointer data)
{
  const struct {
    guint8 fcr;
    guint level;
  } levels[] = {{0x01, 1}, {0x41, 4}, {0x81, 8}, {0xc1, 14}};

  hw_outb(&f->m, MCR, 0x10); /* loopback: TX feeds RX */
  for (guint i = 0; i < G_N_ELEMENTS(levels); i++) {
    hw_outb(&f->m, IER, 0x00);
    hw_outb(&f->m, FCR, levels[i].fcr | 0x06); /* also reset both FIFOs */
    g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0xc1);
    g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x60);
    hw_outb(&f->m, IER, 0x01);
    for (guint n = 1; n < levels[i].level; n++)
      hw_outb(&f->m, THR, (guint8) n);
    g_assert_false(hw_irq_level(&f->m, 4));
    g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0xc1);
    g_assert_cmphex(hw_inb(&f->m, LSR), ==, levels[i].level > 1 ? 0x61 : 0x60);
    hw_outb(&f->m, THR, 0xee);
    g_assert_true(hw_irq_level(&f->m, 4));
    g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0xc4);
    /* One byte out: below the level again. */
    g_assert_cmphex(hw_inb(&f->m, RBR), ==, levels[i].level > 1 ? 0x01 : 0xee);
    g_assert_false(hw_irq_level(&f->m, 4));
  }

  /* RX FIFO reset empties it. */
  hw_outb(&f->m, FCR, 0xc3);
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x60);
  g_assert_cmphex(hw_inb(&f->m, RBR), ==, 0x00);

  /* 16 bytes fit; the 17th is an overrun and is not stored. */
  hw_outb(&f->m, IER, 0x00);
  for (guint n = 0; n < 17; n++)
    hw_outb(&f->m, THR, (guint8) (0x40 + n));
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x63);
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x61); /* reading LSR cleared OE */
  for (guint n = 0; n < 16; n++)
    g_assert_cmphex(hw_inb(&f->m, RBR), ==, 0x40 + n);
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x60);

  /* Disabling the FIFO clears the IIR FIFO bits. */
  hw_outb(&f->m, FCR, 0x00);
  g_assert_cmphex(hw_inb(&f->m, IIR) & 0xc0, ==, 0x00);
}

static void
test_iir_priorities(Fixture *f, gconstpointer data)
{
  hw_outb(&f->m, MCR, 0x10);
  hw_outb(&f->m, IER, 0x0f);
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0x02); /* THRE, cleared by this read */
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0x01);

  /* Two bytes without FIFO: data ready, then an overrun. */
  hw_outb(&f->m, THR, 0x33);
  hw_outb(&f->m, THR, 0x34);
  g_assert_true(hw_irq_level(&f->m, 4));
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0x06); /* line status first */
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x63);
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0x04); /* then received data */
  g_assert_true(hw_irq_level(&f->m, 4));
  g_assert_cmphex(hw_inb(&f->m, RBR), ==, 0x34);
  g_assert_true(hw_irq_level(&f->m, 4));
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0x02); /* then THR empty, cleared by the read */
  g_assert_false(hw_irq_level(&f->m, 4));
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0x01);

  /* Without RLSI the overrun does not interrupt, DR still does. */
  hw_outb(&f->m, IER, 0x01);
  hw_outb(&f->m, THR, 0x35);
  hw_outb(&f->m, THR, 0x36);
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0x04);
  g_assert_cmphex(hw_inb(&f->m, RBR), ==, 0x36);
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x62);
  g_assert_false(hw_irq_level(&f->m, 4));
}

static void
test_loopback_msr(Fixture *f, gconstpointer data)
{
  const struct {
    guint8 mcr, msr;
  } cases[] = {
    {0x10, 0x00}, {0x11, 0x20}, {0x12, 0x10}, {0x14, 0x40}, {0x18, 0x80}, {0x1f, 0xf0},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    hw_outb(&f->m, MCR, cases[i].mcr);
    g_assert_cmphex(hw_inb(&f->m, MSR), ==, cases[i].msr);
    g_assert_cmphex(hw_inb(&f->m, MSR), ==, cases[i].msr);
  }
  /* Out of loopback: the modem lines as QEMU reports them. */
  hw_outb(&f->m, MCR, 0x08);
  g_assert_cmphex(hw_inb(&f->m, MSR), ==, 0xb0);

  /* Loopback bytes come back in order. */
  hw_outb(&f->m, MCR, 0x10);
  hw_outb(&f->m, THR, 'x');
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x61);
  g_assert_cmphex(hw_inb(&f->m, RBR), ==, 'x');
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x60);
}

static void
test_output_file(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->dir = g_dir_make_tmp("arbor-serial-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *path = g_build_filename(f->dir, "com1.txt", NULL);
  g_autofree char *spec = g_strdup_printf("file:%s", path);

  fixture_setup_with(f, spec, NULL);
  const char *msg = "Hello from the UART\n";
  for (const char *p = msg; *p != '\0'; p++) {
    while (!(hw_inb(&f->m, LSR) & 0x20))
      ;
    hw_outb(&f->m, THR, (guint8) *p);
  }
  /* Loopback output stays inside the UART. */
  hw_outb(&f->m, MCR, 0x10);
  hw_outb(&f->m, THR, '!');
  hw_outb(&f->m, MCR, 0x08);

  /* Shutdown unrealizes the device, which flushes its backend. */
  hw_test_machine_clear(&f->m);
  f->m.machine = NULL;
  g_autofree char *contents = NULL;
  g_assert_true(g_file_get_contents(path, &contents, NULL, &error));
  g_assert_cmpstr(contents, ==, msg);
}

typedef struct {
  Fixture *f;
  guint8 ch;
} VcpuWriter;

static gpointer
vcpu_writer(gpointer data)
{
  VcpuWriter *w = data;
  for (int i = 0; i < 10000; i++)
    hw_outb(&w->f->m, THR, w->ch);
  return NULL;
}

static void
test_threads_to_file(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->dir = g_dir_make_tmp("arbor-serial-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *path = g_build_filename(f->dir, "threads.txt", NULL);
  g_autofree char *spec = g_strdup_printf("file:%s", path);

  fixture_setup_with(f, spec, NULL);
  hw_outb(&f->m, IER, 0x0f);
  hw_outb(&f->m, FCR, 0x07);
  /* Four "vCPUs" write at once while the main context drains. */
  VcpuWriter writers[4];
  GThread *threads[4];
  for (int i = 0; i < 4; i++) {
    writers[i] = (VcpuWriter){f, (guint8) ('a' + i)};
    threads[i] = g_thread_new("vcpu", vcpu_writer, &writers[i]);
  }
  for (int i = 0; i < 4; i++)
    g_thread_join(threads[i]);
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x60);

  hw_test_machine_clear(&f->m);
  f->m.machine = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &contents, &len, &error));
  g_assert_cmpuint(len, ==, 40000);
  guint counts[4] = {0};
  for (gsize i = 0; i < len; i++) {
    g_assert_cmpint(contents[i], >=, 'a');
    g_assert_cmpint(contents[i], <=, 'd');
    counts[contents[i] - 'a']++;
  }
  for (int i = 0; i < 4; i++)
    g_assert_cmpuint(counts[i], ==, 10000);
}

static gboolean
data_ready(gpointer data)
{
  Fixture *f = data;
  return (hw_inb(&f->m, LSR) & 0x01) != 0;
}

static void
test_input_socket(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->dir = g_dir_make_tmp("arbor-serial-XXXXXX", &error);
  g_autofree char *path = g_build_filename(f->dir, "in.sock", NULL);
  g_autofree char *spec = g_strdup_printf("unix:%s", path);
  g_autoptr(GSocket) listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
  g_assert_true(g_socket_bind(listener, addr, FALSE, &error));
  g_assert_true(g_socket_listen(listener, &error));
  g_assert_no_error(error);

  fixture_setup_with(f, spec, NULL);
  g_autoptr(GSocket) peer = g_socket_accept(listener, NULL, &error);
  g_assert_no_error(error);

  /* Two bytes without FIFO: the second waits until the first is read. */
  hw_outb(&f->m, IER, 0x01);
  g_assert_cmpint(g_socket_send(peer, "ab", 2, NULL, &error), ==, 2);
  g_assert_true(hw_test_wait(data_ready, f));
  g_assert_true(hw_irq_level(&f->m, 4));
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0x04);
  g_assert_cmphex(hw_inb(&f->m, RBR), ==, 'a');
  g_assert_true(hw_test_wait(data_ready, f));
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x61); /* no overrun */
  g_assert_cmphex(hw_inb(&f->m, RBR), ==, 'b');
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x60);
  g_assert_false(hw_irq_level(&f->m, 4));

  /* 4 KiB through a 16-byte FIFO: nothing lost, nothing reordered,
   * never an overrun (the backend is paused while the FIFO is full). */
  hw_outb(&f->m, FCR, 0xc7);
  guint8 big[4096];
  for (guint i = 0; i < sizeof big; i++)
    big[i] = (guint8) (i * 7 + 3);
  g_assert_cmpint(g_socket_send(peer, (const char *) big, sizeof big, NULL, &error), ==, sizeof big);
  for (guint i = 0; i < sizeof big; i++) {
    g_assert_true(hw_test_wait(data_ready, f));
    guint8 lsr = hw_inb(&f->m, LSR);
    g_assert_cmphex(lsr & 0x02, ==, 0);
    g_assert_cmphex(hw_inb(&f->m, RBR), ==, big[i]);
  }
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x60);

  /* Output goes the other way. */
  hw_outb(&f->m, THR, 'Z');
  char c = 0;
  while (g_socket_receive_with_blocking(peer, &c, 1, FALSE, NULL, NULL) != 1)
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpint(c, ==, 'Z');
}

static void
test_closed_backend(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->dir = g_dir_make_tmp("arbor-serial-XXXXXX", &error);
  g_autofree char *path = g_build_filename(f->dir, "slow.sock", NULL);
  g_autofree char *spec = g_strdup_printf("unix:%s", path);
  g_autoptr(GSocket) listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
  g_assert_true(g_socket_bind(listener, addr, FALSE, &error));
  g_assert_true(g_socket_listen(listener, &error));

  fixture_setup_with(f, spec, NULL);
  GSocket *peer = g_socket_accept(listener, NULL, &error); /* never reads */
  g_assert_no_error(error);
  g_autoptr(ArborChardev) chr = NULL;
  g_object_get(f->serial, "backend", &chr, NULL);
  g_assert_nonnull(chr);

  /* 2 MiB through THR with a peer that never reads: every write returns,
   * THR is empty again right away, the excess is counted. */
  const guint total = 2 * 1024 * 1024;
  for (guint i = 0; i < total; i++) {
    hw_outb(&f->m, THR, (guint8) i);
    if ((i & 0xffff) == 0)
      g_main_context_iteration(NULL, FALSE);
  }
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x60);
  g_assert_cmpuint(arbor_chardev_get_dropped(chr), >, 0);
  g_assert_cmpuint(arbor_chardev_get_dropped(chr) + arbor_chardev_get_pending(chr), <=, total);

  /* The peer goes away: output keeps flowing into the count. */
  g_object_unref(peer);
  while (arbor_chardev_is_connected(chr))
    g_main_context_iteration(NULL, TRUE);
  guint64 before = arbor_chardev_get_dropped(chr);
  for (guint i = 0; i < 1000; i++)
    hw_outb(&f->m, THR, 'x');
  g_assert_cmpuint(arbor_chardev_get_dropped(chr), ==, before + 1000);
  g_assert_cmphex(hw_inb(&f->m, LSR), ==, 0x60);
}

static void
test_fifo_timeout_virtual_clock(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborAccel) accel = arbor_accel_new("qtest", &error);
  g_assert_no_error(error);
  Fixture fx = {0};
  Fixture *f = &fx;
  fixture_setup_with(f, NULL, accel);
  ArborClock *clock = arbor_machine_get_clock(f->m.machine);
  g_assert_cmpint(arbor_clock_get_kind(clock), ==, ARBOR_CLOCK_VIRTUAL);

  hw_outb(&f->m, MCR, 0x10);
  hw_outb(&f->m, FCR, 0xc1); /* FIFO on, trigger level 14 */
  hw_outb(&f->m, IER, 0x01);
  hw_outb(&f->m, THR, 0x42);
  g_assert_false(hw_irq_level(&f->m, 4));
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0xc1);

  /* 4 character times at 9600 8N1 (QEMU: 1e9/9600*10 ns each). */
  gint64 timeout = (1000000000 / 9600) * 10 * 4;
  g_assert_cmpint(arbor_clock_get_next_deadline(clock), ==, arbor_clock_get_ns(clock) + timeout);
  arbor_clock_step(clock, timeout - 1);
  g_assert_false(hw_irq_level(&f->m, 4));
  arbor_clock_step(clock, 1);
  g_assert_true(hw_irq_level(&f->m, 4));
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0xcc);
  g_assert_cmphex(hw_inb(&f->m, RBR), ==, 0x42);
  g_assert_false(hw_irq_level(&f->m, 4));
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0xc1);

  /* A faster line shortens the timeout: 115200 baud, divisor 1. */
  hw_outb(&f->m, LCR, 0x83);
  hw_outb(&f->m, DLL, 0x01);
  hw_outb(&f->m, DLM, 0x00);
  hw_outb(&f->m, LCR, 0x03);
  hw_outb(&f->m, THR, 0x43);
  g_assert_cmpint(arbor_clock_get_next_deadline(clock), ==,
                  arbor_clock_get_ns(clock) + (1000000000 / 115200) * 10 * 4);
  arbor_clock_step(clock, (1000000000 / 115200) * 10 * 4);
  g_assert_cmphex(hw_inb(&f->m, IIR), ==, 0xcc);

  fixture_teardown(f, NULL);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_log_set_writer_func(quiet_warnings, NULL, NULL);

#define ADD(path, spec, fn) g_test_add(path, Fixture, spec, fixture_setup, fn, fixture_teardown)
#define ADD_NOSETUP(path, fn) g_test_add(path, Fixture, NULL, NULL, fn, fixture_teardown)
  ADD("/serial/reset-values", "null", test_reset_values);
  ADD("/serial/dlab-divisor-scr", "null", test_dlab_divisor_scr);
  ADD("/serial/thre-interrupt", "null", test_thre_interrupt);
  ADD("/serial/fifo-trigger-levels", "null", test_fifo_trigger_levels);
  ADD("/serial/iir-priorities", NULL, test_iir_priorities);
  ADD("/serial/loopback-msr", "null", test_loopback_msr);
  ADD_NOSETUP("/serial/output-file", test_output_file);
  ADD_NOSETUP("/serial/input-socket", test_input_socket);
  ADD_NOSETUP("/serial/threads-to-file", test_threads_to_file);
  ADD_NOSETUP("/serial/closed-backend", test_closed_backend);
#undef ADD
#undef ADD_NOSETUP
  g_test_add_func("/serial/fifo-timeout-virtual-clock", test_fifo_timeout_virtual_clock);
  return g_test_run();
}
