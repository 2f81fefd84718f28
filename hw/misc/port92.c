/* port92: system control port A. Bit 1 gates A20 (read back as written);
 * setting bit 0 (from 0) requests a machine reset. Reset clears bit 0. */
#include "port92.h"

#include <arbor/machine.h>
#include <arbor/memory-region.h>

#define PORT92_IOBASE 0x92

struct _ArborPort92 {
  ArborDevice parent_instance;

  GMutex lock;
  guint8 outport;        /* protected by lock */
  ArborMemoryRegion *io; /* owned */
};

G_DEFINE_FINAL_TYPE(ArborPort92, arbor_port92, ARBOR_TYPE_DEVICE)

static guint64
port92_read(gpointer opaque, guint64 addr, guint size)
{
  ArborPort92 *self = opaque;

  g_mutex_lock(&self->lock);
  guint8 v = self->outport;
  g_mutex_unlock(&self->lock);
  return v;
}

static void
port92_write(gpointer opaque, guint64 addr, guint size, guint64 value)
{
  ArborPort92 *self = opaque;

  g_mutex_lock(&self->lock);
  guint8 old = self->outport;
  self->outport = (guint8) value;
  g_mutex_unlock(&self->lock);

  if (((old ^ value) & 0x02) != 0)
    g_debug("port92: A20 %s", (value & 0x02) ? "on" : "off");
  if ((value & 0x01) && !(old & 0x01)) {
    ArborMachine *machine = arbor_device_get_machine(ARBOR_DEVICE(self));
    g_debug("port92: fast reset");
    if (machine != NULL)
      arbor_machine_request_reset(machine);
  }
}

static const ArborMemoryRegionOps port92_ops = {
  .read = port92_read,
  .write = port92_write,
  .endianness = ARBOR_ENDIAN_LITTLE,
  .valid = {.min_access_size = 1, .max_access_size = 1},
};

gboolean
arbor_port92_get_a20(ArborPort92 *self)
{
  g_return_val_if_fail(ARBOR_IS_PORT92(self), FALSE);
  return (port92_read(self, 0, 1) & 0x02) != 0;
}

static gboolean
port92_realize(ArborDevice *device, ArborMachine *machine, GError **error)
{
  ArborPort92 *self = ARBOR_PORT92(device);

  self->io = arbor_memory_region_new_io("port92", 1, &port92_ops, self);
  arbor_memory_region_set_owner(self->io, G_OBJECT(self));
  arbor_memory_region_add_subregion(arbor_machine_get_system_io(machine), PORT92_IOBASE, self->io);
  return TRUE;
}

static void
port92_unrealize(ArborDevice *device)
{
  ArborPort92 *self = ARBOR_PORT92(device);
  ArborMemoryRegion *container = arbor_memory_region_get_container(self->io);

  if (container != NULL)
    arbor_memory_region_del_subregion(container, self->io);
  g_clear_object(&self->io);
}

static void
port92_reset(ArborDevice *device)
{
  ArborPort92 *self = ARBOR_PORT92(device);

  /* As QEMU: the reset bit clears, A20 keeps its state. */
  g_mutex_lock(&self->lock);
  self->outport &= ~0x01;
  g_mutex_unlock(&self->lock);
}

static void
port92_dispose(GObject *object)
{
  g_clear_object(&ARBOR_PORT92(object)->io);
  G_OBJECT_CLASS(arbor_port92_parent_class)->dispose(object);
}

static void
port92_finalize(GObject *object)
{
  g_mutex_clear(&ARBOR_PORT92(object)->lock);
  G_OBJECT_CLASS(arbor_port92_parent_class)->finalize(object);
}

static void
arbor_port92_class_init(ArborPort92Class *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  ArborDeviceClass *device_class = ARBOR_DEVICE_CLASS(klass);

  object_class->dispose = port92_dispose;
  object_class->finalize = port92_finalize;
  device_class->device_name = "port92";
  device_class->description = "system control port A (A20 gate, fast reset) at 0x92";
  device_class->realize = port92_realize;
  device_class->unrealize = port92_unrealize;
  device_class->reset = port92_reset;
}

static void
arbor_port92_init(ArborPort92 *self)
{
  g_mutex_init(&self->lock);
}
