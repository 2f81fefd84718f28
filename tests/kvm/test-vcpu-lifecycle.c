/* The vCPU threads and their manager, for real, with an accelerator whose
 * vCPUs spin on the host CPU (spin-accel.c): commands, states, events on
 * the main context, kicks of spinning threads, pause/resume without lost
 * or repeated accesses, destruction while spinning. */
#include <string.h>

#include <arbor/arbor.h>

#include "spin-accel.h"
#include "vcpu-private.h"

#define PORT_BASE 0x100

/* Messages logged under "arbor-vcpu", from any thread (structured logging
 * bypasses g_test_expect_message). */
typedef struct {
  GMutex lock;
  GPtrArray *messages; /* of char*, owned */
} LogCapture;

static LogCapture capture;

static GLogWriterOutput
capture_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  const char *domain = NULL, *message = NULL;

  for (gsize i = 0; i < n_fields; i++) {
    if (g_str_equal(fields[i].key, "GLIB_DOMAIN"))
      domain = fields[i].value;
    else if (g_str_equal(fields[i].key, "MESSAGE"))
      message = fields[i].value;
  }
  if (g_strcmp0(domain, "arbor-vcpu") == 0 && message != NULL && (level & G_LOG_LEVEL_MESSAGE)) {
    g_mutex_lock(&capture.lock);
    g_ptr_array_add(capture.messages, g_strdup(message));
    g_mutex_unlock(&capture.lock);
  }
  return g_log_writer_default(level, fields, n_fields, data);
}

static gboolean
capture_find(const char *pattern)
{
  gboolean found = FALSE;

  g_mutex_lock(&capture.lock);
  for (guint i = 0; i < capture.messages->len && !found; i++)
    found = g_pattern_match_simple(pattern, g_ptr_array_index(capture.messages, i));
  g_mutex_unlock(&capture.lock);
  return found;
}

typedef struct {
  SpinAccel *accel;
  CountDevice *dev;
  ArborAddressSpace *io;
  ArborVcpuManager *manager;
  GPtrArray *events;   /* of Event*, in delivery order */
  GThread *main_thread;
} Fixture;

typedef struct {
  guint vcpu;
  ArborVcpuEvent event;
  char *message;
  gboolean on_main_thread;
} Event;

static void
event_free(gpointer data)
{
  Event *ev = data;

  g_free(ev->message);
  g_free(ev);
}

static void
on_vcpu_state_changed(ArborVcpuManager *manager, ArborVcpu *vcpu, int event, const char *message, gpointer data)
{
  Fixture *fx = data;
  Event *ev = g_new0(Event, 1);

  ev->vcpu = arbor_vcpu_get_index(vcpu);
  ev->event = event;
  ev->message = g_strdup(message);
  ev->on_main_thread = g_thread_self() == fx->main_thread;
  g_ptr_array_add(fx->events, ev);
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
  fx->accel = spin_accel_new();
  fx->dev = count_device_new(16);
  fx->io = count_device_new_io_space(fx->dev, PORT_BASE);
  spin_accel_set_io(fx->accel, fx->io, PORT_BASE);
  fx->events = g_ptr_array_new_with_free_func(event_free);
  fx->main_thread = g_thread_self();
}

