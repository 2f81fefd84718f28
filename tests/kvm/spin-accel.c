/* SpinAccel and CountDevice: see spin-accel.h. */
#include <string.h>

#include "spin-accel.h"

#define SPIN_MAX_VCPUS 64

typedef struct {
  gint kicked;     /* atomic: set by vcpu_kick, cleared by vcpu_kick_clear */
  ArborRegs regs;  /* rax: completed accesses */
  ArborSregs sregs;
  gboolean halted_once;
  guint index;
} SpinVcpu;

struct _SpinAccel {
  ArborAccel parent_instance;

  ArborAddressSpace *io; /* owned */
  guint16 port_base;
  guint64 halt_after;
  guint64 exit_after;
  int fail_init;
  guint64 run_calls[SPIN_MAX_VCPUS]; /* relaxed atomics */
};

G_DEFINE_FINAL_TYPE(SpinAccel, spin_accel, ARBOR_TYPE_ACCEL)

static gboolean
spin_init_machine(ArborAccel *accel, ArborMachine *machine, GError **error)
{
  SpinAccel *self = SPIN_ACCEL(accel);

  if (machine != NULL && self->io == NULL) {
    self->io = g_object_ref(arbor_machine_get_io(machine));
    self->port_base = 0x100;
  }
  return TRUE;
}

static gboolean
spin_vcpu_init(ArborAccel *accel, ArborVcpu *vcpu, GError **error)
{
  SpinAccel *self = SPIN_ACCEL(accel);
  SpinVcpu *sv;

  if (self->fail_init >= 0 && (guint)self->fail_init == arbor_vcpu_get_index(vcpu)) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_FAILED, "spin: vCPU init refused as asked");
    return FALSE;
  }
  if (arbor_vcpu_get_index(vcpu) >= SPIN_MAX_VCPUS) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "spin: at most %d vCPUs", SPIN_MAX_VCPUS);
    return FALSE;
  }
  sv = g_new0(SpinVcpu, 1);
  sv->index = arbor_vcpu_get_index(vcpu);
  arbor_vcpu_set_accel_data(vcpu, sv);
  return TRUE;
}

static void
spin_vcpu_destroy(ArborAccel *accel, ArborVcpu *vcpu)
{
  g_free(arbor_vcpu_get_accel_data(vcpu));
  arbor_vcpu_set_accel_data(vcpu, NULL);
}

static ArborVcpuRunResult
spin_vcpu_run(ArborAccel *accel, ArborVcpu *vcpu, ArborVcpuExit *exit)
{
  SpinAccel *self = SPIN_ACCEL(accel);
  SpinVcpu *sv = arbor_vcpu_get_accel_data(vcpu);
  guint16 port = self->port_base + 4 * sv->index;

  __atomic_fetch_add(&self->run_calls[sv->index], 1, __ATOMIC_RELAXED);
  for (;;) {
    if (g_atomic_int_get(&sv->kicked)) {
      arbor_vcpu_count_exit(vcpu, ARBOR_VCPU_STAT_INTR);
      return ARBOR_VCPU_RUN_INTERRUPTED;
    }
    if (self->exit_after != 0 && sv->regs.rax >= self->exit_after) {
      exit->reason = ARBOR_VCPU_EXIT_SHUTDOWN;
      exit->hw_reason = 8;
      g_snprintf(exit->description, sizeof(exit->description), "spin: shutdown after %" G_GUINT64_FORMAT
                 " accesses", sv->regs.rax);
      return ARBOR_VCPU_RUN_EXITED;
    }
    if (self->halt_after != 0 && !sv->halted_once && sv->regs.rax >= self->halt_after) {
      sv->halted_once = TRUE;
      arbor_vcpu_count_exit(vcpu, ARBOR_VCPU_STAT_HLT);
      return ARBOR_VCPU_RUN_HALTED;
    }
    if (self->io != NULL)
      arbor_address_space_dispatch_write(self->io, port, 4, sv->regs.rax + 1);
    arbor_vcpu_count_exit(vcpu, ARBOR_VCPU_STAT_IO_OUT);
    sv->regs.rax++;
    sv->regs.rip++;
  }
}

