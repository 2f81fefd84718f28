/* The qtest parser in process (no subprocess, no socket): every command's
 * reply format and every bad input answered with FAIL, the server still
 * serving afterwards. */
#include "arbor-config.h"

#include <string.h>

#include <arbor/arbor.h>

#include "qtest-private.h"

typedef struct {
  ArborMachine *machine;    /* owned; NULL in the parser-only fixture */
  ArborQtestServer *server; /* owned */
  GString *out;             /* owned: what the server sent since the last take */
} Fixture;

static void
collect_output(gpointer opaque, const char *data, gsize len)
{
  Fixture *f = opaque;

  g_string_append_len(f->out, data, len);
}

static ArborMachine *
new_machine(const char *accel_name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborMachine) machine = arbor_machine_new(16 << 20, 1, NULL, &error);

  g_assert_no_error(error);
  if (accel_name != NULL) {
    g_autoptr(ArborAccel) accel = arbor_accel_new(accel_name, &error);

    g_assert_no_error(error);
    g_assert_true(arbor_machine_set_accel(machine, accel, &error));
    g_assert_no_error(error);
  }
  g_assert_true(arbor_machine_add_default_devices(machine, NULL, &error));
  g_assert_no_error(error);
  return g_steal_pointer(&machine);
}

static void
fixture_setup_with(Fixture *f, ArborMachine *machine)
{
  f->machine = machine;
  f->out = g_string_new(NULL);
  f->server = arbor_qtest_server_new_in_process(machine, collect_output, f);
  g_assert_nonnull(f->server);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  fixture_setup_with(f, new_machine("qtest"));
}

static void
fixture_setup_no_accel(Fixture *f, gconstpointer data)
{
  fixture_setup_with(f, new_machine(NULL));
}

static void
fixture_setup_parser_only(Fixture *f, gconstpointer data)
{
  fixture_setup_with(f, NULL);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  g_clear_object(&f->server);
  if (f->machine != NULL)
    arbor_machine_shutdown(f->machine);
  g_clear_object(&f->machine);
  g_string_free(f->out, TRUE);
}

/* Feeds raw bytes and returns everything sent back. */
static char *
feed(Fixture *f, const char *data, gsize len)
{
  g_string_truncate(f->out, 0);
  arbor_qtest_server_feed(f->server, data, len);
  return g_strdup(f->out->str);
}

/* Sends @line plus '\n'. */
static char *
cmd(Fixture *f, const char *line)
{
  g_autofree char *with_nl = g_strconcat(line, "\n", NULL);

  return feed(f, with_nl, strlen(with_nl));
}

static void
assert_cmd(Fixture *f, const char *line, const char *expected)
{
  g_autofree char *reply = cmd(f, line);

  g_assert_cmpstr(reply, ==, expected);
}

static void
assert_still_serving(Fixture *f)
{
  assert_cmd(f, "endianness", "OK little\n");
}

static void
test_endianness(Fixture *f, gconstpointer data)
{
  assert_cmd(f, "endianness", "OK little\n");
}

static void
test_unknown(Fixture *f, gconstpointer data)
{
  assert_cmd(f, "foo", "FAIL Unknown command 'foo'\n");
  assert_cmd(f, "foo bar baz", "FAIL Unknown command 'foo'\n");
  /* A leading space makes the command word empty, as in QEMU. */
  assert_cmd(f, " inb 0x3f8", "FAIL Unknown command ''\n");
  assert_cmd(f, "INB 0x3f8", "FAIL Unknown command 'INB'\n");
  assert_still_serving(f);
}

static void
test_ports(Fixture *f, gconstpointer data)
{
  /* Scratch register of COM1 round-trips; unassigned ports read all ones. */
  assert_cmd(f, "outb 0x3ff 0x5a", "OK\n");
  assert_cmd(f, "inb 0x3ff", "OK 0x005a\n");
  assert_cmd(f, "outb 0x3ff 0x1a5", "OK\n"); /* truncated to the access width, as QEMU */
  assert_cmd(f, "inb 0x3ff", "OK 0x00a5\n");
  assert_cmd(f, "inb 0x1234", "OK 0x00ff\n");
  assert_cmd(f, "inw 0x1234", "OK 0xffff\n");
  assert_cmd(f, "inl 0x1234", "OK 0xffffffff\n");
  assert_cmd(f, "outw 0x1234 0xffff", "OK\n");
  assert_cmd(f, "outl 0x1234 0xffffffff", "OK\n");
  assert_cmd(f, "inb 0xffff", "OK 0x00ff\n");
  assert_cmd(f, "inb 073", "OK 0x00ff\n"); /* octal, like strtoull(, 0) */
}

