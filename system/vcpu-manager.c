/* ArborVcpuManager: the vCPUs of one machine, commanded together. */
#include "arbor-config.h"

#include <arbor/accel.h>
#include <arbor/vcpu-manager.h>

#include "vcpu-private.h"

struct _ArborVcpuManager {
  GObject parent_instance;

  GPtrArray *vcpus;      /* owned, of ArborVcpu* */
  GMainContext *context; /* owned */
};

enum {
  SIGNAL_VCPU_STATE_CHANGED,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(ArborVcpuManager, arbor_vcpu_manager, G_TYPE_OBJECT)

static void
arbor_vcpu_manager_dispose(GObject *object)
{
  ArborVcpuManager *self = ARBOR_VCPU_MANAGER(object);

  if (self->vcpus != NULL) {
    arbor_vcpu_manager_stop_all(self);
    g_clear_pointer(&self->vcpus, g_ptr_array_unref);
  }
  G_OBJECT_CLASS(arbor_vcpu_manager_parent_class)->dispose(object);
}

static void
arbor_vcpu_manager_finalize(GObject *object)
{
  ArborVcpuManager *self = ARBOR_VCPU_MANAGER(object);

  g_clear_pointer(&self->context, g_main_context_unref);
  G_OBJECT_CLASS(arbor_vcpu_manager_parent_class)->finalize(object);
}

static void
arbor_vcpu_manager_class_init(ArborVcpuManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->dispose = arbor_vcpu_manager_dispose;
  object_class->finalize = arbor_vcpu_manager_finalize;

  /**
   * ArborVcpuManager::vcpu-state-changed:
   * @vcpu: the #ArborVcpu
   * @event: an #ArborVcpuEvent
   * @message: (nullable): exit description or error text
   * Every vCPU's "state-changed", relayed (on the manager's main context).
   */
  signals[SIGNAL_VCPU_STATE_CHANGED] =
    g_signal_new("vcpu-state-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                 G_TYPE_NONE, 3, ARBOR_TYPE_VCPU, G_TYPE_INT, G_TYPE_STRING);
}

static void
arbor_vcpu_manager_init(ArborVcpuManager *self)
{
  self->vcpus = g_ptr_array_new_with_free_func(g_object_unref);
}

static void
manager_relay_state_changed(ArborVcpu *vcpu, int event, const char *message, gpointer user_data)
{
  ArborVcpuManager *self = user_data;

  g_signal_emit(self, signals[SIGNAL_VCPU_STATE_CHANGED], 0, vcpu, event, message);
}

ArborVcpuManager *
arbor_vcpu_manager_new(ArborAccel *accel, ArborMachine *machine, guint count, GMainContext *context, GError **error)
{
  g_autoptr(ArborVcpuManager) self = NULL;

  g_return_val_if_fail(ARBOR_IS_ACCEL(accel), NULL);
  g_return_val_if_fail(count > 0, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  self = g_object_new(ARBOR_TYPE_VCPU_MANAGER, NULL);
  self->context = context != NULL ? g_main_context_ref(context) : g_main_context_ref(g_main_context_default());

  /* All threads first, so their vcpu_init run in parallel. */
  for (guint i = 0; i < count; i++) {
    ArborVcpu *vcpu = arbor_vcpu_new(accel, machine, i, self->context);

    g_signal_connect_object(vcpu, "state-changed", G_CALLBACK(manager_relay_state_changed), self, 0);
    g_ptr_array_add(self->vcpus, vcpu);
  }
  for (guint i = 0; i < count; i++) {
    GError *local_error = NULL;

    if (!arbor_vcpu_wait_ready(g_ptr_array_index(self->vcpus, i), &local_error)) {
      if (error != NULL && *error == NULL)
        g_propagate_error(error, local_error);
      else
        g_clear_error(&local_error);
    }
  }
  if (error != NULL && *error != NULL)
    return NULL; /* the autoptr stops and joins every thread */
  for (guint i = 0; i < count; i++) {
    if (arbor_vcpu_get_state(g_ptr_array_index(self->vcpus, i)) == ARBOR_VCPU_STATE_ERROR) {
      g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_FAILED, "vCPU %u failed to initialize", i);
      return NULL;
    }
  }
  g_debug("%u vCPU threads ready for accelerator '%s'", count, arbor_accel_get_name(accel));
  return g_steal_pointer(&self);
}

guint
arbor_vcpu_manager_get_count(ArborVcpuManager *manager)
{
  g_return_val_if_fail(ARBOR_IS_VCPU_MANAGER(manager), 0);
  return manager->vcpus != NULL ? manager->vcpus->len : 0;
}

ArborVcpu *
arbor_vcpu_manager_get_vcpu(ArborVcpuManager *manager, guint index)
{
  g_return_val_if_fail(ARBOR_IS_VCPU_MANAGER(manager), NULL);
  if (manager->vcpus == NULL || index >= manager->vcpus->len)
    return NULL;
  return g_ptr_array_index(manager->vcpus, index);
}

/* States in which a vCPU is parked (or will never run again). */
static const guint parked_mask = (1u << ARBOR_VCPU_STATE_CREATED) | (1u << ARBOR_VCPU_STATE_PAUSED) |
                                 (1u << ARBOR_VCPU_STATE_EXITED) | (1u << ARBOR_VCPU_STATE_STOPPED) |
                                 (1u << ARBOR_VCPU_STATE_ERROR);
/* States reached once a run request has been taken (or never will be). */
static const guint live_mask = (1u << ARBOR_VCPU_STATE_RUNNING) | (1u << ARBOR_VCPU_STATE_HALTED) |
                               (1u << ARBOR_VCPU_STATE_EXITED) | (1u << ARBOR_VCPU_STATE_STOPPED) |
                               (1u << ARBOR_VCPU_STATE_ERROR);

static void
manager_start_all(ArborVcpuManager *self)
{
  guint n = arbor_vcpu_manager_get_count(self);

  for (guint i = 0; i < n; i++)
    arbor_vcpu_request_resume(g_ptr_array_index(self->vcpus, i));
  for (guint i = 0; i < n; i++) {
    ArborVcpu *vcpu = g_ptr_array_index(self->vcpus, i);
    ArborVcpuState state = arbor_vcpu_get_state(vcpu);

    /* Skip those that never will run (exited, failed, stopped). */
    if (state == ARBOR_VCPU_STATE_CREATED || state == ARBOR_VCPU_STATE_PAUSED)
      arbor_vcpu_wait_state(vcpu, live_mask);
  }
}

void
arbor_vcpu_manager_run_all(ArborVcpuManager *manager)
{
  g_return_if_fail(ARBOR_IS_VCPU_MANAGER(manager));
  manager_start_all(manager);
}

void
arbor_vcpu_manager_resume_all(ArborVcpuManager *manager)
{
  g_return_if_fail(ARBOR_IS_VCPU_MANAGER(manager));
  manager_start_all(manager);
}

void
arbor_vcpu_manager_pause_all(ArborVcpuManager *manager)
{
  guint n;

  g_return_if_fail(ARBOR_IS_VCPU_MANAGER(manager));
  n = arbor_vcpu_manager_get_count(manager);
  for (guint i = 0; i < n; i++)
    arbor_vcpu_request_pause(g_ptr_array_index(manager->vcpus, i));
  for (guint i = 0; i < n; i++)
    arbor_vcpu_wait_state(g_ptr_array_index(manager->vcpus, i), parked_mask);
}

void
arbor_vcpu_manager_stop_all(ArborVcpuManager *manager)
{
  guint n;

  g_return_if_fail(ARBOR_IS_VCPU_MANAGER(manager));
  n = arbor_vcpu_manager_get_count(manager);
  for (guint i = 0; i < n; i++)
    arbor_vcpu_request_stop(g_ptr_array_index(manager->vcpus, i));
  for (guint i = 0; i < n; i++)
    arbor_vcpu_stop(g_ptr_array_index(manager->vcpus, i));
}

gboolean
arbor_vcpu_manager_is_running(ArborVcpuManager *manager)
{
  guint n;

  g_return_val_if_fail(ARBOR_IS_VCPU_MANAGER(manager), FALSE);
  n = arbor_vcpu_manager_get_count(manager);
  for (guint i = 0; i < n; i++) {
    ArborVcpuState state = arbor_vcpu_get_state(g_ptr_array_index(manager->vcpus, i));

    if (state == ARBOR_VCPU_STATE_RUNNING || state == ARBOR_VCPU_STATE_HALTED)
      return TRUE;
  }
  return FALSE;
}
