/* Side by side with QEMU: the same qtest script (qemu-compare.txt, only
 * commands both implement and QEMU does not abort on) through arbor
 * (-accel qtest) and qemu-system-x86_64 (-accel tcg -S), replies and
 * asynchronous IRQ lines compared byte for byte, logs compared with the
 * times masked. Skips when qemu-system-x86_64 is not installed. */
#include "arbor-config.h"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

typedef struct {
  char *replies; /* every line received, in order */
  char *log;     /* the -qtest-log up to CLOSED, times masked */
} Run;

static guint
count_commands(const char *script)
{
  guint n = 0;

  for (const char *p = script; *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

/* Replaces "[X +1.234567]" / "[I 0.000001]" times with T. */
static char *
mask_log(const char *log)
{
  g_autoptr(GRegex) re = g_regex_new("^\\[([IRS]) \\+?[0-9]+\\.[0-9]{6}\\]", G_REGEX_MULTILINE, 0, NULL);
  g_autofree char *masked = g_regex_replace(re, log, -1, 0, "[\\1 T]", 0, NULL);
  const char *closed = strstr(masked, "[I T] CLOSED\n");

  /* Up to the end of the first session, without its CLOSED line: QEMU may
   * be terminated before it has seen the end of its input. */
  if (closed != NULL)
    return g_strndup(masked, closed - masked);
  return g_strdup(masked);
}

static Run
run_script(const char *const *argv, const char *script, const char *log_path, gboolean kill_after)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  GOutputStream *out;
  GString *replies = g_string_new(NULL);
  guint expected = count_commands(script), got = 0;
  g_autofree char *log = NULL;
  Run run;

  /* QEMU 7.2 complains on stderr when its client leaves (a GLib
   * critical about its log timer): keep that out of the test output. */
  proc = g_subprocess_newv(argv,
                           G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                             (kill_after ? G_SUBPROCESS_FLAGS_STDERR_SILENCE : G_SUBPROCESS_FLAGS_NONE),
                           &error);
  g_assert_no_error(error);
  out = g_subprocess_get_stdin_pipe(proc);
  g_assert_true(g_output_stream_write_all(out, script, strlen(script), NULL, NULL, &error));
  g_assert_no_error(error);

  in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc));
  while (got < expected) {
    gsize len = 0;
    g_autofree char *line = g_data_input_stream_read_line(in, &len, NULL, &error);

    g_assert_no_error(error);
    if (line == NULL)
      break;
    g_string_append_printf(replies, "%s\n", line);
    if (!g_str_has_prefix(line, "IRQ "))
      got++;
  }
  g_assert_cmpuint(got, ==, expected);

  /* End of input: arbor exits; QEMU logs CLOSED and stays, so kill it. */
  g_assert_true(g_output_stream_close(out, NULL, &error));
  g_assert_no_error(error);
  /* QEMU's log is block-buffered: end it with SIGTERM (a clean exit that
   * flushes it), never SIGKILL. Every reply was read, so every [R]/[S]
   * line was written before. */
  if (kill_after)
    g_subprocess_send_signal(proc, SIGTERM);
  g_assert_true(g_subprocess_wait(proc, NULL, &error));
  g_assert_no_error(error);
  if (!kill_after)
    g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);

  g_assert_true(g_file_get_contents(log_path, &log, NULL, &error));
  g_assert_no_error(error);
  run.replies = g_string_free(replies, FALSE);
  run.log = mask_log(log);
  return run;
}

static void
assert_same_lines(const char *what, const char *arbor, const char *qemu)
{
  g_auto(GStrv) a = g_strsplit(arbor, "\n", 0);
  g_auto(GStrv) q = g_strsplit(qemu, "\n", 0);

  for (guint i = 0; a[i] != NULL || q[i] != NULL; i++) {
    if (g_strcmp0(a[i], q[i]) != 0) {
      for (guint j = i > 4 ? i - 4 : 0; j < i; j++)
        g_test_message("  same: %s", a[j]);
      g_test_message("%s differ at line %u: arbor '%s', QEMU '%s'", what, i + 1, a[i], q[i]);
      g_assert_cmpstr(a[i], ==, q[i]);
    }
    if (a[i] == NULL || q[i] == NULL)
      break;
  }
}

/* QEMU 7.2 writes its "ERR ..." reply to the log without the "[S +t] "
 * prefix (a quirk arbor does not copy); drop those lines on both sides. */
static char *
drop_err_lines(const char *log)
{
  g_auto(GStrv) lines = g_strsplit(log, "\n", 0);
  GString *out = g_string_new(NULL);

  for (guint i = 0; lines[i] != NULL; i++) {
    if (strstr(lines[i], "ERR invalid argument size") != NULL || lines[i][0] == '\0')
      continue;
    g_string_append_printf(out, "%s\n", lines[i]);
  }
  return g_string_free(out, FALSE);
}

static void
test_same_replies(void)
{
  g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
  g_autoptr(GError) error = NULL;
  g_autofree char *script = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *arbor_log = NULL, *qemu_log = NULL;
  Run a, q;

  if (qemu == NULL) {
    g_test_fail_printf("qemu-system-x86_64 is not installed: run scripts/deps.sh, which installs it");
    return;
  }
  g_assert_true(g_file_get_contents(g_test_get_filename(G_TEST_DIST, "qemu-compare.txt", NULL), &script, NULL,
                                    &error));
  g_assert_no_error(error);
  dir = g_dir_make_tmp("arbor-vs-qemu-XXXXXX", &error);
  g_assert_no_error(error);
  arbor_log = g_build_filename(dir, "arbor.log", NULL);
  qemu_log = g_build_filename(dir, "qemu.log", NULL);

  {
    const char *arbor_argv[] = { g_getenv("ARBOR_BINARY"), "-accel", "qtest", "-qtest", "stdio", "-qtest-log",
                                 arbor_log, "-display", "none", "-nodefaults", "-serial", "null", "-m", "128",
                                 NULL };
    const char *qemu_argv[] = { qemu, "-accel", "tcg", "-S", "-qtest", "stdio", "-qtest-log", qemu_log,
                                "-display", "none", "-nodefaults", "-serial", "null", "-m", "128", NULL };

    a = run_script(arbor_argv, script, arbor_log, FALSE);
    q = run_script(qemu_argv, script, qemu_log, TRUE);
  }

  assert_same_lines("replies", a.replies, q.replies);
  {
    g_autofree char *alog = drop_err_lines(a.log);
    g_autofree char *qlog = drop_err_lines(q.log);

    assert_same_lines("logs", alog, qlog);
  }

  g_free(a.replies);
  g_free(a.log);
  g_free(q.replies);
  g_free(q.log);
  g_unlink(arbor_log);
  g_unlink(qemu_log);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/qtest/vs-qemu/same-replies", test_same_replies);
  return g_test_run();
}