static void
test_memory_sized(Fixture *f, gconstpointer data)
{
  assert_cmd(f, "writeq 0x1000 0x1122334455667788", "OK\n");
  assert_cmd(f, "readq 0x1000", "OK 0x1122334455667788\n");
  assert_cmd(f, "readb 0x1001", "OK 0x0000000000000077\n");
  assert_cmd(f, "readw 0x1002", "OK 0x0000000000005566\n");
  assert_cmd(f, "readl 0x1004", "OK 0x0000000011223344\n");
  assert_cmd(f, "writeb 0x1000 0x1ff", "OK\n");
  assert_cmd(f, "readb 0x1000", "OK 0x00000000000000ff\n");
  assert_cmd(f, "writew 0x1000 0xabcd", "OK\n");
  assert_cmd(f, "readw 0x1000", "OK 0x000000000000abcd\n");
  assert_cmd(f, "writel 0x1000 0xdeadbeef", "OK\n");
  assert_cmd(f, "readl 0x1000", "OK 0x00000000deadbeef\n");
  /* Unassigned memory reads zero. */
  assert_cmd(f, "readq 0xfee00000", "OK 0x0000000000000000\n");
}

static void
test_memory_bulk(Fixture *f, gconstpointer data)
{
  assert_cmd(f, "write 0x2000 4 0x01020304", "OK\n");
  assert_cmd(f, "read 0x2000 4", "OK 0x01020304\n");
  /* Shorter data is zero-filled up to SIZE (QEMU documents it). */
  assert_cmd(f, "write 0x2000 4 0xAB", "OK\n");
  assert_cmd(f, "read 0x2000 4", "OK 0xab000000\n");
  assert_cmd(f, "b64write 0x2000 4 QUJDRA==", "OK\n");
  assert_cmd(f, "read 0x2000 4", "OK 0x41424344\n");
  assert_cmd(f, "b64read 0x2000 4", "OK QUJDRA==\n");
  assert_cmd(f, "b64read 0x2000 0", "OK \n");
  assert_cmd(f, "memset 0x2000 3 0x1ee", "OK\n");
  assert_cmd(f, "read 0x2000 4", "OK 0xeeeeee44\n");
  assert_cmd(f, "memset 0x2000 0 0x11", "OK\n");
  assert_cmd(f, "read 0x2000 4", "OK 0xeeeeee44\n");
}

static void
test_memory_large(Fixture *f, gconstpointer data)
{
  guint size = 1 << 20;
  g_autofree char *memset_cmd = g_strdup_printf("memset 0x100000 %u 0x5a", size);
  g_autofree char *read_cmd = g_strdup_printf("read 0x100000 %u", size);
  g_autofree char *reply = NULL;

  assert_cmd(f, memset_cmd, "OK\n");
  reply = cmd(f, read_cmd);
  g_assert_cmpuint(strlen(reply), ==, 3 + 2 + 2 * size + 1);
  g_assert_true(g_str_has_prefix(reply, "OK 0x5a5a"));
  g_assert_cmpint(reply[strlen(reply) - 2], ==, 'a');
}

static void
test_clock(Fixture *f, gconstpointer data)
{
  assert_cmd(f, "clock_step",
             "FAIL cannot advance clock to the next deadline because there is no pending deadline\n");
  assert_cmd(f, "clock_step 100", "OK 100\n");
  assert_cmd(f, "clock_step 0", "FAIL could not advance time\n");
  assert_cmd(f, "clock_step -5", "FAIL could not advance time\n");
  assert_cmd(f, "clock_set 50", "FAIL 100\n");
  assert_cmd(f, "clock_set 100", "OK 100\n");
  assert_cmd(f, "clock_set 0x100", "OK 256\n");
  assert_cmd(f, "clock_step 9223372036854775807", "FAIL NS 9223372036854775807 would overflow the clock\n");
  assert_cmd(f, "clock_set abc", "FAIL NS 'abc' is not a number\n");
}

