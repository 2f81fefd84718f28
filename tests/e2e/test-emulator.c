/* The arbor binary without a guest running: -accel qtest, driven through
 * the monitor and the qtest protocol; backends, logs, reset, exit codes. */
#include "arbor-config.h"

#include "e2e-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

/* An interactive arbor process: stdin/stdout pipes. */
typedef struct {
  GSubprocess *proc;
  GOutputStream *in;  /* not owned */
  GInputStream *out;  /* not owned */
  GString *seen;      /* everything read so far */
} Session;

static Session *
session_start(const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_autoptr(GError) error = NULL;
  Session *s = g_new0(Session, 1);

  g_ptr_array_add(argv, (gpointer)e2e_arbor_binary());
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
  s->proc = g_subprocess_newv((const char *const *)argv->pdata,
                              G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error(error);
  s->in = g_subprocess_get_stdin_pipe(s->proc);
  s->out = g_subprocess_get_stdout_pipe(s->proc);
  s->seen = g_string_new(NULL);
  return s;
}

static void
session_send(Session *s, const char *line)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *with_nl = g_strconcat(line, "\n", NULL);

  g_output_stream_write_all(s->in, with_nl, strlen(with_nl), NULL, NULL, &error);
  g_assert_no_error(error);
  g_output_stream_flush(s->in, NULL, &error);
  g_assert_no_error(error);
}

/* Reads until the output ends with @suffix; returns what came since the
 * last call (without @suffix). FALSE-ish (NULL) on EOF. */
static char *
session_read_until(Session *s, const char *suffix)
{
  gsize start = s->seen->len;

  for (;;) {
    if (s->seen->len - start >= strlen(suffix) && g_str_has_suffix(s->seen->str + start, suffix)) {
      char *chunk = g_strndup(s->seen->str + start, s->seen->len - start - strlen(suffix));
      return chunk;
    }
    char c;
    g_autoptr(GError) error = NULL;
    gssize n = g_input_stream_read(s->out, &c, 1, NULL, &error);
    g_assert_no_error(error);
    if (n <= 0)
      return NULL;
    if (c != '\r')
      g_string_append_c(s->seen, c);
  }
}

static int
session_wait(Session *s)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_close(s->in, NULL, NULL);
  g_subprocess_wait(s->proc, NULL, &error);
  g_assert_no_error(error);
  int status = g_subprocess_get_if_exited(s->proc) ? g_subprocess_get_exit_status(s->proc)
                                                   : 128 + g_subprocess_get_term_sig(s->proc);
  g_object_unref(s->proc);
  g_string_free(s->seen, TRUE);
  g_free(s);
  return status;
}

/* Monitor command -> its output (up to the next prompt). */
static char *
monitor_cmd(Session *s, const char *line)
{
  session_send(s, line);
  g_autofree char *raw = session_read_until(s, "(arbor) ");
  g_assert_nonnull(raw);
  /* The monitor echoes the line typed, as QEMU's does. */
  g_autofree char *echo = g_strconcat(line, "\n", NULL);
  g_assert_true(g_str_has_prefix(raw, echo));
  char *out = g_strdup(raw + strlen(echo));
  if (g_test_verbose())
    g_printerr("(arbor) %s\n%s", line, out);
  return out;
}

/* qtest command -> its reply line. */
static char *
qtest_cmd(Session *s, const char *line)
{
  session_send(s, line);
  char *out = session_read_until(s, "\n");
  g_assert_nonnull(out);
  if (g_test_verbose())
    g_printerr("qtest> %s\n%s\n", line, out);
  return out;
}

static void
test_monitor_status(void)
{
  const char *args[] = { "-accel", "qtest", "-S", "-monitor", "stdio", NULL };
  Session *s = session_start(args);

  g_autofree char *banner = session_read_until(s, "(arbor) ");
  g_assert_nonnull(strstr(banner, "monitor - type 'help'"));
  g_autofree char *a = monitor_cmd(s, "info status");
  g_assert_cmpstr(a, ==, "VM status: paused (prelaunch)\n");
  g_autofree char *b = monitor_cmd(s, "cont");
  g_autofree char *c = monitor_cmd(s, "info status");
  g_assert_cmpstr(c, ==, "VM status: running\n");
  g_autofree char *d = monitor_cmd(s, "stop");
  g_autofree char *e = monitor_cmd(s, "info status");
  g_assert_cmpstr(e, ==, "VM status: paused\n");
  g_autofree char *f = monitor_cmd(s, "frobnicate");
  g_assert_cmpstr(f, ==, "unknown command: 'frobnicate' (try 'help')\n");
  g_autofree char *g = monitor_cmd(s, "system_reset");
  g_assert_cmpstr(g, ==, "");
  session_send(s, "quit");
  g_assert_cmpint(session_wait(s), ==, 0);
}

