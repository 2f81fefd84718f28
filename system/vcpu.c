/* ArborVcpu: one vCPU, one thread, driven by commands under a GMutex/GCond.
 *
 * The controller (any thread, usually the main one) sets what it wants
 * (run, pause, stop) under the lock, kicks the accelerator if the vCPU is
 * running, and waits on the GCond for the state it asked for. The vCPU
 * thread sets RUNNING under the lock before it enters the guest, so a kick
 * is sent for every command issued after that point; the accelerator keeps
 * a kick that arrives before guest entry (KVM: immediate_exit) and the run
 * returns at once. After a run returns, the thread takes the lock, re-arms
 * the kick and reads the command. */
#include "arbor-config.h"

#include <string.h>

#include <arbor/accel.h>
#include <arbor/vcpu.h>

#include "tsan-private.h"
#include "vcpu-private.h"

typedef enum {
  VCPU_WANT_PAUSE,
  VCPU_WANT_RUN,
  VCPU_WANT_STOP,
} VcpuWant;

struct _ArborVcpu {
  GObject parent_instance;

  guint index;
  ArborAccel *accel;       /* owned; outlives the thread */
  ArborMachine *machine;   /* unowned: the machine owns the manager that owns us */
  GMainContext *context;   /* owned: where events are delivered */
  gpointer accel_data;     /* the accelerator's; freed by its vcpu_destroy */
  GThread *self_thread;    /* atomic: the vCPU thread, set by itself (unowned) */

  GMutex lock;
  GCond cond;              /* broadcast on every command and state change */
  /* Under lock: */
  GThread *thread;         /* owned until joined */
  VcpuWant want;
  ArborVcpuState state;
  gboolean ready;          /* vcpu_init has run */
  GError *init_error;      /* owned */
  gboolean in_hlt;         /* the guest sits in HLT */
  gboolean halt_kick;      /* arbor_vcpu_kick() since the last halt wait */
  gboolean exit_on_halt;
  gboolean disposing;      /* no more events */
  guint64 run_count;       /* transitions into RUNNING */
  ArborVcpuExit exit;

  /* Written by the vCPU thread only, relaxed atomics. */
  guint64 stats[ARBOR_VCPU_STAT_N];
};

enum {
  PROP_0,
  PROP_EXIT_ON_HALT,
  N_PROPS,
};