static void
count_fire(gpointer opaque)
{
  int *fired = opaque;

  (*fired)++;
}

static void
test_clock_timer(Fixture *f, gconstpointer data)
{
  ArborClock *clock = arbor_machine_get_clock(f->machine);
  int fired = 0;
  ArborTimer *timer = arbor_timer_new(clock, count_fire, &fired);

  arbor_timer_mod(timer, 500);
  assert_cmd(f, "clock_step 499", "OK 499\n");
  g_assert_cmpint(fired, ==, 0);
  assert_cmd(f, "clock_step", "OK 500\n");
  g_assert_cmpint(fired, ==, 1);
  arbor_timer_mod(timer, 1000);
  assert_cmd(f, "clock_set 2000", "OK 2000\n");
  g_assert_cmpint(fired, ==, 2);
  arbor_timer_free(timer);
}

static void
test_clock_unknown_without_qtest_accel(Fixture *f, gconstpointer data)
{
  /* A real-time clock (kvm, or no accelerator yet): QEMU's answer. */
  assert_cmd(f, "clock_step", "FAIL Unknown command 'clock_step'\n");
  assert_cmd(f, "clock_step 10", "FAIL Unknown command 'clock_step'\n");
  assert_cmd(f, "clock_set 10", "FAIL Unknown command 'clock_set'\n");
  assert_still_serving(f);
}

static void
test_irq(Fixture *f, gconstpointer data)
{
  assert_cmd(f, "set_irq_in ioapic unnamed-gpio-in 4 1", "OK\n");
  assert_cmd(f, "set_irq_in ioapic unnamed-gpio-in 4 0", "OK\n");
  assert_cmd(f, "irq_intercept_in /machine/nowhere", "FAIL Unknown device\n");
  assert_cmd(f, "irq_intercept_in ioapic name", "FAIL Interception of named in-GPIOs not yet supported\n");
  assert_cmd(f, "irq_intercept_in ioapic", "OK\n");
  assert_cmd(f, "irq_intercept_in ioapic", "OK\n");
  assert_cmd(f, "irq_intercept_out /machine/q35/ioapic", "OK\n");
  assert_cmd(f, "set_irq_in ioapic unnamed-gpio-in 4 1", "IRQ raise 4\nOK\n");
  assert_cmd(f, "set_irq_in ioapic unnamed-gpio-in 4 1", "OK\n");
  assert_cmd(f, "set_irq_in /machine/i440fx/ioapic unnamed-gpio-in 23 5", "IRQ raise 23\nOK\n");
  assert_cmd(f, "set_irq_in ioapic unnamed-gpio-in 4 0", "IRQ lower 4\nOK\n");
  assert_cmd(f, "set_irq_in ioapic unnamed-gpio-in 24 1",
             "FAIL NUM 24 is not an interrupt line of ioapic (0..23)\n");
  assert_cmd(f, "set_irq_in ioapic other 1 1", "FAIL no GPIO list 'other' on ioapic (it has only unnamed-gpio-in)\n");
  assert_cmd(f, "set_irq_in nowhere unnamed-gpio-in 1 1", "FAIL Unknown device\n");
  /* A device's line goes through the same interceptor: COM1 with THRE
   * interrupts enabled raises IRQ 4 at once (the transmitter is empty);
   * OUT2 gates the line to the interrupt controller on a PC. */
  assert_cmd(f, "outb 0x3fc 0x08", "OK\n");
  assert_cmd(f, "outb 0x3f9 0x02", "IRQ raise 4\nOK\n");
  assert_cmd(f, "inb 0x3fa", "IRQ lower 4\nOK 0x0002\n");
}

typedef struct {
  ArborMachine *machine;
  guint toggles;
} IrqStorm;

static gpointer
irq_storm_thread(gpointer data)
{
  IrqStorm *storm = data;

  for (guint i = 0; i < storm->toggles; i++)
    arbor_machine_set_irq(storm->machine, 5, (i & 1) == 0);
  return NULL;
}

/* Devices on vCPU threads (kvm) raise lines while the main thread serves
 * commands: every line still comes out whole, and raise/lower alternate. */
