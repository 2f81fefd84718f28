/* The qtest protocol through the real emulator: arbor started by libqtest
 * on a unix socket (and on stdio, and listening), every command's reply
 * format, bad input answered with FAIL while the server keeps serving, the
 * log format, and disconnects. */
#include "arbor-config.h"

#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "libqtest.h"

static void
assert_raw(QTestState *s, const char *line, const char *expected)
{
  g_autofree char *reply = qtest_raw(s, line);

  g_assert_false(qtest_is_broken(s));
  g_assert_cmpstr(reply, ==, expected);
}

static void
test_commands(void)
{
  QTestState *s = qtest_init("-serial null");

  assert_raw(s, "endianness", "OK little");
  assert_raw(s, "outb 0x3ff 0x5a", "OK");
  assert_raw(s, "inb 0x3ff", "OK 0x005a");
  assert_raw(s, "outw 0x3ff 0x1234", "OK");
  assert_raw(s, "inw 0x1234", "OK 0xffff");
  assert_raw(s, "outl 0x1234 0x12345678", "OK");
  assert_raw(s, "inl 0x1234", "OK 0xffffffff");
  assert_raw(s, "writeb 0x1000 0x11", "OK");
  assert_raw(s, "writew 0x1002 0x2233", "OK");
  assert_raw(s, "writel 0x1004 0x44556677", "OK");
  assert_raw(s, "writeq 0x1008 0x8899aabbccddeeff", "OK");
  assert_raw(s, "readb 0x1000", "OK 0x0000000000000011");
  assert_raw(s, "readw 0x1002", "OK 0x0000000000002233");
  assert_raw(s, "readl 0x1004", "OK 0x0000000044556677");
  assert_raw(s, "readq 0x1008", "OK 0x8899aabbccddeeff");
  assert_raw(s, "read 0x1000 4", "OK 0x11003322");
  assert_raw(s, "write 0x1000 3 0xa1b2c3", "OK");
  assert_raw(s, "b64read 0x1000 3", "OK obLD");
  assert_raw(s, "b64write 0x1000 3 QUJD", "OK");
  assert_raw(s, "read 0x1000 3", "OK 0x414243");
  assert_raw(s, "memset 0x1000 2 0x77", "OK");
  assert_raw(s, "read 0x1000 3", "OK 0x777743");
  assert_raw(s, "clock_step 10", "OK 10");
  assert_raw(s, "clock_set 100", "OK 100");
  assert_raw(s, "clock_set 50", "FAIL 100");
  assert_raw(s, "irq_intercept_in ioapic", "OK");
  assert_raw(s, "module_load accel qtest", "OK");
  assert_raw(s, "bogus", "FAIL Unknown command 'bogus'");
  g_assert_cmpint(qtest_quit(s), ==, 0);
}

static void
test_irq_lines_before_reply(void)
{
  QTestState *s = qtest_init(NULL);
  g_autofree char *l1 = NULL, *l2 = NULL, *l3 = NULL, *l4 = NULL;

  assert_raw(s, "irq_intercept_in ioapic", "OK");
  /* Read the raw lines: the IRQ line comes first, then the reply. */
  qtest_send_bytes(s, "set_irq_in ioapic unnamed-gpio-in 7 1\n", 38);
  l1 = qtest_recv_line(s);
  l2 = qtest_recv_line(s);
  g_assert_cmpstr(l1, ==, "IRQ raise 7");
  g_assert_cmpstr(l2, ==, "OK");
  qtest_send_bytes(s, "set_irq_in ioapic unnamed-gpio-in 7 0\n", 38);
  l3 = qtest_recv_line(s);
  l4 = qtest_recv_line(s);
  g_assert_cmpstr(l3, ==, "IRQ lower 7");
  g_assert_cmpstr(l4, ==, "OK");

  /* libqtest's tracking of the same lines. */
  qtest_set_irq_in(s, "ioapic", "unnamed-gpio-in", 9, 1);
  g_assert_true(qtest_get_irq(s, 9));
  qtest_set_irq_in(s, "/machine/i440fx/ioapic", "unnamed-gpio-in", 9, 0);
  g_assert_false(qtest_get_irq(s, 9));
  g_assert_cmpuint(qtest_get_irq_events(s), ==, 2);
  g_assert_cmpint(qtest_quit(s), ==, 0);
}

