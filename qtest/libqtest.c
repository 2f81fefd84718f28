/* libqtest: the client side of the qtest protocol, for GTest programs. */
#include "arbor-config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "libqtest.h"

#define QTEST_MAX_IRQ 256
/* Bounds on waiting for arbor (robustness, not assertions on timing). */
#define QTEST_CONNECT_TIMEOUT_MS 30000
#define QTEST_REPLY_TIMEOUT_MS 60000
#define QTEST_EXIT_TIMEOUT_MS 10000

struct _QTestState {
  GPid pid;            /* arbor; 0 once reaped */
  int exit_status;     /* waitpid status once reaped */
  int fd;              /* the connection; -1 when closed */
  char *dir;           /* owned: temporary directory for the socket and the log */
  char *socket_path;   /* owned */
  char *log_path;      /* owned */
  GString *rx;         /* owned: received bytes not yet consumed */
  gboolean broken;
  gboolean irq_level[QTEST_MAX_IRQ];
  guint irq_events;
};

static void G_GNUC_PRINTF(2, 3)
qtest_fail(QTestState *s, const char *fmt, ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start(args, fmt);
  msg = g_strdup_vprintf(fmt, args);
  va_end(args);
  if (!s->broken)
    g_test_fail_printf("libqtest: %s (log: %s)", msg, s->log_path);
  s->broken = TRUE;
}

static gboolean
qtest_reap(QTestState *s, int timeout_ms)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

  while (s->pid != 0) {
    int status;
    pid_t r = waitpid(s->pid, &status, WNOHANG);

    if (r == s->pid || (r < 0 && errno == ECHILD)) {
      s->exit_status = r == s->pid ? status : 0;
      g_spawn_close_pid(s->pid);
      s->pid = 0;
      break;
    }
    if (g_get_monotonic_time() >= deadline)
      return FALSE;
    g_usleep(5000);
  }
  return TRUE;
}

