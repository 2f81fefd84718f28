/* Stress of the vCPU machinery and of the memory API under live dispatch,
 * with the spinning test accelerator (tests/kvm/spin-accel.c): its vCPU
 * threads really run and dispatch I/O writes to a counting device, so
 * these run without KVM.
 *
 *  - 10,000 pause/resume cycles across 4 vCPUs: no hang, and after every
 *    pause each vCPU's own count (rax) equals what the device saw: nothing
 *    lost, nothing repeated.
 *  - Topology changes while 2 vCPUs dispatch: the main thread adds, removes,
 *    moves, enables and disables regions (alone and in transactions) next
 *    to and on top of the ports the vCPUs hammer; the vCPUs' accesses must
 *    all arrive exactly once, and the main thread's own reads must always
 *    see the region the model says is there.
 */
#include <arbor/arbor.h>

#include "spin-accel.h"

#define PORT_BASE 0x100
#define NPORTS    8

typedef struct {
  SpinAccel *accel;
  CountDevice *dev;
  ArborAddressSpace *io;
  ArborVcpuManager *manager;
} Fixture;

static void
drain_context(void)
{
  for (int i = 0; i < 10000 && g_main_context_iteration(NULL, FALSE); i++)
    ;
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
  fx->accel = spin_accel_new();
  fx->dev = count_device_new(NPORTS);
  fx->io = count_device_new_io_space(fx->dev, PORT_BASE);
  spin_accel_set_io(fx->accel, fx->io, PORT_BASE);
}

