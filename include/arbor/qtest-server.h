/* ArborQtestServer: QEMU's qtest text protocol over a chardev. */
#pragma once

#include <arbor/arbor-types.h>

G_BEGIN_DECLS

#define ARBOR_TYPE_QTEST_SERVER (arbor_qtest_server_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborQtestServer, arbor_qtest_server, ARBOR, QTEST_SERVER, GObject)

/* Serves @machine on the chardev @spec ("stdio", "unix:PATH",
 * "unix:PATH,server=on,wait=off"); @log_path: the -qtest-log file, "none"
 * or NULL for no log. */
ARBOR_API ArborQtestServer *arbor_qtest_server_new(ArborMachine *machine,
                                                   const char *spec,
                                                   const char *log_path,
                                                   GError **error);

/* In-process use (fuzzing, unit tests): replies and IRQ lines go to @func
 * (called with the server's output lock held: it must not feed the server).
 * @machine may be NULL: then only the parser runs, and every command that
 * needs a machine answers "FAIL no machine attached to this qtest server". */
typedef void (*ArborQtestOutputFunc)(gpointer opaque, const char *data, gsize len);
ARBOR_API ArborQtestServer *arbor_qtest_server_new_in_process(ArborMachine *machine,
                                                              ArborQtestOutputFunc func,
                                                              gpointer opaque);
/* Feeds raw protocol bytes (any split); complete lines are executed at once. */
ARBOR_API void arbor_qtest_server_feed(ArborQtestServer *server, const char *data, gsize len);

G_END_DECLS
