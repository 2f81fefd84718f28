/* ArborClock: the machine's clock and timers on it. */
#pragma once

#include <arbor/arbor-types.h>

G_BEGIN_DECLS

typedef enum {
  ARBOR_CLOCK_MONOTONIC, /* real time: g_get_monotonic_time() based; timers fire from a GSource on the main context */
  ARBOR_CLOCK_VIRTUAL,   /* moves only through arbor_clock_step()/arbor_clock_set() (qtest) */
} ArborClockKind;

#define ARBOR_TYPE_CLOCK (arbor_clock_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborClock, arbor_clock, ARBOR, CLOCK, GObject)

/* @context: where monotonic timers fire (NULL: the thread-default/global one). */
ARBOR_API ArborClock *arbor_clock_new(ArborClockKind kind, GMainContext *context);
ARBOR_API ArborClockKind arbor_clock_get_kind(ArborClock *clock);
/* Nanoseconds since the clock was created (virtual: since 0). Any thread. */
ARBOR_API gint64 arbor_clock_get_ns(ArborClock *clock);
/* Virtual clock only: move forward, firing every timer whose deadline is
 * reached, in deadline order, with the clock set to each deadline as it
 * fires. Returns the new time. Main thread. */
ARBOR_API gint64 arbor_clock_step(ArborClock *clock, gint64 ns);
ARBOR_API gint64 arbor_clock_set(ArborClock *clock, gint64 ns);
/* Earliest pending deadline, or -1 when no timer is armed. */
ARBOR_API gint64 arbor_clock_get_next_deadline(ArborClock *clock);

typedef void (*ArborTimerFunc)(gpointer opaque);

/* Timers: callbacks run on the main context (monotonic) or inside
 * step/set (virtual). mod/del are thread-safe (devices call them from vCPU
 * threads). */
ARBOR_API ArborTimer *arbor_timer_new(ArborClock *clock, ArborTimerFunc func, gpointer opaque);
ARBOR_API void arbor_timer_free(ArborTimer *timer);
/* Arms at absolute @deadline_ns on the timer's clock (re-arms if armed). */
ARBOR_API void arbor_timer_mod(ArborTimer *timer, gint64 deadline_ns);
ARBOR_API void arbor_timer_del(ArborTimer *timer);
ARBOR_API gboolean arbor_timer_pending(ArborTimer *timer);

G_END_DECLS
