/* The command line: the parser in process (every option and every bad
 * spelling), then the arbor binary's answers and exit codes. */
#include "arbor-config.h"

#include "cmdline-private.h"
#include "e2e-util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static ArborCmdline *
parse(const char *const *args, GError **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();

  g_ptr_array_add(argv, (gpointer) "arbor");
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
  return arbor_cmdline_parse(argv->len - 1, (char **)argv->pdata, error);
}

static void
test_defaults(void)
{
  g_autoptr(GError) error = NULL;
  const char *args[] = { NULL };
  g_autoptr(ArborCmdline) cl = parse(args, &error);

  g_assert_no_error(error);
  g_assert_cmpint(cl->action, ==, ARBOR_CMDLINE_RUN);
  g_assert_cmpuint(cl->ram_size, ==, 128ULL << 20);
  g_assert_cmpuint(cl->smp, ==, 1);
  g_assert_cmpstr(cl->machine_type, ==, "pc");
  g_assert_null(cl->accel);
  g_assert_null(cl->kernel);
  g_assert_cmpuint(cl->serials->len, ==, 0);
  g_assert_false(cl->start_paused);
}

static void
test_full(void)
{
  g_autoptr(GError) error = NULL;
  const char *args[] = { "-M", "microvm,accel=kvm", "-m", "64", "-smp", "cpus=2", "-kernel", "k", "-append", "a b",
                         "-initrd", "m1 x,m2", "-serial", "stdio", "--serial", "file:/tmp/x", "-device",
                         "isa-debug-exit,iobase=0xf4,iosize=0x04", "-device", "isa-serial", "-nodefaults", "-display",
                         "none", "-no-reboot", "-S", "-monitor", "unix:/tmp/m,server=on,wait=off", "-d", "kvm,serial",
                         "-D", "/tmp/log", "-name", "vm", "-device", "loader,file=f.bin,addr=0x7c00,cpu-num=0,mode=real",
                         NULL };
  g_autoptr(ArborCmdline) cl = parse(args, &error);

  g_assert_no_error(error);
  g_assert_cmpstr(cl->machine_type, ==, "microvm");
  g_assert_cmpstr(cl->accel, ==, "kvm");
  g_assert_cmpuint(cl->ram_size, ==, 64ULL << 20);
  g_assert_cmpuint(cl->smp, ==, 2);
  g_assert_cmpstr(cl->kernel, ==, "k");
  g_assert_cmpstr(cl->append, ==, "a b");
  g_assert_cmpstr(cl->initrd, ==, "m1 x,m2");
  g_assert_cmpuint(cl->serials->len, ==, 2);
  g_assert_cmpstr(cl->serials->pdata[1], ==, "file:/tmp/x");
  g_assert_cmpuint(cl->devices->len, ==, 2);
  g_assert_cmpstr(cl->devices->pdata[1], ==, "isa-serial");
  g_assert_true(cl->nodefaults);
  g_assert_true(cl->no_reboot);
  g_assert_true(cl->start_paused);
  g_assert_cmpstr(cl->monitor, ==, "unix:/tmp/m,server=on,wait=off");
  g_assert_cmpstr(cl->log_items, ==, "kvm,serial");
  g_assert_cmpstr(cl->log_file, ==, "/tmp/log");
  g_assert_cmpuint(cl->loaders->len, ==, 1);
  ArborCmdlineLoader *l = cl->loaders->pdata[0];
  g_assert_cmpstr(l->file, ==, "f.bin");
  g_assert_cmphex(l->addr, ==, 0x7c00);
  g_assert_true(l->set_entry);
  g_assert_cmpint(l->mode, ==, ARBOR_LOADER_MODE_REAL);
}

static void
test_sizes(void)
{
  const struct {
    const char *text;
    guint64 bytes;
  } good[] = {
    { "64", 64ULL << 20 }, { "64M", 64ULL << 20 }, { "64m", 64ULL << 20 }, { "1G", 1ULL << 30 },
    { "2048K", 2ULL << 20 }, { "size=256M", 256ULL << 20 }, { "64MB", 64ULL << 20 }, { "1T", 1ULL << 40 },
  };
  const char *bad[] = { "", "abc", "64Q", "-5", "99999999999999999999", "18446744073741824G", "64M,foo=1", "1.5G",
                        "512K", "0", "1048577B", "64Mx", "size=" };

  for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autoptr(GError) error = NULL;
    const char *args[] = { "-m", good[i].text, NULL };
    g_autoptr(ArborCmdline) cl = parse(args, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(cl->ram_size, ==, good[i].bytes);
  }
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    const char *args[] = { "-m", bad[i], NULL };
    g_autoptr(ArborCmdline) cl = parse(args, &error);
    g_assert_null(cl);
    g_assert_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID);
    g_assert_true(g_str_has_prefix(error->message, "-m"));
  }
}

