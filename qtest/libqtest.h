/* libqtest: drive an arbor process through the qtest protocol from a GTest
 * program. The test listens on a unix socket, starts $ARBOR_BINARY with
 * "-qtest unix:SOCK" and talks to it line by line; asynchronous
 * "IRQ raise/lower N" lines are tracked while waiting for replies.
 *
 * Protocol failures (an unexpected reply, arbor going away) are reported
 * with g_test_fail_printf() naming the command and the reply; the state is
 * then marked broken and later calls return all-ones without talking. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _QTestState QTestState;

/* Starts arbor with "-accel qtest -qtest unix:SOCK -qtest-log LOG
 * -display none -nodefaults" plus @extra_args (shell-quoted words, may be
 * NULL) and waits for it to connect. */
QTestState *qtest_init(const char *extra_args);
QTestState *qtest_initf(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Same with another accelerator ("kvm"). */
QTestState *qtest_init_accel(const char *accel, const char *extra_args);

/* Closes the connection (arbor shuts down when its qtest client leaves),
 * waits for the process (killing it if it does not exit in time), removes
 * the socket and the log, frees @s. Returns the exit status as waitpid
 * reports it. */
int qtest_quit(QTestState *s);
/* Waits for arbor to exit by itself (debug-exit, reset policy...) and
 * returns its exit code (WEXITSTATUS), or -signal if it was killed by one.
 * The state stays valid for qtest_quit(). */
int qtest_wait_exit(QTestState *s);

gboolean qtest_is_broken(QTestState *s);
const char *qtest_get_log_path(QTestState *s);

/* Raw protocol access (protocol tests): send one line (a '\n' is added)
 * and return the next reply line without its '\n' (IRQ lines are consumed
 * and tracked). g_free() the result; NULL if the connection is gone. */
char *qtest_raw(QTestState *s, const char *line);
char *qtest_rawf(QTestState *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Sends bytes as they are (no '\n' added), for malformed input. */
void qtest_send_bytes(QTestState *s, const void *data, gsize len);
/* Next reply line after qtest_send_bytes(). */
char *qtest_recv_reply(QTestState *s);
/* Next line of any kind, IRQ lines included, unparsed. */
char *qtest_recv_line(QTestState *s);

/* I/O ports. */
void qtest_outb(QTestState *s, guint16 port, guint8 value);
void qtest_outw(QTestState *s, guint16 port, guint16 value);
void qtest_outl(QTestState *s, guint16 port, guint32 value);
guint8 qtest_inb(QTestState *s, guint16 port);
guint16 qtest_inw(QTestState *s, guint16 port);
guint32 qtest_inl(QTestState *s, guint16 port);

/* Guest-physical memory. */
void qtest_writeb(QTestState *s, guint64 addr, guint8 value);
void qtest_writew(QTestState *s, guint64 addr, guint16 value);
void qtest_writel(QTestState *s, guint64 addr, guint32 value);
void qtest_writeq(QTestState *s, guint64 addr, guint64 value);
guint8 qtest_readb(QTestState *s, guint64 addr);
guint16 qtest_readw(QTestState *s, guint64 addr);
guint32 qtest_readl(QTestState *s, guint64 addr);
guint64 qtest_readq(QTestState *s, guint64 addr);
void qtest_memread(QTestState *s, guint64 addr, void *data, gsize size);
void qtest_memwrite(QTestState *s, guint64 addr, const void *data, gsize size);
void qtest_bufread(QTestState *s, guint64 addr, void *data, gsize size);        /* base64 */
void qtest_bufwrite(QTestState *s, guint64 addr, const void *data, gsize size); /* base64 */
void qtest_memset(QTestState *s, guint64 addr, guint8 pattern, gsize size);

/* Virtual clock (qtest accelerator): return the new time in ns. */
gint64 qtest_clock_step(QTestState *s, gint64 ns);
gint64 qtest_clock_step_next(QTestState *s);
gint64 qtest_clock_set(QTestState *s, gint64 ns);

/* Interrupts. */
void qtest_irq_intercept_in(QTestState *s, const char *path);
void qtest_irq_intercept_out(QTestState *s, const char *path);
void qtest_set_irq_in(QTestState *s, const char *path, const char *name, int num, int level);
/* The level of line @num as last reported by arbor (a round trip first, so
 * every change caused by earlier commands has been seen). */
gboolean qtest_get_irq(QTestState *s, int num);
/* How many IRQ lines (raise or lower) were received in total. */
guint qtest_get_irq_events(QTestState *s);

G_END_DECLS