enum {
  SIGNAL_STATE_CHANGED,
  N_SIGNALS,
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(ArborVcpu, arbor_vcpu, G_TYPE_OBJECT)

/* ThreadSanitizer cannot see GLib's futex-based GMutex/GCond: we annotate
 * our lock and the hand-over of events through the main context. */
static inline void
vcpu_lock(ArborVcpu *self)
{
  g_mutex_lock(&self->lock);
  arbor_tsan_acquire(&self->lock);
}

static inline void
vcpu_unlock(ArborVcpu *self)
{
  arbor_tsan_release(&self->lock);
  g_mutex_unlock(&self->lock);
}

static inline void
vcpu_wait(ArborVcpu *self)
{
  arbor_tsan_release(&self->lock);
  g_cond_wait(&self->cond, &self->lock);
  arbor_tsan_acquire(&self->lock);
}

static const char *const stat_names[ARBOR_VCPU_STAT_N] = {
  [ARBOR_VCPU_STAT_IO_IN] = "io-in",
  [ARBOR_VCPU_STAT_IO_OUT] = "io-out",
  [ARBOR_VCPU_STAT_MMIO_READ] = "mmio-read",
  [ARBOR_VCPU_STAT_MMIO_WRITE] = "mmio-write",
  [ARBOR_VCPU_STAT_HLT] = "hlt",
  [ARBOR_VCPU_STAT_INTR] = "intr",
  [ARBOR_VCPU_STAT_IRQ_WINDOW] = "irq-window",
  [ARBOR_VCPU_STAT_SHUTDOWN] = "shutdown",
  [ARBOR_VCPU_STAT_SYSTEM_EVENT] = "system-event",
  [ARBOR_VCPU_STAT_INTERNAL_ERROR] = "internal-error",
  [ARBOR_VCPU_STAT_FAIL_ENTRY] = "fail-entry",
  [ARBOR_VCPU_STAT_OTHER] = "other",
};

const char *
arbor_vcpu_stat_name(ArborVcpuStat stat)
{
  if ((guint)stat >= ARBOR_VCPU_STAT_N)
    return "invalid";
  return stat_names[stat];
}

const char *
arbor_vcpu_state_name(ArborVcpuState state)
{
  switch (state) {
  case ARBOR_VCPU_STATE_CREATED: return "created";
  case ARBOR_VCPU_STATE_RUNNING: return "running";
  case ARBOR_VCPU_STATE_PAUSED: return "paused";
  case ARBOR_VCPU_STATE_HALTED: return "halted";
  case ARBOR_VCPU_STATE_EXITED: return "exited";
  case ARBOR_VCPU_STATE_STOPPED: return "stopped";
  case ARBOR_VCPU_STATE_ERROR: return "error";
  default: return "invalid";
  }
}

const char *
arbor_vcpu_exit_reason_name(ArborVcpuExitReason reason)
{
  switch (reason) {
  case ARBOR_VCPU_EXIT_NONE: return "none";
  case ARBOR_VCPU_EXIT_HALT: return "halt";
  case ARBOR_VCPU_EXIT_SHUTDOWN: return "shutdown";
  case ARBOR_VCPU_EXIT_SYSTEM_EVENT: return "system-event";
  case ARBOR_VCPU_EXIT_INTERNAL_ERROR: return "internal-error";
  case ARBOR_VCPU_EXIT_FAIL_ENTRY: return "fail-entry";
  case ARBOR_VCPU_EXIT_UNKNOWN: return "unknown";
  case ARBOR_VCPU_EXIT_RUN_FAILED: return "run-failed";
  default: return "invalid";
  }
}

static inline guint
state_bit(ArborVcpuState state)
{
  return 1u << state;
}

static inline gboolean
state_is_final(ArborVcpuState state)
{
  return state == ARBOR_VCPU_STATE_STOPPED || state == ARBOR_VCPU_STATE_ERROR;
}

static inline gboolean
state_is_live(ArborVcpuState state)
{
  return state == ARBOR_VCPU_STATE_RUNNING || state == ARBOR_VCPU_STATE_HALTED;
}

/* ---- events: delivered on the owner's main context, never inline ------- */

typedef struct {
  ArborVcpu *vcpu; /* owned */
  ArborVcpuEvent event;
  char *message;   /* owned, nullable */
} VcpuEvent;

static gboolean
vcpu_event_dispatch(gpointer data)
{
  VcpuEvent *ev = data;

  arbor_tsan_acquire(ev);
  g_signal_emit(ev->vcpu, signals[SIGNAL_STATE_CHANGED], 0, (int)ev->event, ev->message);
  return G_SOURCE_REMOVE;
}

static void
vcpu_event_free(gpointer data)
{
  VcpuEvent *ev = data;

  g_object_unref(ev->vcpu);
  g_free(ev->message);
  g_free(ev);
}

/* Lock held (keeps events in order). An idle source rather than
 * g_main_context_invoke(), which would run the handler right here when
 * the context happens to be free. */
static void
vcpu_post_event_locked(ArborVcpu *self, ArborVcpuEvent event, const char *message)
{
  GSource *source;
  VcpuEvent *ev;

  if (self->disposing)
    return;
  ev = g_new0(VcpuEvent, 1);
  ev->vcpu = g_object_ref(self);
  ev->event = event;
  ev->message = g_strdup(message);

  source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_static_name(source, "arbor-vcpu-event");
  g_source_set_callback(source, vcpu_event_dispatch, ev, vcpu_event_free);
  arbor_tsan_release(ev);
  g_source_attach(source, self->context);
  g_source_unref(source);
}

static void
vcpu_set_state_locked(ArborVcpu *self, ArborVcpuState state)
{
  g_debug("vCPU %u: %s -> %s", self->index, arbor_vcpu_state_name(self->state), arbor_vcpu_state_name(state));
  self->state = state;
  g_cond_broadcast(&self->cond);
}

/* ---- the vCPU thread ---------------------------------------------------- */

/* RUNNING or HALTED: "started"/"resumed" only when coming from a parked state. */
static void
vcpu_enter_live_locked(ArborVcpu *self, ArborVcpuState state)
{
  ArborVcpuState old = self->state;

  if (old == state)
    return;
  vcpu_set_state_locked(self, state);
  if (state_is_live(old))
    return;
  self->run_count++;
  if (old == ARBOR_VCPU_STATE_CREATED)
    vcpu_post_event_locked(self, ARBOR_VCPU_EVENT_STARTED, NULL);
  else if (old == ARBOR_VCPU_STATE_PAUSED)
    vcpu_post_event_locked(self, ARBOR_VCPU_EVENT_RESUMED, NULL);
}

static void
vcpu_exited_locked(ArborVcpu *self, const ArborVcpuExit *exit)
{
  self->exit = *exit;
  self->exit.description[sizeof(self->exit.description) - 1] = '\0';
  vcpu_set_state_locked(self, ARBOR_VCPU_STATE_EXITED);
  g_message("vCPU %u exited (%s): %s", self->index, arbor_vcpu_exit_reason_name(exit->reason),
            self->exit.description);
  vcpu_post_event_locked(self, ARBOR_VCPU_EVENT_EXITED, self->exit.description);
}

static void
vcpu_halted_locked(ArborVcpu *self)
{
  ArborVcpuExit exit = { 0 };

  if (!self->exit_on_halt) {
    self->in_hlt = TRUE;
    return;
  }
  exit.reason = ARBOR_VCPU_EXIT_HALT;
  g_snprintf(exit.description, sizeof(exit.description), "the guest executed HLT");
  vcpu_exited_locked(self, &exit);
}

/* Lock held on entry and on return; returns when asked to stop. */
static void
vcpu_loop_locked(ArborVcpu *self, ArborAccelClass *klass)
{
  for (;;) {
    ArborVcpuRunResult result;
    ArborVcpuExit exit = { 0 };

    if (self->want == VCPU_WANT_STOP)
      return;

    if (self->want == VCPU_WANT_PAUSE) {
      if (state_is_live(self->state)) {
        vcpu_set_state_locked(self, ARBOR_VCPU_STATE_PAUSED);
        vcpu_post_event_locked(self, ARBOR_VCPU_EVENT_PAUSED, NULL);
      }
      vcpu_wait(self);
      continue;
    }

    /* Asked to run. An exited vCPU waits for a reset or a stop. */
    if (self->state == ARBOR_VCPU_STATE_EXITED) {
      vcpu_wait(self);
      continue;
    }
    if (self->in_hlt && !self->halt_kick) {
      vcpu_enter_live_locked(self, ARBOR_VCPU_STATE_HALTED);
      vcpu_wait(self);
      continue;
    }
    self->in_hlt = FALSE;
    self->halt_kick = FALSE;
    vcpu_enter_live_locked(self, ARBOR_VCPU_STATE_RUNNING);

    vcpu_unlock(self);
    result = klass->vcpu_run(self->accel, self, &exit);
    vcpu_lock(self);

    /* Every kick sent so far was for a command we read below. */
    if (klass->vcpu_kick_clear != NULL)
      klass->vcpu_kick_clear(self->accel, self);

    switch (result) {
    case ARBOR_VCPU_RUN_INTERRUPTED:
      break;
    case ARBOR_VCPU_RUN_HALTED:
      vcpu_halted_locked(self);
      break;
    case ARBOR_VCPU_RUN_EXITED:
    default:
      vcpu_exited_locked(self, &exit);
      break;
    }
  }
}

static gpointer
vcpu_thread_main(gpointer data)
{
  ArborVcpu *self = data;
  ArborAccelClass *klass = ARBOR_ACCEL_GET_CLASS(self->accel);
  GError *error = NULL;
  gboolean ok = TRUE;

  g_atomic_pointer_set(&self->self_thread, g_thread_self());
  if (klass->vcpu_init != NULL)
    ok = klass->vcpu_init(self->accel, self, &error);
  if (ok && klass->vcpu_run == NULL) {
    g_set_error(&error, ARBOR_ERROR, ARBOR_ERROR_NOT_SUPPORTED,
                "accelerator '%s' cannot run vCPUs", arbor_accel_get_name(self->accel));
    if (klass->vcpu_destroy != NULL)
      klass->vcpu_destroy(self->accel, self);
    ok = FALSE;
  }

  vcpu_lock(self);
  self->ready = TRUE;
  if (!ok) {
    g_prefix_error(&error, "vCPU %u: ", self->index);
    self->init_error = error;
    vcpu_set_state_locked(self, ARBOR_VCPU_STATE_ERROR);
    vcpu_post_event_locked(self, ARBOR_VCPU_EVENT_ERROR, error->message);
    vcpu_unlock(self);
    return NULL;
  }
  g_cond_broadcast(&self->cond);
  vcpu_loop_locked(self, klass);
  vcpu_unlock(self);

  if (klass->vcpu_destroy != NULL)
    klass->vcpu_destroy(self->accel, self);

  vcpu_lock(self);
  vcpu_set_state_locked(self, ARBOR_VCPU_STATE_STOPPED);
  vcpu_post_event_locked(self, ARBOR_VCPU_EVENT_STOPPED, NULL);
  vcpu_unlock(self);
  return NULL;
}

/* ---- GObject ------------------------------------------------------------ */

static void
arbor_vcpu_dispose(GObject *object)
{
  ArborVcpu *self = ARBOR_VCPU(object);

  vcpu_lock(self);
  self->disposing = TRUE;
  vcpu_unlock(self);

  arbor_vcpu_stop(self);
  g_clear_object(&self->accel);
  G_OBJECT_CLASS(arbor_vcpu_parent_class)->dispose(object);
}

static void
arbor_vcpu_finalize(GObject *object)
{
  ArborVcpu *self = ARBOR_VCPU(object);

  g_clear_error(&self->init_error);
  g_clear_pointer(&self->context, g_main_context_unref);
  g_mutex_clear(&self->lock);
  g_cond_clear(&self->cond);
  G_OBJECT_CLASS(arbor_vcpu_parent_class)->finalize(object);
}

static void
arbor_vcpu_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  ArborVcpu *self = ARBOR_VCPU(object);

