/* ArborVcpuManager: all vCPUs of a machine; pause/resume/stop them together. */
#pragma once

#include <arbor/arbor-types.h>
#include <arbor/vcpu.h>

G_BEGIN_DECLS

#define ARBOR_TYPE_VCPU_MANAGER (arbor_vcpu_manager_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborVcpuManager, arbor_vcpu_manager, ARBOR, VCPU_MANAGER, GObject)

/* Creates @count vCPU threads for @accel on @machine, each paused; waits
 * until each has run @vcpu_init (a failure there is the GError).
 * @machine: may be NULL for accelerators that need no machine (tests).
 * @context: where "state-changed" signals are delivered (NULL: default). */
ARBOR_API ArborVcpuManager *arbor_vcpu_manager_new(ArborAccel *accel,
                                                   ArborMachine *machine,
                                                   guint count,
                                                   GMainContext *context,
                                                   GError **error);
ARBOR_API guint arbor_vcpu_manager_get_count(ArborVcpuManager *manager);
ARBOR_API ArborVcpu *arbor_vcpu_manager_get_vcpu(ArborVcpuManager *manager, guint index);

/* All at once: commands go to every vCPU first, then the call waits for
 * all, so latency is the slowest vCPU's, not the sum. vCPUs that have
 * exited are skipped. */
ARBOR_API void arbor_vcpu_manager_run_all(ArborVcpuManager *manager);
ARBOR_API void arbor_vcpu_manager_pause_all(ArborVcpuManager *manager);
ARBOR_API void arbor_vcpu_manager_resume_all(ArborVcpuManager *manager);
ARBOR_API void arbor_vcpu_manager_stop_all(ArborVcpuManager *manager);
ARBOR_API gboolean arbor_vcpu_manager_is_running(ArborVcpuManager *manager);

/* Disposing the manager stops and joins every thread, also while guests spin. */

/* Signal "vcpu-state-changed" (ArborVcpu *vcpu, ArborVcpuEvent event,
 * const char *message): every vCPU's "state-changed", relayed. */

G_END_DECLS
