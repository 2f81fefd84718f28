/* legacy-stubs: ports that guests and firmware-less kernels probe on a PC
 * but that arbor does not model. Each range reads a fixed value and drops
 * writes, logged at debug level, so the probes are quiet and well defined.
 * Under KVM the in-kernel PIC/PIT claim their ports first; these stubs only
 * answer what the kernel leaves to user space. */
#include "legacy-stubs.h"

#include <arbor/machine.h>
#include <arbor/memory-region.h>

typedef struct {
  const char *name;
  guint16 base;
  guint16 size;
  guint8 read_value;
} LegacyStubRange;

static const LegacyStubRange legacy_ranges[] = {
  {"pic-master", 0x20, 2, 0x00},
  {"pit", 0x40, 4, 0x00},
  {"nmi-status", 0x61, 1, 0x00},
  {"cmos", 0x70, 2, 0xff},
  {"post", 0x80, 1, 0xff}, /* POST codes and the classic I/O delay port */
  {"dma-page", 0x81, 15, 0x00},
  {"pic-slave", 0xa0, 2, 0x00},
  {"fpu", 0xf0, 2, 0xff},
  {"elcr", 0x4d0, 2, 0x00},
};

struct _ArborLegacyStubs {
  ArborDevice parent_instance;

  GPtrArray *regions; /* owned: ArborMemoryRegion refs, one per range */
};

G_DEFINE_FINAL_TYPE(ArborLegacyStubs, arbor_legacy_stubs, ARBOR_TYPE_DEVICE)

/* The opaque of each region is its (static, read-only) table entry. */
static guint64
legacy_read(gpointer opaque, guint64 addr, guint size)
{
  const LegacyStubRange *range = opaque;
  guint64 v = 0;

  for (guint i = 0; i < size; i++)
    v |= (guint64) range->read_value << (8 * i);
  g_debug("legacy: read %s port 0x%" G_GINT64_MODIFIER "x -> 0x%" G_GINT64_MODIFIER "x", range->name,
          range->base + addr, v);
  return v;
}

static void
legacy_write(gpointer opaque, guint64 addr, guint size, guint64 value)
{
  const LegacyStubRange *range = opaque;

  g_debug("legacy: write %s port 0x%" G_GINT64_MODIFIER "x <- 0x%" G_GINT64_MODIFIER "x (ignored)", range->name,
          range->base + addr, value);
}

static const ArborMemoryRegionOps legacy_ops = {
  .read = legacy_read,
  .write = legacy_write,
  .endianness = ARBOR_ENDIAN_LITTLE,
  .valid = {.min_access_size = 1, .max_access_size = 4, .unaligned = TRUE},
  .impl = {.min_access_size = 1, .max_access_size = 4, .unaligned = TRUE},
};

static gboolean
legacy_realize(ArborDevice *device, ArborMachine *machine, GError **error)
{
  ArborLegacyStubs *self = ARBOR_LEGACY_STUBS(device);
  ArborMemoryRegion *system_io = arbor_machine_get_system_io(machine);

  for (guint i = 0; i < G_N_ELEMENTS(legacy_ranges); i++) {
    const LegacyStubRange *range = &legacy_ranges[i];
    g_autofree char *name = g_strdup_printf("legacy-%s", range->name);
    ArborMemoryRegion *mr = arbor_memory_region_new_io(name, range->size, &legacy_ops, (gpointer) range);

    arbor_memory_region_set_owner(mr, G_OBJECT(self));
    /* Below every real device: a model added later at the same ports wins. */
    arbor_memory_region_add_subregion_overlap(system_io, range->base, mr, -1);
    g_ptr_array_add(self->regions, mr);
  }
  return TRUE;
}

static void
legacy_unrealize(ArborDevice *device)
{
  ArborLegacyStubs *self = ARBOR_LEGACY_STUBS(device);

  for (guint i = 0; i < self->regions->len; i++) {
    ArborMemoryRegion *mr = g_ptr_array_index(self->regions, i);
    ArborMemoryRegion *container = arbor_memory_region_get_container(mr);
    if (container != NULL)
      arbor_memory_region_del_subregion(container, mr);
  }
  g_ptr_array_set_size(self->regions, 0);
}

static void
legacy_reset(ArborDevice *device)
{
  /* Stateless. */
}

static void
legacy_finalize(GObject *object)
{
  g_ptr_array_unref(ARBOR_LEGACY_STUBS(object)->regions);
  G_OBJECT_CLASS(arbor_legacy_stubs_parent_class)->finalize(object);
}

static void
arbor_legacy_stubs_class_init(ArborLegacyStubsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  ArborDeviceClass *device_class = ARBOR_DEVICE_CLASS(klass);

  object_class->finalize = legacy_finalize;
  device_class->device_name = "legacy-stubs";
  device_class->description = "quiet fixed answers for probed legacy PC ports (PIC, PIT, CMOS, POST)";
  device_class->realize = legacy_realize;
  device_class->unrealize = legacy_unrealize;
  device_class->reset = legacy_reset;
}

static void
arbor_legacy_stubs_init(ArborLegacyStubs *self)
{
  self->regions = g_ptr_array_new_with_free_func(g_object_unref);
}
