/* Helpers for tests and benchmarks that run the guests of tests/guests/
 * under the kvm accelerator. */
#pragma once

#include <arbor/arbor.h>

G_BEGIN_DECLS

/* TRUE when /dev/kvm cannot be opened because it does not exist
 * (ENOENT/ENODEV/ENXIO); other failures are left to the caller. */
gboolean guest_util_kvm_missing(void);
/* Reads the flat binary @path into guest memory at @addr. */
gboolean guest_util_load(ArborMachine *machine, const char *path, guint64 addr, GError **error);
/* Flat 32-bit protected mode, EIP = @rip, other registers from @init. */
gboolean guest_util_set_pm32(ArborVcpu *vcpu, guint64 rip, const ArborRegs *init, GError **error);

G_END_DECLS
