/* bench-scaling: exits per second with 2 vCPUs each hammering its own
 * device, against 1 vCPU; scaling = rate(2) / rate(1). With no global lock
 * on dispatch it approaches 2 on a machine with 2 free cores. "spin":
 * in-process vCPUs dispatching port writes (runs anywhere); "kvm": the
 * pm32-count guest (one port write and one MMIO write per iteration).
 *   bench-scaling [--seconds S] [--accel spin|kvm|all]  */
#include <stdio.h>

#include <arbor/arbor.h>

#include "guest-util.h"
#include "spin-accel.h"

/* Accesses per second summed over @nvcpus vCPUs during @seconds. */
static double
measure_rate(ArborVcpuManager *manager, CountDevice *dev, guint nvcpus, double seconds)
{
  guint64 before = 0, after = 0;
  gint64 t0, t1;

  arbor_vcpu_manager_run_all(manager);
  g_usleep(100000); /* warm up */
  for (guint i = 0; i < nvcpus; i++)
    before += count_device_get_count(dev, i);
  t0 = g_get_monotonic_time();
  g_usleep((gulong)(seconds * G_USEC_PER_SEC));
  for (guint i = 0; i < nvcpus; i++)
    after += count_device_get_count(dev, i);
  t1 = g_get_monotonic_time();
  arbor_vcpu_manager_pause_all(manager);
  return (double)(after - before) * G_USEC_PER_SEC / (double)(t1 - t0);
}

static gboolean
spin_rate(guint nvcpus, double seconds, double *rate, GError **error)
{
  g_autoptr(SpinAccel) accel = spin_accel_new();
  CountDevice *dev = count_device_new(nvcpus);
  g_autoptr(ArborAddressSpace) io = count_device_new_io_space(dev, 0x100);
  g_autoptr(ArborVcpuManager) manager = NULL;

  spin_accel_set_io(accel, io, 0x100);
  manager = arbor_vcpu_manager_new(ARBOR_ACCEL(accel), NULL, nvcpus, NULL, error);
  if (manager != NULL)
    *rate = measure_rate(manager, dev, nvcpus, seconds);
  g_clear_object(&manager);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  count_device_free(dev);
  return *rate > 0;
}

static gboolean
kvm_rate(guint nvcpus, double seconds, double *rate, GError **error)
{
  g_autoptr(ArborMachine) machine = arbor_machine_new(2 * 1024 * 1024, nvcpus, NULL, error);
  g_autoptr(ArborAccel) accel = NULL;
  CountDevice *ports = count_device_new(nvcpus);
  CountDevice *mmio = count_device_new(nvcpus);
  ArborVcpuManager *manager;
  gboolean ok = FALSE;

  if (machine == NULL)
    goto out;
  arbor_memory_region_add_subregion(arbor_machine_get_system_io(machine), 0x100, count_device_get_region(ports));
  arbor_memory_region_add_subregion(arbor_machine_get_system_memory(machine), 0xa1000,
                                    count_device_get_region(mmio));
  accel = arbor_accel_new("kvm", error);
  if (accel == NULL || !arbor_machine_set_accel(machine, accel, error))
    goto out;
  if (!guest_util_load(machine, ARBOR_GUEST_DIR "/pm32-count.bin", 0x1000, error))
    goto out;
  manager = arbor_machine_get_vcpu_manager(machine);
  for (guint i = 0; i < nvcpus; i++) {
    ArborRegs regs = { .rdx = 0x100 + 4 * i, .rbx = 0xa1000 + 4 * i };

    if (!guest_util_set_pm32(arbor_vcpu_manager_get_vcpu(manager, i), 0x1000, &regs, error))
      goto out;
  }
  /* Each iteration is one port exit and one MMIO exit: count both. */
  *rate = 2 * measure_rate(manager, ports, nvcpus, seconds);
  ok = TRUE;
out:
  if (machine != NULL) {
    arbor_machine_shutdown(machine);
    arbor_memory_region_del_subregion(arbor_machine_get_system_io(machine), count_device_get_region(ports));
    arbor_memory_region_del_subregion(arbor_machine_get_system_memory(machine), count_device_get_region(mmio));
  }
  g_clear_object(&machine);
  count_device_free(ports);
  count_device_free(mmio);
  return ok;
}

typedef gboolean (*RateFunc)(guint nvcpus, double seconds, double *rate, GError **error);

static gboolean
run(const char *name, RateFunc func, double seconds, GError **error)
{
  double one = 0, two = 0;

  if (!func(1, seconds, &one, error) || !func(2, seconds, &two, error))
    return FALSE;
  printf("accel=%s exits_per_s_1vcpu=%.0f exits_per_s_2vcpus=%.0f scaling=%.2f\n", name, one, two, two / one);
  fflush(stdout);
  return TRUE;
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *which = NULL;
  double seconds = 1.0;
  GOptionEntry entries[] = {
    { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds, "measuring time per run (1.0)", "S" },
    { "accel", 'a', 0, G_OPTION_ARG_STRING, &which, "spin, kvm or all (all)", "NAME" },
    { NULL },
  };
  g_autoptr(GOptionContext) context = g_option_context_new("- exit throughput, 2 vCPUs vs 1");

  g_option_context_add_main_entries(context, entries, NULL);
  if (!g_option_context_parse(context, &argc, &argv, &error) || seconds <= 0) {
    fprintf(stderr, "bench-scaling: %s\n", error != NULL ? error->message : "--seconds must be positive");
    return 2;
  }
  printf("# bench-scaling: %u host CPUs, load average matters (run on an idle machine)\n", g_get_num_processors());
  if (which == NULL || g_str_equal(which, "all") || g_str_equal(which, "spin")) {
    if (!run("spin", spin_rate, seconds, &error)) {
      fprintf(stderr, "bench-scaling: %s\n", error != NULL ? error->message : "no progress");
      return 1;
    }
  }
  if (which == NULL || g_str_equal(which, "all") || g_str_equal(which, "kvm")) {
    if (guest_util_kvm_missing()) {
      printf("accel=kvm skipped: /dev/kvm missing\n");
      return 0;
    }
    if (!run("kvm", kvm_rate, seconds, &error)) {
      fprintf(stderr, "bench-scaling: %s\n", error != NULL ? error->message : "no progress");
      return 1;
    }
  }
  return 0;
}