static QTestState *
qtest_start(const char *accel, const char *extra_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
  g_auto(GStrv) extra = NULL;
  const char *binary = g_getenv("ARBOR_BINARY");
  QTestState *s = g_new0(QTestState, 1);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int listen_fd;
  gint64 deadline;

  s->fd = -1;
  s->rx = g_string_new(NULL);
  s->dir = g_dir_make_tmp("arbor-qtest-XXXXXX", &error);
  g_assert_no_error(error);
  s->socket_path = g_build_filename(s->dir, "qtest.sock", NULL);
  s->log_path = g_build_filename(s->dir, "qtest.log", NULL);

  if (binary == NULL) {
    qtest_fail(s, "ARBOR_BINARY is not set (run the tests with meson test)");
    return s;
  }
  if (extra_args != NULL && *extra_args != '\0' && !g_shell_parse_argv(extra_args, NULL, &extra, &error)) {
    qtest_fail(s, "bad extra arguments '%s': %s", extra_args, error->message);
    return s;
  }

  /* The test listens first, arbor connects (libqtest's order): no race on
   * who is ready, and arbor's connect failing is its own clear error. */
  g_assert_cmpuint(strlen(s->socket_path), <, sizeof(addr.sun_path));
  strcpy(addr.sun_path, s->socket_path);
  listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint(listen_fd, >=, 0);
  g_assert_cmpint(bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
  g_assert_cmpint(listen(listen_fd, 1), ==, 0);

  g_ptr_array_add(argv, g_strdup(binary));
  g_ptr_array_add(argv, g_strdup("-accel"));
  g_ptr_array_add(argv, g_strdup(accel));
  g_ptr_array_add(argv, g_strdup("-qtest"));
  g_ptr_array_add(argv, g_strdup_printf("unix:%s", s->socket_path));
  g_ptr_array_add(argv, g_strdup("-qtest-log"));
  g_ptr_array_add(argv, g_strdup(s->log_path));
  g_ptr_array_add(argv, g_strdup("-display"));
  g_ptr_array_add(argv, g_strdup("none"));
  g_ptr_array_add(argv, g_strdup("-nodefaults"));
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add(argv, g_strdup(extra[i]));
  g_ptr_array_add(argv, NULL);

  if (!g_spawn_async(NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &s->pid, &error)) {
    close(listen_fd);
    qtest_fail(s, "cannot start %s: %s", binary, error->message);
    return s;
  }

  deadline = g_get_monotonic_time() + (gint64)QTEST_CONNECT_TIMEOUT_MS * 1000;
  while (s->fd < 0) {
    struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
    int r = poll(&pfd, 1, 50);

    if (r > 0) {
      s->fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (s->fd < 0 && errno != EINTR && errno != EAGAIN) {
        qtest_fail(s, "accept: %s", g_strerror(errno));
        break;
      }
      continue;
    }
    /* arbor failing at startup (bad option) is the usual reason. */
    if (qtest_reap(s, 0) && s->pid == 0) {
      qtest_fail(s, "arbor exited before connecting (status 0x%x); its stderr says why", s->exit_status);
      break;
    }
    if (g_get_monotonic_time() >= deadline) {
      qtest_fail(s, "arbor did not connect to %s in %d ms", s->socket_path, QTEST_CONNECT_TIMEOUT_MS);
      break;
    }
  }
  close(listen_fd);
  g_unlink(s->socket_path);
  return s;
}

QTestState *
qtest_init_accel(const char *accel, const char *extra_args)
{
  return qtest_start(accel, extra_args);
}

QTestState *
qtest_init(const char *extra_args)
{
  return qtest_start("qtest", extra_args);
}

QTestState *
qtest_initf(const char *fmt, ...)
{
  g_autofree char *args = NULL;
  va_list ap;

  va_start(ap, fmt);
  args = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  return qtest_init(args);
}

static void
qtest_close_connection(QTestState *s)
{
  if (s->fd >= 0) {
    close(s->fd);
    s->fd = -1;
  }
}

int
qtest_wait_exit(QTestState *s)
{
  if (!qtest_reap(s, QTEST_EXIT_TIMEOUT_MS)) {
    qtest_fail(s, "arbor did not exit within %d ms; killing it", QTEST_EXIT_TIMEOUT_MS);
    kill(s->pid, SIGKILL);
    qtest_reap(s, QTEST_EXIT_TIMEOUT_MS);
  }
  if (WIFEXITED(s->exit_status))
    return WEXITSTATUS(s->exit_status);
  if (WIFSIGNALED(s->exit_status))
    return -WTERMSIG(s->exit_status);
  return -1;
}

int
qtest_quit(QTestState *s)
{
  int status;

  qtest_close_connection(s);
  if (s->pid != 0 && !qtest_reap(s, QTEST_EXIT_TIMEOUT_MS)) {
    g_test_message("libqtest: arbor %d did not exit after its qtest connection closed; killing it", (int)s->pid);
    kill(s->pid, SIGKILL);
    qtest_reap(s, QTEST_EXIT_TIMEOUT_MS);
  }
  status = s->exit_status;

  if (g_getenv("ARBOR_QTEST_KEEP_LOG") != NULL) {
    g_test_message("libqtest: log kept in %s", s->log_path);
  } else {
    g_unlink(s->log_path);
    g_unlink(s->socket_path);
    g_rmdir(s->dir);
  }
  g_free(s->dir);
  g_free(s->socket_path);
  g_free(s->log_path);
  g_string_free(s->rx, TRUE);
  g_free(s);
  return status;
}

gboolean
qtest_is_broken(QTestState *s)
{
  return s->broken;
}

const char *
qtest_get_log_path(QTestState *s)
{
  return s->log_path;
}

/* ---- lines ------------------------------------------------------------- */

void
qtest_send_bytes(QTestState *s, const void *data, gsize len)
{
  const char *p = data;

  if (s->broken || s->fd < 0)
    return;
  while (len > 0) {
    ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      qtest_fail(s, "send: %s", g_strerror(errno));
      return;
    }
    p += n;
    len -= n;
  }
}

