/* Stress with real guests under KVM (the arbor binary, -accel kvm). Each
 * test skips with "/dev/kvm missing" when the host has no KVM at all; a
 * /dev/kvm that cannot be opened (EACCES...) is a failure, not a skip.
 *
 *  - 10,000 pause/resume cycles (monitor stop/cont) of a 4-vCPU machine
 *    whose boot vCPU counts on COM1 (countserial.c) while the other three
 *    sit in KVM waiting for a SIPI: no hang, and the bytes the guest wrote
 *    are exactly 0, 1, 2, ...: nothing lost or repeated across a pause.
 *  - A guest writing 100 MiB to the serial port (serialflood.c) whose
 *    backend peer never reads, or has closed: the guest finishes (exit
 *    status 0x21 through isa-debug-exit), RSS stays bounded.
 *  - A guest that triple-faults (tests/guests/e2e/triplefault.c) and is
 *    reset, 200 times in a row: no hang, RSS and the thread count stay
 *    flat (no thread left behind per reset), clean quit at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#define PAUSE_CYCLES 10000
#define RESETS 200

typedef struct {
  GSubprocess *proc; /* owned */
  char *pid;         /* owned */
  char *dir;         /* owned: scratch dir for sockets and files */
} Emu;

static gboolean
kvm_usable(void)
{
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

  if (fd >= 0) {
    close(fd);
    return TRUE;
  }
  if (errno == ENOENT || errno == ENODEV || errno == ENXIO) {
    g_test_skip_printf("/dev/kvm missing: %s", g_strerror(errno));
    return FALSE;
  }
  g_test_fail_printf("/dev/kvm exists but cannot be opened: %s", g_strerror(errno));
  return FALSE;
}

static char *
guest_path(const char *env, const char *name)
{
  const char *dir = g_getenv(env);
  char *path;

  if (dir == NULL) {
    g_test_skip_printf("%s is not set (run through meson test)", env);
    return NULL;
  }
  path = g_build_filename(dir, name, NULL);
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_test_fail_printf("guest %s was not built", path);
    g_free(path);
    return NULL;
  }
  return path;
}

static void
child_setup(gpointer data)
{
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void
emu_spawn(Emu *emu, const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);

  g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
  emu->proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
  g_assert_no_error(error);
  emu->pid = g_strdup(g_subprocess_get_identifier(emu->proc));
}

static void
emu_free(Emu *emu)
{
  if (emu->proc != NULL && g_subprocess_get_identifier(emu->proc) != NULL) {
    g_subprocess_force_exit(emu->proc);
    g_subprocess_wait(emu->proc, NULL, NULL);
  }
  g_clear_object(&emu->proc);
  g_free(emu->pid);
  if (emu->dir != NULL) {
    g_autoptr(GDir) d = g_dir_open(emu->dir, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
      g_autofree char *p = g_build_filename(emu->dir, name, NULL);
      g_unlink(p);
    }
    g_rmdir(emu->dir);
    g_free(emu->dir);
  }
}

static glong
status_field(Emu *emu, const char *field)
{
  g_autofree char *file = g_strdup_printf("/proc/%s/status", emu->pid);
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents(file, &status, NULL, NULL))
    return -1;
  line = strstr(status, field);
  return line == NULL ? -1 : strtol(line + strlen(field), NULL, 10);
}

static GSocket *
connect_unix(const char *path)
{
  /* The emulator creates the socket a moment after it starts. */
  for (int i = 0; i < 3000; i++) {
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    GSocket *sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL);
    if (g_socket_connect(sock, addr, NULL, NULL)) {
      g_socket_set_timeout(sock, 60);
      return sock;
    }
    g_object_unref(sock);
    g_usleep(10000);
  }
  g_error("nothing listens on %s", path);
}

