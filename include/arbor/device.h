/* ArborDevice: base class of device models in hw/. */
#pragma once

#include <arbor/arbor-types.h>

G_BEGIN_DECLS

#define ARBOR_TYPE_DEVICE (arbor_device_get_type())
ARBOR_API G_DECLARE_DERIVABLE_TYPE(ArborDevice, arbor_device, ARBOR, DEVICE, GObject)

/**
 * ArborDeviceClass:
 * @device_name: the -device name ("isa-serial", "isa-debug-exit", ...).
 *   Set it in class_init; arbor_device_class_register() files it.
 * @realize: map regions into the machine's address spaces, claim IRQ lines
 *   (arbor_machine_get_irq()), open backends. Configuration comes from
 *   GObject properties set before. Bad configuration is a GError.
 * @unrealize: undo realize (remove regions). Optional.
 * @reset: put registers back to their power-on values (system_reset).
 */
struct _ArborDeviceClass {
  GObjectClass parent_class;

  const char *device_name;
  const char *description;

  gboolean (*realize)(ArborDevice *device, ArborMachine *machine, GError **error);
  void (*unrealize)(ArborDevice *device);
  void (*reset)(ArborDevice *device);

  gpointer padding[8];
};

ARBOR_API gboolean arbor_device_realize(ArborDevice *device, ArborMachine *machine, GError **error);
ARBOR_API void arbor_device_unrealize(ArborDevice *device);
ARBOR_API void arbor_device_reset(ArborDevice *device);
ARBOR_API gboolean arbor_device_is_realized(ArborDevice *device);
ARBOR_API ArborMachine *arbor_device_get_machine(ArborDevice *device);
/* "serial0", "debug-exit"...: the id used in logs and the monitor. */
ARBOR_API const char *arbor_device_get_id(ArborDevice *device);
ARBOR_API void arbor_device_set_id(ArborDevice *device, const char *id);

/* Registry of device types by -device name (thread-safe, lazily filled
 * with the built-in devices of hw/). */
ARBOR_API void arbor_device_class_register(GType type);
ARBOR_API GType arbor_device_type_from_name(const char *device_name);
/* NULL-terminated, sorted; free with g_strfreev(). */
ARBOR_API char **arbor_device_list_names(void);

/* Creates an unrealized device from a -device option string
 * ("isa-debug-exit,iobase=0xf4,iosize=0x04"): the name, then KEY=VALUE
 * pairs mapped onto GObject properties (integers parse like strtoull(,0),
 * booleans as on/off/true/false/yes/no). An unknown device or property or a
 * bad value is a GError naming it. */
ARBOR_API ArborDevice *arbor_device_new_from_options(const char *options, GError **error);

G_END_DECLS