  switch (prop_id) {
  case PROP_EXIT_ON_HALT:
    vcpu_lock(self);
    g_value_set_boolean(value, self->exit_on_halt);
    vcpu_unlock(self);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
arbor_vcpu_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  ArborVcpu *self = ARBOR_VCPU(object);

  switch (prop_id) {
  case PROP_EXIT_ON_HALT:
    vcpu_lock(self);
    self->exit_on_halt = g_value_get_boolean(value);
    g_cond_broadcast(&self->cond);
    vcpu_unlock(self);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
arbor_vcpu_class_init(ArborVcpuClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->dispose = arbor_vcpu_dispose;
  object_class->finalize = arbor_vcpu_finalize;
  object_class->get_property = arbor_vcpu_get_property;
  object_class->set_property = arbor_vcpu_set_property;

  /**
   * ArborVcpu:exit-on-halt:
   * When TRUE, a HLT the accelerator reports ends the vCPU (state EXITED,
   * reason HALT) instead of waiting for a kick. Tests and bare guests use it.
   */
  properties[PROP_EXIT_ON_HALT] =
    g_param_spec_boolean("exit-on-halt", NULL, NULL, FALSE,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties(object_class, N_PROPS, properties);

  /**
   * ArborVcpu::state-changed:
   * @event: an #ArborVcpuEvent
   * @message: (nullable): exit description or error text
   * Emitted on the main context the vCPU was created with.
   */
  signals[SIGNAL_STATE_CHANGED] =
    g_signal_new("state-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                 G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_STRING);
}

static void
arbor_vcpu_init(ArborVcpu *self)
{
  g_mutex_init(&self->lock);
  g_cond_init(&self->cond);
  self->state = ARBOR_VCPU_STATE_CREATED;
  self->want = VCPU_WANT_PAUSE;
}

ArborVcpu *
arbor_vcpu_new(ArborAccel *accel, ArborMachine *machine, guint index, GMainContext *context)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  ArborVcpu *self;
  GThread *thread;

  g_return_val_if_fail(ARBOR_IS_ACCEL(accel), NULL);

  self = g_object_new(ARBOR_TYPE_VCPU, NULL);
  self->index = index;
  self->accel = g_object_ref(accel);
  self->machine = machine;
  self->context = context != NULL ? g_main_context_ref(context) : g_main_context_ref(g_main_context_default());

  name = g_strdup_printf("vcpu-%u", index);
  thread = g_thread_try_new(name, vcpu_thread_main, self, &error);
  vcpu_lock(self);
  if (thread == NULL) {
    self->ready = TRUE;
    self->state = ARBOR_VCPU_STATE_ERROR;
    g_set_error(&self->init_error, ARBOR_ERROR, ARBOR_ERROR_FAILED, "vCPU %u: cannot create its thread: %s",
                index, error->message);
  }
  self->thread = thread;
  vcpu_unlock(self);
  return self;
}

gboolean
arbor_vcpu_wait_ready(ArborVcpu *vcpu, GError **error)
{
  gboolean ok;

  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), FALSE);

  vcpu_lock(vcpu);
  while (!vcpu->ready)
    vcpu_wait(vcpu);
  ok = vcpu->init_error == NULL;
  if (!ok)
    g_propagate_error(error, g_error_copy(vcpu->init_error));
  vcpu_unlock(vcpu);
  return ok;
}

/* ---- accessors ---------------------------------------------------------- */

guint
arbor_vcpu_get_index(ArborVcpu *vcpu)
{
  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), 0);
  return vcpu->index;
}

