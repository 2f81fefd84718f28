/* The human monitor in process, on a machine with the qtest accelerator. */
#include "arbor-config.h"

#include "e2e-util.h"

#include <arbor/arbor.h>
#include <string.h>

typedef struct {
  ArborMachine *machine;
  ArborAccel *accel;
  ArborMonitor *mon;
  int shutdown_code;
  guint shutdowns;
  guint resets;
} Fixture;

static void
on_shutdown(ArborMachine *machine, int code, gpointer user_data)
{
  Fixture *f = user_data;

  f->shutdown_code = code;
  f->shutdowns++;
}

static void
on_reset(ArborMachine *machine, gpointer user_data)
{
  Fixture *f = user_data;

  f->resets++;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->machine = arbor_machine_new(16 << 20, 2, NULL, &error);
  g_assert_no_error(error);
  f->accel = arbor_accel_new("qtest", &error);
  g_assert_no_error(error);
  g_assert_true(arbor_machine_set_accel(f->machine, f->accel, &error));
  g_assert_true(arbor_machine_add_default_devices(f->machine, "null", &error));
  g_assert_no_error(error);
  f->mon = arbor_monitor_new_in_process(f->machine);
  g_signal_connect(f->machine, "shutdown-requested", G_CALLBACK(on_shutdown), f);
  g_signal_connect(f->machine, "reset", G_CALLBACK(on_reset), f);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  g_clear_object(&f->mon);
  arbor_machine_shutdown(f->machine);
  g_clear_object(&f->machine);
  g_clear_object(&f->accel);
}

static char *
run(Fixture *f, const char *line)
{
  char *out = arbor_monitor_execute(f->mon, line);

  if (g_test_verbose())
    g_printerr("(arbor) %s\n%s", line, out);
  return out;
}

static void
test_help(Fixture *f, gconstpointer data)
{
  g_autofree char *out = run(f, "help");
  const char *commands[] = { "info", "stop", "cont", "quit", "system_reset", "help", "status", "mtree", "registers", "exits" };

  for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
    g_assert_nonnull(strstr(out, commands[i]));
  g_autofree char *q = run(f, "?");
  g_assert_cmpstr(q, ==, out);
}

static void
test_status_stop_cont(Fixture *f, gconstpointer data)
{
  g_autofree char *s1 = run(f, "info status");
  g_assert_cmpstr(s1, ==, "VM status: paused (prelaunch)\n");
  g_autofree char *c = run(f, "cont");
  g_assert_cmpstr(c, ==, "");
  g_assert_true(arbor_machine_is_running(f->machine));
  g_autofree char *s2 = run(f, "info status");
  g_assert_cmpstr(s2, ==, "VM status: running\n");
  g_autofree char *st = run(f, "  stop  ");
  g_assert_cmpstr(st, ==, "");
  g_assert_false(arbor_machine_is_running(f->machine));
  g_autofree char *s3 = run(f, "info status");
  g_assert_cmpstr(s3, ==, "VM status: paused\n");
  /* aliases as QEMU: c and s */
  g_autofree char *c2 = run(f, "c");
  g_assert_true(arbor_machine_is_running(f->machine));
  g_autofree char *s4 = run(f, "s");
  g_assert_false(arbor_machine_is_running(f->machine));
}

static void
test_mtree(Fixture *f, gconstpointer data)
{
  g_autofree char *out = run(f, "info mtree");

  g_assert_nonnull(strstr(out, "address-space: memory"));
  g_assert_nonnull(strstr(out, "address-space: I/O"));
  g_assert_nonnull(strstr(out, "ram-below-4g"));
  g_assert_nonnull(strstr(out, "00000000000003f8-00000000000003ff"));
  g_assert_nonnull(strstr(out, "port92"));
}

