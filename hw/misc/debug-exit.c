/* isa-debug-exit, with QEMU's semantics: writing V to its port asks the
 * machine to shut down with exit code (V << 1) | 1; reads return 0. */
#include "debug-exit.h"

#include <arbor/machine.h>
#include <arbor/memory-region.h>

struct _ArborDebugExit {
  ArborDevice parent_instance;

  guint iobase;
  guint iosize;
  ArborMemoryRegion *io; /* owned; mapped while realized */
};

G_DEFINE_FINAL_TYPE(ArborDebugExit, arbor_debug_exit, ARBOR_TYPE_DEVICE)

enum {
  PROP_0,
  PROP_IOBASE,
  PROP_IOSIZE,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static guint64
debug_exit_read(gpointer opaque, guint64 addr, guint size)
{
  return 0;
}

static void
debug_exit_write(gpointer opaque, guint64 addr, guint size, guint64 value)
{
  ArborDebugExit *self = opaque;
  ArborMachine *machine = arbor_device_get_machine(ARBOR_DEVICE(self));
  int code = (int) (((guint32) value << 1) | 1);

  g_debug("%s: write 0x%" G_GINT64_MODIFIER "x: exit code %d", arbor_device_get_id(ARBOR_DEVICE(self)), value,
          code);
  if (machine != NULL)
    arbor_machine_request_shutdown(machine, code);
}

static const ArborMemoryRegionOps debug_exit_ops = {
  .read = debug_exit_read,
  .write = debug_exit_write,
  .endianness = ARBOR_ENDIAN_LITTLE,
  .valid = {.min_access_size = 1, .max_access_size = 4},
};

static gboolean
debug_exit_realize(ArborDevice *device, ArborMachine *machine, GError **error)
{
  ArborDebugExit *self = ARBOR_DEBUG_EXIT(device);

  if (self->iosize != 1 && self->iosize != 2 && self->iosize != 4) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "isa-debug-exit: iosize must be 1, 2 or 4, not %u",
                self->iosize);
    return FALSE;
  }
  if ((guint64) self->iobase + self->iosize > 0x10000) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID,
                "isa-debug-exit: ports 0x%x+0x%x pass the end of the I/O space (0xffff)", self->iobase,
                self->iosize);
    return FALSE;
  }

  self->io = arbor_memory_region_new_io("isa-debug-exit", self->iosize, &debug_exit_ops, self);
  arbor_memory_region_set_owner(self->io, G_OBJECT(self));
  arbor_memory_region_add_subregion(arbor_machine_get_system_io(machine), self->iobase, self->io);
  return TRUE;
}

static void
debug_exit_unrealize(ArborDevice *device)
{
  ArborDebugExit *self = ARBOR_DEBUG_EXIT(device);
  ArborMemoryRegion *container = arbor_memory_region_get_container(self->io);

  if (container != NULL)
    arbor_memory_region_del_subregion(container, self->io);
  g_clear_object(&self->io);
}

static void
debug_exit_reset(ArborDevice *device)
{
  /* No state. */
}

static void
debug_exit_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  ArborDebugExit *self = ARBOR_DEBUG_EXIT(object);

  switch (prop_id) {
  case PROP_IOBASE:
    g_value_set_uint(value, self->iobase);
    break;
  case PROP_IOSIZE:
    g_value_set_uint(value, self->iosize);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
debug_exit_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  ArborDebugExit *self = ARBOR_DEBUG_EXIT(object);

  /* Configuration only counts before realize. */
  g_return_if_fail(!arbor_device_is_realized(ARBOR_DEVICE(self)));
  switch (prop_id) {
  case PROP_IOBASE:
    self->iobase = g_value_get_uint(value);
    break;
  case PROP_IOSIZE:
    self->iosize = g_value_get_uint(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
debug_exit_dispose(GObject *object)
{
  ArborDebugExit *self = ARBOR_DEBUG_EXIT(object);

  g_clear_object(&self->io);
  G_OBJECT_CLASS(arbor_debug_exit_parent_class)->dispose(object);
}

static void
arbor_debug_exit_class_init(ArborDebugExitClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  ArborDeviceClass *device_class = ARBOR_DEVICE_CLASS(klass);

  object_class->get_property = debug_exit_get_property;
  object_class->set_property = debug_exit_set_property;
  object_class->dispose = debug_exit_dispose;
  device_class->device_name = "isa-debug-exit";
  device_class->description = "ends the machine with exit code (V << 1) | 1 when V is written";
  device_class->realize = debug_exit_realize;
  device_class->unrealize = debug_exit_unrealize;
  device_class->reset = debug_exit_reset;

  props[PROP_IOBASE] = g_param_spec_uint("iobase", "I/O base", "First port", 0, 0xffff, 0x501,
                                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  props[PROP_IOSIZE] = g_param_spec_uint("iosize", "I/O size", "Number of ports (1, 2 or 4)", 0, 0x10000, 0x02,
                                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
arbor_debug_exit_init(ArborDebugExit *self)
{
  self->iobase = 0x501;
  self->iosize = 0x02;
}