ArborVcpuState
arbor_vcpu_get_state(ArborVcpu *vcpu)
{
  ArborVcpuState state;

  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), ARBOR_VCPU_STATE_ERROR);
  vcpu_lock(vcpu);
  state = vcpu->state;
  vcpu_unlock(vcpu);
  return state;
}

ArborAccel *
arbor_vcpu_get_accel(ArborVcpu *vcpu)
{
  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), NULL);
  return vcpu->accel;
}

ArborMachine *
arbor_vcpu_get_machine(ArborVcpu *vcpu)
{
  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), NULL);
  return vcpu->machine;
}

void
arbor_vcpu_get_exit(ArborVcpu *vcpu, ArborVcpuExit *exit)
{
  g_return_if_fail(ARBOR_IS_VCPU(vcpu));
  g_return_if_fail(exit != NULL);
  vcpu_lock(vcpu);
  *exit = vcpu->exit;
  vcpu_unlock(vcpu);
}

void
arbor_vcpu_set_accel_data(ArborVcpu *vcpu, gpointer data)
{
  g_return_if_fail(ARBOR_IS_VCPU(vcpu));
  vcpu->accel_data = data;
}

gpointer
arbor_vcpu_get_accel_data(ArborVcpu *vcpu)
{
  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), NULL);
  return vcpu->accel_data;
}