static void
test_registers(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ArborVcpu *vcpu = arbor_vcpu_manager_get_vcpu(arbor_machine_get_vcpu_manager(f->machine), 1);
  ArborRegs regs = { .rax = 0x1234abcd, .rip = 0xfeedbeef, .rflags = 0x202 };

  g_assert_true(arbor_vcpu_set_regs(vcpu, &regs, &error));
  g_assert_no_error(error);
  g_autofree char *out = run(f, "info registers");
  g_assert_nonnull(strstr(out, "CPU#0"));
  g_assert_nonnull(strstr(out, "CPU#1"));
  /* CPU#0 is at the reset vector; CPU#1 holds what we set. */
  g_assert_nonnull(strstr(out, "RIP=000000000000fff0"));
  g_assert_nonnull(strstr(out, "CS =f000 00000000ffff0000 0000ffff 00009b00"));
  g_assert_nonnull(strstr(out, "RAX=000000001234abcd"));
  g_assert_nonnull(strstr(out, "RIP=00000000feedbeef RFL=00000202"));
  g_assert_nonnull(strstr(out, "CR0=60000010"));
  g_assert_nonnull(strstr(out, "EFER="));

  /* While running, the monitor pauses around the read and resumes. */
  arbor_machine_run(f->machine);
  g_autofree char *out2 = run(f, "info registers");
  g_assert_nonnull(strstr(out2, "RAX=000000001234abcd"));
  g_assert_true(arbor_machine_is_running(f->machine));
}

static void
test_exits(Fixture *f, gconstpointer data)
{
  ArborAddressSpace *io = arbor_machine_get_io(f->machine);

  for (guint i = 0; i < 7; i++)
    arbor_address_space_dispatch_write(io, 0x3ff, 1, i); /* COM1 scratch */
  guint64 v;
  arbor_address_space_dispatch_read(io, 0x92, 1, &v);

  g_autofree char *out = run(f, "info exits");
  g_assert_nonnull(strstr(out, "CPU#0 exits: io-in=0 io-out=0"));
  g_assert_nonnull(strstr(out, "CPU#1 exits:"));
  g_assert_nonnull(strstr(out, "region accesses"));
  /* Busiest first: the serial port with 7, then port 0x92 with 1. */
  const char *serial = strstr(out, "00000000000003f8-00000000000003ff serial");
  const char *port92 = strstr(out, "port92");
  g_assert_nonnull(serial);
  g_assert_nonnull(port92);
  g_assert_true(serial < port92);
  g_autofree char *line = g_strndup(serial, strcspn(serial, "\n"));
  g_assert_true(g_str_has_suffix(line, " 7"));
}

