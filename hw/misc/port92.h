/* port92: the PS/2 system control port A (fast A20 gate and fast reset). */
#pragma once

#include <arbor/device.h>

G_BEGIN_DECLS

#define ARBOR_TYPE_PORT92 (arbor_port92_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborPort92, arbor_port92, ARBOR, PORT92, ArborDevice)

/* Current A20 gate state as the guest set it through bit 1. */
ARBOR_API gboolean arbor_port92_get_a20(ArborPort92 *self);

G_END_DECLS