static void
test_monitor_kernel_registers(void)
{
  g_autofree char *kernel = e2e_guest_path("hello.elf");
  const char *args[] = { "-accel", "qtest", "-kernel", kernel, "-append", "x=1", "-monitor", "stdio", NULL };
  Session *s = session_start(args);

  g_free(session_read_until(s, "(arbor) "));
  g_autofree char *status = monitor_cmd(s, "info status");
  g_assert_cmpstr(status, ==, "VM status: running\n");
  g_autofree char *regs = monitor_cmd(s, "info registers");
  g_assert_nonnull(strstr(regs, "RAX=000000002badb002 RBX=0000000000009500"));
  g_assert_nonnull(strstr(regs, "CS =0008 0000000000000000 ffffffff 00c09b00"));
  g_assert_nonnull(strstr(regs, "CR0=00000011"));
  g_assert_nonnull(strstr(regs, "RIP=0000000000100"));
  session_send(s, "quit");
  g_assert_cmpint(session_wait(s), ==, 0);
}

static void
test_monitor_elf64_and_flat(void)
{
  g_autofree char *kernel = e2e_guest_path("long64.elf");
  g_autofree char *flat = e2e_guest_path("flat.bin");
  g_autofree char *loader = g_strdup_printf("loader,file=%s,addr=0x300000", flat);
  const char *args[] = { "-accel", "qtest", "-kernel", kernel, "-device", loader, "-monitor", "stdio", NULL };
  Session *s = session_start(args);

  g_free(session_read_until(s, "(arbor) "));
  g_autofree char *regs = monitor_cmd(s, "info registers");
  g_assert_nonnull(strstr(regs, "RSP=0000000000008000"));
  g_assert_nonnull(strstr(regs, "CS =0018 0000000000000000 ffffffff 00a09b00"));
  g_assert_nonnull(strstr(regs, "EFER=0000000000000500"));
  g_assert_nonnull(strstr(regs, "CR3=0000000000001000"));
  session_send(s, "quit");
  g_assert_cmpint(session_wait(s), ==, 0);

  /* The flat binary alone, with cpu-num: entry at its address. */
  g_autofree char *loader2 = g_strdup_printf("loader,file=%s,addr=0x100000,cpu-num=0", flat);
  const char *args2[] = { "-accel", "qtest", "-device", loader2, "-monitor", "stdio", NULL };
  s = session_start(args2);
  g_free(session_read_until(s, "(arbor) "));
  g_autofree char *regs2 = monitor_cmd(s, "info registers");
  g_assert_nonnull(strstr(regs2, "RIP=0000000000100000"));
  g_assert_nonnull(strstr(regs2, "CS =0008"));
  session_send(s, "quit");
  g_assert_cmpint(session_wait(s), ==, 0);
}

