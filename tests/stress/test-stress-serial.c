/* A 16550A flooded with 100 MiB of output while its backend cannot take it.
 *
 * Two threads dispatch THR writes (port 0x3f8) as vCPU threads would,
 * 50 MiB each, while the backend is a unix socket whose peer never reads,
 * or whose peer has closed. The main thread runs the machine's main
 * context meanwhile (the chardev drains there). Nothing may block the
 * writers, memory must stay bounded (the chardev queue is bounded and
 * counts what it drops), and everything must end: no hang.
 *
 * Runs without KVM: the machine uses the qtest accelerator (module from
 * $ARBOR_MODULE_DIR) and the writers dispatch straight into its I/O space.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <arbor/arbor.h>

#define FLOOD_BYTES (100ULL * 1024 * 1024)
#define WRITERS 2
/* The chardev queue is 1 MiB; allow generous slack for allocator noise,
 * ASan's quarantine and GLib, but far below the 100 MiB pushed. */
#define RSS_SLACK_KIB (48 * 1024)

typedef struct {
  ArborMachine *machine;   /* owned */
  GMainContext *context;   /* owned */
  ArborChardev *chr;       /* owned */
  GSocket *listener;       /* owned */
  GSocket *peer;           /* owned: accepted end, never read */
  char *dir;               /* owned */
  char *path;              /* owned */
  gint done;               /* writers finished (atomic) */
  gint failures;           /* dispatches that did not return OK (atomic) */
} Fixture;

typedef enum {
  PEER_NEVER_READS,
  PEER_CLOSED,
} PeerMode;

/* Under AddressSanitizer freed memory sits in a quarantine (256 MiB unless
 * ASAN_OPTIONS says quarantine_size_mb=N) and counts in RSS: allow for it.
 * scripts/test.sh keeps it small so the bound still means something. */
static glong
sanitizer_slack_kib(void)
{
#if defined(__SANITIZE_ADDRESS__)
  const char *opts = g_getenv("ASAN_OPTIONS");
  const char *q = opts != NULL ? strstr(opts, "quarantine_size_mb=") : NULL;
  glong mb = q != NULL ? strtol(q + strlen("quarantine_size_mb="), NULL, 10) : 256;
  /* plus ASan's own allocator caches and shadow memory */
  return (mb + 64) * 1024;
#else
  return 0;
#endif
}

static glong
rss_kib(void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true(g_file_get_contents("/proc/self/status", &status, NULL, NULL));
  line = strstr(status, "VmRSS:");
  g_assert_nonnull(line);
  return strtol(line + 6, NULL, 10);
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
  PeerMode mode = GPOINTER_TO_INT(data);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) addr = NULL;
  g_autoptr(ArborAccel) accel = NULL;
  g_autoptr(ArborDevice) serial = NULL;
  g_autofree char *spec = NULL;

  fx->dir = g_dir_make_tmp("arbor-stress-serial-XXXXXX", &error);
  g_assert_no_error(error);
  fx->path = g_build_filename(fx->dir, "serial.sock", NULL);

  /* The peer: listens, accepts, and then never reads (or closes). */
  fx->listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_assert_no_error(error);
  addr = g_unix_socket_address_new(fx->path);
  g_assert_true(g_socket_bind(fx->listener, addr, FALSE, &error));
  g_assert_true(g_socket_listen(fx->listener, &error));
  g_assert_no_error(error);

  fx->context = g_main_context_new();
  fx->machine = arbor_machine_new(4 * 1024 * 1024, 1, fx->context, &error);
  g_assert_no_error(error);
  accel = arbor_accel_new("qtest", &error);
  g_assert_no_error(error);
  g_assert_true(arbor_machine_set_accel(fx->machine, accel, &error));

  spec = g_strdup_printf("unix:%s", fx->path);
  fx->chr = arbor_chardev_new(spec, fx->context, &error);
  g_assert_no_error(error);
  g_assert_nonnull(fx->chr);
  fx->peer = g_socket_accept(fx->listener, NULL, &error);
  g_assert_no_error(error);
  if (mode == PEER_CLOSED) {
    g_assert_true(g_socket_close(fx->peer, &error));
    g_assert_no_error(error);
  }

  serial = g_object_new(arbor_device_type_from_name("isa-serial"), "iobase", 0x3f8, "irq", 4,
                        "backend", fx->chr, NULL);
  g_assert_true(arbor_machine_add_device(fx->machine, serial, &error));
  g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
  if (fx->machine != NULL)
    arbor_machine_shutdown(fx->machine);
  g_clear_object(&fx->machine);
  g_clear_object(&fx->chr);
  for (int i = 0; i < 1000 && g_main_context_iteration(fx->context, FALSE); i++)
    ;
  g_clear_pointer(&fx->context, g_main_context_unref);
  g_clear_object(&fx->peer);
  g_clear_object(&fx->listener);
  g_unlink(fx->path);
  g_rmdir(fx->dir);
  g_free(fx->path);
  g_free(fx->dir);
}

