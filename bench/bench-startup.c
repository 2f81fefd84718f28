/* bench-startup: whole-process wall time and peak RSS (wait4's ru_maxrss)
 * of arbor against qemu-system-x86_64, measured in the same run.
 *
 * 1. accel=kvm: `arbor -accel kvm -m 64 -kernel quick.elf -display none
 *    -nodefaults -device isa-debug-exit` (a guest that exits at once) vs
 *    QEMU `-accel kvm -M microvm` with the same guest. Needs /dev/kvm.
 * 2. accel=qtest/tcg (runs everywhere): arbor `-accel qtest -m 64` from
 *    exec to a monitor `quit`, vs QEMU `-accel tcg -S -m 64` to the same
 *    `quit` (QEMU's qtest accelerator cannot be chosen on its own).
 *
 * Usage: bench-startup [--runs N]. Prints one line per pair:
 *   <label> startup_ratio=X arbor_peak_mib=Y
 * where X = arbor's median time / QEMU's median time. */
#include "arbor-config.h"

#include <glib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
  double ms;       /* median wall time */
  double peak_mib; /* median ru_maxrss */
  int status;      /* exit status of the last run */
  gboolean ok;
} Measure;

/* One run: fork, exec, feed @input, wait4. */
static gboolean
run_once(char **argv, const char *input, double *ms, double *peak_mib, int *status)
{
  int in[2];

  if (pipe(in) < 0)
    return FALSE;
  gint64 start = g_get_monotonic_time();
  pid_t pid = fork();
  if (pid < 0)
    return FALSE;
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(in[0], 0);
    dup2(null, 1);
    dup2(null, 2);
    close(in[1]);
    execv(argv[0], argv);
    _exit(127);
  }
  close(in[0]);
  if (input && write(in[1], input, strlen(input)) < 0)
    perror("bench-startup: write");
  close(in[1]);

  int wstatus;
  struct rusage ru;
  while (wait4(pid, &wstatus, 0, &ru) < 0) {
    if (errno != EINTR)
      return FALSE;
  }
  *ms = (g_get_monotonic_time() - start) / 1000.0;
  *peak_mib = ru.ru_maxrss / 1024.0;
  *status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return TRUE;
}

static int
cmp_double(gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y ? 1 : 0;
}

static Measure
measure(const char *const *argv, const char *input, guint runs, int want_status)
{
  g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(double));
  g_autoptr(GArray) peaks = g_array_new(FALSE, FALSE, sizeof(double));
  Measure m = { 0 };

  /* One warm-up run (page cache), not counted. */
  double ms, peak;
  int status;
  if (!run_once((char **)argv, input, &ms, &peak, &status))
    return m;
  for (guint i = 0; i < runs; i++) {
    if (!run_once((char **)argv, input, &ms, &peak, &status))
      return m;
    g_array_append_val(times, ms);
    g_array_append_val(peaks, peak);
  }
  g_array_sort(times, cmp_double);
  g_array_sort(peaks, cmp_double);
  m.ms = g_array_index(times, double, runs / 2);
  m.peak_mib = g_array_index(peaks, double, runs / 2);
  m.status = status;
  m.ok = status == want_status;
  return m;
}

static void
report(const char *label, const char *who, const Measure *m, int want)
{
  if (m->ok)
    printf("%s %s: median %.1f ms, peak RSS %.1f MiB\n", label, who, m->ms, m->peak_mib);
  else
    printf("%s %s: FAILED (exit status %d, expected %d)\n", label, who, m->status, want);
}

static void
compare(const char *label, const char *const *arbor, const char *const *qemu, const char *input, int want_arbor,
        int want_qemu, guint runs)
{
  Measure a = measure(arbor, input, runs, want_arbor);
  report(label, "arbor", &a, want_arbor);
  if (!a.ok)
    return;
  if (!qemu) {
    printf("%s qemu: skipped: qemu-system-x86_64 not installed\n", label);
    printf("%s arbor_peak_mib=%.1f\n", label, a.peak_mib);
    return;
  }
  Measure q = measure(qemu, input, runs, want_qemu);
  report(label, "qemu ", &q, want_qemu);
  if (!q.ok) {
    printf("%s arbor_peak_mib=%.1f (no QEMU baseline)\n", label, a.peak_mib);
    return;
  }
  printf("%s startup_ratio=%.3f arbor_peak_mib=%.1f (qemu %.1f ms / %.1f MiB)\n", label, a.ms / q.ms, a.peak_mib,
         q.ms, q.peak_mib);
}

int
main(int argc, char **argv)
{
  guint runs = 10;

  for (int i = 1; i < argc; i++) {
    if (g_str_equal(argv[i], "--runs") && i + 1 < argc)
      runs = (guint)MAX(1, atoi(argv[++i]));
    else {
      fprintf(stderr, "usage: bench-startup [--runs N]\n");
      return 1;
    }
  }

  /* Paths relative to this binary: build/bench/bench-startup. */
  g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
  g_autofree char *bench_dir = g_path_get_dirname(self ? self : argv[0]);
  g_autofree char *build = g_path_get_dirname(bench_dir);
  g_autofree char *arbor = g_getenv("ARBOR_BINARY") ? g_strdup(g_getenv("ARBOR_BINARY"))
                                                    : g_build_filename(build, "arbor", NULL);
  g_autofree char *guest = g_build_filename(build, "tests", "guests", "e2e", "quick.elf", NULL);
  g_autofree char *modules = g_build_filename(build, "accel", NULL);
  g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");

  if (!g_getenv("ARBOR_MODULE_DIR"))
    g_setenv("ARBOR_MODULE_DIR", modules, TRUE);
  if (!g_file_test(arbor, G_FILE_TEST_IS_EXECUTABLE)) {
    fprintf(stderr, "bench-startup: %s not found (build arbor first)\n", arbor);
    return 1;
  }
  printf("bench-startup: %u runs each, medians; arbor=%s qemu=%s\n", runs, arbor, qemu ? qemu : "(none)");

  /* 1. KVM, a guest that exits at once through isa-debug-exit (status 1). */
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    printf("accel=kvm skipped: /dev/kvm missing\n");
  } else {
    close(fd);
    if (!g_file_test(guest, G_FILE_TEST_EXISTS)) {
      printf("accel=kvm skipped: %s not built\n", guest);
    } else {
      const char *a[] = { arbor, "-accel", "kvm", "-m", "64", "-kernel", guest, "-display", "none", "-nodefaults",
                          "-device", "isa-debug-exit", NULL };
      const char *q[] = { qemu ? qemu : "", "-accel", "kvm", "-M", "microvm", "-m", "64", "-kernel", guest, "-display",
                          "none", "-nodefaults", "-device", "isa-debug-exit", NULL };
      compare("accel=kvm", a, qemu ? q : NULL, NULL, 1, 1, runs);
    }
  }

  /* 2. No guest code: from exec to the monitor's quit. */
  const char *a2[] = { arbor, "-accel", "qtest", "-m", "64", "-display", "none", "-nodefaults", "-monitor", "stdio",
                       NULL };
  const char *q2[] = { qemu ? qemu : "", "-accel", "tcg", "-S", "-m", "64", "-display", "none", "-nodefaults",
                       "-monitor", "stdio", NULL };
  compare("accel=qtest/tcg", a2, qemu ? q2 : NULL, "quit\n", 0, 0, runs);
  return 0;
}