void
arbor_vcpu_count_exit(ArborVcpu *vcpu, ArborVcpuStat stat)
{
  guint64 *counter;

  if (G_UNLIKELY((guint)stat >= ARBOR_VCPU_STAT_N))
    return;
  /* Only the vCPU thread writes: a relaxed load + store, no locked add. */
  counter = &vcpu->stats[stat];
  __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

guint64
arbor_vcpu_get_stat(ArborVcpu *vcpu, ArborVcpuStat stat)
{
  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), 0);
  g_return_val_if_fail((guint)stat < ARBOR_VCPU_STAT_N, 0);
  return __atomic_load_n(&vcpu->stats[stat], __ATOMIC_RELAXED);
}

/* ---- commands ----------------------------------------------------------- */

/* Lock held. The kick goes out under the lock so that it cannot land after
 * the vCPU thread has already read the command and re-armed. */
static void
vcpu_kick_locked(ArborVcpu *self)
{
  ArborAccelClass *klass = ARBOR_ACCEL_GET_CLASS(self->accel);

  if (self->state == ARBOR_VCPU_STATE_RUNNING && klass->vcpu_kick != NULL)
    klass->vcpu_kick(self->accel, self);
  g_cond_broadcast(&self->cond);
}

static gboolean
vcpu_check_usable_locked(ArborVcpu *self, GError **error)
{
  if (self->want == VCPU_WANT_STOP || self->state == ARBOR_VCPU_STATE_STOPPED) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_FAILED, "vCPU %u is stopped", self->index);
    return FALSE;
  }
  if (self->state == ARBOR_VCPU_STATE_ERROR) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_FAILED, "vCPU %u failed: %s", self->index,
                self->init_error != NULL ? self->init_error->message : "unknown error");
    return FALSE;
  }
  if (self->state == ARBOR_VCPU_STATE_EXITED) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_FAILED, "vCPU %u has exited (%s): %s", self->index,
                arbor_vcpu_exit_reason_name(self->exit.reason), self->exit.description);
    return FALSE;
  }
  return TRUE;
}