static void
test_bad_kernels(void)
{
  g_autofree char *dir = e2e_tmpdir();
  g_autofree char *trunc = g_build_filename(dir, "truncated.elf", NULL);
  g_autofree char *text = g_build_filename(dir, "notes.txt", NULL);
  g_autofree char *hello = e2e_guest_path("hello.elf");
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true(g_file_get_contents(hello, &contents, &len, NULL));
  g_assert_true(g_file_set_contents(trunc, contents, 0x1100, NULL));
  g_assert_true(g_file_set_contents(text, "hello world\n", -1, NULL));

  const struct {
    const char *kernel;
    const char *initrd;
    const char *part;
  } cases[] = {
    { trunc, NULL, "truncated" },
    { text, NULL, "not a kernel" },
    { hello, "/nonexistent/module", "/nonexistent/module" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *args[] = { "-accel", "qtest", "-kernel", cases[i].kernel, cases[i].initrd ? "-initrd" : NULL,
                           cases[i].initrd, NULL };
    g_autoptr(E2eResult) r = e2e_run(args, NULL);
    g_assert_cmpint(r->status, ==, 1);
    g_assert_true(g_str_has_prefix(r->err, "arbor: "));
    g_assert_nonnull(strstr(r->err, cases[i].part));
    g_assert_nonnull(strstr(r->err, i < 2 ? cases[i].kernel : cases[i].initrd));
  }
  e2e_tmpdir_remove(dir);
}

/* isa-debug-exit without a guest: the qtest client writes the port. */
static void
test_debug_exit_code(void)
{
  const char *args[] = { "-qtest", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", NULL };
  g_autoptr(E2eResult) r = e2e_run(args, "outb 0xf4 0x05\n");

  g_assert_cmpint(r->status, ==, (5 << 1) | 1);
  g_assert_nonnull(strstr(r->out, "OK"));
}

static void
test_serial_file(void)
{
  g_autofree char *dir = e2e_tmpdir();
  g_autofree char *out = g_build_filename(dir, "com1.txt", NULL);
  g_autofree char *out2 = g_build_filename(dir, "com2.txt", NULL);
  g_autofree char *spec = g_strconcat("file:", out, NULL);
  g_autofree char *spec2 = g_strconcat("file:", out2, NULL);
  const char *args[] = { "-qtest", "stdio", "-serial", spec, "-serial", spec2, "-device", "isa-debug-exit", NULL };
  g_autoptr(E2eResult) r = e2e_run(args, "outb 0x3f8 0x41\noutb 0x3f8 0x42\noutb 0x2f8 0x43\noutb 0x501 0\n");
  g_autofree char *got = NULL;
  g_autofree char *got2 = NULL;

  g_assert_cmpint(r->status, ==, 1);
  g_assert_true(g_file_get_contents(out, &got, NULL, NULL));
  g_assert_cmpstr(got, ==, "AB");
  g_assert_true(g_file_get_contents(out2, &got2, NULL, NULL));
  g_assert_cmpstr(got2, ==, "C");
  e2e_tmpdir_remove(dir);
}

static void
test_reset_no_reboot(void)
{
  const char *ports[] = { "outb 0x64 0xfe\n", "outb 0x92 0x01\n" };

  for (guint i = 0; i < G_N_ELEMENTS(ports); i++) {
    const char *args[] = { "-qtest", "stdio", "-no-reboot", NULL };
    g_autoptr(E2eResult) r = e2e_run(args, ports[i]);
    g_assert_cmpint(r->status, ==, 0);
  }
}

/* Without -no-reboot a reset request resets the machine and the loader
 * writes the image back. */
static void
test_reset_reloads(void)
{
  g_autofree char *kernel = e2e_guest_path("hello.elf");
  const char *args[] = { "-qtest", "stdio", "-kernel", kernel, "-device", "isa-debug-exit", NULL };
  Session *s = session_start(args);

  g_autofree char *a = qtest_cmd(s, "readl 0x9500");
  g_assert_cmpstr(a, ==, "OK 0x000000000000024f");
  g_autofree char *b = qtest_cmd(s, "writel 0x9500 0x0");
  g_autofree char *c = qtest_cmd(s, "readl 0x9500");
  g_assert_cmpstr(c, ==, "OK 0x0000000000000000");
  g_autofree char *d = qtest_cmd(s, "outb 0x64 0xfe");
  g_assert_cmpstr(d, ==, "OK");
  /* The reset request is handled on the main loop between commands. */
  gboolean restored = FALSE;
  for (guint i = 0; i < 1000 && !restored; i++) {
    g_autofree char *e = qtest_cmd(s, "readl 0x9500");
    restored = g_str_equal(e, "OK 0x000000000000024f");
  }
  g_assert_true(restored);
  session_send(s, "outb 0x501 0x02");
  g_assert_cmpint(session_wait(s), ==, 5);
}

static void
test_log_file(void)
{
  g_autofree char *dir = e2e_tmpdir();
  g_autofree char *log = g_build_filename(dir, "arbor.log", NULL);
  g_autofree char *kernel = e2e_guest_path("hello.elf");
  const char *args[] = { "-accel", "qtest", "-kernel", kernel, "-d", "loader,machine", "-D", log, "-monitor", "stdio", NULL };
  g_autoptr(E2eResult) r = e2e_run(args, "quit\n");
  g_autofree char *text = NULL;

  g_assert_cmpint(r->status, ==, 0);
  g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
  g_assert_nonnull(strstr(text, "arbor-loader"));
  g_assert_nonnull(strstr(text, "the Multiboot info"));
  g_assert_nonnull(strstr(text, "arbor-machine"));
  g_assert_null(strstr(r->err, "arbor-loader"));

  /* Without -D the log goes to stderr; without -d no debug lines. */
  const char *args2[] = { "-accel", "qtest", "-kernel", kernel, "-d", "loader", "-monitor", "stdio", NULL };
  g_autoptr(E2eResult) r2 = e2e_run(args2, "quit\n");
  g_assert_nonnull(strstr(r2->err, "arbor-loader"));
  const char *args3[] = { "-accel", "qtest", "-kernel", kernel, "-monitor", "stdio", NULL };
  g_autoptr(E2eResult) r3 = e2e_run(args3, "quit\n");
  g_assert_null(strstr(r3->err, "arbor-loader"));
  e2e_tmpdir_remove(dir);
}

static char *
mtree_of(const char *const *extra)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new();
  g_ptr_array_add(args, (gpointer) "-accel");
  g_ptr_array_add(args, (gpointer) "qtest");
  g_ptr_array_add(args, (gpointer) "-monitor");
  g_ptr_array_add(args, (gpointer) "stdio");
  for (guint i = 0; extra[i]; i++)
    g_ptr_array_add(args, (gpointer)extra[i]);
  g_ptr_array_add(args, NULL);
  g_autoptr(E2eResult) r = e2e_run((const char *const *)args->pdata, "info mtree\nquit\n");
  g_assert_cmpint(r->status, ==, 0);
  return g_steal_pointer(&r->out);
}

static gboolean
has_port(const char *mtree, const char *range, const char *name)
{
  g_autofree char *needle = g_strdup_printf("%s (prio 0, i/o): %s", range, name);
  return strstr(mtree, needle) != NULL;
}

static void
test_devices(void)
{
  const char *com1 = "00000000000003f8-00000000000003ff";
  const char *com2 = "00000000000002f8-00000000000002ff";
  const char *com3 = "00000000000003e8-00000000000003ef";

  const char *none[] = { NULL };
  g_autofree char *m0 = mtree_of(none);
  g_assert_true(has_port(m0, com1, "serial"));
  g_assert_false(has_port(m0, com2, "serial"));
  g_assert_nonnull(strstr(m0, "i8042"));

  const char *two[] = { "-device", "isa-serial", "-device", "isa-serial", NULL };
  g_autofree char *m1 = mtree_of(two);
  g_assert_true(has_port(m1, com2, "serial"));
  g_assert_true(has_port(m1, com3, "serial"));

  const char *nodef[] = { "-nodefaults", NULL };
  g_autofree char *m2 = mtree_of(nodef);
  g_assert_false(has_port(m2, com1, "serial"));
  g_assert_nonnull(strstr(m2, "i8042"));
  g_assert_nonnull(strstr(m2, "port92"));

  const char *nodef_dev[] = { "-nodefaults", "-device", "isa-serial", NULL };
  g_autofree char *m3 = mtree_of(nodef_dev);
  g_assert_true(has_port(m3, com1, "serial"));

  const char *serials[] = { "-serial", "null", "-serial", "null", "-device", "isa-serial", "-device",
                            "isa-debug-exit,iobase=0xf4,iosize=0x04", NULL };
  g_autofree char *m4 = mtree_of(serials);
  g_assert_true(has_port(m4, com2, "serial"));
  g_assert_true(has_port(m4, com3, "serial"));
  g_assert_true(has_port(m4, "00000000000000f4-00000000000000f7", "isa-debug-exit"));

  /* A fifth UART has no COM port left. */
  const char *five[] = { "-accel", "qtest", "-device", "isa-serial", "-device", "isa-serial", "-device", "isa-serial",
                         "-device", "isa-serial", NULL };
  g_autoptr(E2eResult) r = e2e_run(five, NULL);
  g_assert_cmpint(r->status, ==, 1);
  g_assert_nonnull(strstr(r->err, "COM1..COM4 are taken"));
}

static void
test_monitor_socket(void)
{
  g_autofree char *dir = e2e_tmpdir();
  g_autofree char *path = g_build_filename(dir, "mon.sock", NULL);
  g_autofree char *spec = g_strdup_printf("unix:%s,server=on,wait=off", path);
  const char *args[] = { "-accel", "qtest", "-monitor", spec, "-qtest", "stdio", NULL };
  Session *s = session_start(args);
  g_autoptr(GError) error = NULL;

  /* Once qtest answers, the monitor socket is listening. */
  g_autofree char *ok = qtest_cmd(s, "clock_step 1");
  g_assert_true(g_str_has_prefix(ok, "OK"));

  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
  g_autoptr(GSocketConnection) conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, &error);
  g_assert_no_error(error);
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));

  GString *got = g_string_new(NULL);
  while (!g_str_has_suffix(got->str, "(arbor) ")) {
    char c;
    g_assert_cmpint(g_input_stream_read(in, &c, 1, NULL, &error), ==, 1);
    g_string_append_c(got, c);
  }
  g_assert_nonnull(strstr(got->str, "monitor"));
  g_string_truncate(got, 0);
  g_output_stream_write_all(out, "info status\n", 12, NULL, NULL, &error);
  g_assert_no_error(error);
  while (!g_str_has_suffix(got->str, "(arbor) ")) {
    char c;
    g_assert_cmpint(g_input_stream_read(in, &c, 1, NULL, &error), ==, 1);
    g_string_append_c(got, c);
  }
  g_assert_nonnull(strstr(got->str, "VM status: running"));
  g_string_free(got, TRUE);
  g_output_stream_write_all(out, "quit\n", 5, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(session_wait(s), ==, 0);
  e2e_tmpdir_remove(dir);
}