static void
fixture_create(Fixture *fx, guint count)
{
  g_autoptr(GError) error = NULL;

  fx->manager = arbor_vcpu_manager_new(ARBOR_ACCEL(fx->accel), NULL, count, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(fx->manager);
  g_signal_connect(fx->manager, "vcpu-state-changed", G_CALLBACK(on_vcpu_state_changed), fx);
}

static void
drain_context(void)
{
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
  g_clear_object(&fx->manager);
  drain_context();
  g_clear_object(&fx->io);
  count_device_free(fx->dev);
  g_clear_object(&fx->accel);
  g_ptr_array_unref(fx->events);
}

static ArborVcpu *
fx_vcpu(Fixture *fx, guint i)
{
  return arbor_vcpu_manager_get_vcpu(fx->manager, i);
}

/* Iterates the main context until @n events have arrived. */
static void
wait_events(Fixture *fx, guint n)
{
  while (fx->events->len < n)
    g_main_context_iteration(NULL, TRUE);
}

static guint64
vcpu_rax(ArborVcpu *vcpu)
{
  g_autoptr(GError) error = NULL;
  ArborRegs regs;

  g_assert_true(arbor_vcpu_get_regs(vcpu, &regs, &error));
  g_assert_no_error(error);
  return regs.rax;
}

/* The threads exist, are named vcpu-N, and no guest code ran. */
static void
test_created_paused(Fixture *fx, gconstpointer data)
{
  g_autoptr(GDir) dir = NULL;
  const char *entry;
  guint named = 0;

  fixture_create(fx, 3);
  g_assert_cmpuint(arbor_vcpu_manager_get_count(fx->manager), ==, 3);
  g_assert_null(arbor_vcpu_manager_get_vcpu(fx->manager, 3));
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpint(arbor_vcpu_get_state(fx_vcpu(fx, i)), ==, ARBOR_VCPU_STATE_CREATED);
    g_assert_cmpuint(arbor_vcpu_get_index(fx_vcpu(fx, i)), ==, i);
    g_assert_true(arbor_vcpu_get_accel(fx_vcpu(fx, i)) == ARBOR_ACCEL(fx->accel));
    g_assert_cmpuint(spin_accel_get_run_calls(fx->accel, i), ==, 0);
  }
  g_assert_false(arbor_vcpu_manager_is_running(fx->manager));

  dir = g_dir_open("/proc/self/task", 0, NULL);
  g_assert_nonnull(dir);
  while ((entry = g_dir_read_name(dir)) != NULL) {
    g_autofree char *path = g_strdup_printf("/proc/self/task/%s/comm", entry);
    g_autofree char *comm = NULL;

    if (g_file_get_contents(path, &comm, NULL, NULL) && g_str_has_prefix(comm, "vcpu-"))
      named++;
  }
  g_assert_cmpuint(named, ==, 3);
  g_assert_cmpuint(count_device_get_count(fx->dev, 0), ==, 0);
}

/* run, pause, resume, stop: each reached synchronously, and the events
 * arrive in that order on the main thread. */
static void
test_events_in_order(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ArborVcpu *vcpu;
  static const ArborVcpuEvent expected[] = {
    ARBOR_VCPU_EVENT_STARTED, ARBOR_VCPU_EVENT_PAUSED, ARBOR_VCPU_EVENT_RESUMED, ARBOR_VCPU_EVENT_STOPPED,
  };

  fixture_create(fx, 1);
  vcpu = fx_vcpu(fx, 0);

  g_assert_true(arbor_vcpu_run(vcpu, &error));
  g_assert_no_error(error);
  g_assert_cmpint(arbor_vcpu_get_state(vcpu), ==, ARBOR_VCPU_STATE_RUNNING);
  g_assert_true(arbor_vcpu_manager_is_running(fx->manager));
  count_device_wait_count(fx->dev, 0, 100);

  g_assert_true(arbor_vcpu_pause(vcpu, &error));
  g_assert_no_error(error);
  g_assert_cmpint(arbor_vcpu_get_state(vcpu), ==, ARBOR_VCPU_STATE_PAUSED);

  g_assert_true(arbor_vcpu_resume(vcpu, &error));
  g_assert_no_error(error);
  g_assert_cmpint(arbor_vcpu_get_state(vcpu), ==, ARBOR_VCPU_STATE_RUNNING);

  arbor_vcpu_stop(vcpu);
  g_assert_cmpint(arbor_vcpu_get_state(vcpu), ==, ARBOR_VCPU_STATE_STOPPED);
  g_assert_false(arbor_vcpu_run(vcpu, &error));
  g_assert_error(error, ARBOR_ERROR, ARBOR_ERROR_FAILED);

  /* Nothing is delivered before the main context runs. */
  g_assert_cmpuint(fx->events->len, ==, 0);
  wait_events(fx, G_N_ELEMENTS(expected));
  drain_context();
  g_assert_cmpuint(fx->events->len, ==, G_N_ELEMENTS(expected));
  for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
    Event *ev = g_ptr_array_index(fx->events, i);

    g_assert_cmpint(ev->event, ==, expected[i]);
    g_assert_cmpuint(ev->vcpu, ==, 0);
    g_assert_true(ev->on_main_thread);
    g_assert_null(ev->message);
  }
  g_assert_cmpuint(count_device_get_errors(fx->dev, 0), ==, 0);
}

