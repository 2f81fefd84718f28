/* Guests on KVM through the arbor binary: serial output, exit codes,
 * Multiboot info, -append, modules, the 16550 as a driver uses it, socket
 * input, reset, triple fault, monitor and -d kvm. Each test skips at
 * runtime when /dev/kvm is missing. */
#include "arbor-config.h"

#include "e2e-util.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static E2eResult *
run_guest(const char *guest, const char *const *extra, const char *input)
{
  g_autofree char *kernel = e2e_guest_path(guest);
  g_autoptr(GPtrArray) args = g_ptr_array_new();
  const char *base[] = { "-accel", "kvm", "-m", "64", "-display", "none", "-serial", "stdio", "-no-reboot", "-device",
                         "isa-debug-exit,iobase=0xf4,iosize=0x04" };

  for (guint i = 0; i < G_N_ELEMENTS(base); i++)
    g_ptr_array_add(args, (gpointer)base[i]);
  if (!g_str_has_suffix(guest, ".bin")) {
    g_ptr_array_add(args, (gpointer) "-kernel");
    g_ptr_array_add(args, kernel);
  }
  for (guint i = 0; extra && extra[i]; i++)
    g_ptr_array_add(args, (gpointer)extra[i]);
  g_ptr_array_add(args, NULL);
  return e2e_run((const char *const *)args->pdata, input);
}

static void
test_hello(void)
{
  if (!e2e_require_kvm())
    return;
  const char *guests[] = { "hello.elf", "hello-aout.elf" };
  for (guint i = 0; i < G_N_ELEMENTS(guests); i++) {
    g_autoptr(E2eResult) r = run_guest(guests[i], NULL, NULL);
    g_assert_cmpint(r->status, ==, (0x2a << 1) | 1);
    g_assert_nonnull(strstr(r->out, "Hello from an arbor guest!"));
    g_assert_nonnull(strstr(r->out, "multiboot: ok"));
  }
}

static void
test_long64(void)
{
  if (!e2e_require_kvm())
    return;
  g_autoptr(E2eResult) r = run_guest("long64.elf", NULL, NULL);
  g_assert_cmpint(r->status, ==, (0x21 << 1) | 1);
  g_assert_nonnull(strstr(r->out, "Hello from long mode"));
  g_assert_nonnull(strstr(r->out, "cs=0x0018"));
}

static void
test_flat(void)
{
  if (!e2e_require_kvm())
    return;
  g_autofree char *flat = e2e_guest_path("flat.bin");
  g_autofree char *loader = g_strdup_printf("loader,file=%s,addr=0x100000,cpu-num=0", flat);
  const char *extra[] = { "-device", loader, NULL };
  g_autoptr(E2eResult) r = run_guest("flat.bin", extra, NULL);
  g_assert_cmpint(r->status, ==, 7);
  g_assert_nonnull(strstr(r->out, "flat"));
}

static void
test_multiboot_info(void)
{
  if (!e2e_require_kvm())
    return;
  g_autofree char *dir = e2e_tmpdir();
  g_autofree char *m1 = g_build_filename(dir, "mod1", NULL);
  g_autofree char *m2 = g_build_filename(dir, "mod2", NULL);
  g_assert_true(g_file_set_contents(m1, "MODULE-ONE", -1, NULL));
  g_assert_true(g_file_set_contents(m2, "MODULE-TWO", -1, NULL));
  g_autofree char *initrd = g_strdup_printf("%s first arg,%s", m1, m2);
  const char *extra[] = { "-append", "hello world", "-initrd", initrd, NULL };
  g_autoptr(E2eResult) r = run_guest("mbinfo.elf", extra, NULL);
  g_autofree char *kernel = e2e_guest_path("mbinfo.elf");

  g_assert_cmpint(r->status, ==, 1);
  g_assert_nonnull(strstr(r->out, "magic=0x2badb002"));
  g_assert_nonnull(strstr(r->out, "info=0x00009500"));
  g_assert_nonnull(strstr(r->out, "flags=0x0000024f"));
  g_assert_nonnull(strstr(r->out, "mem_lower=639"));
  g_assert_nonnull(strstr(r->out, "mem_upper=64512"));
  g_autofree char *cmdline = g_strdup_printf("cmdline=%s hello world", kernel);
  g_assert_nonnull(strstr(r->out, cmdline));
  g_assert_nonnull(strstr(r->out, "loader=arbor"));
  g_assert_nonnull(strstr(r->out, "mods_count=2"));
  g_autofree char *mod1 = g_strdup_printf("mod=%s first arg size=10 aligned=yes data=MODULE-ONE", m1);
  g_autofree char *mod2 = g_strdup_printf("mod=%s size=10 aligned=yes data=MODULE-TWO", m2);
  g_assert_nonnull(strstr(r->out, mod1));
  g_assert_nonnull(strstr(r->out, mod2));
  g_assert_nonnull(strstr(r->out, "mmap=0x000000000+0x00009fc00 type=1"));
  g_assert_nonnull(strstr(r->out, "mmap=0x000100000+0x003f00000 type=1"));
  g_assert_nonnull(strstr(r->out, "done"));
  e2e_tmpdir_remove(dir);
}