static void
test_sigterm(void)
{
  const char *args[] = { "-accel", "qtest", "-monitor", "stdio", NULL };
  Session *s = session_start(args);

  g_free(session_read_until(s, "(arbor) "));
  g_subprocess_send_signal(s->proc, SIGTERM);
  g_assert_cmpint(session_wait(s), ==, 0);
}

static void
test_qtest_log(void)
{
  g_autofree char *dir = e2e_tmpdir();
  g_autofree char *log = g_build_filename(dir, "qtest.log", NULL);
  const char *args[] = { "-qtest", "stdio", "-qtest-log", log, "-device", "isa-debug-exit", NULL };
  g_autoptr(E2eResult) r = e2e_run(args, "readb 0x92\noutb 0x501 0x01\n");
  g_autofree char *text = NULL;

  g_assert_cmpint(r->status, ==, 3);
  g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
  g_assert_nonnull(strstr(text, "readb 0x92"));
  e2e_tmpdir_remove(dir);
}

/* -nographic: COM1 on stdio; qtest on a unix socket writes the port. */
static void
test_nographic(void)
{
  g_autofree char *dir = e2e_tmpdir();
  g_autofree char *path = g_build_filename(dir, "qtest.sock", NULL);
  g_autofree char *spec = g_strdup_printf("unix:%s,server=on,wait=off", path);
  const char *args[] = { "-nographic", "-qtest", spec, "-device", "isa-debug-exit", NULL };
  Session *s = session_start(args);
  g_autoptr(GError) error = NULL;

  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
  g_autoptr(GSocketConnection) conn = NULL;
  for (guint i = 0; i < 1000 && !conn; i++) {
    g_clear_error(&error);
    conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, &error);
    if (!conn)
      g_usleep(10000);
  }
  g_assert_nonnull(conn);
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
  const char *cmds = "outb 0x3f8 0x6f\noutb 0x3f8 0x6b\noutb 0x3f8 0x0a\n";
  g_output_stream_write_all(out, cmds, strlen(cmds), NULL, NULL, &error);
  g_assert_no_error(error);
  g_autofree char *line = session_read_until(s, "\n");
  g_assert_cmpstr(line, ==, "ok");
  g_output_stream_write_all(out, "outb 0x501 0x03\n", 16, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(session_wait(s), ==, 7);
  e2e_tmpdir_remove(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/emulator/monitor/status", test_monitor_status);
  g_test_add_func("/emulator/monitor/socket", test_monitor_socket);
  g_test_add_func("/emulator/loader/multiboot-registers", test_monitor_kernel_registers);
  g_test_add_func("/emulator/loader/elf64-and-flat", test_monitor_elf64_and_flat);
  g_test_add_func("/emulator/loader/bad-kernels", test_bad_kernels);
  g_test_add_func("/emulator/devices/com-ports", test_devices);
  g_test_add_func("/emulator/exit/debug-exit", test_debug_exit_code);
  g_test_add_func("/emulator/exit/sigterm", test_sigterm);
  g_test_add_func("/emulator/serial/file", test_serial_file);
  g_test_add_func("/emulator/reset/no-reboot", test_reset_no_reboot);
  g_test_add_func("/emulator/reset/reloads", test_reset_reloads);
  g_test_add_func("/emulator/log/file", test_log_file);
  g_test_add_func("/emulator/qtest/log", test_qtest_log);
  g_test_add_func("/emulator/serial/nographic", test_nographic);
  return g_test_run();
}
