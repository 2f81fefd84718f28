/* ArborClock and ArborTimer: virtual ordering, re-arming, monotonic firing. */
#include <arbor/arbor.h>

typedef struct {
  ArborClock *clock;
  GArray *log;       /* gint64 pairs: (tag, clock time at fire) */
  ArborTimer *self;  /* for re-arming tests */
  int rearm_left;
  gint64 period;
} FireLog;

typedef struct {
  FireLog *log;
  gint64 tag;
} TaggedTimer;

static void
record_fire(gpointer opaque)
{
  TaggedTimer *tt = opaque;
  gint64 entry[2] = {tt->tag, arbor_clock_get_ns(tt->log->clock)};
  g_array_append_vals(tt->log->log, entry, 2);
}

static void
test_virtual_order(void)
{
  g_autoptr(ArborClock) clock = arbor_clock_new(ARBOR_CLOCK_VIRTUAL, NULL);
  FireLog log = {.clock = clock, .log = g_array_new(FALSE, FALSE, sizeof(gint64))};
  TaggedTimer tags[4] = {{&log, 30}, {&log, 10}, {&log, 20}, {&log, 20000}};
  ArborTimer *timers[4];

  g_assert_cmpint(arbor_clock_get_kind(clock), ==, ARBOR_CLOCK_VIRTUAL);
  g_assert_cmpint(arbor_clock_get_ns(clock), ==, 0);
  g_assert_cmpint(arbor_clock_get_next_deadline(clock), ==, -1);

  for (guint i = 0; i < 4; i++) {
    timers[i] = arbor_timer_new(clock, record_fire, &tags[i]);
    arbor_timer_mod(timers[i], tags[i].tag);
  }
  g_assert_cmpint(arbor_clock_get_next_deadline(clock), ==, 10);
  g_assert_true(arbor_timer_pending(timers[0]));

  /* Nothing fires before its deadline. */
  g_assert_cmpint(arbor_clock_step(clock, 9), ==, 9);
  g_assert_cmpuint(log.log->len, ==, 0);

  g_assert_cmpint(arbor_clock_step(clock, 91), ==, 100);
  g_assert_cmpuint(log.log->len, ==, 6);
  /* Deadline order, with the clock at each deadline while firing. */
  gint64 *e = (gint64 *) log.log->data;
  g_assert_cmpint(e[0], ==, 10);
  g_assert_cmpint(e[1], ==, 10);
  g_assert_cmpint(e[2], ==, 20);
  g_assert_cmpint(e[3], ==, 20);
  g_assert_cmpint(e[4], ==, 30);
  g_assert_cmpint(e[5], ==, 30);
  g_assert_false(arbor_timer_pending(timers[0]));
  g_assert_true(arbor_timer_pending(timers[3]));
  g_assert_cmpint(arbor_clock_get_next_deadline(clock), ==, 20000);

  /* Deleted timers never fire; set moves to an absolute time. */
  arbor_timer_del(timers[3]);
  g_assert_cmpint(arbor_clock_get_next_deadline(clock), ==, -1);
  g_assert_cmpint(arbor_clock_set(clock, 50000), ==, 50000);
  g_assert_cmpuint(log.log->len, ==, 6);

  /* Time never goes backwards. */
  g_assert_cmpint(arbor_clock_set(clock, 10), ==, 50000);

  /* Re-arming moves a timer (to an earlier deadline too). */
  arbor_timer_mod(timers[0], 60000);
  arbor_timer_mod(timers[1], 70000);
  arbor_timer_mod(timers[1], 55000);
  g_assert_cmpint(arbor_clock_get_next_deadline(clock), ==, 55000);
  arbor_clock_set(clock, 60000);
  g_assert_cmpuint(log.log->len, ==, 10);
  e = (gint64 *) log.log->data;
  g_assert_cmpint(e[6], ==, 10);
  g_assert_cmpint(e[7], ==, 55000);
  g_assert_cmpint(e[8], ==, 30);
  g_assert_cmpint(e[9], ==, 60000);

  /* A deadline already in the past fires at the current time. */
  arbor_timer_mod(timers[2], 5);
  arbor_clock_step(clock, 0);
  g_assert_cmpuint(log.log->len, ==, 12);
  g_assert_cmpint(((gint64 *) log.log->data)[11], ==, 60000);

  for (guint i = 0; i < 4; i++)
    arbor_timer_free(timers[i]);
  g_array_unref(log.log);
}

static void
rearm_fire(gpointer opaque)
{
  FireLog *log = opaque;
  gint64 now = arbor_clock_get_ns(log->clock);

  g_array_append_val(log->log, now);
  if (--log->rearm_left > 0)
    arbor_timer_mod(log->self, now + log->period);
}