/* A vCPU spinning without a pause point of its own is kicked out at once;
 * while paused it makes no access. */
static void
test_pause_spinning(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ArborVcpu *vcpu;
  guint64 at_pause;

  fixture_create(fx, 1);
  vcpu = fx_vcpu(fx, 0);
  g_assert_true(arbor_vcpu_run(vcpu, &error));
  count_device_wait_count(fx->dev, 0, 10000);

  g_assert_true(arbor_vcpu_pause(vcpu, &error));
  g_assert_no_error(error);
  at_pause = count_device_get_count(fx->dev, 0);
  g_assert_cmpuint(at_pause, >=, 10000);
  /* Every access the device saw is one the vCPU completed, and no more come. */
  g_assert_cmpuint(vcpu_rax(vcpu), ==, at_pause);
  for (int i = 0; i < 100; i++)
    g_thread_yield();
  g_assert_cmpuint(count_device_get_count(fx->dev, 0), ==, at_pause);
  g_assert_cmpuint(arbor_vcpu_get_stat(vcpu, ARBOR_VCPU_STAT_IO_OUT), ==, at_pause);
  g_assert_cmpuint(arbor_vcpu_get_stat(vcpu, ARBOR_VCPU_STAT_INTR), >=, 1);

  /* Registers are refused while it runs. */
  g_assert_true(arbor_vcpu_resume(vcpu, &error));
  {
    ArborRegs regs;
    g_autoptr(GError) regs_error = NULL;

    g_assert_false(arbor_vcpu_get_regs(vcpu, &regs, &regs_error));
    g_assert_error(regs_error, ARBOR_ERROR, ARBOR_ERROR_FAILED);
  }
  count_device_wait_count(fx->dev, 0, at_pause + 1000);
  arbor_vcpu_stop(vcpu);
  g_assert_cmpint(arbor_vcpu_get_state(vcpu), ==, ARBOR_VCPU_STATE_STOPPED);
  g_assert_cmpuint(count_device_get_errors(fx->dev, 0), ==, 0);
}

/* 1000 pause-all/resume-all cycles on 4 spinning vCPUs: each cycle lets
 * every vCPU make progress; no access is lost or repeated. */
static void
test_cycles(Fixture *fx, gconstpointer data)
{
  const guint nvcpus = 4;
  const guint cycles = GPOINTER_TO_UINT(data);

  fixture_create(fx, nvcpus);
  arbor_vcpu_manager_run_all(fx->manager);
  for (guint c = 0; c < cycles; c++) {
    guint64 before[4];

    /* Every 100th cycle waits until each vCPU has made progress; the
     * others pause at whatever point the vCPUs have reached. */
    for (guint i = 0; i < nvcpus && c % 100 == 0; i++) {
      before[i] = count_device_get_count(fx->dev, i);
      count_device_wait_count(fx->dev, i, before[i] + 1);
    }
    arbor_vcpu_manager_pause_all(fx->manager);
    g_assert_false(arbor_vcpu_manager_is_running(fx->manager));
    for (guint i = 0; i < nvcpus; i++) {
      g_assert_cmpint(arbor_vcpu_get_state(fx_vcpu(fx, i)), ==, ARBOR_VCPU_STATE_PAUSED);
      g_assert_cmpuint(vcpu_rax(fx_vcpu(fx, i)), ==, count_device_get_count(fx->dev, i));
    }
    arbor_vcpu_manager_resume_all(fx->manager);
    if (c % 100 == 0)
      g_test_message("cycle %u", c);
    /* Keep the main context from piling up events. */
    drain_context();
  }
  arbor_vcpu_manager_stop_all(fx->manager);
  for (guint i = 0; i < nvcpus; i++) {
    ArborVcpu *vcpu = fx_vcpu(fx, i);

    g_assert_cmpint(arbor_vcpu_get_state(vcpu), ==, ARBOR_VCPU_STATE_STOPPED);
    g_assert_cmpuint(count_device_get_errors(fx->dev, i), ==, 0);
    g_assert_cmpuint(count_device_get_last(fx->dev, i), ==, count_device_get_count(fx->dev, i));
    g_assert_cmpuint(count_device_get_count(fx->dev, i), >=, cycles / 100);
  }
  drain_context();
  /* Per vCPU: started, cycles x (paused, resumed), stopped. */
  g_assert_cmpuint(fx->events->len, ==, nvcpus * (2 + 2 * cycles));
}