/* Each bad command line, the error it must give (a part of the message). */
static const struct {
  const char *args[10];
  const char *part;
} bad_lines[] = {
  { { "-foo" }, "unknown option '-foo'" },
  { { "--bogus-option" }, "unknown option" },
  { { "disk.img" }, "not an option" },
  { { "-" }, "not an option" },
  { { "-m" }, "needs an argument" },
  { { "-kernel" }, "needs an argument" },
  { { "-smp", "0" }, "1 to 255" },
  { { "-smp", "256" }, "1 to 255" },
  { { "-smp", "two" }, "not a number" },
  { { "-smp", "cpus=2,sockets=1" }, "unknown property" },
  { { "-M", "q35" }, "unsupported machine type 'q35'" },
  { { "-M", "pc,foo=bar" }, "unknown property 'foo'" },
  { { "-M", "pc,accel" }, "not KEY=VALUE" },
  { { "-accel", "kvm", "-accel", "qtest" }, "conflicting accelerators" },
  { { "-accel", "kvm,thread=single" }, "unknown property" },
  { { "-accel", "" }, "needs an accelerator name" },
  { { "-serial", "vc" }, "unsupported backend" },
  { { "-serial", "file:" }, "unsupported backend" },
  { { "-serial", "null", "-serial", "null", "-serial", "null", "-serial", "null", "-serial" }, "needs an argument" },
  { { "-display", "gtk" }, "no display" },
  { { "-monitor", "tcp:1234" }, "unsupported backend" },
  { { "-qtest", "none" }, "unsupported backend" },
  { { "-d", "bogus" }, "unknown log item 'bogus'" },
  { { "-d", "kvm,,x" }, "unknown log item" },
  { { "-D", "" }, "needs a file name" },
  { { "-kernel", "a", "-kernel", "b" }, "more than once" },
  { { "-kernel", "" }, "needs a file name" },
  { { "-initrd", "m" }, "-initrd needs -kernel" },
  { { "-append", "x" }, "-append needs -kernel" },
  { { "-serial", "stdio", "-monitor", "stdio" }, "stdio" },
  { { "-nographic", "-monitor", "stdio" }, "stdio" },
  { { "-qtest", "stdio", "-serial", "stdio" }, "stdio" },
  { { "-device", "" }, "needs a device name" },
  { { "-device", "loader,file=f" }, "needs addr=" },
  { { "-device", "loader,addr=0x1000" }, "needs file=" },
  { { "-device", "loader,file=f,addr=zz" }, "not a number" },
  { { "-device", "loader,file=f,addr=1,cpu-num=1" }, "only vCPU 0" },
  { { "-device", "loader,file=f,addr=1,mode=v86" }, "mode" },
  { { "-device", "loader,file=f,addr=1,data=5" }, "unknown property 'data'" },
  { { "-device", "loader,file=f,addr" }, "not KEY=VALUE" },
};

static void
test_bad_in_process(void)
{
  for (guint i = 0; i < G_N_ELEMENTS(bad_lines); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArborCmdline) cl = parse(bad_lines[i].args, &error);
    if (g_test_verbose())
      g_printerr("%s -> %s\n", bad_lines[i].args[0], error ? error->message : "(accepted)");
    g_assert_null(cl);
    g_assert_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, bad_lines[i].part));
  }
}

static void
test_serial_limit(void)
{
  g_autoptr(GError) error = NULL;
  const char *args[] = { "-serial", "null", "-serial", "null", "-serial", "null", "-serial", "null", "-serial", "null", NULL };
  g_autoptr(ArborCmdline) cl = parse(args, &error);

  g_assert_null(cl);
  g_assert_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "COM1..COM4"));
}