static void
test_serial_driver(void)
{
  if (!e2e_require_kvm())
    return;
  g_autoptr(E2eResult) r = run_guest("serialcheck.elf", NULL, NULL);
  g_assert_null(strstr(r->out, "FAIL"));
  g_assert_nonnull(strstr(r->out, "check loop-rbr: ok"));
  g_assert_nonnull(strstr(r->out, "serial: PASS"));
  g_assert_cmpint(r->status, ==, 1);
}

/* Input from a socket backend reaches the guest's RBR. */
static void
test_socket_input(void)
{
  if (!e2e_require_kvm())
    return;
  g_autofree char *dir = e2e_tmpdir();
  g_autofree char *path = g_build_filename(dir, "com1.sock", NULL);
  g_autofree char *spec = g_strdup_printf("unix:%s,server=on", path);
  g_autofree char *kernel = e2e_guest_path("echo.elf");
  const char *argv[] = { e2e_arbor_binary(), "-accel", "kvm", "-m", "64", "-display", "none", "-serial", spec,
                         "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", kernel, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_NONE, &error);
  g_assert_no_error(error);

  /* The server waits for us (wait=on): connect once the socket exists. */
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
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
  g_autoptr(GString) got = g_string_new(NULL);
  while (!strstr(got->str, "ready")) {
    char c;
    g_assert_cmpint(g_input_stream_read(in, &c, 1, NULL, &error), ==, 1);
    g_string_append_c(got, c);
  }
  g_output_stream_write_all(out, "hello arbor.", 12, NULL, NULL, &error);
  g_assert_no_error(error);
  while (!strstr(got->str, "bye")) {
    char c;
    gssize n = g_input_stream_read(in, &c, 1, NULL, &error);
    if (n <= 0)
      break;
    g_string_append_c(got, c);
  }
  g_assert_nonnull(strstr(got->str, "HELLO ARBOR"));
  g_assert_true(g_subprocess_wait(proc, NULL, &error));
  g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 1);
  e2e_tmpdir_remove(dir);
}

/* Reads the guest's stdout until @marker has appeared @count times. */
static void
read_until_repeated(GSubprocess *proc, const char *marker, guint count)
{
  g_autoptr(GError) error = NULL;
  GInputStream *in = g_subprocess_get_stdout_pipe(proc);
  g_autoptr(GString) got = g_string_new(NULL);
  guint seen = 0;

  while (seen < count) {
    char c;
    g_assert_cmpint(g_input_stream_read(in, &c, 1, NULL, &error), ==, 1);
    g_string_append_c(got, c);
    if (g_str_has_suffix(got->str, marker))
      seen++;
  }
}

/* Starts the guest without -no-reboot, waits for @marker twice (it came
 * back after a reset), then ends arbor with SIGTERM: exit 0. */
static void
expect_guest_restarts(const char *guest, const char *marker)
{
  g_autofree char *kernel = e2e_guest_path(guest);
  const char *argv[] = { e2e_arbor_binary(), "-accel", "kvm", "-m", "64", "-display", "none", "-serial", "stdio",
                         "-kernel", kernel, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);

  g_assert_no_error(error);
  read_until_repeated(proc, marker, 2);
  g_subprocess_send_signal(proc, SIGTERM);
  g_assert_true(g_subprocess_wait(proc, NULL, &error));
  g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);
}

static void
test_reset(void)
{
  if (!e2e_require_kvm())
    return;
  /* -no-reboot: the first reset request ends the process with 0. */
  g_autoptr(E2eResult) r = run_guest("reboot.elf", NULL, NULL);
  g_assert_cmpint(r->status, ==, 0);
  const char *first = strstr(r->out, "boot");
  g_assert_nonnull(first);
  g_assert_null(strstr(first + 4, "boot"));

  /* Without it the machine resets and the guest boots again. */
  expect_guest_restarts("reboot.elf", "boot");
}

static void
test_triple_fault(void)
{
  if (!e2e_require_kvm())
    return;
  g_autoptr(E2eResult) r = run_guest("triplefault.elf", NULL, NULL);
  g_assert_cmpint(r->status, ==, 0);
  g_assert_nonnull(strstr(r->out, "faulting"));

  /* Without -no-reboot a triple fault resets the machine, as on QEMU. */
  expect_guest_restarts("triplefault.elf", "faulting");
}