/* Sends a monitor command and reads up to the next prompt. */
static char *
monitor_cmd(GSocket *mon, const char *line)
{
  GString *out = g_string_new(NULL);
  g_autoptr(GError) error = NULL;

  if (line != NULL) {
    g_autofree char *with_nl = g_strconcat(line, "\n", NULL);
    g_assert_cmpint(g_socket_send(mon, with_nl, strlen(with_nl), NULL, &error), ==, (gssize) strlen(with_nl));
    g_assert_no_error(error);
  }
  while (!g_str_has_suffix(out->str, "(arbor) ")) {
    char buf[512];
    gssize n = g_socket_receive(mon, buf, sizeof(buf), NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(n, >, 0);
    g_string_append_len(out, buf, n);
  }
  return g_string_free(out, FALSE);
}

static void
test_pause_resume(void)
{
  Emu emu = { 0 };
  g_autofree char *kernel = NULL;
  g_autofree char *mon_path = NULL, *mon_spec = NULL, *serial_path = NULL, *serial_spec = NULL;
  g_autofree char *output = NULL;
  gsize len = 0;
  GSocket *mon;

  if (!kvm_usable() || (kernel = guest_path("ARBOR_STRESS_GUEST_DIR", "countserial.elf")) == NULL)
    return;
  emu.dir = g_dir_make_tmp("arbor-stress-kvm-XXXXXX", NULL);
  mon_path = g_build_filename(emu.dir, "mon.sock", NULL);
  mon_spec = g_strdup_printf("unix:%s,server=on,wait=off", mon_path);
  serial_path = g_build_filename(emu.dir, "serial.out", NULL);
  serial_spec = g_strdup_printf("file:%s", serial_path);
  {
    const char *argv[] = { g_getenv("ARBOR_BINARY"), "-accel", "kvm", "-smp", "4", "-m", "64", "-display", "none",
                           "-nodefaults", "-kernel", kernel, "-serial", serial_spec, "-monitor", mon_spec, NULL };
    emu_spawn(&emu, argv);
  }
  mon = connect_unix(mon_path);
  g_free(monitor_cmd(mon, NULL));
  for (guint c = 0; c < PAUSE_CYCLES; c++) {
    g_free(monitor_cmd(mon, "stop"));
    g_free(monitor_cmd(mon, "cont"));
  }
  {
    g_autofree char *status = monitor_cmd(mon, "info status");
    g_assert_nonnull(strstr(status, "running"));
  }
  g_socket_send(mon, "quit\n", 5, NULL, NULL);
  g_assert_true(g_subprocess_wait(emu.proc, NULL, NULL));
  g_assert_true(g_subprocess_get_if_exited(emu.proc));
  g_assert_cmpint(g_subprocess_get_exit_status(emu.proc), ==, 0);
  g_socket_close(mon, NULL);
  g_object_unref(mon);

  g_assert_true(g_file_get_contents(serial_path, &output, &len, NULL));
  g_test_message("%" G_GSIZE_FORMAT " counted bytes across %u pause/resume cycles", len, PAUSE_CYCLES);
  g_assert_cmpuint(len, >, 0);
  for (gsize i = 0; i < len; i++) {
    if ((guint8) output[i] != (guint8) i)
      g_test_fail_printf("byte %" G_GSIZE_FORMAT " is 0x%02x, expected 0x%02x: an I/O exit was lost or repeated", i,
                         (guint8) output[i], (guint8) i);
    if (g_test_failed())
      break;
  }
  emu_free(&emu);
}

typedef enum {
  PEER_NEVER_READS,
  PEER_CLOSED,
} PeerMode;

static void
test_serial_flood(gconstpointer data)
{
  PeerMode mode = GPOINTER_TO_INT(data);
  Emu emu = { 0 };
  g_autofree char *kernel = NULL;
  g_autofree char *sock_path = NULL, *serial_spec = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) listener = NULL;
  g_autoptr(GSocket) peer = NULL;
  g_autoptr(GSocketAddress) addr = NULL;
  glong rss_max = 0;

  if (!kvm_usable() || (kernel = guest_path("ARBOR_STRESS_GUEST_DIR", "serialflood.elf")) == NULL)
    return;
  emu.dir = g_dir_make_tmp("arbor-stress-kvm-XXXXXX", NULL);
  sock_path = g_build_filename(emu.dir, "serial.sock", NULL);
  serial_spec = g_strdup_printf("unix:%s", sock_path);
  listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
  addr = g_unix_socket_address_new(sock_path);
  g_assert_true(g_socket_bind(listener, addr, FALSE, &error));
  g_assert_true(g_socket_listen(listener, &error));
  {
    const char *argv[] = { g_getenv("ARBOR_BINARY"), "-accel", "kvm", "-m", "64", "-display", "none", "-nodefaults",
                           "-kernel", kernel, "-serial", serial_spec, "-device",
                           "isa-debug-exit,iobase=0xf4,iosize=0x04", NULL };
    emu_spawn(&emu, argv);
  }
  peer = g_socket_accept(listener, NULL, &error);
  g_assert_no_error(error);
  if (mode == PEER_CLOSED)
    g_socket_close(peer, NULL);

  /* Sample RSS while it runs; the wait ends when the guest exits. */
  while (g_subprocess_get_identifier(emu.proc) != NULL) {
    glong rss = status_field(&emu, "VmRSS:");
    rss_max = MAX(rss_max, rss);
    g_usleep(20000);
  }
  g_assert_true(g_subprocess_wait(emu.proc, NULL, NULL));
  g_test_message("arbor RSS at most %ld KiB while the guest wrote 100 MiB", rss_max);
  g_assert_true(g_subprocess_get_if_exited(emu.proc));
  g_assert_cmpint(g_subprocess_get_exit_status(emu.proc), ==, (0x10 << 1) | 1);
  /* Guest RAM is 64 MiB but the guest touches little of it; the 100 MiB
   * of output must not be held anywhere. */
  g_assert_cmpint(rss_max, <, 96 * 1024);
  emu_free(&emu);
}