static void
test_actions(void)
{
  const struct {
    const char *args[3];
    ArborCmdlineAction action;
  } cases[] = {
    { { "--help" }, ARBOR_CMDLINE_HELP },   { { "-help" }, ARBOR_CMDLINE_HELP },
    { { "-h" }, ARBOR_CMDLINE_HELP },       { { "-version" }, ARBOR_CMDLINE_VERSION },
    { { "--version" }, ARBOR_CMDLINE_VERSION }, { { "-M", "help" }, ARBOR_CMDLINE_MACHINE_HELP },
    { { "-machine", "type=help" }, ARBOR_CMDLINE_MACHINE_HELP }, { { "-device", "help" }, ARBOR_CMDLINE_DEVICE_HELP },
    { { "-d", "help" }, ARBOR_CMDLINE_LOG_HELP }, { { "-accel", "help" }, ARBOR_CMDLINE_ACCEL_HELP },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArborCmdline) cl = parse(cases[i].args, &error);
    g_assert_no_error(error);
    g_assert_cmpint(cl->action, ==, cases[i].action);
  }
}

static void
test_log_domains(void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) d = arbor_cmdline_log_domains("kvm,serial,main,all", &error);

  g_assert_no_error(error);
  g_assert_cmpuint(g_strv_length(d), ==, 4);
  g_assert_cmpstr(d[0], ==, "arbor-kvm");
  g_assert_cmpstr(d[1], ==, "arbor-serial");
  g_assert_cmpstr(d[2], ==, "arbor");
  g_assert_cmpstr(d[3], ==, "all");
  g_assert_null(arbor_cmdline_log_domains("kvm,nope", &error));
  g_assert_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID);
}

/* Random command lines from the option names and odd arguments: the
 * parser either accepts or gives an error, never crashes. */
static void
test_random_lines(void)
{
  const char *words[] = { "-m", "-smp", "-M", "-machine", "-accel", "-kernel", "-append", "-initrd", "-serial",
                          "-device", "-nodefaults", "-display", "-nographic", "-no-reboot", "-S", "-monitor", "-qtest",
                          "-qtest-log", "-d", "-D", "-name", "--", "-", "", "64", "0x10", "none", "stdio", "help",
                          "loader,file=x,addr=0x1", "isa-serial,,", ",,,", "=", "a=b,c", "unix:/x,server=on",
                          "file:", "kvm,,qtest", "18446744073709551616", "1T", "pc,accel=qtest,type=microvm" };

  for (guint i = 0; i < 5000; i++) {
    const char *args[8] = { NULL };
    guint n = g_test_rand_int_range(0, 7);
    for (guint j = 0; j < n; j++)
      args[j] = words[g_test_rand_int_range(0, G_N_ELEMENTS(words))];
    g_autoptr(GError) error = NULL;
    g_autoptr(ArborCmdline) cl = parse(args, &error);
    g_assert_true((cl == NULL) != (error == NULL));
    if (error)
      g_assert_cmpstr(error->message, !=, "");
  }
}

/* ---- the binary ---- */

static void
test_binary_help(void)
{
  const char *args[] = { "--help", NULL };
  g_autoptr(E2eResult) r = e2e_run(args, NULL);

  g_assert_cmpint(r->status, ==, 0);
  const char *options[] = { "-accel", "-machine", "-m SIZE", "-smp", "-kernel", "-append", "-initrd", "-serial",
                            "-device", "-nodefaults", "-display", "-nographic", "-no-reboot", "-S ", "-monitor",
                            "-d ", "-D ", "-qtest ", "-qtest-log", "-version", "Exit codes", "(V<<1)|1" };
  for (guint i = 0; i < G_N_ELEMENTS(options); i++)
    g_assert_nonnull(strstr(r->out, options[i]));
  g_assert_cmpstr(r->err, ==, "");
}

static void
test_binary_infos(void)
{
  const struct {
    const char *args[3];
    const char *parts[3];
  } cases[] = {
    { { "-version" }, { "arbor emulator version " ARBOR_VERSION } },
    { { "--version" }, { "version" } },
    { { "-M", "help" }, { "pc ", "microvm", "arbor" } },
    { { "-device", "help" }, { "isa-debug-exit", "isa-serial", "loader" } },
    { { "-d", "help" }, { "arbor-kvm", "arbor-serial", "arbor-memory" } },
    { { "-accel", "help" }, { "kvm", "qtest" } },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(E2eResult) r = e2e_run(cases[i].args, NULL);
    g_assert_cmpint(r->status, ==, 0);
    for (guint j = 0; j < G_N_ELEMENTS(cases[i].parts) && cases[i].parts[j]; j++)
      g_assert_nonnull(strstr(r->out, cases[i].parts[j]));
  }
}