static gpointer
writer_thread(gpointer data)
{
  Fixture *fx = data;
  ArborAddressSpace *io = arbor_machine_get_io(fx->machine);

  for (guint64 i = 0; i < FLOOD_BYTES / WRITERS; i++) {
    if (arbor_address_space_dispatch_write(io, 0x3f8, 1, 'a' + (i % 26)) != ARBOR_MEMTX_OK)
      g_atomic_int_inc(&fx->failures);
  }
  g_atomic_int_inc(&fx->done);
  g_main_context_wakeup(fx->context);
  return NULL;
}

static void
test_flood(Fixture *fx, gconstpointer data)
{
  PeerMode mode = GPOINTER_TO_INT(data);
  GThread *threads[WRITERS];
  glong rss_start, rss_max;
  guint64 value = 0;

  /* Settle: the connection is attached, initial allocations are done. */
  for (int i = 0; i < 100 && g_main_context_iteration(fx->context, FALSE); i++)
    ;
  /* 8N1 with a divisor, so the line is configured as a driver would. */
  g_assert_cmpint(arbor_address_space_dispatch_write(arbor_machine_get_io(fx->machine), 0x3fb, 1, 0x03), ==,
                  ARBOR_MEMTX_OK);
  rss_start = rss_max = rss_kib();

  for (guint i = 0; i < WRITERS; i++)
    threads[i] = g_thread_new("flood", writer_thread, fx);
  while (g_atomic_int_get(&fx->done) < WRITERS) {
    /* Non-blocking iterations plus a short sleep: the main loop keeps
     * draining as the emulator's would, and RSS is sampled throughout. */
    g_main_context_iteration(fx->context, FALSE);
    g_usleep(500);
    rss_max = MAX(rss_max, rss_kib());
  }
  for (guint i = 0; i < WRITERS; i++)
    g_thread_join(threads[i]);
  for (int i = 0; i < 1000 && g_main_context_iteration(fx->context, FALSE); i++)
    ;
  rss_max = MAX(rss_max, rss_kib());

  g_test_message("RSS %ld KiB at start, %ld KiB at most; pending %" G_GSIZE_FORMAT ", dropped %" G_GUINT64_FORMAT,
                 rss_start, rss_max, arbor_chardev_get_pending(fx->chr), arbor_chardev_get_dropped(fx->chr));
  g_assert_cmpint(g_atomic_int_get(&fx->failures), ==, 0);
  g_assert_cmpint(rss_max - rss_start, <, RSS_SLACK_KIB + sanitizer_slack_kib());
  /* The queue stayed bounded and what did not fit was counted. */
  g_assert_cmpuint(arbor_chardev_get_pending(fx->chr), <=, 1024 * 1024);
  g_assert_cmpuint(arbor_chardev_get_dropped(fx->chr), >, 0);
  if (mode == PEER_NEVER_READS)
    g_assert_cmpuint(arbor_chardev_get_dropped(fx->chr), >=, FLOOD_BYTES - 16 * 1024 * 1024);

  /* The UART still works: LSR says the transmitter is empty. */
  g_assert_cmpint(arbor_address_space_dispatch_read(arbor_machine_get_io(fx->machine), 0x3fd, 1, &value), ==,
                  ARBOR_MEMTX_OK);
  g_assert_cmphex(value & 0x60, ==, 0x60);
  /* Flushing on exit gives up after its timeout instead of hanging. */
  arbor_chardev_flush(fx->chr, 100);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  /* The chardev warns (rate-limited) about the bytes it drops: expected
   * here. Criticals stay fatal. */
  g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_test_add("/stress/serial/flood-100MiB/peer-never-reads", Fixture, GINT_TO_POINTER(PEER_NEVER_READS),
             fixture_setup, test_flood, fixture_teardown);
  g_test_add("/stress/serial/flood-100MiB/peer-closed", Fixture, GINT_TO_POINTER(PEER_CLOSED), fixture_setup,
             test_flood, fixture_teardown);
  return g_test_run();
}