static void
spin_vcpu_kick(ArborAccel *accel, ArborVcpu *vcpu)
{
  SpinVcpu *sv = arbor_vcpu_get_accel_data(vcpu);

  g_atomic_int_set(&sv->kicked, 1);
}

static void
spin_vcpu_kick_clear(ArborAccel *accel, ArborVcpu *vcpu)
{
  SpinVcpu *sv = arbor_vcpu_get_accel_data(vcpu);

  g_atomic_int_set(&sv->kicked, 0);
}

static gboolean
spin_get_regs(ArborAccel *accel, ArborVcpu *vcpu, ArborRegs *regs, GError **error)
{
  *regs = ((SpinVcpu *)arbor_vcpu_get_accel_data(vcpu))->regs;
  return TRUE;
}

static gboolean
spin_set_regs(ArborAccel *accel, ArborVcpu *vcpu, const ArborRegs *regs, GError **error)
{
  ((SpinVcpu *)arbor_vcpu_get_accel_data(vcpu))->regs = *regs;
  return TRUE;
}

static gboolean
spin_get_sregs(ArborAccel *accel, ArborVcpu *vcpu, ArborSregs *sregs, GError **error)
{
  *sregs = ((SpinVcpu *)arbor_vcpu_get_accel_data(vcpu))->sregs;
  return TRUE;
}

static gboolean
spin_set_sregs(ArborAccel *accel, ArborVcpu *vcpu, const ArborSregs *sregs, GError **error)
{
  ((SpinVcpu *)arbor_vcpu_get_accel_data(vcpu))->sregs = *sregs;
  return TRUE;
}

static gboolean
spin_reset(ArborAccel *accel, ArborVcpu *vcpu, GError **error)
{
  SpinVcpu *sv = arbor_vcpu_get_accel_data(vcpu);

  memset(&sv->regs, 0, sizeof(sv->regs));
  memset(&sv->sregs, 0, sizeof(sv->sregs));
  sv->halted_once = FALSE;
  return TRUE;
}

static void
spin_accel_finalize(GObject *object)
{
  g_clear_object(&SPIN_ACCEL(object)->io);
  G_OBJECT_CLASS(spin_accel_parent_class)->finalize(object);
}

static void
spin_accel_class_init(SpinAccelClass *klass)
{
  ArborAccelClass *accel_class = ARBOR_ACCEL_CLASS(klass);

  G_OBJECT_CLASS(klass)->finalize = spin_accel_finalize;
  accel_class->name = "spin";
  accel_class->init_machine = spin_init_machine;
  accel_class->vcpu_init = spin_vcpu_init;
  accel_class->vcpu_destroy = spin_vcpu_destroy;
  accel_class->vcpu_run = spin_vcpu_run;
  accel_class->vcpu_kick = spin_vcpu_kick;
  accel_class->vcpu_kick_clear = spin_vcpu_kick_clear;
  accel_class->vcpu_get_regs = spin_get_regs;
  accel_class->vcpu_set_regs = spin_set_regs;
  accel_class->vcpu_get_sregs = spin_get_sregs;
  accel_class->vcpu_set_sregs = spin_set_sregs;
  accel_class->vcpu_reset = spin_reset;
}

static void
spin_accel_init(SpinAccel *self)
{
  self->fail_init = -1;
}

SpinAccel *
spin_accel_new(void)
{
  return g_object_new(SPIN_TYPE_ACCEL, NULL);
}

void
spin_accel_set_io(SpinAccel *self, ArborAddressSpace *io, guint16 port_base)
{
  g_set_object(&self->io, io);
  self->port_base = port_base;
}

void
spin_accel_set_halt_after(SpinAccel *self, guint64 n)
{
  self->halt_after = n;
}

void
spin_accel_set_exit_after(SpinAccel *self, guint64 n)
{
  self->exit_after = n;
}

void
spin_accel_set_fail_init(SpinAccel *self, int index)
{
  self->fail_init = index;
}

guint64
spin_accel_get_run_calls(SpinAccel *self, guint index)
{
  g_return_val_if_fail(index < SPIN_MAX_VCPUS, 0);
  return __atomic_load_n(&self->run_calls[index], __ATOMIC_RELAXED);
}

