/* The device models built into libarbor, registered by name on first use
 * of the device registry (system/device.c). */
#include "device-private.h"

#include "char/serial.h"
#include "input/i8042.h"
#include "misc/debug-exit.h"
#include "misc/legacy-stubs.h"
#include "misc/port92.h"

void
arbor_hw_register_builtin_types(void)
{
  arbor_device_class_register(ARBOR_TYPE_SERIAL);
  arbor_device_class_register(ARBOR_TYPE_DEBUG_EXIT);
  arbor_device_class_register(ARBOR_TYPE_I8042);
  arbor_device_class_register(ARBOR_TYPE_PORT92);
  arbor_device_class_register(ARBOR_TYPE_LEGACY_STUBS);
}
