/* ArborQtestAccel: runs no guest code. vCPU threads exist (so the generic
 * vCPU machinery works the same as under kvm) but only wait to be kicked;
 * registers live in memory; interrupts are left to the qtest server's
 * interceptor. The machine gives it a virtual clock. */
#include "arbor-config.h"

#include <string.h>

#include <arbor/accel.h>
#include <arbor/vcpu.h>

#include "qtest-accel.h"

typedef struct {
  gboolean kicked; /* guarded by the accel's lock */
  ArborRegs regs;
  ArborSregs sregs;
} QtestVcpu;

struct _ArborQtestAccel {
  ArborAccel parent_instance;

  GMutex lock;
  GCond kick_cond;
  GHashTable *vcpus; /* ArborVcpu* (unowned key) -> QtestVcpu* (owned); guarded by lock */
};

G_DEFINE_DYNAMIC_TYPE(ArborQtestAccel, arbor_qtest_accel, ARBOR_TYPE_ACCEL)

/* x86 power-on state, as the SDM's "processor state after reset" table
 * (EDX holds a family-6 signature, as KVM's default CPUID reports). */
static void
qtest_vcpu_power_on(QtestVcpu *state, guint index)
{
  ArborSegment data_seg = { .base = 0, .limit = 0xffff, .selector = 0, .type = 3, .present = 1, .s = 1 };

  memset(&state->regs, 0, sizeof(state->regs));
  state->regs.rip = 0xfff0;
  state->regs.rflags = 0x2;
  state->regs.rdx = 0x600;

  memset(&state->sregs, 0, sizeof(state->sregs));
  state->sregs.cs = (ArborSegment){ .base = 0xffff0000, .limit = 0xffff, .selector = 0xf000,
                                    .type = 0xb, .present = 1, .s = 1 };
  state->sregs.ds = data_seg;
  state->sregs.es = data_seg;
  state->sregs.fs = data_seg;
  state->sregs.gs = data_seg;
  state->sregs.ss = data_seg;
  state->sregs.tr = (ArborSegment){ .limit = 0xffff, .type = 0xb, .present = 1 };
  state->sregs.ldt = (ArborSegment){ .limit = 0xffff, .type = 2, .present = 1 };
  state->sregs.gdt.limit = 0xffff;
  state->sregs.idt.limit = 0xffff;
  state->sregs.cr0 = 0x60000010;
  state->sregs.apic_base = 0xfee00000 | 0x800 | (index == 0 ? 0x100 : 0);
}

/* The state of @vcpu, created on first use (a kick can come before
 * vcpu_init has run on the vCPU thread). Called with the lock held. */
static QtestVcpu *
qtest_vcpu_lookup_locked(ArborQtestAccel *self, ArborVcpu *vcpu)
{
  QtestVcpu *state = g_hash_table_lookup(self->vcpus, vcpu);

  if (state == NULL) {
    state = g_new0(QtestVcpu, 1);
    qtest_vcpu_power_on(state, arbor_vcpu_get_index(vcpu));
    g_hash_table_insert(self->vcpus, vcpu, state);
  }
  return state;
}

static gboolean
qtest_init_machine(ArborAccel *accel, ArborMachine *machine, GError **error)
{
  g_debug("qtest: no guest code will run; the clock is virtual");
  return TRUE;
}

static gboolean
qtest_vcpu_init(ArborAccel *accel, ArborVcpu *vcpu, GError **error)
{
  ArborQtestAccel *self = ARBOR_QTEST_ACCEL(accel);

  g_mutex_lock(&self->lock);
  qtest_vcpu_lookup_locked(self, vcpu);
  g_mutex_unlock(&self->lock);
  return TRUE;
}

static void
qtest_vcpu_destroy(ArborAccel *accel, ArborVcpu *vcpu)
{
  ArborQtestAccel *self = ARBOR_QTEST_ACCEL(accel);

  g_mutex_lock(&self->lock);
  g_hash_table_remove(self->vcpus, vcpu);
  g_mutex_unlock(&self->lock);
}

/* Nothing to execute: sleep until the generic loop has something to say. */
static ArborVcpuRunResult
qtest_vcpu_run(ArborAccel *accel, ArborVcpu *vcpu, ArborVcpuExit *exit)
{
  ArborQtestAccel *self = ARBOR_QTEST_ACCEL(accel);
  QtestVcpu *state;

  g_mutex_lock(&self->lock);
  state = qtest_vcpu_lookup_locked(self, vcpu);
  while (!state->kicked)
    g_cond_wait(&self->kick_cond, &self->lock);
  g_mutex_unlock(&self->lock);
  arbor_vcpu_count_exit(vcpu, ARBOR_VCPU_STAT_INTR);
  return ARBOR_VCPU_RUN_INTERRUPTED;
}

static void
qtest_vcpu_kick(ArborAccel *accel, ArborVcpu *vcpu)
{
  ArborQtestAccel *self = ARBOR_QTEST_ACCEL(accel);

  g_mutex_lock(&self->lock);
  qtest_vcpu_lookup_locked(self, vcpu)->kicked = TRUE;
  g_cond_broadcast(&self->kick_cond);
  g_mutex_unlock(&self->lock);
}