/* ---- CountDevice ----------------------------------------------------------- */

/* One writer per port (its vCPU): counters are relaxed-free atomics, and
 * the lock is taken only to wake a waiter. */
typedef struct {
  GMutex lock;
  GCond cond;
  gint waiters;   /* atomic */
  guint64 count;  /* atomic */
  guint64 last;   /* atomic */
  guint64 errors; /* atomic */
} CountPort;

struct _CountDevice {
  guint nports;
  CountPort *ports;        /* owned array */
  ArborMemoryRegion *mr;   /* owned */
};

static guint64
count_device_read(gpointer opaque, guint64 addr, guint size)
{
  CountDevice *dev = opaque;

  return __atomic_load_n(&dev->ports[addr / 4].last, __ATOMIC_SEQ_CST);
}

static void
count_device_write(gpointer opaque, guint64 addr, guint size, guint64 value)
{
  CountDevice *dev = opaque;
  CountPort *port = &dev->ports[addr / 4];

  if (value != __atomic_load_n(&port->last, __ATOMIC_RELAXED) + 1)
    __atomic_fetch_add(&port->errors, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&port->last, value, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&port->count, 1, __ATOMIC_SEQ_CST);
  if (g_atomic_int_get(&port->waiters) > 0) {
    g_mutex_lock(&port->lock);
    g_cond_broadcast(&port->cond);
    g_mutex_unlock(&port->lock);
  }
}

static const ArborMemoryRegionOps count_device_ops = {
  .read = count_device_read,
  .write = count_device_write,
  .valid = { .min_access_size = 4, .max_access_size = 4 },
  .impl = { .min_access_size = 4, .max_access_size = 4 },
};

CountDevice *
count_device_new(guint nports)
{
  CountDevice *dev = g_new0(CountDevice, 1);

  dev->nports = nports;
  dev->ports = g_new0(CountPort, nports);
  for (guint i = 0; i < nports; i++) {
    g_mutex_init(&dev->ports[i].lock);
    g_cond_init(&dev->ports[i].cond);
  }
  dev->mr = arbor_memory_region_new_io("count-device", 4 * nports, &count_device_ops, dev);
  return dev;
}

void
count_device_free(CountDevice *dev)
{
  g_clear_object(&dev->mr);
  for (guint i = 0; i < dev->nports; i++) {
    g_mutex_clear(&dev->ports[i].lock);
    g_cond_clear(&dev->ports[i].cond);
  }
  g_free(dev->ports);
  g_free(dev);
}

ArborMemoryRegion *
count_device_get_region(CountDevice *dev)
{
  return dev->mr;
}

guint64
count_device_get_count(CountDevice *dev, guint port)
{
  return __atomic_load_n(&dev->ports[port].count, __ATOMIC_SEQ_CST);
}

guint64
count_device_get_last(CountDevice *dev, guint port)
{
  return __atomic_load_n(&dev->ports[port].last, __ATOMIC_SEQ_CST);
}

guint64
count_device_get_errors(CountDevice *dev, guint port)
{
  return __atomic_load_n(&dev->ports[port].errors, __ATOMIC_SEQ_CST);
}

void
count_device_wait_count(CountDevice *dev, guint port, guint64 count)
{
  CountPort *p = &dev->ports[port];

  if (count_device_get_count(dev, port) >= count)
    return;
  g_mutex_lock(&p->lock);
  g_atomic_int_inc(&p->waiters);
  while (count_device_get_count(dev, port) < count)
    g_cond_wait(&p->cond, &p->lock);
  g_atomic_int_add(&p->waiters, -1);
  g_mutex_unlock(&p->lock);
}

ArborAddressSpace *
count_device_new_io_space(CountDevice *dev, guint16 port_base)
{
  g_autoptr(ArborMemoryRegion) root = arbor_memory_region_new_container("io", 0x10000);

  arbor_memory_region_add_subregion(root, port_base, dev->mr);
  return arbor_address_space_new("io", root, ARBOR_ADDRESS_SPACE_IO);
}