char *
qtest_recv_line(QTestState *s)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)QTEST_REPLY_TIMEOUT_MS * 1000;

  if (s->broken || s->fd < 0)
    return NULL;
  for (;;) {
    char *nl = memchr(s->rx->str, '\n', s->rx->len);
    char buf[65536];
    struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
    ssize_t n;
    int r;

    if (nl != NULL) {
      gsize len = nl - s->rx->str;
      char *line = g_strndup(s->rx->str, len);

      g_string_erase(s->rx, 0, len + 1);
      return line;
    }
    r = poll(&pfd, 1, 100);
    if (r == 0) {
      if (g_get_monotonic_time() >= deadline) {
        qtest_fail(s, "no reply from arbor in %d ms", QTEST_REPLY_TIMEOUT_MS);
        return NULL;
      }
      continue;
    }
    if (r < 0 && errno == EINTR)
      continue;
    n = recv(s->fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      qtest_fail(s, "arbor closed the qtest connection%s", n < 0 ? " with an error" : "");
      return NULL;
    }
    g_string_append_len(s->rx, buf, n);
  }
}

/* "IRQ raise N" / "IRQ lower N": tracked, never returned as a reply. */
static gboolean
qtest_take_irq_line(QTestState *s, const char *line)
{
  const char *num;
  gboolean level;
  guint64 n;
  char *end;

  if (g_str_has_prefix(line, "IRQ raise ")) {
    level = TRUE;
    num = line + 10;
  } else if (g_str_has_prefix(line, "IRQ lower ")) {
    level = FALSE;
    num = line + 10;
  } else {
    return FALSE;
  }
  n = g_ascii_strtoull(num, &end, 10);
  if (end == num || *end != '\0' || n >= QTEST_MAX_IRQ) {
    qtest_fail(s, "malformed IRQ line '%s'", line);
    return TRUE;
  }
  s->irq_level[n] = level;
  s->irq_events++;
  return TRUE;
}

char *
qtest_recv_reply(QTestState *s)
{
  for (;;) {
    char *line = qtest_recv_line(s);

    if (line == NULL || !qtest_take_irq_line(s, line))
      return line;
    g_free(line);
  }
}

char *
qtest_raw(QTestState *s, const char *line)
{
  g_autofree char *with_nl = g_strconcat(line, "\n", NULL);

  qtest_send_bytes(s, with_nl, strlen(with_nl));
  return qtest_recv_reply(s);
}

char *
qtest_rawf(QTestState *s, const char *fmt, ...)
{
  g_autofree char *line = NULL;
  va_list ap;

  va_start(ap, fmt);
  line = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  return qtest_raw(s, line);
}

/* Sends @line and checks the reply is "OK" (or starts with "OK " when a
 * value follows); returns the value part ("" for a bare OK) or NULL. */
static char *
qtest_command(QTestState *s, const char *line, gboolean want_value)
{
  g_autofree char *reply = NULL;

  if (s->broken)
    return NULL;
  reply = qtest_raw(s, line);
  if (reply == NULL)
    return NULL;
  if (want_value ? !g_str_has_prefix(reply, "OK ") : strcmp(reply, "OK") != 0) {
    qtest_fail(s, "'%.80s' got '%.200s'", line, reply);
    return NULL;
  }
  return g_strdup(want_value ? reply + 3 : "");
}

static void G_GNUC_PRINTF(2, 3)
qtest_commandf_ok(QTestState *s, const char *fmt, ...)
{
  g_autofree char *line = NULL;
  g_autofree char *value = NULL;
  va_list ap;

  va_start(ap, fmt);
  line = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  value = qtest_command(s, line, FALSE);
}