/* Each line aborts QEMU; arbor answers FAIL and the next command works. */
static const char *const bad_lines[] = {
  "", "inb", "inb 0x10000", "inb zz", "outb 0x80", "readq", "read 0 0", "read 0 0x1000001",
  "readq 0xfffffffffffffffc", "write 0 2 0xzz11", "write 0 1 0x1122", "b64write 0 4 ####",
  "b64write 0 8 QUJDRA==", "memset 0xffffffffffffffff 2 0", "set_irq_in ioapic unnamed-gpio-in 99 1",
  "irq_intercept_in", "clock_set", "clock_step x", "inb  0x3f8", "module_load",
};

static void
test_bad_input_keeps_serving(void)
{
  QTestState *s = qtest_init(NULL);

  for (gsize i = 0; i < G_N_ELEMENTS(bad_lines); i++) {
    g_autofree char *reply = qtest_raw(s, bad_lines[i]);

    g_test_message("line '%s' -> '%s'", bad_lines[i], reply);
    g_assert_nonnull(reply);
    g_assert_true(g_str_has_prefix(reply, "FAIL "));
    assert_raw(s, "endianness", "OK little");
  }
  g_assert_cmpint(qtest_quit(s), ==, 0);
}

static void
test_binary_garbage(void)
{
  QTestState *s = qtest_init(NULL);
  static const char garbage[] = "\x00\x01\xff\xfe inb\x00 0x3f8\n\x7f\x80\n\r\n";
  g_autofree char *r1 = NULL, *r2 = NULL, *r3 = NULL;

  qtest_send_bytes(s, garbage, sizeof(garbage) - 1);
  r1 = qtest_recv_reply(s);
  r2 = qtest_recv_reply(s);
  r3 = qtest_recv_reply(s);
  g_assert_cmpstr(r1, ==, "FAIL line contains a NUL byte 0x00 at offset 0");
  g_assert_cmpstr(r2, ==, "FAIL line contains the control character 0x7f at offset 0");
  g_assert_cmpstr(r3, ==, "FAIL empty line");
  assert_raw(s, "endianness", "OK little");
  g_assert_cmpint(qtest_quit(s), ==, 0);
}

static void
test_overlong_line(void)
{
  QTestState *s = qtest_init(NULL);
  gsize chunk = 1 << 20, total = 40u << 20; /* past the 32 MiB + 256 bound */
  g_autofree char *junk = g_malloc(chunk);
  g_autofree char *reply = NULL;

  memset(junk, '7', chunk);
  for (gsize sent = 0; sent < total; sent += chunk)
    qtest_send_bytes(s, junk, chunk);
  qtest_send_bytes(s, "\n", 1);
  reply = qtest_recv_reply(s);
  g_assert_nonnull(reply);
  g_assert_true(g_str_has_prefix(reply, "FAIL line too long (41943040 bytes; at most "));
  assert_raw(s, "endianness", "OK little");
  g_assert_cmpint(qtest_quit(s), ==, 0);
}

static void
test_large_transfers(void)
{
  QTestState *s = qtest_init("-m 64");
  gsize size = 8u << 20;
  g_autofree guint8 *out = g_malloc(size);
  g_autofree guint8 *in = g_malloc(size);

  for (gsize i = 0; i < size; i++)
    out[i] = (guint8)(i * 7 + (i >> 9));
  qtest_memwrite(s, 0x1000000, out, size);
  qtest_memread(s, 0x1000000, in, size);
  g_assert_false(qtest_is_broken(s));
  g_assert_true(memcmp(in, out, size) == 0);

  memset(in, 0, size);
  qtest_bufwrite(s, 0x2000000, out, size / 2);
  qtest_bufread(s, 0x2000000, in, size / 2);
  g_assert_false(qtest_is_broken(s));
  g_assert_true(memcmp(in, out, size / 2) == 0);
  g_assert_cmpint(qtest_quit(s), ==, 0);
}