/* The monitor while a guest runs: exits are counted where they happen. */
static void
test_monitor_running_guest(void)
{
  if (!e2e_require_kvm())
    return;
  g_autofree char *dir = e2e_tmpdir();
  g_autofree char *path = g_build_filename(dir, "com1.txt", NULL);
  g_autofree char *spec = g_strconcat("file:", path, NULL);
  g_autofree char *kernel = e2e_guest_path("echo.elf");
  const char *args[] = { "-accel", "kvm", "-m", "64", "-serial", spec, "-monitor", "stdio", "-kernel", kernel, NULL };
  /* The echo guest waits for input forever: the monitor looks at it. */
  g_autoptr(E2eResult) r = e2e_run(args, "info status\ninfo exits\ninfo registers\nstop\ninfo status\ncont\nquit\n");
  g_assert_cmpint(r->status, ==, 0);
  g_assert_nonnull(strstr(r->out, "VM status: running"));
  g_assert_nonnull(strstr(r->out, "VM status: paused"));
  g_assert_nonnull(strstr(r->out, "CPU#0 exits: io-in="));
  g_assert_nonnull(strstr(r->out, "serial (isa-serial0)"));
  g_assert_nonnull(strstr(r->out, "RIP="));
  e2e_tmpdir_remove(dir);
}

static void
test_log_kvm(void)
{
  if (!e2e_require_kvm())
    return;
  g_autofree char *dir = e2e_tmpdir();
  g_autofree char *log = g_build_filename(dir, "kvm.log", NULL);
  const char *extra[] = { "-d", "kvm", "-D", log, NULL };
  g_autoptr(E2eResult) r = run_guest("hello.elf", extra, NULL);
  g_autofree char *text = NULL;
  g_assert_cmpint(r->status, ==, 85);
  g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
  g_assert_nonnull(strstr(text, "arbor-kvm"));
  e2e_tmpdir_remove(dir);
}

/* Swap the binary: the same command line on QEMU (TCG: its KVM does not
 * work everywhere arbor's does) gives the same serial output and exit code.
 * These guests were checked against QEMU 7.2 by hand, too. */
static void
test_same_as_qemu(void)
{
  if (!e2e_require_kvm())
    return;
  g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
  if (!qemu) {
    g_test_skip("qemu-system-x86_64 not installed");
    return;
  }
  const char *guests[] = { "hello.elf", "hello-aout.elf", "serialcheck.elf", "reboot.elf", "triplefault.elf" };
  for (guint i = 0; i < G_N_ELEMENTS(guests); i++) {
    g_autofree char *kernel = e2e_guest_path(guests[i]);
    const char *common[] = { "-m", "64", "-display", "none", "-nodefaults", "-serial", "stdio", "-no-reboot",
                             "-kernel", kernel, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04" };
    g_autoptr(GPtrArray) a = g_ptr_array_new();
    g_autoptr(GPtrArray) q = g_ptr_array_new();
    g_ptr_array_add(a, (gpointer) "-accel");
    g_ptr_array_add(a, (gpointer) "kvm");
    g_ptr_array_add(q, qemu);
    g_ptr_array_add(q, (gpointer) "-accel");
    g_ptr_array_add(q, (gpointer) "tcg");
    for (guint j = 0; j < G_N_ELEMENTS(common); j++) {
      g_ptr_array_add(a, (gpointer)common[j]);
      g_ptr_array_add(q, (gpointer)common[j]);
    }
    g_ptr_array_add(a, NULL);
    g_ptr_array_add(q, NULL);
    g_autoptr(E2eResult) ra = e2e_run((const char *const *)a->pdata, NULL);

    g_autoptr(GError) error = NULL;
    g_autofree char *qout = NULL;
    int qstatus = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)q->pdata, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &qout, NULL,
                               &qstatus, &error));
    g_assert_no_error(error);
    g_assert_true(WIFEXITED(qstatus));
    g_assert_cmpint(ra->status, ==, WEXITSTATUS(qstatus));
    g_assert_cmpstr(ra->out, ==, qout);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/e2e/kvm/hello", test_hello);
  g_test_add_func("/e2e/kvm/long64", test_long64);
  g_test_add_func("/e2e/kvm/flat", test_flat);
  g_test_add_func("/e2e/kvm/multiboot-info", test_multiboot_info);
  g_test_add_func("/e2e/kvm/serial-driver", test_serial_driver);
  g_test_add_func("/e2e/kvm/socket-input", test_socket_input);
  g_test_add_func("/e2e/kvm/reset", test_reset);
  g_test_add_func("/e2e/kvm/triple-fault", test_triple_fault);
  g_test_add_func("/e2e/kvm/monitor", test_monitor_running_guest);
  g_test_add_func("/e2e/kvm/log", test_log_kvm);
  g_test_add_func("/e2e/kvm/same-as-qemu", test_same_as_qemu);
  return g_test_run();
}
