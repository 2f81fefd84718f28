/* ArborKvmAccel: the "kvm" accelerator: the VM, its memory slots, its
 * interrupt controller. The vCPU side is in kvm-vcpu.c. */
#include "arbor-config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <arbor/machine.h>

#include "kvm-private.h"

#define KVM_REQUIRED_API_VERSION 12
/* Three pages below the BIOS, as the usual PC layout: identity-map page, then the TSS. */
#define KVM_IDENTITY_MAP_ADDR 0xfeffc000ULL
#define KVM_TSS_ADDR 0xfeffd000ULL

struct _ArborKvmAccel {
  ArborAccel parent_instance;

  gboolean irqchip;                 /* property: in-kernel PIC/IOAPIC/LAPIC + PIT */
  int kvm_fd;                       /* owned, -1 when closed */
  int vm_fd;                        /* owned, -1 when closed */
  gsize vcpu_mmap_size;
  struct kvm_cpuid2 *cpuid;         /* owned (g_free) */
  gboolean readonly_mem;            /* KVM_CAP_READONLY_MEM */
  guint max_slots;
  ArborAddressSpace *memory;        /* owned */
  ArborAddressSpace *io;            /* owned */
  ArborKvmMemoryListener *listener; /* owned; also held by @memory while added */
  gint irq_warned;                  /* atomic: "no irqchip" said once */
};

enum {
  PROP_0,
  PROP_IRQCHIP,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_DYNAMIC_TYPE(ArborKvmAccel, arbor_kvm_accel, ARBOR_TYPE_ACCEL)

void
arbor_kvm_accel_register(GTypeModule *module)
{
  arbor_kvm_accel_register_type(module);
}

/* ---- init_machine steps ------------------------------------------------ */

static gboolean
kvm_open_device(ArborKvmAccel *self, GError **error)
{
  int err;

  self->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (self->kvm_fd >= 0)
    return TRUE;
  err = errno;
  switch (err) {
  case ENOENT:
  case ENODEV:
  case ENXIO:
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_NOT_SUPPORTED,
                "KVM is not available: /dev/kvm is missing (load kvm-intel/kvm-amd or enable nested "
                "virtualization)");
    break;
  case EACCES:
  case EPERM:
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_NOT_SUPPORTED,
                "permission denied opening /dev/kvm: add your user to the kvm group");
    break;
  default:
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_IO, "cannot open /dev/kvm: %s", g_strerror(err));
    break;
  }
  return FALSE;
}

static gboolean
kvm_check_api(ArborKvmAccel *self, GError **error)
{
  int version = arbor_kvm_ioctl(self->kvm_fd, KVM_GET_API_VERSION, 0);

  if (version < 0)
    return arbor_kvm_ioctl_error(error, "KVM_GET_API_VERSION", errno);
  if (version != KVM_REQUIRED_API_VERSION) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_NOT_SUPPORTED, "KVM API version %d, arbor needs %d", version,
                KVM_REQUIRED_API_VERSION);
    return FALSE;
  }
  return TRUE;
}

static int
kvm_check_extension(int fd, int cap)
{
  int ret = arbor_kvm_ioctl(fd, KVM_CHECK_EXTENSION, cap);

  return ret < 0 ? 0 : ret;
}

