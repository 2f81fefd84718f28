/* Internals of ArborVcpu shared with the vCPU manager. */
#pragma once

#include <arbor/vcpu.h>

G_BEGIN_DECLS

/* Creates the vCPU and its paused thread "vcpu-@index"; @machine may be NULL
 * for accelerators that do not need one (tests). Events go to @context
 * (NULL: the global default). */
ARBOR_API ArborVcpu *arbor_vcpu_new(ArborAccel *accel, ArborMachine *machine, guint index, GMainContext *context);
/* Waits until the thread has run the accelerator's vcpu_init; FALSE and
 * the error it reported when it failed. */
ARBOR_API gboolean arbor_vcpu_wait_ready(ArborVcpu *vcpu, GError **error);

G_END_DECLS