/* Back-to-back commands: a pause issued right after run, before the
 * thread has entered its loop, still takes effect. */
static void
test_command_races(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ArborVcpu *vcpu;

  fixture_create(fx, 1);
  vcpu = fx_vcpu(fx, 0);
  for (int i = 0; i < 2000; i++) {
    if (i % 2 == 0) {
      g_assert_true(arbor_vcpu_resume(vcpu, &error));
      g_assert_true(arbor_vcpu_pause(vcpu, &error));
    } else {
      arbor_vcpu_request_resume(vcpu);
      arbor_vcpu_request_pause(vcpu);
      g_assert_true(arbor_vcpu_pause(vcpu, &error));
    }
    g_assert_no_error(error);
    g_assert_cmpuint(vcpu_rax(vcpu), ==, count_device_get_count(fx->dev, 0));
    drain_context();
  }
  g_assert_cmpuint(count_device_get_errors(fx->dev, 0), ==, 0);
}

/* Dropping the manager while every vCPU spins stops and joins them all. */
static void
test_destroy_spinning(Fixture *fx, gconstpointer data)
{
  g_autoptr(ArborVcpu) kept = NULL;

  fixture_create(fx, 4);
  kept = g_object_ref(fx_vcpu(fx, 2));
  arbor_vcpu_manager_run_all(fx->manager);
  for (guint i = 0; i < 4; i++)
    count_device_wait_count(fx->dev, i, 1000);
  g_clear_object(&fx->manager);
  g_assert_cmpint(arbor_vcpu_get_state(kept), ==, ARBOR_VCPU_STATE_STOPPED);
  g_assert_cmpuint(count_device_get_errors(fx->dev, 2), ==, 0);
  /* Disposing the vCPU object itself again is harmless. */
  g_object_run_dispose(G_OBJECT(kept));
  g_assert_cmpint(arbor_vcpu_get_state(kept), ==, ARBOR_VCPU_STATE_STOPPED);
}

/* HALTED waits for a kick; pause/resume keep it halted; a kick wakes it. */
static void
test_halt_kick(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ArborVcpu *vcpu;

  spin_accel_set_halt_after(fx->accel, 500);
  fixture_create(fx, 1);
  vcpu = fx_vcpu(fx, 0);
  g_assert_true(arbor_vcpu_run(vcpu, &error));
  g_assert_cmpint(arbor_vcpu_wait_state(vcpu, 1u << ARBOR_VCPU_STATE_HALTED), ==, ARBOR_VCPU_STATE_HALTED);
  g_assert_cmpuint(count_device_get_count(fx->dev, 0), ==, 500);
  g_assert_true(arbor_vcpu_manager_is_running(fx->manager));

  g_assert_true(arbor_vcpu_pause(vcpu, &error));
  g_assert_cmpint(arbor_vcpu_get_state(vcpu), ==, ARBOR_VCPU_STATE_PAUSED);
  g_assert_true(arbor_vcpu_resume(vcpu, &error));
  g_assert_no_error(error);
  g_assert_cmpint(arbor_vcpu_wait_state(vcpu, 1u << ARBOR_VCPU_STATE_HALTED), ==, ARBOR_VCPU_STATE_HALTED);
  g_assert_cmpuint(count_device_get_count(fx->dev, 0), ==, 500);

  arbor_vcpu_kick(vcpu);
  count_device_wait_count(fx->dev, 0, 1500);
  g_assert_cmpuint(arbor_vcpu_get_stat(vcpu, ARBOR_VCPU_STAT_HLT), ==, 1);
  arbor_vcpu_stop(vcpu);
  g_assert_cmpuint(count_device_get_errors(fx->dev, 0), ==, 0);
}

/* An exit that ends the vCPU: EXITED with the reason kept, the event
 * carries the description, commands fail, reset makes it runnable again. */