static gboolean
kvm_check_caps(ArborKvmAccel *self, GError **error)
{
  static const struct {
    int cap;
    const char *name;
  } required[] = {
    { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
    { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
    { KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
    { KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
    { KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
  };
  int slots;

  for (gsize i = 0; i < G_N_ELEMENTS(required); i++) {
    if (kvm_check_extension(self->kvm_fd, required[i].cap) <= 0) {
      g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_NOT_SUPPORTED,
                  "this kernel's KVM lacks %s, which arbor needs (a newer kernel has it)", required[i].name);
      return FALSE;
    }
  }
  if (self->irqchip && (kvm_check_extension(self->kvm_fd, KVM_CAP_IRQCHIP) <= 0 ||
                        kvm_check_extension(self->kvm_fd, KVM_CAP_PIT2) <= 0)) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_NOT_SUPPORTED,
                "an in-kernel irqchip was asked for but KVM lacks KVM_CAP_IRQCHIP or KVM_CAP_PIT2");
    return FALSE;
  }
  self->readonly_mem = kvm_check_extension(self->kvm_fd, KVM_CAP_READONLY_MEM) > 0;
  slots = kvm_check_extension(self->kvm_fd, KVM_CAP_NR_MEMSLOTS);
  self->max_slots = slots > 0 ? (guint)slots : 32;
  return TRUE;
}

static gboolean
kvm_create_vm(ArborKvmAccel *self, GError **error)
{
  int size;

  self->vm_fd = arbor_kvm_ioctl(self->kvm_fd, KVM_CREATE_VM, 0);
  if (self->vm_fd < 0)
    return arbor_kvm_ioctl_error(error, "KVM_CREATE_VM", errno);
  size = arbor_kvm_ioctl(self->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (size < (int)sizeof(struct kvm_run))
    return arbor_kvm_ioctl_error(error, "KVM_GET_VCPU_MMAP_SIZE", size < 0 ? errno : EINVAL);
  self->vcpu_mmap_size = (gsize)size;
  return TRUE;
}

/* Intel VMX needs the identity-map page and the TSS below 4 GiB, out of RAM. */
static gboolean
kvm_setup_x86(ArborKvmAccel *self, GError **error)
{
  guint64 identity = KVM_IDENTITY_MAP_ADDR;

  if (arbor_kvm_ioctl(self->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, (unsigned long)&identity) < 0)
    return arbor_kvm_ioctl_error(error, "KVM_SET_IDENTITY_MAP_ADDR", errno);
  if (arbor_kvm_ioctl(self->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
    return arbor_kvm_ioctl_error(error, "KVM_SET_TSS_ADDR", errno);
  return TRUE;
}

static gboolean
kvm_create_irqchip(ArborKvmAccel *self, GError **error)
{
  struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

  if (arbor_kvm_ioctl(self->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
    return arbor_kvm_ioctl_error(error, "KVM_CREATE_IRQCHIP", errno);
  if (arbor_kvm_ioctl(self->vm_fd, KVM_CREATE_PIT2, (unsigned long)&pit) < 0)
    return arbor_kvm_ioctl_error(error, "KVM_CREATE_PIT2", errno);
  return TRUE;
}

/* KVM_GET_SUPPORTED_CPUID, growing the buffer while the kernel says E2BIG. */
static gboolean
kvm_get_supported_cpuid(ArborKvmAccel *self, GError **error)
{
  for (guint nent = 64; nent <= 4096; nent *= 2) {
    struct kvm_cpuid2 *cpuid = g_malloc0(sizeof(*cpuid) + nent * sizeof(struct kvm_cpuid_entry2));

    cpuid->nent = nent;
    if (arbor_kvm_ioctl(self->kvm_fd, KVM_GET_SUPPORTED_CPUID, (unsigned long)cpuid) == 0) {
      self->cpuid = cpuid;
      return TRUE;
    }
    g_free(cpuid);
    if (errno != E2BIG)
      return arbor_kvm_ioctl_error(error, "KVM_GET_SUPPORTED_CPUID", errno);
  }
  return arbor_kvm_ioctl_error(error, "KVM_GET_SUPPORTED_CPUID", E2BIG);
}

static void
kvm_close(ArborKvmAccel *self)
{
  if (self->listener != NULL && self->memory != NULL)
    arbor_address_space_remove_listener(self->memory, ARBOR_MEMORY_LISTENER(self->listener));
  g_clear_object(&self->listener);
  g_clear_object(&self->memory);
  g_clear_object(&self->io);
  g_clear_pointer(&self->cpuid, g_free);
  if (self->vm_fd >= 0)
    close(self->vm_fd);
  if (self->kvm_fd >= 0)
    close(self->kvm_fd);
  self->vm_fd = -1;
  self->kvm_fd = -1;
}

static gboolean
kvm_init_machine(ArborAccel *accel, ArborMachine *machine, GError **error)
{
  ArborKvmAccel *self = ARBOR_KVM_ACCEL(accel);

  if (machine == NULL) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "the kvm accelerator needs a machine");
    return FALSE;
  }
  if (!kvm_open_device(self, error))
    goto fail;
  if (!kvm_check_api(self, error))
    goto fail;
  if (!kvm_check_caps(self, error))
    goto fail;
  if (!kvm_create_vm(self, error))
    goto fail;
  if (!kvm_setup_x86(self, error))
    goto fail;
  if (self->irqchip && !kvm_create_irqchip(self, error))
    goto fail;
  if (!kvm_get_supported_cpuid(self, error))
    goto fail;

  self->memory = g_object_ref(arbor_machine_get_memory(machine));
  self->io = g_object_ref(arbor_machine_get_io(machine));
  self->listener = arbor_kvm_memory_listener_new(self->vm_fd, self->readonly_mem, self->max_slots);
  /* Replays every current RAM/ROM section into a slot. */
  arbor_address_space_add_listener(self->memory, ARBOR_MEMORY_LISTENER(self->listener));
  g_debug("KVM VM ready: %u memory slots, read-only memory %s, irqchip %s, %u CPUID entries",
          self->max_slots, self->readonly_mem ? "yes" : "no", self->irqchip ? "in-kernel" : "none",
          self->cpuid->nent);
  return TRUE;

fail:
  kvm_close(self);
  return FALSE;
}

static void
kvm_set_irq(ArborAccel *accel, guint gsi, gboolean level)
{
  ArborKvmAccel *self = ARBOR_KVM_ACCEL(accel);
  struct kvm_irq_level irq = { .irq = gsi, .level = level ? 1 : 0 };

  if (!self->irqchip || self->vm_fd < 0) {
    if (g_atomic_int_compare_and_exchange(&self->irq_warned, 0, 1))
      g_message("GSI %u set to %d but the VM has no in-kernel irqchip: interrupts are dropped", gsi, level);
    return;
  }
  if (arbor_kvm_ioctl(self->vm_fd, KVM_IRQ_LINE, (unsigned long)&irq) < 0)
    g_warning("KVM_IRQ_LINE (GSI %u, level %d) failed: %s", gsi, level, g_strerror(errno));
}

/* ---- accessors for kvm-vcpu.c ------------------------------------------ */

int
arbor_kvm_accel_get_vm_fd(ArborKvmAccel *self)
{
  return self->vm_fd;
}

gsize
arbor_kvm_accel_get_vcpu_mmap_size(ArborKvmAccel *self)
{
  return self->vcpu_mmap_size;
}

const struct kvm_cpuid2 *
arbor_kvm_accel_get_cpuid(ArborKvmAccel *self)
{
  return self->cpuid;
}

gboolean
arbor_kvm_accel_has_irqchip(ArborKvmAccel *self)
{
  return self->irqchip;
}

ArborAddressSpace *
arbor_kvm_accel_get_memory(ArborKvmAccel *self)
{
  return self->memory;
}

ArborAddressSpace *
arbor_kvm_accel_get_io(ArborKvmAccel *self)
{
  return self->io;
}

/* ---- GObject ------------------------------------------------------------ */

static void
arbor_kvm_accel_dispose(GObject *object)
{
  kvm_close(ARBOR_KVM_ACCEL(object));
  G_OBJECT_CLASS(arbor_kvm_accel_parent_class)->dispose(object);
}

static void
arbor_kvm_accel_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  ArborKvmAccel *self = ARBOR_KVM_ACCEL(object);

  switch (prop_id) {
  case PROP_IRQCHIP:
    g_value_set_boolean(value, self->irqchip);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
arbor_kvm_accel_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  ArborKvmAccel *self = ARBOR_KVM_ACCEL(object);

  switch (prop_id) {
  case PROP_IRQCHIP:
    if (self->vm_fd >= 0) {
      g_warning("the kvm accelerator's irqchip property cannot change after init_machine");
      return;
    }
    self->irqchip = g_value_get_boolean(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
arbor_kvm_accel_class_init(ArborKvmAccelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  ArborAccelClass *accel_class = ARBOR_ACCEL_CLASS(klass);

  object_class->dispose = arbor_kvm_accel_dispose;
  object_class->get_property = arbor_kvm_accel_get_property;
  object_class->set_property = arbor_kvm_accel_set_property;

  accel_class->name = "kvm";
  accel_class->init_machine = kvm_init_machine;
  accel_class->vcpu_init = arbor_kvm_vcpu_init;
  accel_class->vcpu_destroy = arbor_kvm_vcpu_destroy;
  accel_class->vcpu_run = arbor_kvm_vcpu_run;
  accel_class->vcpu_kick = arbor_kvm_vcpu_kick;
  accel_class->vcpu_kick_clear = arbor_kvm_vcpu_kick_clear;
  accel_class->vcpu_get_regs = arbor_kvm_vcpu_get_regs;
  accel_class->vcpu_set_regs = arbor_kvm_vcpu_set_regs;
  accel_class->vcpu_get_sregs = arbor_kvm_vcpu_get_sregs;
  accel_class->vcpu_set_sregs = arbor_kvm_vcpu_set_sregs;
  accel_class->vcpu_reset = arbor_kvm_vcpu_reset;
  accel_class->set_irq = kvm_set_irq;

  /**
   * ArborKvmAccel:irqchip:
   * Create the in-kernel interrupt controllers (PIC, IOAPIC, LAPIC) and the
   * PIT at init_machine. Off by default; the emulator's machine turns it on.
   */
  properties[PROP_IRQCHIP] =
    g_param_spec_boolean("irqchip", NULL, NULL, FALSE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void
arbor_kvm_accel_class_finalize(ArborKvmAccelClass *klass)
{
}

static void
arbor_kvm_accel_init(ArborKvmAccel *self)
{
  self->kvm_fd = -1;
  self->vm_fd = -1;
}
