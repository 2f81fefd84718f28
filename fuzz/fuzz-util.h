/* What the fuzzers share: fatal setup errors and a machine on the qtest
 * accelerator (no guest code runs; RAM and devices are real). */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#include <arbor/arbor.h>

static inline void G_GNUC_NORETURN
fuzz_die(const char *target, const char *what, GError *error)
{
  fprintf(stderr, "%s: %s: %s\n", target, what, error != NULL ? error->message : "(no error)");
  exit(1);
}

/* Called from LLVMFuzzerInitialize. Criticals are arbor's own programming
 * errors: external input must never trigger one, so they crash the run. */
static inline ArborMachine *
fuzz_new_qtest_machine(const char *target, guint64 ram_size, GMainContext *context)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborAccel) accel = NULL;
  ArborMachine *machine;

  /* The qtest accelerator is a module of this build tree. */
  g_setenv("ARBOR_MODULE_DIR", FUZZ_BUILD_MODULE_DIR, FALSE);
  g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);

  machine = arbor_machine_new(ram_size, 1, context, &error);
  if (machine == NULL)
    fuzz_die(target, "machine", error);
  accel = arbor_accel_new("qtest", &error);
  if (accel == NULL)
    fuzz_die(target, "accel qtest", error);
  if (!arbor_machine_set_accel(machine, accel, &error))
    fuzz_die(target, "set_accel", error);
  return machine;
}
