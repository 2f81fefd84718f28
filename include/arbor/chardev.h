/* ArborChardev: a byte stream backend on GIO (stdio, null, file, unix socket). */
#pragma once

#include <arbor/arbor-types.h>

G_BEGIN_DECLS

#define ARBOR_TYPE_CHARDEV (arbor_chardev_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborChardev, arbor_chardev, ARBOR, CHARDEV, GObject)

/**
 * arbor_chardev_new:
 * @spec: QEMU's -serial/-monitor/-qtest spelling: "stdio", "null",
 *   "file:PATH", "unix:PATH" (client: connect to a listening socket),
 *   "unix:PATH,server=on[,wait=off]" (listen; with wait=on, the default
 *   for servers as in QEMU, opening blocks until a client connects).
 * @context: the main context its I/O runs on (NULL: the default).
 *
 * A bad spec, a file that cannot be opened or a socket that cannot be
 * connected/bound is a GError naming the spec and the reason.
 */
ARBOR_API ArborChardev *arbor_chardev_new(const char *spec, GMainContext *context, GError **error);
ARBOR_API const char *arbor_chardev_get_spec(ArborChardev *chr);

/* Queues @len bytes for output without ever blocking: any thread (vCPU
 * threads write the guest's serial output). The queue is bounded; bytes
 * that do not fit are counted as dropped and logged (rate-limited), never
 * silently lost. Returns the number of bytes accepted. */
ARBOR_API gsize arbor_chardev_write(ArborChardev *chr, const void *data, gsize len);
/* Bytes accepted but not yet written to the backend. */
ARBOR_API gsize arbor_chardev_get_pending(ArborChardev *chr);
ARBOR_API guint64 arbor_chardev_get_dropped(ArborChardev *chr);
/* Main thread: write everything queued, blocking up to @timeout_ms (exit paths). */
ARBOR_API void arbor_chardev_flush(ArborChardev *chr, int timeout_ms);
ARBOR_API gboolean arbor_chardev_is_connected(ArborChardev *chr);

/* Flow control for input: while not accepting, the backend stops reading
 * (so input buffering stays bounded). */
ARBOR_API void arbor_chardev_set_accept_input(ArborChardev *chr, gboolean accept);

/* Signals (emitted on the chardev's main context):
 *   "received" (GBytes *data)  input from the backend
 *   "opened"   ()              a client connected (sockets) / backend ready
 *   "closed"   ()              the peer went away (EOF, error, disconnect)
 */

G_END_DECLS