static void
test_errors(Fixture *f, gconstpointer data)
{
  const struct {
    const char *line;
    const char *part;
  } cases[] = {
    { "foo", "unknown command: 'foo'" },
    { "info", "missing item" },
    { "info bogus", "unknown item 'bogus'" },
    { "stop now", "unexpected argument 'now'" },
    { "cont 1", "unexpected argument" },
    { "quit please", "unexpected argument" },
    { "system_reset x", "unexpected argument" },
    { "\x1b[A", "unknown command: '\\033[A'" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *out = run(f, cases[i].line);
    g_assert_nonnull(strstr(out, cases[i].part));
    g_assert_true(g_str_has_suffix(out, "\n"));
  }
  g_autofree char *empty = run(f, "   ");
  g_assert_cmpstr(empty, ==, "");
  g_autofree char *longline = g_strnfill(ARBOR_MONITOR_MAX_LINE + 1, 'x');
  g_autofree char *out = run(f, longline);
  g_assert_nonnull(strstr(out, "line too long"));
  /* After all that it still answers. */
  g_autofree char *status = run(f, "info status");
  g_assert_cmpstr(status, ==, "VM status: paused (prelaunch)\n");
  g_assert_cmpuint(f->shutdowns, ==, 0);
}

static void
test_feed_lines(Fixture *f, gconstpointer data)
{
  /* No backend: feeding in pieces must execute whole lines only. */
  arbor_monitor_feed(f->mon, "co", 2);
  g_assert_false(arbor_machine_is_running(f->machine));
  arbor_monitor_feed(f->mon, "nt\r\n", 4);
  g_assert_true(arbor_machine_is_running(f->machine));
  g_autofree char *big = g_strnfill(ARBOR_MONITOR_MAX_LINE * 3, 's');
  arbor_monitor_feed(f->mon, big, strlen(big));
  arbor_monitor_feed(f->mon, "\nstop\n", 6);
  g_assert_false(arbor_machine_is_running(f->machine));
  /* CR LF split over two feeds is one line end; backspace edits; ^U kills;
   * arrow keys (escape sequences) are dropped. */
  arbor_monitor_feed(f->mon, "cont\r", 5);
  g_assert_true(arbor_machine_is_running(f->machine));
  arbor_monitor_feed(f->mon, "\nstox\x7fp\n", strlen("\nstox\x7fp\n"));
  g_assert_false(arbor_machine_is_running(f->machine));
  arbor_monitor_feed(f->mon, "quit\x15\x1b[Acon\x1bOAt\n", strlen("quit\x15\x1b[Acon\x1bOAt\n"));
  g_assert_true(arbor_machine_is_running(f->machine));
  g_assert_cmpuint(f->shutdowns, ==, 0);
}

static void
test_quit(Fixture *f, gconstpointer data)
{
  g_autofree char *out = run(f, "quit");

  g_assert_cmpstr(out, ==, "");
  /* The request is delivered on the main context. */
  while (f->shutdowns == 0)
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpint(f->shutdown_code, ==, 0);
}

static void
test_system_reset(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ArborVcpu *vcpu = arbor_vcpu_manager_get_vcpu(arbor_machine_get_vcpu_manager(f->machine), 0);
  ArborRegs regs = { .rip = 0x1234, .rflags = 2 };

  g_assert_true(arbor_vcpu_set_regs(vcpu, &regs, &error));
  g_autofree char *out = run(f, "system_reset");
  g_assert_cmpstr(out, ==, "");
  g_assert_cmpuint(f->resets, ==, 1);
  g_assert_true(arbor_vcpu_get_regs(vcpu, &regs, &error));
  g_assert_cmphex(regs.rip, ==, 0xfff0);
}

/* Random lines built from the command words and junk: every answer is
 * empty or whole lines, and the monitor still answers afterwards. */
static void
test_random_lines(Fixture *f, gconstpointer data)
{
  const char *words[] = { "info", "status", "mtree", "registers", "exits", "stop", "cont", "help", "?", "c", "s",
                          "system_reset", "info\tstatus", "", " ", "\x01", "\xff\xfe", "%s%n", "registers registers" };

  for (guint i = 0; i < 3000; i++) {
    GString *line = g_string_new(NULL);
    guint n = g_test_rand_int_range(0, 4);
    for (guint j = 0; j < n; j++) {
      if (g_test_rand_bit()) {
        g_string_append(line, words[g_test_rand_int_range(0, G_N_ELEMENTS(words))]);
      } else {
        guint len = g_test_rand_int_range(0, 12);
        for (guint k = 0; k < len; k++)
          g_string_append_c(line, (char)g_test_rand_int_range(1, 256));
      }
      g_string_append_c(line, ' ');
    }
    g_autofree char *out = arbor_monitor_execute(f->mon, line->str);
    g_assert_nonnull(out);
    g_assert_true(*out == '\0' || g_str_has_suffix(out, "\n"));
    arbor_monitor_feed(f->mon, line->str, line->len);
    g_string_free(line, TRUE);
  }
  arbor_monitor_feed(f->mon, "\n", 1);
  arbor_machine_pause(f->machine);
  g_autofree char *status = run(f, "info status");
  g_assert_true(g_str_has_prefix(status, "VM status: paused"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  static const struct {
    const char *path;
    void (*func)(Fixture *, gconstpointer);
  } tests[] = {
    { "/monitor/help", test_help },
    { "/monitor/status-stop-cont", test_status_stop_cont },
    { "/monitor/info-mtree", test_mtree },
    { "/monitor/info-registers", test_registers },
    { "/monitor/info-exits", test_exits },
    { "/monitor/errors", test_errors },
    { "/monitor/feed-lines", test_feed_lines },
    { "/monitor/quit", test_quit },
    { "/monitor/system-reset", test_system_reset },
    { "/monitor/random-lines", test_random_lines },
  };
  for (guint i = 0; i < G_N_ELEMENTS(tests); i++)
    g_test_add(tests[i].path, Fixture, NULL, fixture_setup, tests[i].func, fixture_teardown);
  return g_test_run();
}
