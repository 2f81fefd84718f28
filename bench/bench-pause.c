/* bench-pause: latency of pause-all (request to every vCPU parked) and of
 * resume-all (request to every vCPU running) with 1, 2, 4 and 8 vCPUs
 * spinning. Two accelerators: "spin" (in-process vCPUs spinning on the
 * host CPU: the thread machinery alone, runs anywhere) and "kvm" (guests
 * spinning in KVM_RUN; skipped without /dev/kvm).
 *   bench-pause [--rounds N] [--accel spin|kvm|all]  */
#include <stdio.h>
#include <stdlib.h>

#include <arbor/arbor.h>

#include "guest-util.h"
#include "spin-accel.h"

static int
compare_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static double
percentile(double *v, guint n, double p)
{
  guint i = (guint)(p * (n - 1) + 0.5);

  return v[MIN(i, n - 1)];
}

/* Runs the rounds on an already running manager; prints one line. */
static void
measure(const char *accel, ArborVcpuManager *manager, guint nvcpus, guint rounds)
{
  g_autofree double *pause_us = g_new(double, rounds);
  g_autofree double *resume_us = g_new(double, rounds);

  for (guint r = 0; r < rounds; r++) {
    gint64 t0, t1, t2;

    /* Let every vCPU spin a little before each round. */
    g_usleep(2000);
    t0 = g_get_monotonic_time();
    arbor_vcpu_manager_pause_all(manager);
    t1 = g_get_monotonic_time();
    arbor_vcpu_manager_resume_all(manager);
    t2 = g_get_monotonic_time();
    pause_us[r] = (double)(t1 - t0);
    resume_us[r] = (double)(t2 - t1);
    while (g_main_context_iteration(NULL, FALSE))
      ;
  }
  qsort(pause_us, rounds, sizeof(double), compare_double);
  qsort(resume_us, rounds, sizeof(double), compare_double);
  printf("accel=%s vcpus=%u pause_median_us=%.1f pause_p99_us=%.1f resume_median_us=%.1f\n", accel, nvcpus,
         percentile(pause_us, rounds, 0.5), percentile(pause_us, rounds, 0.99), percentile(resume_us, rounds, 0.5));
  fflush(stdout);
}

static gboolean
run_spin(guint nvcpus, guint rounds, GError **error)
{
  g_autoptr(SpinAccel) accel = spin_accel_new();
  CountDevice *dev = count_device_new(nvcpus);
  g_autoptr(ArborAddressSpace) io = count_device_new_io_space(dev, 0x100);
  g_autoptr(ArborVcpuManager) manager = NULL;

  spin_accel_set_io(accel, io, 0x100);
  manager = arbor_vcpu_manager_new(ARBOR_ACCEL(accel), NULL, nvcpus, NULL, error);
  if (manager == NULL) {
    count_device_free(dev);
    return FALSE;
  }
  arbor_vcpu_manager_run_all(manager);
  measure("spin", manager, nvcpus, rounds);
  g_clear_object(&manager);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  count_device_free(dev);
  return TRUE;
}

static gboolean
run_kvm(guint nvcpus, guint rounds, GError **error)
{
  g_autoptr(ArborMachine) machine = arbor_machine_new(2 * 1024 * 1024, nvcpus, NULL, error);
  g_autoptr(ArborAccel) accel = NULL;
  ArborVcpuManager *manager;

  if (machine == NULL)
    return FALSE;
  accel = arbor_accel_new("kvm", error);
  if (accel == NULL || !arbor_machine_set_accel(machine, accel, error))
    return FALSE;
  if (!guest_util_load(machine, ARBOR_GUEST_DIR "/pm32-spin.bin", 0x1000, error))
    return FALSE;
  manager = arbor_machine_get_vcpu_manager(machine);
  for (guint i = 0; i < nvcpus; i++) {
    if (!guest_util_set_pm32(arbor_vcpu_manager_get_vcpu(manager, i), 0x1000, NULL, error))
      return FALSE;
  }
  arbor_vcpu_manager_run_all(manager);
  measure("kvm", manager, nvcpus, rounds);
  arbor_machine_shutdown(machine);
  return TRUE;
}

int
main(int argc, char **argv)
{
  static const guint counts[] = { 1, 2, 4, 8 };
  g_autoptr(GError) error = NULL;
  g_autofree char *which = NULL;
  int rounds = 200;
  GOptionEntry entries[] = {
    { "rounds", 'n', 0, G_OPTION_ARG_INT, &rounds, "pause/resume rounds per vCPU count (200)", "N" },
    { "accel", 'a', 0, G_OPTION_ARG_STRING, &which, "spin, kvm or all (all)", "NAME" },
    { NULL },
  };
  g_autoptr(GOptionContext) context = g_option_context_new("- vCPU pause/resume latency");
  gboolean do_spin, do_kvm;

  g_option_context_add_main_entries(context, entries, NULL);
  if (!g_option_context_parse(context, &argc, &argv, &error) || rounds < 1) {
    fprintf(stderr, "bench-pause: %s\n", error != NULL ? error->message : "--rounds must be at least 1");
    return 2;
  }
  do_spin = which == NULL || g_str_equal(which, "all") || g_str_equal(which, "spin");
  do_kvm = which == NULL || g_str_equal(which, "all") || g_str_equal(which, "kvm");

  printf("# bench-pause: pause-all and resume-all latency, %d rounds, %u host CPUs\n", rounds,
         g_get_num_processors());
  for (gsize i = 0; do_spin && i < G_N_ELEMENTS(counts); i++) {
    if (!run_spin(counts[i], (guint)rounds, &error)) {
      fprintf(stderr, "bench-pause: %s\n", error->message);
      return 1;
    }
  }
  if (do_kvm && guest_util_kvm_missing()) {
    printf("accel=kvm skipped: /dev/kvm missing\n");
    return 0;
  }
  for (gsize i = 0; do_kvm && i < G_N_ELEMENTS(counts); i++) {
    if (!run_kvm(counts[i], (guint)rounds, &error)) {
      fprintf(stderr, "bench-pause: %s\n", error->message);
      return 1;
    }
  }
  return 0;
}