static void
test_disconnect_mid_line(void)
{
  QTestState *s = qtest_init(NULL);

  assert_raw(s, "outb 0x3ff 0x1", "OK");
  /* Half a command, then the client goes: arbor shuts down cleanly. */
  qtest_send_bytes(s, "writeq 0x1000 0x12", 18);
  g_assert_cmpint(qtest_quit(s), ==, 0);
}

static gboolean
log_line_matches(const char *line, const char *pattern)
{
  return g_regex_match_simple(pattern, line, 0, 0);
}

static void
test_log_format(void)
{
  QTestState *s = qtest_init(NULL);
  g_autofree char *log_path = g_strdup(qtest_get_log_path(s));
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;

  g_setenv("ARBOR_QTEST_KEEP_LOG", "1", TRUE);
  assert_raw(s, "endianness", "OK little");
  assert_raw(s, "irq_intercept_in ioapic", "OK");
  assert_raw(s, "set_irq_in ioapic unnamed-gpio-in 3 1", "OK");
  assert_raw(s, "nope  x", "FAIL Unknown command 'nope'");
  g_assert_cmpint(qtest_quit(s), ==, 0);
  g_unsetenv("ARBOR_QTEST_KEEP_LOG");

  g_assert_true(g_file_get_contents(log_path, &contents, NULL, &error));
  g_assert_no_error(error);
  lines = g_strsplit(contents, "\n", 0);
  g_assert_cmpuint(g_strv_length(lines), ==, 12);
  g_assert_true(log_line_matches(lines[0], "^\\[I [0-9]+\\.[0-9]{6}\\] OPENED$"));
  g_assert_true(log_line_matches(lines[1], "^\\[R \\+[0-9]+\\.[0-9]{6}\\] endianness$"));
  g_assert_true(log_line_matches(lines[2], "^\\[S \\+[0-9]+\\.[0-9]{6}\\] OK little$"));
  g_assert_true(log_line_matches(lines[3], "^\\[R \\+[0-9]+\\.[0-9]{6}\\] irq_intercept_in ioapic$"));
  g_assert_true(log_line_matches(lines[4], "^\\[S \\+[0-9]+\\.[0-9]{6}\\] OK$"));
  g_assert_true(log_line_matches(lines[5], "^\\[R \\+[0-9.]+\\] set_irq_in ioapic unnamed-gpio-in 3 1$"));
  g_assert_true(log_line_matches(lines[6], "^\\[S \\+[0-9.]+\\] IRQ raise 3$"));
  g_assert_true(log_line_matches(lines[7], "^\\[S \\+[0-9.]+\\] OK$"));
  g_assert_true(log_line_matches(lines[8], "^\\[R \\+[0-9.]+\\] nope  x$"));
  g_assert_true(log_line_matches(lines[9], "^\\[S \\+[0-9.]+\\] FAIL Unknown command 'nope'$"));
  g_assert_true(log_line_matches(lines[10], "^\\[I \\+[0-9]+\\.[0-9]{6}\\] CLOSED$"));
  g_assert_cmpstr(lines[11], ==, "");

  g_unlink(log_path);
  {
    g_autofree char *dir = g_path_get_dirname(log_path);

    g_rmdir(dir);
  }
}

/* -qtest stdio: the fuzzer-reproducer way; EOF on stdin ends arbor. */
static void
test_stdio(void)
{
  const char *binary = g_getenv("ARBOR_BINARY");
  const char *argv[] = { binary, "-qtest", "stdio", "-qtest-log", "none", "-display", "none", "-nodefaults", NULL };
  static const char input[] = "endianness\noutb 0x3ff 0x42\ninb 0x3ff\nfoo\n";
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  int status = -1;
  g_autofree char *input_path = NULL;
  int in_fd = g_file_open_tmp("arbor-qtest-stdin-XXXXXX", &input_path, &error);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocess) proc = NULL;

  g_assert_no_error(error);
  g_assert_cmpint(write(in_fd, input, sizeof(input) - 1), ==, sizeof(input) - 1);
  close(in_fd);
  g_subprocess_launcher_set_stdin_file_path(launcher, input_path);
  proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, &out, NULL, &error));
  g_assert_no_error(error);
  status = g_subprocess_get_exit_status(proc);
  g_unlink(input_path);

  g_assert_cmpstr(out, ==, "OK little\nOK\nOK 0x00ff\nFAIL Unknown command 'foo'\n");
  g_assert_cmpint(status, ==, 0);
}