static guint64 G_GNUC_PRINTF(2, 3)
qtest_commandf_u64(QTestState *s, const char *fmt, ...)
{
  g_autofree char *line = NULL;
  g_autofree char *value = NULL;
  guint64 result;
  char *end;
  va_list ap;

  va_start(ap, fmt);
  line = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  value = qtest_command(s, line, TRUE);
  if (value == NULL)
    return G_MAXUINT64;
  result = g_ascii_strtoull(value, &end, 0);
  if (end == value || *end != '\0') {
    qtest_fail(s, "'%s' got a malformed value '%s'", line, value);
    return G_MAXUINT64;
  }
  return result;
}

/* ---- commands ---------------------------------------------------------- */

void
qtest_outb(QTestState *s, guint16 port, guint8 value)
{
  qtest_commandf_ok(s, "outb 0x%x 0x%x", port, value);
}

void
qtest_outw(QTestState *s, guint16 port, guint16 value)
{
  qtest_commandf_ok(s, "outw 0x%x 0x%x", port, value);
}

void
qtest_outl(QTestState *s, guint16 port, guint32 value)
{
  qtest_commandf_ok(s, "outl 0x%x 0x%x", port, value);
}

guint8
qtest_inb(QTestState *s, guint16 port)
{
  return (guint8)qtest_commandf_u64(s, "inb 0x%x", port);
}

guint16
qtest_inw(QTestState *s, guint16 port)
{
  return (guint16)qtest_commandf_u64(s, "inw 0x%x", port);
}

guint32
qtest_inl(QTestState *s, guint16 port)
{
  return (guint32)qtest_commandf_u64(s, "inl 0x%x", port);
}

void
qtest_writeb(QTestState *s, guint64 addr, guint8 value)
{
  qtest_commandf_ok(s, "writeb 0x%" PRIx64 " 0x%x", addr, value);
}

void
qtest_writew(QTestState *s, guint64 addr, guint16 value)
{
  qtest_commandf_ok(s, "writew 0x%" PRIx64 " 0x%x", addr, value);
}

void
qtest_writel(QTestState *s, guint64 addr, guint32 value)
{
  qtest_commandf_ok(s, "writel 0x%" PRIx64 " 0x%x", addr, value);
}

void
qtest_writeq(QTestState *s, guint64 addr, guint64 value)
{
  qtest_commandf_ok(s, "writeq 0x%" PRIx64 " 0x%" PRIx64, addr, value);
}

guint8
qtest_readb(QTestState *s, guint64 addr)
{
  return (guint8)qtest_commandf_u64(s, "readb 0x%" PRIx64, addr);
}

guint16
qtest_readw(QTestState *s, guint64 addr)
{
  return (guint16)qtest_commandf_u64(s, "readw 0x%" PRIx64, addr);
}

guint32
qtest_readl(QTestState *s, guint64 addr)
{
  return (guint32)qtest_commandf_u64(s, "readl 0x%" PRIx64, addr);
}

guint64
qtest_readq(QTestState *s, guint64 addr)
{
  return qtest_commandf_u64(s, "readq 0x%" PRIx64, addr);
}

static int
hex_nibble(char c)
{
  return g_ascii_xdigit_value(c);
}

void
qtest_memread(QTestState *s, guint64 addr, void *data, gsize size)
{
  g_autofree char *line = g_strdup_printf("read 0x%" PRIx64 " 0x%" G_GSIZE_MODIFIER "x", addr, size);
  g_autofree char *value = NULL;
  guint8 *out = data;

  memset(data, 0xff, size);
  if (size == 0)
    return;
  value = qtest_command(s, line, TRUE);
  if (value == NULL)
    return;
  if (!g_str_has_prefix(value, "0x") || strlen(value) != 2 + 2 * size) {
    qtest_fail(s, "'%s' got %" G_GSIZE_FORMAT " characters of data", line, strlen(value));
    return;
  }
  for (gsize i = 0; i < size; i++) {
    int hi = hex_nibble(value[2 + 2 * i]), lo = hex_nibble(value[3 + 2 * i]);

    if (hi < 0 || lo < 0) {
      qtest_fail(s, "'%s' got non-hex data", line);
      return;
    }
    out[i] = (guint8)(hi << 4 | lo);
  }
}