static gboolean
vcpu_start_running(ArborVcpu *self, GError **error)
{
  guint64 count;
  gboolean ok;

  vcpu_lock(self);
  if (!vcpu_check_usable_locked(self, error)) {
    vcpu_unlock(self);
    return FALSE;
  }
  if (self->want == VCPU_WANT_RUN && state_is_live(self->state)) {
    vcpu_unlock(self);
    return TRUE;
  }
  self->want = VCPU_WANT_RUN;
  count = self->run_count;
  g_cond_broadcast(&self->cond);
  /* Running once since the request is enough: the guest may exit at once. */
  while (self->run_count == count && self->state != ARBOR_VCPU_STATE_EXITED && !state_is_final(self->state) &&
         self->want == VCPU_WANT_RUN)
    vcpu_wait(self);
  ok = self->run_count != count;
  if (!ok)
    vcpu_check_usable_locked(self, error);
  if (!ok && error != NULL && *error == NULL)
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_FAILED, "vCPU %u was paused before it ran", self->index);
  vcpu_unlock(self);
  return ok;
}

gboolean
arbor_vcpu_run(ArborVcpu *vcpu, GError **error)
{
  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), FALSE);
  return vcpu_start_running(vcpu, error);
}

gboolean
arbor_vcpu_resume(ArborVcpu *vcpu, GError **error)
{
  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), FALSE);
  return vcpu_start_running(vcpu, error);
}

gboolean
arbor_vcpu_pause(ArborVcpu *vcpu, GError **error)
{
  ArborVcpuState state;
  gboolean ok;

  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), FALSE);

  arbor_vcpu_request_pause(vcpu);
  state = arbor_vcpu_wait_state(vcpu, state_bit(ARBOR_VCPU_STATE_CREATED) | state_bit(ARBOR_VCPU_STATE_PAUSED) |
                                        state_bit(ARBOR_VCPU_STATE_EXITED) | state_bit(ARBOR_VCPU_STATE_STOPPED) |
                                        state_bit(ARBOR_VCPU_STATE_ERROR));
  ok = state == ARBOR_VCPU_STATE_CREATED || state == ARBOR_VCPU_STATE_PAUSED;
  if (!ok) {
    vcpu_lock(vcpu);
    vcpu_check_usable_locked(vcpu, error);
    vcpu_unlock(vcpu);
  }
  return ok;
}

void
arbor_vcpu_request_pause(ArborVcpu *vcpu)
{
  g_return_if_fail(ARBOR_IS_VCPU(vcpu));

  vcpu_lock(vcpu);
  if (vcpu->want == VCPU_WANT_RUN) {
    vcpu->want = VCPU_WANT_PAUSE;
    vcpu_kick_locked(vcpu);
  }
  vcpu_unlock(vcpu);
}