static int
connect_with_retry(const char *path, GPid pid)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };

  g_assert_cmpuint(strlen(path), <, sizeof(addr.sun_path));
  strcpy(addr.sun_path, path);
  for (int tries = 0; tries < 3000; tries++) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
      return fd;
    close(fd);
    if (waitpid(pid, NULL, WNOHANG) == pid)
      g_error("arbor exited before listening on %s", path);
    g_usleep(10000);
  }
  g_error("could not connect to %s", path);
}

static char *
sock_command(int fd, const char *line)
{
  GString *reply = g_string_new(NULL);
  char c;

  g_assert_cmpint(send(fd, line, strlen(line), MSG_NOSIGNAL), ==, (gssize)strlen(line));
  while (recv(fd, &c, 1, 0) == 1 && c != '\n')
    g_string_append_c(reply, c);
  return g_string_free(reply, FALSE);
}

/* unix:PATH,server=on,wait=off: arbor listens, outlives a client and
 * serves the next one. */
static void
test_server_mode(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("arbor-qtest-srv-XXXXXX", &error);
  g_autofree char *path = g_build_filename(dir, "q.sock", NULL);
  g_autofree char *spec = g_strdup_printf("unix:%s,server=on,wait=off", path);
  const char *argv[] = { g_getenv("ARBOR_BINARY"), "-qtest", spec, "-qtest-log", "none", "-display", "none",
                         "-nodefaults", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", NULL };
  GPid pid;
  int fd, status;

  g_assert_no_error(error);
  g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, &error));
  g_assert_no_error(error);

  fd = connect_with_retry(path, pid);
  {
    g_autofree char *r = sock_command(fd, "outb 0x3ff 0x99\n");

    g_assert_cmpstr(r, ==, "OK");
  }
  close(fd);

  /* A client leaving before reading a big reply, with a partial line
   * after it: that line dies with it (arbor found the peer gone while
   * sending and must not hand the rest to the next client). */
  for (int i = 0; i < 20; i++) {
    static const char burst[] = "b64read 0x0 65536\nxyz";

    fd = connect_with_retry(path, pid);
    g_assert_cmpint(send(fd, burst, sizeof(burst) - 1, MSG_NOSIGNAL), ==, sizeof(burst) - 1);
    close(fd);
  }

  fd = connect_with_retry(path, pid);
  {
    g_autofree char *r = sock_command(fd, "endianness\n");

    g_assert_cmpstr(r, ==, "OK little");
  }
  /* debug-exit ends it: (0x10 << 1) | 1. */
  g_assert_cmpint(send(fd, "outb 0xf4 0x10\n", 15, MSG_NOSIGNAL), ==, 15);
  g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
  close(fd);
  g_assert_true(WIFEXITED(status));
  g_assert_cmpint(WEXITSTATUS(status), ==, 0x21);
  g_spawn_close_pid(pid);
  g_unlink(path);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/qtest/protocol/commands", test_commands);
  g_test_add_func("/qtest/protocol/irq-lines-before-reply", test_irq_lines_before_reply);
  g_test_add_func("/qtest/protocol/bad-input-keeps-serving", test_bad_input_keeps_serving);
  g_test_add_func("/qtest/protocol/binary-garbage", test_binary_garbage);
  g_test_add_func("/qtest/protocol/overlong-line", test_overlong_line);
  g_test_add_func("/qtest/protocol/large-transfers", test_large_transfers);
  g_test_add_func("/qtest/protocol/disconnect-mid-line", test_disconnect_mid_line);
  g_test_add_func("/qtest/protocol/log-format", test_log_format);
  g_test_add_func("/qtest/transport/stdio", test_stdio);
  g_test_add_func("/qtest/transport/server", test_server_mode);

  return g_test_run();
}