void
qtest_memwrite(QTestState *s, guint64 addr, const void *data, gsize size)
{
  static const char digits[] = "0123456789abcdef";
  const guint8 *in = data;
  GString *line;
  g_autofree char *value = NULL;

  if (size == 0)
    return;
  line = g_string_sized_new(64 + 2 * size);
  g_string_printf(line, "write 0x%" PRIx64 " 0x%" G_GSIZE_MODIFIER "x 0x", addr, size);
  for (gsize i = 0; i < size; i++) {
    g_string_append_c(line, digits[in[i] >> 4]);
    g_string_append_c(line, digits[in[i] & 0xf]);
  }
  value = qtest_command(s, line->str, FALSE);
  g_string_free(line, TRUE);
}

void
qtest_bufread(QTestState *s, guint64 addr, void *data, gsize size)
{
  g_autofree char *line = g_strdup_printf("b64read 0x%" PRIx64 " 0x%" G_GSIZE_MODIFIER "x", addr, size);
  g_autofree char *value = NULL;
  g_autofree guint8 *decoded = NULL;
  gsize len = 0;

  memset(data, 0xff, size);
  value = qtest_command(s, line, TRUE);
  if (value == NULL)
    return;
  decoded = g_base64_decode(value, &len);
  if (len != size) {
    qtest_fail(s, "'%s' decoded to %" G_GSIZE_FORMAT " bytes", line, len);
    return;
  }
  memcpy(data, decoded, size);
}

void
qtest_bufwrite(QTestState *s, guint64 addr, const void *data, gsize size)
{
  g_autofree char *encoded = g_base64_encode(data, size);
  g_autofree char *line = g_strdup_printf("b64write 0x%" PRIx64 " 0x%" G_GSIZE_MODIFIER "x %s", addr, size, encoded);
  g_autofree char *value = qtest_command(s, line, FALSE);
}

void
qtest_memset(QTestState *s, guint64 addr, guint8 pattern, gsize size)
{
  qtest_commandf_ok(s, "memset 0x%" PRIx64 " 0x%" G_GSIZE_MODIFIER "x 0x%02x", addr, size, pattern);
}

gint64
qtest_clock_step(QTestState *s, gint64 ns)
{
  return (gint64)qtest_commandf_u64(s, "clock_step %" G_GINT64_FORMAT, ns);
}

gint64
qtest_clock_step_next(QTestState *s)
{
  return (gint64)qtest_commandf_u64(s, "clock_step");
}

gint64
qtest_clock_set(QTestState *s, gint64 ns)
{
  return (gint64)qtest_commandf_u64(s, "clock_set %" G_GINT64_FORMAT, ns);
}

void
qtest_irq_intercept_in(QTestState *s, const char *path)
{
  qtest_commandf_ok(s, "irq_intercept_in %s", path);
}

void
qtest_irq_intercept_out(QTestState *s, const char *path)
{
  qtest_commandf_ok(s, "irq_intercept_out %s", path);
}

void
qtest_set_irq_in(QTestState *s, const char *path, const char *name, int num, int level)
{
  qtest_commandf_ok(s, "set_irq_in %s %s %d %d", path, name, num, level);
}

gboolean
qtest_get_irq(QTestState *s, int num)
{
  g_autofree char *value = NULL;

  g_return_val_if_fail(num >= 0 && num < QTEST_MAX_IRQ, FALSE);
  /* A harmless round trip: any IRQ line sent before it has been read. */
  value = qtest_command(s, "endianness", TRUE);
  return s->irq_level[num];
}

guint
qtest_get_irq_events(QTestState *s)
{
  return s->irq_events;
}