static void
test_virtual_rearm(void)
{
  g_autoptr(ArborClock) clock = arbor_clock_new(ARBOR_CLOCK_VIRTUAL, NULL);
  FireLog log = {.clock = clock, .log = g_array_new(FALSE, FALSE, sizeof(gint64)), .rearm_left = 5, .period = 100};

  log.self = arbor_timer_new(clock, rearm_fire, &log);
  arbor_timer_mod(log.self, 100);

  /* One step covers every period: each re-armed deadline fires in turn. */
  g_assert_cmpint(arbor_clock_step(clock, 1000), ==, 1000);
  g_assert_cmpuint(log.log->len, ==, 5);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpint(g_array_index(log.log, gint64, i), ==, (gint64) (i + 1) * 100);
  g_assert_false(arbor_timer_pending(log.self));

  /* Freeing a pending timer disarms it. */
  arbor_timer_mod(log.self, 2000);
  g_assert_cmpint(arbor_clock_get_next_deadline(clock), ==, 2000);
  arbor_timer_free(log.self);
  g_assert_cmpint(arbor_clock_get_next_deadline(clock), ==, -1);
  g_array_unref(log.log);
}

typedef struct {
  ArborClock *clock;
  gint64 deadline;
  gint64 fired_at;
  int count;
} MonoFire;

static void
mono_fire(gpointer opaque)
{
  MonoFire *f = opaque;
  f->fired_at = arbor_clock_get_ns(f->clock);
  f->count++;
}

static void
test_monotonic_fires_on_main_loop(void)
{
  g_autoptr(GMainContext) ctx = g_main_context_new();
  g_autoptr(ArborClock) clock = arbor_clock_new(ARBOR_CLOCK_MONOTONIC, ctx);
  MonoFire f = {.clock = clock};
  ArborTimer *t = arbor_timer_new(clock, mono_fire, &f);

  gint64 a = arbor_clock_get_ns(clock);
  gint64 b = arbor_clock_get_ns(clock);
  g_assert_cmpint(a, >=, 0);
  g_assert_cmpint(b, >=, a);

  f.deadline = arbor_clock_get_ns(clock) + 2 * 1000 * 1000;
  arbor_timer_mod(t, f.deadline);
  g_assert_cmpint(arbor_clock_get_next_deadline(clock), ==, f.deadline);
  while (f.count == 0)
    g_main_context_iteration(ctx, TRUE);
  g_assert_cmpint(f.count, ==, 1);
  /* Never early. */
  g_assert_cmpint(f.fired_at, >=, f.deadline);
  g_assert_false(arbor_timer_pending(t));
  g_assert_cmpint(arbor_clock_get_next_deadline(clock), ==, -1);

  /* A later re-arm replaces an earlier one; only one firing. */
  arbor_timer_mod(t, arbor_clock_get_ns(clock) + 1000);
  f.deadline = arbor_clock_get_ns(clock) + 3 * 1000 * 1000;
  arbor_timer_mod(t, f.deadline);
  while (f.count == 1)
    g_main_context_iteration(ctx, TRUE);
  g_assert_cmpint(f.count, ==, 2);
  g_assert_cmpint(f.fired_at, >=, f.deadline);

  arbor_timer_free(t);
}

static gpointer
arm_from_thread(gpointer data)
{
  MonoFire *f = data;
  ArborTimer *t = g_object_get_data(G_OBJECT(f->clock), "timer");

  f->deadline = arbor_clock_get_ns(f->clock) + 1000 * 1000;
  arbor_timer_mod(t, f->deadline);
  return NULL;
}

static void
test_monotonic_mod_from_thread(void)
{
  g_autoptr(GMainContext) ctx = g_main_context_new();
  g_autoptr(ArborClock) clock = arbor_clock_new(ARBOR_CLOCK_MONOTONIC, ctx);
  MonoFire f = {.clock = clock};
  ArborTimer *t = arbor_timer_new(clock, mono_fire, &f);

  g_object_set_data(G_OBJECT(clock), "timer", t);
  GThread *thread = g_thread_new("arm", arm_from_thread, &f);
  g_thread_join(thread);
  /* The blocking iteration is woken by the timer's ready time. */
  while (f.count == 0)
    g_main_context_iteration(ctx, TRUE);
  g_assert_cmpint(f.count, ==, 1);
  g_assert_cmpint(f.fired_at, >=, f.deadline);
  arbor_timer_free(t);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/clock/virtual/order", test_virtual_order);
  g_test_add_func("/clock/virtual/rearm", test_virtual_rearm);
  g_test_add_func("/clock/monotonic/main-loop", test_monotonic_fires_on_main_loop);
  g_test_add_func("/clock/monotonic/mod-from-thread", test_monotonic_mod_from_thread);
  return g_test_run();
}
