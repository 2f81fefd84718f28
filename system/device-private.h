/* Internals shared by system/device.c and hw/builtin.c. */
#pragma once

#include <arbor/device.h>

G_BEGIN_DECLS

/* hw/builtin.c: registers every built-in device type (called once, lazily,
 * by the device registry). */
ARBOR_API void arbor_hw_register_builtin_types(void);

G_END_DECLS