void
arbor_vcpu_request_resume(ArborVcpu *vcpu)
{
  g_return_if_fail(ARBOR_IS_VCPU(vcpu));

  vcpu_lock(vcpu);
  if (vcpu->want == VCPU_WANT_PAUSE && vcpu->state != ARBOR_VCPU_STATE_EXITED && !state_is_final(vcpu->state)) {
    vcpu->want = VCPU_WANT_RUN;
    g_cond_broadcast(&vcpu->cond);
  }
  vcpu_unlock(vcpu);
}

void
arbor_vcpu_request_stop(ArborVcpu *vcpu)
{
  g_return_if_fail(ARBOR_IS_VCPU(vcpu));

  vcpu_lock(vcpu);
  if (vcpu->want != VCPU_WANT_STOP) {
    vcpu->want = VCPU_WANT_STOP;
    vcpu_kick_locked(vcpu);
  }
  vcpu_unlock(vcpu);
}

void
arbor_vcpu_stop(ArborVcpu *vcpu)
{
  GThread *thread;

  g_return_if_fail(ARBOR_IS_VCPU(vcpu));

  arbor_vcpu_request_stop(vcpu);
  vcpu_lock(vcpu);
  thread = g_steal_pointer(&vcpu->thread);
  vcpu_unlock(vcpu);
  if (thread != NULL)
    g_thread_join(thread);
  /* Another caller may be joining: wait for the end all the same. */
  arbor_vcpu_wait_state(vcpu, state_bit(ARBOR_VCPU_STATE_STOPPED) | state_bit(ARBOR_VCPU_STATE_ERROR));
}

ArborVcpuState
arbor_vcpu_wait_state(ArborVcpu *vcpu, guint mask)
{
  ArborVcpuState state;

  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), ARBOR_VCPU_STATE_ERROR);
  g_return_val_if_fail(mask != 0, ARBOR_VCPU_STATE_ERROR);

  vcpu_lock(vcpu);
  while ((mask & state_bit(vcpu->state)) == 0)
    vcpu_wait(vcpu);
  state = vcpu->state;
  vcpu_unlock(vcpu);
  return state;
}

void
arbor_vcpu_kick(ArborVcpu *vcpu)
{
  g_return_if_fail(ARBOR_IS_VCPU(vcpu));

  vcpu_lock(vcpu);
  vcpu->halt_kick = TRUE;
  g_cond_broadcast(&vcpu->cond);
  vcpu_unlock(vcpu);
}

/* ---- registers ---------------------------------------------------------- */

static inline gboolean
vcpu_on_own_thread(ArborVcpu *self)
{
  return g_atomic_pointer_get(&self->self_thread) == (gpointer)g_thread_self();
}

/* Takes the lock unless on the vCPU's own thread (which runs unlocked). */
static gboolean
vcpu_regs_begin(ArborVcpu *self, const char *what, GError **error)
{
  if (vcpu_on_own_thread(self))
    return TRUE;
  vcpu_lock(self);
  if (self->state != ARBOR_VCPU_STATE_CREATED && self->state != ARBOR_VCPU_STATE_PAUSED &&
      self->state != ARBOR_VCPU_STATE_EXITED) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_FAILED, "cannot %s of vCPU %u while it is %s (pause it first)",
                what, self->index, arbor_vcpu_state_name(self->state));
    vcpu_unlock(self);
    return FALSE;
  }
  return TRUE;
}

static void
vcpu_regs_end(ArborVcpu *self)
{
  if (vcpu_on_own_thread(self))
    return;
  vcpu_unlock(self);
}

static gboolean
vcpu_regs_unsupported(ArborVcpu *self, const char *what, GError **error)
{
  g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_NOT_SUPPORTED, "accelerator '%s' cannot %s",
              arbor_accel_get_name(self->accel), what);
  return FALSE;
}

