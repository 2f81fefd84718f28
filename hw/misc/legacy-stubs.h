/* legacy-stubs: fixed answers for legacy ports a guest probes (POST port,
 * PIC, PIT, CMOS, ...) so probing them is silent and cheap. */
#pragma once

#include <arbor/device.h>

G_BEGIN_DECLS

#define ARBOR_TYPE_LEGACY_STUBS (arbor_legacy_stubs_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborLegacyStubs, arbor_legacy_stubs, ARBOR, LEGACY_STUBS, ArborDevice)

G_END_DECLS