/* Every bad line: "arbor: ..." on stderr, nothing on stdout, exit 1. */
static void
test_binary_bad(void)
{
  for (guint i = 0; i < G_N_ELEMENTS(bad_lines); i++) {
    g_autoptr(E2eResult) r = e2e_run(bad_lines[i].args, NULL);
    g_assert_cmpint(r->status, ==, 1);
    g_assert_true(g_str_has_prefix(r->err, "arbor: "));
    g_assert_nonnull(strstr(r->err, bad_lines[i].part));
    g_assert_cmpstr(r->out, ==, "");
  }
}

/* Errors found while building the machine: still exit 1 with a message. */
static void
test_binary_startup_errors(void)
{
  const struct {
    const char *args[10];
    const char *part;
  } cases[] = {
    { { "-accel", "tcg", "-nodefaults" }, "tcg" },
    { { "-accel", "qtest", "-kernel", "/nonexistent/kernel" }, "/nonexistent/kernel" },
    { { "-accel", "qtest", "-device", "no-such-device" }, "no-such-device" },
    { { "-accel", "qtest", "-device", "isa-debug-exit,iobase=zz" }, "iobase" },
    { { "-accel", "qtest", "-device", "isa-debug-exit,colour=red" }, "colour" },
    { { "-accel", "qtest", "-D", "/nonexistent/dir/log" }, "/nonexistent/dir/log" },
    { { "-accel", "qtest", "-serial", "file:/nonexistent/dir/out" }, "/nonexistent/dir/out" },
    { { "-accel", "qtest", "-monitor", "unix:/nonexistent/dir/sock" }, "/nonexistent/dir/sock" },
    { { "-accel", "qtest", "-device", "loader,file=/nonexistent/f,addr=0x1000" }, "/nonexistent/f" },
    { { "-accel", "qtest", "-m", "2T" }, "RAM size" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(E2eResult) r = e2e_run(cases[i].args, NULL);
    g_assert_cmpint(r->status, ==, 1);
    g_assert_true(g_str_has_prefix(r->err, "arbor: "));
    g_assert_nonnull(strstr(r->err, cases[i].part));
  }
}

/* No /dev/kvm: -accel kvm fails at init with the accelerator's message. */
static void
test_binary_kvm_missing(void)
{
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    g_test_skip("/dev/kvm exists: nothing to check here");
    return;
  }
  const char *args[] = { "-accel", "kvm", "-nodefaults", NULL };
  g_autoptr(E2eResult) r = e2e_run(args, NULL);
  g_assert_cmpint(r->status, ==, 1);
  g_assert_true(g_str_has_prefix(r->err, "arbor: "));
  g_assert_nonnull(strstr(r->err, "/dev/kvm"));

  /* The default accelerator is kvm too. */
  const char *args2[] = { "-nodefaults", NULL };
  g_autoptr(E2eResult) r2 = e2e_run(args2, NULL);
  g_assert_cmpint(r2->status, ==, 1);
  g_assert_nonnull(strstr(r2->err, "/dev/kvm"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/cmdline/parse/defaults", test_defaults);
  g_test_add_func("/cmdline/parse/full", test_full);
  g_test_add_func("/cmdline/parse/sizes", test_sizes);
  g_test_add_func("/cmdline/parse/bad", test_bad_in_process);
  g_test_add_func("/cmdline/parse/serial-limit", test_serial_limit);
  g_test_add_func("/cmdline/parse/actions", test_actions);
  g_test_add_func("/cmdline/parse/log-domains", test_log_domains);
  g_test_add_func("/cmdline/parse/random", test_random_lines);
  g_test_add_func("/cmdline/binary/help", test_binary_help);
  g_test_add_func("/cmdline/binary/infos", test_binary_infos);
  g_test_add_func("/cmdline/binary/bad", test_binary_bad);
  g_test_add_func("/cmdline/binary/startup-errors", test_binary_startup_errors);
  g_test_add_func("/cmdline/binary/kvm-missing", test_binary_kvm_missing);
  return g_test_run();
}
