/* ArborClock: the machine clock (monotonic or virtual) and timers on it.
 *
 * Armed timers sit in one list sorted by deadline under the clock's mutex.
 * A monotonic clock owns one GSource on its main context whose ready time
 * is the earliest deadline; arming a timer only moves that ready time
 * (g_source_set_ready_time wakes the context), so a hot mod path never
 * creates sources. A virtual clock fires timers only from step/set.
 */
#include <arbor/clock.h>

#include <time.h>

struct _ArborTimer {
  ArborClock *clock; /* owned (a ref) */
  ArborTimerFunc func;
  gpointer opaque;
  /* Protected by clock->lock. */
  gint64 deadline;
  GList *link; /* node in clock->armed, NULL when not armed */
};

struct _ArborClock {
  GObject parent_instance;

  ArborClockKind kind;
  GMainContext *context; /* owned */
  GSource *source;       /* owned; monotonic clocks only */
  gint64 start_ns;       /* monotonic: CLOCK_MONOTONIC at creation */

  GMutex lock;
  gint64 virtual_ns; /* virtual: the current time (protected by lock) */
  GList *armed;      /* ArborTimer*, sorted by deadline, FIFO among equals (protected by lock) */
};

G_DEFINE_FINAL_TYPE(ArborClock, arbor_clock, G_TYPE_OBJECT)

static gint64
host_monotonic_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT(1000000000) + ts.tv_nsec;
}

/* Called with the lock held: move the GSource's ready time to the head. */
static void
clock_update_ready_time_locked(ArborClock *clock)
{
  if (clock->source == NULL)
    return;
  if (clock->armed == NULL) {
    g_source_set_ready_time(clock->source, -1);
    return;
  }
  ArborTimer *head = clock->armed->data;
  /* GLib's ready time is g_get_monotonic_time() microseconds (the same
   * CLOCK_MONOTONIC); round up so the timer is never early. */
  gint64 abs_ns = clock->start_ns + MAX(head->deadline, 0);
  g_source_set_ready_time(clock->source, (abs_ns + 999) / 1000);
}

/* Pops the earliest timer due at @now, or NULL. Lock held. */
static ArborTimer *
clock_pop_due_locked(ArborClock *clock, gint64 now)
{
  if (clock->armed == NULL)
    return NULL;
  ArborTimer *t = clock->armed->data;
  if (t->deadline > now)
    return NULL;
  clock->armed = g_list_delete_link(clock->armed, t->link);
  t->link = NULL;
  return t;
}

static gboolean
clock_source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
  ArborClock *clock = user_data;

  /* Fire one timer at a time, dropping the lock for the callback: it may
   * re-arm or delete timers (its own included). */
  for (;;) {
    gint64 now = arbor_clock_get_ns(clock);
    g_mutex_lock(&clock->lock);
    ArborTimer *t = clock_pop_due_locked(clock, now);
    if (t == NULL) {
      clock_update_ready_time_locked(clock);
      g_mutex_unlock(&clock->lock);
      break;
    }
    g_mutex_unlock(&clock->lock);
    t->func(t->opaque);
  }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs clock_source_funcs = {
  .dispatch = clock_source_dispatch,
};

static void
arbor_clock_dispose(GObject *object)
{
  ArborClock *clock = ARBOR_CLOCK(object);

  if (clock->source != NULL) {
    g_source_destroy(clock->source);
    g_clear_pointer(&clock->source, g_source_unref);
  }
  G_OBJECT_CLASS(arbor_clock_parent_class)->dispose(object);
}

static void
arbor_clock_finalize(GObject *object)
{
  ArborClock *clock = ARBOR_CLOCK(object);

  /* Timers hold a ref on their clock, so none can be armed here. */
  g_warn_if_fail(clock->armed == NULL);
  g_clear_pointer(&clock->context, g_main_context_unref);
  g_mutex_clear(&clock->lock);
  G_OBJECT_CLASS(arbor_clock_parent_class)->finalize(object);
}

static void
arbor_clock_class_init(ArborClockClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->dispose = arbor_clock_dispose;
  object_class->finalize = arbor_clock_finalize;
}

static void
arbor_clock_init(ArborClock *clock)
{
  g_mutex_init(&clock->lock);
}

ArborClock *
arbor_clock_new(ArborClockKind kind, GMainContext *context)
{
  g_return_val_if_fail(kind == ARBOR_CLOCK_MONOTONIC || kind == ARBOR_CLOCK_VIRTUAL, NULL);

  ArborClock *clock = g_object_new(ARBOR_TYPE_CLOCK, NULL);
  clock->kind = kind;
  clock->context = context != NULL ? g_main_context_ref(context) : g_main_context_ref_thread_default();
  clock->start_ns = host_monotonic_ns();

  if (kind == ARBOR_CLOCK_MONOTONIC) {
    clock->source = g_source_new(&clock_source_funcs, sizeof(GSource));
    g_source_set_name(clock->source, "arbor-clock");
    /* The source does not ref the clock: dispose destroys the source. */
    g_source_set_callback(clock->source, NULL, clock, NULL);
    g_source_set_ready_time(clock->source, -1);
    g_source_attach(clock->source, clock->context);
  }
  return clock;
}