gboolean
arbor_vcpu_get_regs(ArborVcpu *vcpu, ArborRegs *regs, GError **error)
{
  ArborAccelClass *klass;
  gboolean ok;

  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), FALSE);
  g_return_val_if_fail(regs != NULL, FALSE);
  klass = ARBOR_ACCEL_GET_CLASS(vcpu->accel);
  if (klass->vcpu_get_regs == NULL)
    return vcpu_regs_unsupported(vcpu, "read registers", error);
  if (!vcpu_regs_begin(vcpu, "read the registers", error))
    return FALSE;
  ok = klass->vcpu_get_regs(vcpu->accel, vcpu, regs, error);
  vcpu_regs_end(vcpu);
  return ok;
}

gboolean
arbor_vcpu_set_regs(ArborVcpu *vcpu, const ArborRegs *regs, GError **error)
{
  ArborAccelClass *klass;
  gboolean ok;

  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), FALSE);
  g_return_val_if_fail(regs != NULL, FALSE);
  klass = ARBOR_ACCEL_GET_CLASS(vcpu->accel);
  if (klass->vcpu_set_regs == NULL)
    return vcpu_regs_unsupported(vcpu, "write registers", error);
  if (!vcpu_regs_begin(vcpu, "write the registers", error))
    return FALSE;
  ok = klass->vcpu_set_regs(vcpu->accel, vcpu, regs, error);
  vcpu_regs_end(vcpu);
  return ok;
}

gboolean
arbor_vcpu_get_sregs(ArborVcpu *vcpu, ArborSregs *sregs, GError **error)
{
  ArborAccelClass *klass;
  gboolean ok;

  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), FALSE);
  g_return_val_if_fail(sregs != NULL, FALSE);
  klass = ARBOR_ACCEL_GET_CLASS(vcpu->accel);
  if (klass->vcpu_get_sregs == NULL)
    return vcpu_regs_unsupported(vcpu, "read system registers", error);
  if (!vcpu_regs_begin(vcpu, "read the system registers", error))
    return FALSE;
  ok = klass->vcpu_get_sregs(vcpu->accel, vcpu, sregs, error);
  vcpu_regs_end(vcpu);
  return ok;
}

gboolean
arbor_vcpu_set_sregs(ArborVcpu *vcpu, const ArborSregs *sregs, GError **error)
{
  ArborAccelClass *klass;
  gboolean ok;

  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), FALSE);
  g_return_val_if_fail(sregs != NULL, FALSE);
  klass = ARBOR_ACCEL_GET_CLASS(vcpu->accel);
  if (klass->vcpu_set_sregs == NULL)
    return vcpu_regs_unsupported(vcpu, "write system registers", error);
  if (!vcpu_regs_begin(vcpu, "write the system registers", error))
    return FALSE;
  ok = klass->vcpu_set_sregs(vcpu->accel, vcpu, sregs, error);
  vcpu_regs_end(vcpu);
  return ok;
}

/* Puts the vCPU in its power-on state; an exited vCPU becomes paused again
 * (machine reset after a triple fault). */
gboolean
arbor_vcpu_reset(ArborVcpu *vcpu, GError **error)
{
  ArborAccelClass *klass;
  gboolean ok = TRUE;
  gboolean own_thread;

  g_return_val_if_fail(ARBOR_IS_VCPU(vcpu), FALSE);
  klass = ARBOR_ACCEL_GET_CLASS(vcpu->accel);
  own_thread = vcpu_on_own_thread(vcpu);
  if (!vcpu_regs_begin(vcpu, "reset", error))
    return FALSE;
  if (klass->vcpu_reset != NULL)
    ok = klass->vcpu_reset(vcpu->accel, vcpu, error);
  if (ok && !own_thread) {
    vcpu->in_hlt = FALSE;
    vcpu->halt_kick = FALSE;
    if (vcpu->state == ARBOR_VCPU_STATE_EXITED) {
      memset(&vcpu->exit, 0, sizeof(vcpu->exit));
      vcpu->want = VCPU_WANT_PAUSE;
      vcpu_set_state_locked(vcpu, ARBOR_VCPU_STATE_PAUSED);
    }
  }
  vcpu_regs_end(vcpu);
  return ok;
}