static void
test_irq_from_other_thread(Fixture *f, gconstpointer data)
{
  IrqStorm storm = { .machine = f->machine, .toggles = 20000 };
  GThread *thread;
  g_auto(GStrv) lines = NULL;
  guint replies = 0, irqs = 0, commands = 0;
  gboolean level = FALSE;

  assert_cmd(f, "irq_intercept_in ioapic", "OK\n");
  g_string_truncate(f->out, 0);
  thread = g_thread_new("irq-storm", irq_storm_thread, &storm);
  /* However the two interleave, the output must parse. */
  while (commands < 2000) {
    arbor_qtest_server_feed(f->server, "endianness\n", 11);
    commands++;
  }
  g_thread_join(thread);
  arbor_qtest_server_feed(f->server, "endianness\n", 11);
  commands++;

  lines = g_strsplit(f->out->str, "\n", 0);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++) {
    if (strcmp(lines[i], "OK little") == 0) {
      replies++;
    } else {
      g_assert_cmpstr(lines[i], ==, level ? "IRQ lower 5" : "IRQ raise 5");
      level = !level;
      irqs++;
    }
  }
  g_assert_cmpuint(replies, ==, commands);
  g_assert_cmpuint(irqs, ==, storm.toggles);
}

static void
test_module_load(Fixture *f, gconstpointer data)
{
  assert_cmd(f, "module_load accel qtest", "OK\n");
  assert_cmd(f, "module_load accel no-such-accelerator", "FAIL\n");
  assert_cmd(f, "module_load block curl", "FAIL\n");
}

typedef struct {
  const char *line;
  const char *reply;
} BadInput;

/* Each of these aborts QEMU (or writes garbage); arbor answers and goes on. */
static const BadInput bad_inputs[] = {
  { "", "FAIL empty line\n" },
  { "inb", "FAIL too few arguments; usage: inb ADDR\n" },
  { "inb 0x3f8 0", "FAIL too many arguments; usage: inb ADDR\n" },
  { "inb 0x3f8 ", "FAIL too many arguments; usage: inb ADDR\n" },
  { "inb  0x3f8", "FAIL too many arguments; usage: inb ADDR\n" },
  { "outb  0x3f8 1", "FAIL too many arguments; usage: outb ADDR VALUE\n" },
  { "outb 0x3f8  1", "FAIL too many arguments; usage: outb ADDR VALUE\n" },
  { "outb 0x3f8", "FAIL too few arguments; usage: outb ADDR VALUE\n" },
  { "endianness x", "FAIL too many arguments; usage: endianness\n" },
  { "inb zz", "FAIL ADDR 'zz' is not a number\n" },
  { "inb 0x3f8z", "FAIL ADDR '0x3f8z' is not a number\n" },
  { "inb 0x", "FAIL ADDR '0x' is not a number\n" },
  { "inb 0x10000", "FAIL port 0x10000 is above 0xffff\n" },
  { "outw 0x10000 1", "FAIL port 0x10000 is above 0xffff\n" },
  { "inb -1", "FAIL port 0xffffffffffffffff is above 0xffff\n" },
  { "outb 0x80 zz", "FAIL VALUE 'zz' is not a number\n" },
  { "readq 0x10000000000000000", "FAIL ADDR '0x10000000000000000' does not fit in 64 bits\n" },
  { "readq 0xfffffffffffffffc", "FAIL range 0xfffffffffffffffc + 8 wraps past the end of the address space\n" },
  { "writel 0xfffffffffffffffe 1", "FAIL range 0xfffffffffffffffe + 4 wraps past the end of the address space\n" },
  { "readb 0xffffffffffffffff", "OK 0x0000000000000000\n" },
  { "read 0 0", "FAIL SIZE must not be 0\n" },
  { "read 0 0x1000001", "FAIL SIZE 16777217 is too large (at most 16777216 bytes per command)\n" },
  { "read 0xffffffffffffff00 0x100", "OK 0x" },
  { "read 0xffffffffffffff00 0x101", "FAIL range 0xffffffffffffff00 + 257 wraps past the end of the address space\n" },
  { "b64read 0 0x1000001", "FAIL SIZE 16777217 is too large (at most 16777216 bytes per command)\n" },
  { "memset 0 0x1000001 0", "FAIL SIZE 16777217 is too large (at most 16777216 bytes per command)\n" },
  { "memset 0xffffffffffffffff 2 0", "FAIL range 0xffffffffffffffff + 2 wraps past the end of the address space\n" },
  { "write 0 2 0x", "ERR invalid argument size\n" },
  { "write 0 2 0x12zz", "FAIL DATA has a non-hex character at offset 4\n" },
  { "write 0 2 12345", "FAIL DATA must start with 0x\n" },
  { "write 0 2 0x123", "FAIL DATA has an odd number of hex digits (3)\n" },
  { "write 0 2 0x112233", "FAIL DATA holds 3 bytes, more than SIZE 2\n" },
  { "write 0 0 0x00", "FAIL SIZE must not be 0\n" },
  { "write 0 2", "FAIL too few arguments; usage: write ADDR SIZE 0xDATA\n" },
  { "b64write 0 2 AA", "ERR invalid argument size\n" },
  { "b64write 0 4 QUJD!A==", "FAIL B64_DATA is not valid base64\n" },
  { "b64write 0 4 QUJDRA=", "FAIL B64_DATA is not valid base64\n" },
  { "b64write 0 4 QU=DRA==", "FAIL B64_DATA is not valid base64\n" },
  { "b64write 0 2 QUJDRA==", "FAIL b64write: data length mismatch (told 2, found 4)\n" },
  { "b64write 0 8 QUJDRA==", "FAIL b64write: data length mismatch (told 8, found 4)\n" },
  { "clock_step 1 2", "FAIL too many arguments; usage: clock_step [NS]\n" },
  { "clock_set", "FAIL too few arguments; usage: clock_set NS\n" },
  { "clock_set 99999999999999999999", "FAIL NS '99999999999999999999' does not fit in a signed 64-bit integer\n" },
  { "irq_intercept_in", "FAIL too few arguments; usage: irq_intercept_in QOM-PATH\n" },
  { "set_irq_in ioapic unnamed-gpio-in 4", "FAIL too few arguments; usage: set_irq_in QOM-PATH NAME NUM LEVEL\n" },
  { "set_irq_in ioapic unnamed-gpio-in x 1", "FAIL NUM 'x' is not a number\n" },
  { "set_irq_in ioapic unnamed-gpio-in 1 0x100000000", "FAIL LEVEL 4294967296 does not fit in an int\n" },
  { "module_load accel", "FAIL too few arguments; usage: module_load PREFIX NAME\n" },
  { "inb\t0x3f8", "FAIL line contains the control character 0x09 at offset 3\n" },
  { "\x1b[A", "FAIL line contains the control character 0x1b at offset 0\n" },
  { "\xff\xfe", "FAIL Unknown command '\xff\xfe'\n" },
};

