/* ArborMonitor: a line-oriented human monitor, QEMU-style ("(arbor) "). */
#pragma once

#include <arbor/arbor-types.h>

G_BEGIN_DECLS

/* Longer input lines are refused with an error line (and skipped). */
#define ARBOR_MONITOR_MAX_LINE 1024
#define ARBOR_MONITOR_PROMPT "(arbor) "

#define ARBOR_TYPE_MONITOR (arbor_monitor_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborMonitor, arbor_monitor, ARBOR, MONITOR, GObject)

/* Serves the monitor on the chardev @spec ("stdio", "unix:PATH,server=on,wait=off", ...).
 * Holds a ref on @machine. Commands run on the machine's main context.
 * "quit" asks the machine to shut down with exit code 0. */
ARBOR_API ArborMonitor *arbor_monitor_new(ArborMachine *machine, const char *spec, GError **error);

/* Without a backend, for tests and fuzzing. */
ARBOR_API ArborMonitor *arbor_monitor_new_in_process(ArborMachine *machine);

/* Runs one command line (no prompt) and returns what it prints; errors are
 * printed lines too ("unknown command: 'x'"). Never NULL; g_free(). */
ARBOR_API char *arbor_monitor_execute(ArborMonitor *monitor, const char *line);

/* Feeds raw input (any split); each complete line is executed and its
 * output and a new prompt are written to the backend. */
ARBOR_API void arbor_monitor_feed(ArborMonitor *monitor, const char *data, gsize len);

G_END_DECLS
