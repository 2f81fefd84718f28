/* Helpers shared by the device tests: a machine without accelerator,
 * port access through its I/O address space, and IRQ line tracking. */
#pragma once

#include <arbor/arbor.h>

typedef struct {
  ArborMachine *machine;
  GMutex lock;
  gboolean level[ARBOR_MACHINE_NUM_GSI]; /* last level seen per GSI */
  guint raises[ARBOR_MACHINE_NUM_GSI];   /* rising edges seen per GSI */
} HwTestMachine;

static inline void
hw_test_irq_intercept(gpointer opaque, guint gsi, gboolean level)
{
  HwTestMachine *m = opaque;

  g_assert_cmpuint(gsi, <, ARBOR_MACHINE_NUM_GSI);
  g_mutex_lock(&m->lock);
  if (level && !m->level[gsi])
    m->raises[gsi]++;
  m->level[gsi] = level;
  g_mutex_unlock(&m->lock);
}

static inline void
hw_test_machine_init(HwTestMachine *m, ArborAccel *accel)
{
  g_autoptr(GError) error = NULL;

  memset(m, 0, sizeof *m);
  g_mutex_init(&m->lock);
  m->machine = arbor_machine_new(16 * 1024 * 1024, 1, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(m->machine);
  if (accel != NULL) {
    g_assert_true(arbor_machine_set_accel(m->machine, accel, &error));
    g_assert_no_error(error);
  }
  arbor_machine_set_irq_interceptor(m->machine, hw_test_irq_intercept, m);
}

static inline void
hw_test_machine_clear(HwTestMachine *m)
{
  arbor_machine_shutdown(m->machine);
  g_clear_object(&m->machine);
  g_mutex_clear(&m->lock);
}

static inline ArborDevice *
hw_test_add(HwTestMachine *m, const char *options)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborDevice) dev = arbor_device_new_from_options(options, &error);

  g_assert_no_error(error);
  g_assert_true(arbor_machine_add_device(m->machine, dev, &error));
  g_assert_no_error(error);
  return dev; /* owned by the machine */
}

static inline guint8
hw_inb(HwTestMachine *m, guint16 port)
{
  guint64 v = 0;
  ArborMemTxResult r = arbor_address_space_dispatch_read(arbor_machine_get_io(m->machine), port, 1, &v);
  g_assert_cmpint(r, ==, ARBOR_MEMTX_OK);
  return (guint8) v;
}

static inline void
hw_outb(HwTestMachine *m, guint16 port, guint8 v)
{
  ArborMemTxResult r = arbor_address_space_dispatch_write(arbor_machine_get_io(m->machine), port, 1, v);
  g_assert_cmpint(r, ==, ARBOR_MEMTX_OK);
}

static inline gboolean
hw_irq_level(HwTestMachine *m, guint gsi)
{
  g_mutex_lock(&m->lock);
  gboolean l = m->level[gsi];
  g_mutex_unlock(&m->lock);
  return l;
}

/* Iterates the default main context until @done returns TRUE or ~10 s
 * pass (a safety net for a broken build, not a timing assertion). */
static inline gboolean
hw_test_wait(gboolean (*done)(gpointer), gpointer data)
{
  gint64 give_up = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

  while (!done(data)) {
    if (g_get_monotonic_time() > give_up)
      return FALSE;
    g_main_context_iteration(NULL, FALSE);
    if (!done(data))
      g_usleep(1000);
  }
  return TRUE;
}
