/* Internals shared by the files of the KVM accelerator module. */
#pragma once

#include <errno.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include <arbor/accel.h>
#include <arbor/address-space.h>
#include <arbor/memory-listener.h>
#include <arbor/vcpu.h>

G_BEGIN_DECLS

/* ArborKvmAccel: the "kvm" accelerator (kvm-accel.c). */
#define ARBOR_TYPE_KVM_ACCEL (arbor_kvm_accel_get_type())
G_DECLARE_FINAL_TYPE(ArborKvmAccel, arbor_kvm_accel, ARBOR, KVM_ACCEL, ArborAccel)

void arbor_kvm_accel_register(GTypeModule *module);

int arbor_kvm_accel_get_vm_fd(ArborKvmAccel *self);
gsize arbor_kvm_accel_get_vcpu_mmap_size(ArborKvmAccel *self);
/* KVM_GET_SUPPORTED_CPUID, as read once at init (owned by the accel). */
const struct kvm_cpuid2 *arbor_kvm_accel_get_cpuid(ArborKvmAccel *self);
gboolean arbor_kvm_accel_has_irqchip(ArborKvmAccel *self);
/* The machine's address spaces (owned by the accel while it lives). */
ArborAddressSpace *arbor_kvm_accel_get_memory(ArborKvmAccel *self);
ArborAddressSpace *arbor_kvm_accel_get_io(ArborKvmAccel *self);

/* The vCPU operations (kvm-vcpu.c), installed as the class vfuncs. */
gboolean arbor_kvm_vcpu_init(ArborAccel *accel, ArborVcpu *vcpu, GError **error);
void arbor_kvm_vcpu_destroy(ArborAccel *accel, ArborVcpu *vcpu);
ArborVcpuRunResult arbor_kvm_vcpu_run(ArborAccel *accel, ArborVcpu *vcpu, ArborVcpuExit *exit);
void arbor_kvm_vcpu_kick(ArborAccel *accel, ArborVcpu *vcpu);
void arbor_kvm_vcpu_kick_clear(ArborAccel *accel, ArborVcpu *vcpu);
gboolean arbor_kvm_vcpu_get_regs(ArborAccel *accel, ArborVcpu *vcpu, ArborRegs *regs, GError **error);
gboolean arbor_kvm_vcpu_set_regs(ArborAccel *accel, ArborVcpu *vcpu, const ArborRegs *regs, GError **error);
gboolean arbor_kvm_vcpu_get_sregs(ArborAccel *accel, ArborVcpu *vcpu, ArborSregs *sregs, GError **error);
gboolean arbor_kvm_vcpu_set_sregs(ArborAccel *accel, ArborVcpu *vcpu, const ArborSregs *sregs, GError **error);
gboolean arbor_kvm_vcpu_reset(ArborAccel *accel, ArborVcpu *vcpu, GError **error);

/* ArborKvmMemoryListener: maps RAM/ROM sections into KVM memory slots
 * (kvm-memory.c). */
#define ARBOR_TYPE_KVM_MEMORY_LISTENER (arbor_kvm_memory_listener_get_type())
G_DECLARE_FINAL_TYPE(ArborKvmMemoryListener, arbor_kvm_memory_listener, ARBOR, KVM_MEMORY_LISTENER, GObject)

void arbor_kvm_memory_listener_register(GTypeModule *module);
/* @vm_fd stays owned by the caller and must outlive the listener's use. */
ArborKvmMemoryListener *arbor_kvm_memory_listener_new(int vm_fd, gboolean readonly_mem, guint max_slots);
guint arbor_kvm_memory_listener_get_slot_count(ArborKvmMemoryListener *self);

/* ioctl() that retries on EINTR: for setup calls, never for KVM_RUN. */
static inline int
arbor_kvm_ioctl(int fd, unsigned long request, unsigned long arg)
{
  int ret;

  do
    ret = ioctl(fd, request, arg);
  while (ret < 0 && errno == EINTR);
  return ret;
}

/* A GError for a failed ioctl, with its name and errno. */
static inline gboolean
arbor_kvm_ioctl_error(GError **error, const char *what, int err)
{
  g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_IO, "%s failed: %s", what, g_strerror(err));
  return FALSE;
}

G_END_DECLS
