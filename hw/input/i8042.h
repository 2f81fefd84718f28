/* i8042: the PS/2 keyboard controller at 0x60/0x64 (status, commands, reset line). */
#pragma once

#include <arbor/device.h>

G_BEGIN_DECLS

#define ARBOR_TYPE_I8042 (arbor_i8042_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborI8042, arbor_i8042, ARBOR, I8042, ArborDevice)

/* A20 gate as set through the controller's output port (bit 1). */
ARBOR_API gboolean arbor_i8042_get_a20(ArborI8042 *self);

G_END_DECLS
