/* isa-serial: a 16550A UART as QEMU models it. */
#pragma once

#include <arbor/device.h>

G_BEGIN_DECLS

#define ARBOR_TYPE_SERIAL (arbor_serial_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborSerial, arbor_serial, ARBOR, SERIAL, ArborDevice)

/* The backend in use once realized (NULL before), owned by the device. */
ARBOR_API ArborChardev *arbor_serial_get_chardev(ArborSerial *self);

G_END_DECLS