static void
qtest_vcpu_kick_clear(ArborAccel *accel, ArborVcpu *vcpu)
{
  ArborQtestAccel *self = ARBOR_QTEST_ACCEL(accel);

  g_mutex_lock(&self->lock);
  qtest_vcpu_lookup_locked(self, vcpu)->kicked = FALSE;
  g_mutex_unlock(&self->lock);
}

static gboolean
qtest_vcpu_get_regs(ArborAccel *accel, ArborVcpu *vcpu, ArborRegs *regs, GError **error)
{
  ArborQtestAccel *self = ARBOR_QTEST_ACCEL(accel);

  g_mutex_lock(&self->lock);
  *regs = qtest_vcpu_lookup_locked(self, vcpu)->regs;
  g_mutex_unlock(&self->lock);
  return TRUE;
}

static gboolean
qtest_vcpu_set_regs(ArborAccel *accel, ArborVcpu *vcpu, const ArborRegs *regs, GError **error)
{
  ArborQtestAccel *self = ARBOR_QTEST_ACCEL(accel);

  g_mutex_lock(&self->lock);
  qtest_vcpu_lookup_locked(self, vcpu)->regs = *regs;
  g_mutex_unlock(&self->lock);
  return TRUE;
}

static gboolean
qtest_vcpu_get_sregs(ArborAccel *accel, ArborVcpu *vcpu, ArborSregs *sregs, GError **error)
{
  ArborQtestAccel *self = ARBOR_QTEST_ACCEL(accel);

  g_mutex_lock(&self->lock);
  *sregs = qtest_vcpu_lookup_locked(self, vcpu)->sregs;
  g_mutex_unlock(&self->lock);
  return TRUE;
}

static gboolean
qtest_vcpu_set_sregs(ArborAccel *accel, ArborVcpu *vcpu, const ArborSregs *sregs, GError **error)
{
  ArborQtestAccel *self = ARBOR_QTEST_ACCEL(accel);

  g_mutex_lock(&self->lock);
  qtest_vcpu_lookup_locked(self, vcpu)->sregs = *sregs;
  g_mutex_unlock(&self->lock);
  return TRUE;
}

static gboolean
qtest_vcpu_reset(ArborAccel *accel, ArborVcpu *vcpu, GError **error)
{
  ArborQtestAccel *self = ARBOR_QTEST_ACCEL(accel);

  g_mutex_lock(&self->lock);
  qtest_vcpu_power_on(qtest_vcpu_lookup_locked(self, vcpu), arbor_vcpu_get_index(vcpu));
  g_mutex_unlock(&self->lock);
  return TRUE;
}

/* Interrupt lines end in the qtest server's interceptor (irq_intercept_in);
 * without one there is no interrupt controller to drive. */
static void
qtest_set_irq(ArborAccel *accel, guint gsi, gboolean level)
{
}

static void
arbor_qtest_accel_finalize(GObject *object)
{
  ArborQtestAccel *self = ARBOR_QTEST_ACCEL(object);

  g_hash_table_unref(self->vcpus);
  g_cond_clear(&self->kick_cond);
  g_mutex_clear(&self->lock);
  G_OBJECT_CLASS(arbor_qtest_accel_parent_class)->finalize(object);
}

static void
arbor_qtest_accel_class_init(ArborQtestAccelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  ArborAccelClass *accel_class = ARBOR_ACCEL_CLASS(klass);

  object_class->finalize = arbor_qtest_accel_finalize;

  accel_class->name = "qtest";
  accel_class->virtual_clock = TRUE;
  accel_class->init_machine = qtest_init_machine;
  accel_class->vcpu_init = qtest_vcpu_init;
  accel_class->vcpu_destroy = qtest_vcpu_destroy;
  accel_class->vcpu_run = qtest_vcpu_run;
  accel_class->vcpu_kick = qtest_vcpu_kick;
  accel_class->vcpu_kick_clear = qtest_vcpu_kick_clear;
  accel_class->vcpu_get_regs = qtest_vcpu_get_regs;
  accel_class->vcpu_set_regs = qtest_vcpu_set_regs;
  accel_class->vcpu_get_sregs = qtest_vcpu_get_sregs;
  accel_class->vcpu_set_sregs = qtest_vcpu_set_sregs;
  accel_class->vcpu_reset = qtest_vcpu_reset;
  accel_class->set_irq = qtest_set_irq;
}

static void
arbor_qtest_accel_class_finalize(ArborQtestAccelClass *klass)
{
}

static void
arbor_qtest_accel_init(ArborQtestAccel *self)
{
  g_mutex_init(&self->lock);
  g_cond_init(&self->kick_cond);
  self->vcpus = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
}

void
arbor_qtest_accel_register(GTypeModule *module)
{
  arbor_qtest_accel_register_type(module);
}