static void
test_exit(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ArborVcpuExit exit;
  ArborVcpu *vcpu;
  Event *last;

  spin_accel_set_exit_after(fx->accel, 300);
  fixture_create(fx, 2);
  vcpu = fx_vcpu(fx, 0);
  arbor_vcpu_get_exit(vcpu, &exit);
  g_assert_cmpint(exit.reason, ==, ARBOR_VCPU_EXIT_NONE);

  g_assert_true(arbor_vcpu_run(vcpu, &error));
  g_assert_no_error(error);
  g_assert_cmpint(arbor_vcpu_wait_state(vcpu, 1u << ARBOR_VCPU_STATE_EXITED), ==, ARBOR_VCPU_STATE_EXITED);
  g_assert_true(capture_find("vCPU 0 exited (shutdown): spin: shutdown after 300 accesses"));
  arbor_vcpu_get_exit(vcpu, &exit);
  g_assert_cmpint(exit.reason, ==, ARBOR_VCPU_EXIT_SHUTDOWN);
  g_assert_cmpuint(exit.hw_reason, ==, 8);
  g_assert_cmpstr(exit.description, ==, "spin: shutdown after 300 accesses");
  g_assert_cmpuint(count_device_get_count(fx->dev, 0), ==, 300);

  g_assert_false(arbor_vcpu_pause(vcpu, &error));
  g_assert_error(error, ARBOR_ERROR, ARBOR_ERROR_FAILED);
  g_assert_nonnull(strstr(error->message, "exited"));
  g_clear_error(&error);
  g_assert_false(arbor_vcpu_resume(vcpu, &error));
  g_assert_error(error, ARBOR_ERROR, ARBOR_ERROR_FAILED);
  g_clear_error(&error);
  /* The manager skips it. */
  arbor_vcpu_manager_pause_all(fx->manager);
  g_assert_cmpuint(vcpu_rax(vcpu), ==, 300);

  wait_events(fx, 2);
  last = g_ptr_array_index(fx->events, 1);
  g_assert_cmpint(last->event, ==, ARBOR_VCPU_EVENT_EXITED);
  g_assert_cmpstr(last->message, ==, "spin: shutdown after 300 accesses");

  /* Reset: back to paused, exit cleared, and it runs again. */
  spin_accel_set_exit_after(fx->accel, 0);
  g_assert_true(arbor_vcpu_reset(vcpu, &error));
  g_assert_no_error(error);
  g_assert_cmpint(arbor_vcpu_get_state(vcpu), ==, ARBOR_VCPU_STATE_PAUSED);
  arbor_vcpu_get_exit(vcpu, &exit);
  g_assert_cmpint(exit.reason, ==, ARBOR_VCPU_EXIT_NONE);
  g_assert_true(arbor_vcpu_resume(vcpu, &error));
  g_assert_no_error(error);
  /* rax restarted at 0: the device sees 1 again, which it counts as one error. */
  count_device_wait_count(fx->dev, 0, 400);
  arbor_vcpu_manager_stop_all(fx->manager);
  g_assert_cmpuint(count_device_get_errors(fx->dev, 0), ==, 1);
}

/* exit-on-halt turns HLT into an exit with reason HALT. */
static void
test_exit_on_halt(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ArborVcpuExit exit;
  ArborVcpu *vcpu;

  spin_accel_set_halt_after(fx->accel, 10);
  fixture_create(fx, 1);
  vcpu = fx_vcpu(fx, 0);
  g_object_set(vcpu, "exit-on-halt", TRUE, NULL);
  g_assert_true(arbor_vcpu_run(vcpu, &error));
  g_assert_cmpint(arbor_vcpu_wait_state(vcpu, 1u << ARBOR_VCPU_STATE_EXITED), ==, ARBOR_VCPU_STATE_EXITED);
  g_assert_true(capture_find("vCPU 0 exited (halt)*"));
  arbor_vcpu_get_exit(vcpu, &exit);
  g_assert_cmpint(exit.reason, ==, ARBOR_VCPU_EXIT_HALT);
  g_assert_cmpstr(arbor_vcpu_exit_reason_name(exit.reason), ==, "halt");
}