ArborClockKind
arbor_clock_get_kind(ArborClock *clock)
{
  g_return_val_if_fail(ARBOR_IS_CLOCK(clock), ARBOR_CLOCK_MONOTONIC);
  return clock->kind;
}

gint64
arbor_clock_get_ns(ArborClock *clock)
{
  g_return_val_if_fail(ARBOR_IS_CLOCK(clock), 0);

  if (clock->kind == ARBOR_CLOCK_MONOTONIC)
    return host_monotonic_ns() - clock->start_ns;

  g_mutex_lock(&clock->lock);
  gint64 now = clock->virtual_ns;
  g_mutex_unlock(&clock->lock);
  return now;
}

/* Virtual clock: fire everything due up to @target in deadline order,
 * with the clock at each deadline, then settle at @target. */
static gint64
clock_advance_to(ArborClock *clock, gint64 target)
{
  for (;;) {
    g_mutex_lock(&clock->lock);
    ArborTimer *t = clock_pop_due_locked(clock, target);
    if (t == NULL) {
      if (target > clock->virtual_ns)
        clock->virtual_ns = target;
      gint64 now = clock->virtual_ns;
      g_mutex_unlock(&clock->lock);
      return now;
    }
    /* A timer armed in the past fires at the current time. */
    if (t->deadline > clock->virtual_ns)
      clock->virtual_ns = t->deadline;
    g_mutex_unlock(&clock->lock);
    t->func(t->opaque);
  }
}

gint64
arbor_clock_step(ArborClock *clock, gint64 ns)
{
  g_return_val_if_fail(ARBOR_IS_CLOCK(clock), 0);
  g_return_val_if_fail(clock->kind == ARBOR_CLOCK_VIRTUAL, arbor_clock_get_ns(clock));
  g_return_val_if_fail(ns >= 0, arbor_clock_get_ns(clock));

  gint64 now = arbor_clock_get_ns(clock);
  gint64 target = ns > G_MAXINT64 - now ? G_MAXINT64 : now + ns;
  return clock_advance_to(clock, target);
}

gint64
arbor_clock_set(ArborClock *clock, gint64 ns)
{
  g_return_val_if_fail(ARBOR_IS_CLOCK(clock), 0);
  g_return_val_if_fail(clock->kind == ARBOR_CLOCK_VIRTUAL, arbor_clock_get_ns(clock));

  /* Like QEMU's qtest clock_set: time never goes backwards. */
  return clock_advance_to(clock, ns);
}

gint64
arbor_clock_get_next_deadline(ArborClock *clock)
{
  g_return_val_if_fail(ARBOR_IS_CLOCK(clock), -1);

  g_mutex_lock(&clock->lock);
  gint64 deadline = clock->armed != NULL ? ((ArborTimer *) clock->armed->data)->deadline : -1;
  g_mutex_unlock(&clock->lock);
  return deadline;
}

ArborTimer *
arbor_timer_new(ArborClock *clock, ArborTimerFunc func, gpointer opaque)
{
  g_return_val_if_fail(ARBOR_IS_CLOCK(clock), NULL);
  g_return_val_if_fail(func != NULL, NULL);

  ArborTimer *t = g_new0(ArborTimer, 1);
  t->clock = g_object_ref(clock);
  t->func = func;
  t->opaque = opaque;
  return t;
}

static void
timer_unlink_locked(ArborTimer *t)
{
  if (t->link != NULL) {
    t->clock->armed = g_list_delete_link(t->clock->armed, t->link);
    t->link = NULL;
  }
}

void
arbor_timer_free(ArborTimer *timer)
{
  if (timer == NULL)
    return;
  arbor_timer_del(timer);
  g_object_unref(timer->clock);
  g_free(timer);
}

void
arbor_timer_mod(ArborTimer *timer, gint64 deadline_ns)
{
  g_return_if_fail(timer != NULL);
  ArborClock *clock = timer->clock;

  g_mutex_lock(&clock->lock);
  gboolean was_head = clock->armed != NULL && clock->armed->data == timer;
  timer_unlink_locked(timer);
  timer->deadline = deadline_ns;

  /* Insert after every timer with a deadline <= ours (FIFO for ties). */
  GList *pos = clock->armed;
  GList *prev = NULL;
  while (pos != NULL && ((ArborTimer *) pos->data)->deadline <= deadline_ns) {
    prev = pos;
    pos = pos->next;
  }
  clock->armed = g_list_insert_before(clock->armed, pos, timer);
  timer->link = prev != NULL ? prev->next : clock->armed;

  if (was_head || clock->armed == timer->link)
    clock_update_ready_time_locked(clock);
  g_mutex_unlock(&clock->lock);
}

void
arbor_timer_del(ArborTimer *timer)
{
  g_return_if_fail(timer != NULL);
  ArborClock *clock = timer->clock;

  g_mutex_lock(&clock->lock);
  gboolean was_head = clock->armed != NULL && clock->armed->data == timer;
  timer_unlink_locked(timer);
  if (was_head)
    clock_update_ready_time_locked(clock);
  g_mutex_unlock(&clock->lock);
}

gboolean
arbor_timer_pending(ArborTimer *timer)
{
  g_return_val_if_fail(timer != NULL, FALSE);

  g_mutex_lock(&timer->clock->lock);
  gboolean pending = timer->link != NULL;
  g_mutex_unlock(&timer->clock->lock);
  return pending;
}