static void
fixture_create(Fixture *fx, guint count)
{
  g_autoptr(GError) error = NULL;

  fx->manager = arbor_vcpu_manager_new(ARBOR_ACCEL(fx->accel), NULL, count, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(fx->manager);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
  g_clear_object(&fx->manager);
  drain_context();
  g_clear_object(&fx->io);
  count_device_free(fx->dev);
  g_clear_object(&fx->accel);
}

static guint64
vcpu_rax(ArborVcpu *vcpu)
{
  g_autoptr(GError) error = NULL;
  ArborRegs regs;

  g_assert_true(arbor_vcpu_get_regs(vcpu, &regs, &error));
  g_assert_no_error(error);
  return regs.rax;
}

static void
check_consistent(Fixture *fx, guint nvcpus)
{
  for (guint i = 0; i < nvcpus; i++) {
    ArborVcpu *vcpu = arbor_vcpu_manager_get_vcpu(fx->manager, i);

    guint64 count = count_device_get_count(fx->dev, i);

    /* The spinning vCPUs write rax + 1 as a 32-bit port value, so on a busy
     * host a long run can pass 2^32 accesses: each wrap is one "not last +
     * 1" by design. Anything else is a lost or repeated access. */
    g_assert_cmpuint(count_device_get_errors(fx->dev, i), ==, count >> 32);
    g_assert_cmpuint(count_device_get_last(fx->dev, i), ==, count & G_MAXUINT32);
    g_assert_cmpuint(vcpu_rax(vcpu), ==, count);
  }
}

static void
test_pause_resume(Fixture *fx, gconstpointer data)
{
  const guint nvcpus = 4;
  const guint cycles = 10000;
  guint64 start[4];

  fixture_create(fx, nvcpus);
  arbor_vcpu_manager_run_all(fx->manager);
  for (guint c = 0; c < cycles; c++) {
    guint64 before[4];

    /* Every vCPU makes progress in every cycle (so pauses hit running
     * threads, mid-loop, not idle ones). */
    for (guint i = 0; i < nvcpus; i++)
      before[i] = count_device_get_count(fx->dev, i);
    for (guint i = 0; i < nvcpus; i++)
      count_device_wait_count(fx->dev, i, before[i] + 1);
    arbor_vcpu_manager_pause_all(fx->manager);
    g_assert_false(arbor_vcpu_manager_is_running(fx->manager));
    for (guint i = 0; i < nvcpus; i++) {
      ArborVcpu *vcpu = arbor_vcpu_manager_get_vcpu(fx->manager, i);
      guint64 rax = vcpu_rax(vcpu);

      g_assert_cmpint(arbor_vcpu_get_state(vcpu), ==, ARBOR_VCPU_STATE_PAUSED);
      /* Paused means paused: the count does not move any more. */
      g_assert_cmpuint(rax, ==, count_device_get_count(fx->dev, i));
      if (c == 0)
        start[i] = rax;
    }
    arbor_vcpu_manager_resume_all(fx->manager);
    if (c % 64 == 0)
      drain_context();
  }
  arbor_vcpu_manager_pause_all(fx->manager);
  check_consistent(fx, nvcpus);
  for (guint i = 0; i < nvcpus; i++)
    g_assert_cmpuint(count_device_get_count(fx->dev, i) - start[i], >=, cycles - 1);
  arbor_vcpu_manager_stop_all(fx->manager);
  drain_context();
}

/* ---- topology changes while 2 vCPUs dispatch ---------------------------- */

#define NPROBES 6
#define PROBE_BASE 0x400

typedef struct {
  ArborMemoryRegion *mr; /* owned */
  guint id;
  gboolean mapped;
  gboolean enabled;
  guint64 port;
  int prio;
} Probe;

static guint64
probe_read(gpointer opaque, guint64 addr, guint size)
{
  Probe *p = opaque;
  return 0xa000 + p->id * 0x10 + addr;
}

static void
probe_write(gpointer opaque, guint64 addr, guint size, guint64 value)
{
}

static const ArborMemoryRegionOps probe_ops = {
  .read = probe_read,
  .write = probe_write,
  .valid = { 1, 4, TRUE },
  .impl = { 1, 4, TRUE },
};

/* The value the main thread must read at @port, from the probes' model. */
static guint64
expected_at(Probe *probes, guint64 port)
{
  Probe *best = NULL;

  for (guint i = 0; i < NPROBES; i++) {
    Probe *p = &probes[i];
    if (!p->mapped || !p->enabled || port < p->port || port >= p->port + 4)
      continue;
    /* Higher priority wins; equal priorities never overlap here. */
    if (best == NULL || p->prio > best->prio)
      best = p;
  }
  return best == NULL ? G_MAXUINT32 : 0xa000 + best->id * 0x10 + (port - best->port);
}

static void
test_topology_while_dispatching(Fixture *fx, gconstpointer data)
{
  const guint nvcpus = 2;
  const guint rounds = 20000;
  ArborMemoryRegion *root = arbor_address_space_get_root(fx->io);
  Probe probes[NPROBES] = { 0 };
  g_autoptr(GRand) rand = g_rand_new_with_seed(6);
  guint64 last_counts[2] = { 0, 0 };

  for (guint i = 0; i < NPROBES; i++) {
    g_autofree char *name = g_strdup_printf("probe%u", i);
    probes[i].id = i;
    probes[i].enabled = TRUE;
    /* Two probes per priority level, each pair on its own ports. */
    probes[i].prio = (int) (i / 2);
    probes[i].mr = arbor_memory_region_new_io(name, 4, &probe_ops, &probes[i]);
  }

  fixture_create(fx, nvcpus);
  arbor_vcpu_manager_run_all(fx->manager);

  for (guint r = 0; r < rounds; r++) {
    guint which = g_rand_int_range(rand, 0, NPROBES);
    Probe *p = &probes[which];
    gboolean batch = g_rand_int_range(rand, 0, 4) == 0;

    if (batch)
      arbor_address_space_begin(fx->io);
    switch (g_rand_int_range(rand, 0, 4)) {
    case 0: /* map or unmap; probes of a pair share 16 ports, levels overlap */
      if (p->mapped) {
        arbor_memory_region_del_subregion(root, p->mr);
        p->mapped = FALSE;
      } else {
        p->port = PROBE_BASE + (which % 2) * 0x10 + (guint64) g_rand_int_range(rand, 0, 4) * 4;
        arbor_memory_region_add_subregion_overlap(root, p->port, p->mr, p->prio);
        p->mapped = TRUE;
      }
      break;
    case 1: /* move */
      if (p->mapped) {
        p->port = PROBE_BASE + (which % 2) * 0x10 + (guint64) g_rand_int_range(rand, 0, 4) * 4;
        arbor_memory_region_set_address(p->mr, p->port);
      }
      break;
    case 2:
      p->enabled = !p->enabled;
      arbor_memory_region_set_enabled(p->mr, p->enabled);
      break;
    default: /* a probe briefly on top of the count ports the vCPUs do not use */
      if (!p->mapped) {
        p->port = PORT_BASE + 4 * (guint64) g_rand_int_range(rand, nvcpus, NPORTS);
        arbor_memory_region_add_subregion_overlap(root, p->port, p->mr, 10 + p->prio);
        arbor_memory_region_del_subregion(root, p->mr);
      }
      break;
    }
    if (batch)
      arbor_address_space_commit(fx->io);

    /* The main thread's view after the change is exactly the model's. */
    for (guint64 port = PROBE_BASE; port < PROBE_BASE + 0x20; port += 2) {
      guint64 v = 0;
      ArborMemTxResult res = arbor_address_space_dispatch_read(fx->io, port, 1, &v);
      guint64 expect = expected_at(probes, port);

      if (expect == G_MAXUINT32) {
        g_assert_cmpint(res, ==, ARBOR_MEMTX_DECODE_ERROR);
        g_assert_cmphex(v, ==, 0xff);
      } else {
        g_assert_cmpint(res, ==, ARBOR_MEMTX_OK);
        g_assert_cmphex(v, ==, expect & 0xff);
      }
    }
    if (r % 1000 == 999) {
      /* The vCPUs kept going through all of it. */
      for (guint i = 0; i < nvcpus; i++) {
        count_device_wait_count(fx->dev, i, last_counts[i] + 1);
        last_counts[i] = count_device_get_count(fx->dev, i);
      }
      drain_context();
    }
  }

  arbor_vcpu_manager_pause_all(fx->manager);
  check_consistent(fx, nvcpus);
  for (guint i = nvcpus; i < NPORTS; i++)
    g_assert_cmpuint(count_device_get_count(fx->dev, i), ==, 0);
  arbor_vcpu_manager_stop_all(fx->manager);
  drain_context();

  for (guint i = 0; i < NPROBES; i++) {
    if (probes[i].mapped)
      arbor_memory_region_del_subregion(root, probes[i].mr);
    g_clear_object(&probes[i].mr);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add("/stress/vcpu/pause-resume-10000x4", Fixture, NULL, fixture_setup, test_pause_resume, fixture_teardown);
  g_test_add("/stress/memory/topology-while-2-vcpus-dispatch", Fixture, NULL, fixture_setup,
             test_topology_while_dispatching, fixture_teardown);
  return g_test_run();
}
