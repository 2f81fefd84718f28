/* qtest clients connecting and disconnecting mid-command against the real
 * emulator: `arbor -accel qtest -qtest unix:PATH,server=on,wait=off`.
 *
 * 600 clients in turn: some finish a command and check its reply, others
 * leave halfway through a line, right after sending a big command, without
 * sending anything, after an overlong line, or while a second client tries
 * to get in. After all of it the emulator must still answer correctly,
 * keep its guest memory, not have grown (no per-client leak), and exit
 * cleanly through isa-debug-exit.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#define CLIENTS 600
#define RSS_GROWTH_KIB (16 * 1024)

typedef struct {
  GSubprocess *proc; /* owned */
  char *dir;         /* owned */
  char *path;        /* owned */
  char *pid;         /* owned: for /proc */
} Emu;

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
proc_rss_kib(Emu *emu)
{
  g_autofree char *file = g_strdup_printf("/proc/%s/status", emu->pid);
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true(g_file_get_contents(file, &status, NULL, NULL));
  line = strstr(status, "VmRSS:");
  g_assert_nonnull(line);
  return strtol(line + 6, NULL, 10);
}

static GSocket *
try_connect(Emu *emu)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(emu->path);
  GSocket *sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);

  g_assert_no_error(error);
  /* Generous: only a wedged emulator gets anywhere near it. */
  g_socket_set_timeout(sock, 60);
  if (!g_socket_connect(sock, addr, NULL, &error)) {
    g_object_unref(sock);
    return NULL;
  }
  return sock;
}

static GSocket *
connect_client(Emu *emu)
{
  GSocket *sock = try_connect(emu);
  g_assert_nonnull(sock);
  return sock;
}