/* A vcpu_init failure on one thread fails the whole manager, naming it. */
static void
test_init_error(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborVcpuManager) manager = NULL;

  spin_accel_set_fail_init(fx->accel, 1);
  manager = arbor_vcpu_manager_new(ARBOR_ACCEL(fx->accel), NULL, 3, NULL, &error);
  g_assert_null(manager);
  g_assert_error(error, ARBOR_ERROR, ARBOR_ERROR_FAILED);
  g_assert_cmpstr(error->message, ==, "vCPU 1: spin: vCPU init refused as asked");
  drain_context();
}

/* The same machinery through a machine: the accelerator dispatches to the
 * machine's I/O space. */
static void
test_machine(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SpinAccel) accel = spin_accel_new();
  g_autoptr(ArborMachine) machine = arbor_machine_new(2 * 1024 * 1024, 2, NULL, &error);
  CountDevice *dev = count_device_new(2);
  ArborVcpuManager *manager;

  g_assert_no_error(error);
  arbor_memory_region_add_subregion(arbor_machine_get_system_io(machine), PORT_BASE,
                                    count_device_get_region(dev));
  g_assert_true(arbor_machine_set_accel(machine, ARBOR_ACCEL(accel), &error));
  g_assert_no_error(error);
  manager = arbor_machine_get_vcpu_manager(machine);
  g_assert_nonnull(manager);
  g_assert_cmpuint(arbor_vcpu_manager_get_count(manager), ==, 2);
  g_assert_true(arbor_vcpu_get_machine(arbor_vcpu_manager_get_vcpu(manager, 1)) == machine);
  g_assert_true(arbor_accel_get_machine(ARBOR_ACCEL(accel)) == machine);

  arbor_vcpu_manager_run_all(manager);
  count_device_wait_count(dev, 0, 1000);
  count_device_wait_count(dev, 1, 1000);
  arbor_vcpu_manager_pause_all(manager);
  for (guint i = 0; i < 2; i++)
    g_assert_cmpuint(vcpu_rax(arbor_vcpu_manager_get_vcpu(manager, i)), ==, count_device_get_count(dev, i));
  arbor_machine_shutdown(machine);
  g_assert_cmpint(arbor_vcpu_get_state(arbor_vcpu_manager_get_vcpu(manager, 0)), ==, ARBOR_VCPU_STATE_STOPPED);
  arbor_memory_region_del_subregion(arbor_machine_get_system_io(machine), count_device_get_region(dev));
  g_clear_object(&machine);
  drain_context();
  g_assert_cmpuint(count_device_get_errors(dev, 0), ==, 0);
  count_device_free(dev);
}

static void
test_names(void)
{
  g_assert_cmpstr(arbor_vcpu_state_name(ARBOR_VCPU_STATE_HALTED), ==, "halted");
  g_assert_cmpstr(arbor_vcpu_state_name((ArborVcpuState)99), ==, "invalid");
  g_assert_cmpstr(arbor_vcpu_stat_name(ARBOR_VCPU_STAT_MMIO_WRITE), ==, "mmio-write");
  g_assert_cmpstr(arbor_vcpu_stat_name(ARBOR_VCPU_STAT_N), ==, "invalid");
  g_assert_cmpstr(arbor_vcpu_exit_reason_name(ARBOR_VCPU_EXIT_INTERNAL_ERROR), ==, "internal-error");
}

#define ADD(path, func, data) \
  g_test_add("/vcpu/lifecycle/" path, Fixture, data, fixture_setup, func, fixture_teardown)

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_mutex_init(&capture.lock);
  capture.messages = g_ptr_array_new_with_free_func(g_free);
  g_log_set_writer_func(capture_writer, NULL, NULL);

  g_test_add_func("/vcpu/names", test_names);
  ADD("created-paused", test_created_paused, NULL);
  ADD("events-in-order", test_events_in_order, NULL);
  ADD("pause-spinning", test_pause_spinning, NULL);
  ADD("cycles-1000-x4", test_cycles, GUINT_TO_POINTER(1000));
  ADD("command-races", test_command_races, NULL);
  ADD("destroy-spinning", test_destroy_spinning, NULL);
  ADD("halt-kick", test_halt_kick, NULL);
  ADD("exit", test_exit, NULL);
  ADD("exit-on-halt", test_exit_on_halt, NULL);
  ADD("init-error", test_init_error, NULL);
  ADD("machine", test_machine, NULL);
  return g_test_run();
}