static void
test_triple_fault_loop(void)
{
  Emu emu = { 0 };
  g_autofree char *kernel = NULL;
  g_autofree char *mon_path = NULL, *mon_spec = NULL, *serial_path = NULL, *serial_spec = NULL;
  GSocket *mon;
  glong threads_first = -1, rss_first = -1;

  if (!kvm_usable() || (kernel = guest_path("ARBOR_E2E_GUEST_DIR", "triplefault.elf")) == NULL)
    return;
  emu.dir = g_dir_make_tmp("arbor-stress-kvm-XXXXXX", NULL);
  mon_path = g_build_filename(emu.dir, "mon.sock", NULL);
  mon_spec = g_strdup_printf("unix:%s,server=on,wait=off", mon_path);
  serial_path = g_build_filename(emu.dir, "serial.out", NULL);
  serial_spec = g_strdup_printf("file:%s", serial_path);
  {
    const char *argv[] = { g_getenv("ARBOR_BINARY"), "-accel", "kvm", "-smp", "2", "-m", "64", "-display", "none",
                           "-nodefaults", "-kernel", kernel, "-serial", serial_spec, "-monitor", mon_spec, NULL };
    emu_spawn(&emu, argv);
  }
  mon = connect_unix(mon_path);
  g_free(monitor_cmd(mon, NULL));

  /* Every triple fault resets the machine and the guest prints again. */
  for (guint seen = 0; seen < RESETS;) {
    g_autofree char *out = NULL;
    const char *p;

    g_assert_nonnull(g_subprocess_get_identifier(emu.proc));
    seen = 0;
    if (g_file_get_contents(serial_path, &out, NULL, NULL))
      for (p = out; (p = strstr(p, "faulting\n")) != NULL; p++)
        seen++;
    if (seen >= 10 && threads_first < 0) {
      threads_first = status_field(&emu, "Threads:");
      rss_first = status_field(&emu, "VmRSS:");
    }
    g_usleep(10000);
  }
  {
    glong threads = status_field(&emu, "Threads:");
    glong rss = status_field(&emu, "VmRSS:");
    g_test_message("after %u resets: %ld threads (%ld after 10), RSS %ld KiB (%ld after 10)", RESETS, threads,
                   threads_first, rss, rss_first);
    g_assert_cmpint(threads, ==, threads_first);
    g_assert_cmpint(rss - rss_first, <, 16 * 1024);
  }
  g_socket_send(mon, "quit\n", 5, NULL, NULL);
  g_assert_true(g_subprocess_wait(emu.proc, NULL, NULL));
  g_assert_true(g_subprocess_get_if_exited(emu.proc));
  g_assert_cmpint(g_subprocess_get_exit_status(emu.proc), ==, 0);
  g_socket_close(mon, NULL);
  g_object_unref(mon);
  emu_free(&emu);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  signal(SIGPIPE, SIG_IGN);
  g_test_add_func("/stress/kvm/pause-resume-10000-smp4", test_pause_resume);
  g_test_add_data_func("/stress/kvm/serial-flood-100MiB/peer-never-reads", GINT_TO_POINTER(PEER_NEVER_READS),
                       test_serial_flood);
  g_test_add_data_func("/stress/kvm/serial-flood-100MiB/peer-closed", GINT_TO_POINTER(PEER_CLOSED),
                       test_serial_flood);
  g_test_add_func("/stress/kvm/triple-fault-reset-loop", test_triple_fault_loop);
  return g_test_run();
}
