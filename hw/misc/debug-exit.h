/* isa-debug-exit: a write of V ends the machine with exit code (V << 1) | 1. */
#pragma once

#include <arbor/device.h>

G_BEGIN_DECLS

#define ARBOR_TYPE_DEBUG_EXIT (arbor_debug_exit_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborDebugExit, arbor_debug_exit, ARBOR, DEBUG_EXIT, ArborDevice)

G_END_DECLS