static void
test_bad_inputs(Fixture *f, gconstpointer data)
{
  for (gsize i = 0; i < G_N_ELEMENTS(bad_inputs); i++) {
    g_autofree char *reply = cmd(f, bad_inputs[i].line);
    g_autofree char *escaped = g_strescape(bad_inputs[i].line, NULL);

    g_test_message("line: '%s'", escaped);
    if (g_str_has_suffix(bad_inputs[i].reply, "\n"))
      g_assert_cmpstr(reply, ==, bad_inputs[i].reply);
    else
      g_assert_true(g_str_has_prefix(reply, bad_inputs[i].reply));
    assert_still_serving(f);
  }
}

static void
test_crlf(Fixture *f, gconstpointer data)
{
  g_autofree char *reply = feed(f, "endianness\r\ninb 0x1234\r\n", 24);

  g_assert_cmpstr(reply, ==, "OK little\nOK 0x00ff\n");
}

static void
test_nul_byte(Fixture *f, gconstpointer data)
{
  static const char line[] = "inb\0 0x3f8\n";
  g_autofree char *reply = feed(f, line, sizeof(line) - 1);

  g_assert_cmpstr(reply, ==, "FAIL line contains a NUL byte 0x00 at offset 3\n");
  assert_still_serving(f);
}

static void
test_split_feed(Fixture *f, gconstpointer data)
{
  static const char input[] = "outb 0x3ff 0x42\ninb 0x3ff\nendianness\n";
  GString *all = g_string_new(NULL);

  /* One byte at a time: each reply appears when its '\n' arrives. */
  for (gsize i = 0; i < sizeof(input) - 1; i++) {
    g_autofree char *reply = feed(f, input + i, 1);

    if (input[i] != '\n')
      g_assert_cmpstr(reply, ==, "");
    g_string_append(all, reply);
  }
  g_assert_cmpstr(all->str, ==, "OK\nOK 0x0042\nOK little\n");
  g_string_free(all, TRUE);

  /* Many lines in one feed. */
  {
    g_autofree char *reply = feed(f, input, sizeof(input) - 1);

    g_assert_cmpstr(reply, ==, "OK\nOK 0x0042\nOK little\n");
  }
}

