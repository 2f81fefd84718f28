/* ArborKvmMemoryListener: every RAM (and, with KVM_CAP_READONLY_MEM, ROM)
 * section of the memory address space becomes a KVM memory slot. Sections
 * come and go while vCPUs run: KVM_SET_USER_MEMORY_REGION is safe against
 * concurrent KVM_RUN (a vCPU touching a slot being removed gets an MMIO
 * exit and the address space answers). I/O sections stay MMIO exits. */
#include "arbor-config.h"

#include <unistd.h>

#include "kvm-private.h"

typedef struct {
  gboolean used;
  guint64 gpa;
  guint64 size;
  gpointer host;
  guint32 flags;
} KvmSlot;

struct _ArborKvmMemoryListener {
  GObject parent_instance;

  int vm_fd;            /* unowned: the accelerator's VM */
  gboolean readonly_mem;
  guint max_slots;
  GArray *slots;        /* owned, of KvmSlot, indexed by slot number */
};

static void arbor_kvm_memory_listener_iface_init(ArborMemoryListenerInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED(ArborKvmMemoryListener, arbor_kvm_memory_listener, G_TYPE_OBJECT, 0,
                               G_IMPLEMENT_INTERFACE_DYNAMIC(ARBOR_TYPE_MEMORY_LISTENER,
                                                             arbor_kvm_memory_listener_iface_init))

void
arbor_kvm_memory_listener_register(GTypeModule *module)
{
  arbor_kvm_memory_listener_register_type(module);
}

static gboolean
kvm_slot_set(ArborKvmMemoryListener *self, guint index, const KvmSlot *slot, GError **error)
{
  struct kvm_userspace_memory_region region = {
    .slot = index,
    .flags = slot->flags,
    .guest_phys_addr = slot->gpa,
    .memory_size = slot->used ? slot->size : 0,
    .userspace_addr = (guint64)(guintptr)slot->host,
  };

  if (arbor_kvm_ioctl(self->vm_fd, KVM_SET_USER_MEMORY_REGION, (unsigned long)&region) < 0)
    return arbor_kvm_ioctl_error(error, "KVM_SET_USER_MEMORY_REGION", errno);
  return TRUE;
}

/* The page-aligned part of @section that a slot can map; FALSE if none. */
static gboolean
kvm_section_to_slot(ArborKvmMemoryListener *self, const ArborMemorySection *section, KvmSlot *slot)
{
  guint64 page = (guint64)sysconf(_SC_PAGESIZE);
  guint64 start, end;

  if (section->host == NULL || section->size == 0)
    return FALSE;
  if (section->readonly && !self->readonly_mem)
    return FALSE; /* left to MMIO exits: reads served from the ROM's memory */
  start = (section->offset_within_address_space + page - 1) & ~(page - 1);
  end = (section->offset_within_address_space + section->size) & ~(page - 1);
  if (end <= start)
    return FALSE;
  slot->used = TRUE;
  slot->gpa = start;
  slot->size = end - start;
  slot->host = (guint8 *)section->host + (start - section->offset_within_address_space);
  slot->flags = section->readonly ? KVM_MEM_READONLY : 0;
  if (((guintptr)slot->host & (page - 1)) != 0)
    return FALSE;
  return TRUE;
}

static void
kvm_listener_section_add(ArborMemoryListener *listener, ArborAddressSpace *as, const ArborMemorySection *section)
{
  ArborKvmMemoryListener *self = ARBOR_KVM_MEMORY_LISTENER(listener);
  g_autoptr(GError) error = NULL;
  KvmSlot slot = { 0 };
  guint index;

  if (!kvm_section_to_slot(self, section, &slot))
    return;
  for (index = 0; index < self->slots->len; index++) {
    if (!g_array_index(self->slots, KvmSlot, index).used)
      break;
  }
  if (index >= self->max_slots) {
    g_warning("no free KVM memory slot for %#" G_GINT64_MODIFIER "x+%#" G_GINT64_MODIFIER
              "x (%u in use): the range stays MMIO",
              slot.gpa, slot.size, self->max_slots);
    return;
  }
  if (!kvm_slot_set(self, index, &slot, &error)) {
    g_warning("cannot map %#" G_GINT64_MODIFIER "x+%#" G_GINT64_MODIFIER "x into slot %u: %s", slot.gpa,
              slot.size, index, error->message);
    return;
  }
  if (index == self->slots->len)
    g_array_append_val(self->slots, slot);
  else
    g_array_index(self->slots, KvmSlot, index) = slot;
  g_debug("slot %u: %#" G_GINT64_MODIFIER "x+%#" G_GINT64_MODIFIER "x%s", index, slot.gpa, slot.size,
          slot.flags & KVM_MEM_READONLY ? " read-only" : "");
}

static void
kvm_listener_section_del(ArborMemoryListener *listener, ArborAddressSpace *as, const ArborMemorySection *section)
{
  ArborKvmMemoryListener *self = ARBOR_KVM_MEMORY_LISTENER(listener);
  KvmSlot wanted = { 0 };

  if (!kvm_section_to_slot(self, section, &wanted))
    return;
  for (guint index = 0; index < self->slots->len; index++) {
    KvmSlot *slot = &g_array_index(self->slots, KvmSlot, index);
    g_autoptr(GError) error = NULL;

    if (!slot->used || slot->gpa != wanted.gpa || slot->size != wanted.size)
      continue;
    slot->used = FALSE;
    if (!kvm_slot_set(self, index, slot, &error))
      g_warning("cannot remove slot %u: %s", index, error->message);
    else
      g_debug("slot %u removed (%#" G_GINT64_MODIFIER "x+%#" G_GINT64_MODIFIER "x)", index, wanted.gpa,
              wanted.size);
    return;
  }
}

static void
arbor_kvm_memory_listener_iface_init(ArborMemoryListenerInterface *iface)
{
  iface->section_add = kvm_listener_section_add;
  iface->section_del = kvm_listener_section_del;
}

static void
arbor_kvm_memory_listener_finalize(GObject *object)
{
  ArborKvmMemoryListener *self = ARBOR_KVM_MEMORY_LISTENER(object);

  g_array_unref(self->slots);
  G_OBJECT_CLASS(arbor_kvm_memory_listener_parent_class)->finalize(object);
}

static void
arbor_kvm_memory_listener_class_init(ArborKvmMemoryListenerClass *klass)
{
  G_OBJECT_CLASS(klass)->finalize = arbor_kvm_memory_listener_finalize;
}

static void
arbor_kvm_memory_listener_class_finalize(ArborKvmMemoryListenerClass *klass)
{
}

static void
arbor_kvm_memory_listener_init(ArborKvmMemoryListener *self)
{
  self->slots = g_array_new(FALSE, TRUE, sizeof(KvmSlot));
}

ArborKvmMemoryListener *
arbor_kvm_memory_listener_new(int vm_fd, gboolean readonly_mem, guint max_slots)
{
  ArborKvmMemoryListener *self = g_object_new(ARBOR_TYPE_KVM_MEMORY_LISTENER, NULL);

  self->vm_fd = vm_fd;
  self->readonly_mem = readonly_mem;
  self->max_slots = max_slots;
  return self;
}

guint
arbor_kvm_memory_listener_get_slot_count(ArborKvmMemoryListener *self)
{
  guint count = 0;

  for (guint i = 0; i < self->slots->len; i++)
    count += g_array_index(self->slots, KvmSlot, i).used ? 1 : 0;
  return count;
}