static void
send_all(GSocket *sock, const char *data, gsize len)
{
  g_autoptr(GError) error = NULL;
  gsize done = 0;

  while (done < len) {
    gssize n = g_socket_send(sock, data + done, len - done, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(n, >, 0);
    done += (gsize) n;
  }
}

/* Reads one reply line (skipping IRQ lines). */
static char *
recv_line(GSocket *sock)
{
  GString *line = g_string_new(NULL);

  for (;;) {
    g_autoptr(GError) error = NULL;
    char c;
    gssize n = g_socket_receive(sock, &c, 1, NULL, &error);

    g_assert_no_error(error);
    g_assert_cmpint(n, ==, 1);
    if (c != '\n') {
      g_string_append_c(line, c);
      continue;
    }
    if (g_str_has_prefix(line->str, "IRQ ")) {
      g_string_truncate(line, 0);
      continue;
    }
    return g_string_free(line, FALSE);
  }
}

static char *
command(GSocket *sock, const char *line)
{
  g_autofree char *with_nl = g_strconcat(line, "\n", NULL);
  send_all(sock, with_nl, strlen(with_nl));
  return recv_line(sock);
}

static void
close_client(GSocket *sock)
{
  g_socket_close(sock, NULL);
  g_object_unref(sock);
}

/* If this test dies (timeout, assertion), the emulator goes with it
 * instead of lingering as an orphan. */
static void
child_setup(gpointer data)
{
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void
emu_start(Emu *emu)
{
  g_autoptr(GError) error = NULL;
  const char *binary = g_getenv("ARBOR_BINARY");
  g_autofree char *spec = NULL;

  if (binary == NULL) {
    g_test_fail_printf("ARBOR_BINARY is not set: run this test through meson test");
    return;
  }
  emu->dir = g_dir_make_tmp("arbor-stress-qtest-XXXXXX", &error);
  g_assert_no_error(error);
  emu->path = g_build_filename(emu->dir, "qtest.sock", NULL);
  spec = g_strdup_printf("unix:%s,server=on,wait=off", emu->path);
  {
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
    emu->proc = g_subprocess_launcher_spawn(launcher, &error, binary, "-accel", "qtest", "-qtest", spec, "-display",
                                            "none", "-nodefaults", "-device",
                                            "isa-debug-exit,iobase=0xf4,iosize=0x04", NULL);
  }
  g_assert_no_error(error);
  emu->pid = g_strdup(g_subprocess_get_identifier(emu->proc));

  /* wait=off: the socket appears once the emulator is listening. Poll for
   * it (no fixed sleep decides the outcome: a dead emulator ends it). */
  for (;;) {
    GSocket *probe;
    if (g_file_test(emu->path, G_FILE_TEST_EXISTS) && (probe = try_connect(emu)) != NULL) {
      close_client(probe);
      return;
    }
    /* The identifier goes away once GLib's worker has reaped the child. */
    if (g_subprocess_get_identifier(emu->proc) == NULL)
      g_error("arbor exited before listening on %s", emu->path);
    g_usleep(10000);
  }
}

static void
emu_cleanup(Emu *emu)
{
  if (emu->proc != NULL) {
    if (g_subprocess_get_identifier(emu->proc) != NULL)
      g_subprocess_force_exit(emu->proc);
    g_subprocess_wait(emu->proc, NULL, NULL);
  }
  g_clear_object(&emu->proc);
  if (emu->path != NULL)
    g_unlink(emu->path);
  if (emu->dir != NULL)
    g_rmdir(emu->dir);
  g_free(emu->path);
  g_free(emu->dir);
  g_free(emu->pid);
}

static void
check_alive_and_consistent(Emu *emu, guint32 expect)
{
  GSocket *sock = connect_client(emu);
  g_autofree char *reply = command(sock, "readl 0x10000");
  g_autofree char *want = g_strdup_printf("OK 0x%016x", expect);

  g_assert_cmpstr(reply, ==, want);
  close_client(sock);
}

static void
test_clients(void)
{
  Emu emu = { 0 };
  glong rss_warm = 0, rss_end;
  guint32 value = 0x1000;
  g_autofree char *overlong = g_strnfill(8192, 'x');

  emu_start(&emu);
  if (g_test_failed() || emu.proc == NULL) {
    emu_cleanup(&emu);
    return;
  }

  {
    GSocket *sock = connect_client(&emu);
    g_autofree char *reply = command(sock, "writel 0x10000 0x1000");
    g_assert_cmpstr(reply, ==, "OK");
    close_client(sock);
  }

  for (guint i = 0; i < CLIENTS; i++) {
    GSocket *sock = connect_client(&emu);

    switch (i % 7) {
    case 0: { /* a full command, reply checked */
      g_autofree char *cmd = g_strdup_printf("writel 0x10000 0x%x", ++value);
      g_autofree char *reply = command(sock, cmd);
      g_assert_cmpstr(reply, ==, "OK");
      break;
    }
    case 1: /* gone in the middle of a line */
      send_all(sock, "writel 0x100", 12);
      break;
    case 2: /* gone right after a big command, without reading the reply */
      send_all(sock, "memset 0x200000 1048576 0x55\nb64read 0x200000 65536\n", 53);
      break;
    case 3: /* connect and leave */
      break;
    case 4: /* an overlong line, never finished */
      send_all(sock, overlong, 8192);
      break;
    case 5: { /* a second client tries to get in meanwhile */
      GSocket *second = try_connect(&emu);
      if (second != NULL) {
        send_all(second, "readb 0x10000\n", 14);
        close_client(second);
      }
      {
        g_autofree char *reply = command(sock, "readl 0x10000");
        g_autofree char *want = g_strdup_printf("OK 0x%016x", value);
        g_assert_cmpstr(reply, ==, want);
      }
      break;
    }
    default: /* half of a reply read, then gone */
      send_all(sock, "read 0x200000 4096\n", 19);
      {
        char buf[100];
        g_socket_receive(sock, buf, sizeof(buf), NULL, NULL);
      }
      break;
    }
    close_client(sock);

    if (i % 50 == 49) {
      check_alive_and_consistent(&emu, value);
      if (rss_warm == 0)
        rss_warm = proc_rss_kib(&emu);
    }
  }
  check_alive_and_consistent(&emu, value);
  rss_end = proc_rss_kib(&emu);
  g_test_message("arbor RSS: %ld KiB after warm-up, %ld KiB after %u clients", rss_warm, rss_end, CLIENTS);
  g_assert_cmpint(rss_end - rss_warm, <, RSS_GROWTH_KIB + sanitizer_slack_kib());

  /* A clean end: isa-debug-exit with 0 exits with status 1 (QEMU's rule). */
  {
    g_autoptr(GError) error = NULL;
    GSocket *sock = connect_client(&emu);
    send_all(sock, "outb 0xf4 0x0\n", 14);
    g_assert_true(g_subprocess_wait(emu.proc, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_subprocess_get_if_exited(emu.proc));
    g_assert_cmpint(g_subprocess_get_exit_status(emu.proc), ==, 1);
    close_client(sock);
  }
  emu_cleanup(&emu);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  /* A peer that went away must not kill the test with SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  g_test_add_func("/stress/qtest/clients-connect-disconnect-mid-command", test_clients);
  return g_test_run();
}