static void
test_overlong_line(Fixture *f, gconstpointer data)
{
  guint max = arbor_qtest_server_get_max_line();
  gsize chunk = 1 << 20;
  g_autofree char *junk = g_malloc(chunk);
  g_autofree char *expected =
    g_strdup_printf("FAIL line too long (%u bytes; at most %u)\nOK little\n", max + 1, max);
  gsize sent = 0;

  memset(junk, 'a', chunk);
  /* No reply while the line is still coming, and no unbounded buffering. */
  while (sent < (gsize)max + 1) {
    gsize n = MIN(chunk, (gsize)max + 1 - sent);
    g_autofree char *reply = feed(f, junk, n);

    g_assert_cmpstr(reply, ==, "");
    sent += n;
  }
  {
    g_autofree char *reply = feed(f, "\nendianness\n", 12);

    /* One FAIL for the whole line, then the next line is served. */
    g_assert_cmpstr(reply, ==, expected);
  }
  assert_still_serving(f);
}

static void
test_max_line_fits_max_write(Fixture *f, gconstpointer data)
{
  /* The largest legal write must fit on one line. */
  guint size = arbor_qtest_server_get_max_size();
  GString *line = g_string_new(NULL);
  g_autofree char *reply = NULL;

  g_string_printf(line, "write 0x100000 %u 0x", size);
  for (guint i = 0; i < size; i++)
    g_string_append(line, "c3");
  g_assert_cmpuint(line->len, <=, arbor_qtest_server_get_max_line());
  reply = cmd(f, line->str);
  g_assert_cmpstr(reply, ==, "OK\n");
  g_string_free(line, TRUE);
  assert_cmd(f, "readl 0x100000", "OK 0x00000000c3c3c3c3\n");
}

static void
test_parser_only(Fixture *f, gconstpointer data)
{
  assert_cmd(f, "endianness", "OK little\n");
  assert_cmd(f, "inb 0x3f8", "FAIL no machine attached to this qtest server\n");
  assert_cmd(f, "read 0 4", "FAIL no machine attached to this qtest server\n");
  assert_cmd(f, "clock_step", "FAIL Unknown command 'clock_step'\n");
  assert_cmd(f, "inb", "FAIL too few arguments; usage: inb ADDR\n");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD("/qtest/inproc/endianness", test_endianness);
  ADD("/qtest/inproc/unknown", test_unknown);
  ADD("/qtest/inproc/ports", test_ports);
  ADD("/qtest/inproc/memory/sized", test_memory_sized);
  ADD("/qtest/inproc/memory/bulk", test_memory_bulk);
  ADD("/qtest/inproc/memory/large", test_memory_large);
  ADD("/qtest/inproc/clock/step-set", test_clock);
  ADD("/qtest/inproc/clock/timer", test_clock_timer);
  ADD("/qtest/inproc/irq", test_irq);
  ADD("/qtest/inproc/irq-from-other-thread", test_irq_from_other_thread);
  ADD("/qtest/inproc/module-load", test_module_load);
  ADD("/qtest/inproc/bad/table", test_bad_inputs);
  ADD("/qtest/inproc/bad/nul-byte", test_nul_byte);
  ADD("/qtest/inproc/bad/overlong-line", test_overlong_line);
  ADD("/qtest/inproc/lines/crlf", test_crlf);
  ADD("/qtest/inproc/lines/split-feed", test_split_feed);
  ADD("/qtest/inproc/lines/max-write-fits", test_max_line_fits_max_write);
#undef ADD
  g_test_add("/qtest/inproc/clock/unknown-without-qtest-accel", Fixture, NULL, fixture_setup_no_accel,
             test_clock_unknown_without_qtest_accel, fixture_teardown);
  g_test_add("/qtest/inproc/parser-only", Fixture, NULL, fixture_setup_parser_only, test_parser_only,
             fixture_teardown);

  return g_test_run();
}
