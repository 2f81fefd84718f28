/* ArborChardev: byte stream backends on GIO (stdio, null, file, unix
 * socket client and server).
 *
 * Output: any thread appends to a bounded ring buffer under the lock and
 * never blocks; one persistent "service" GSource on the chardev's main
 * context drains it with non-blocking writes (waiting for G_IO_OUT when the
 * backend is slow). Input: a pollable source on the main context reads
 * chunks and emits "received"; it exists only while input is accepted, so
 * a consumer that stops accepting bounds the buffering.
 */
#include <arbor/chardev.h>

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define CHARDEV_RING_SIZE (1024 * 1024)
#define CHARDEV_READ_CHUNK 4096
/* Writes to stdio are kept small: a blocking tty or pipe fd that polls
 * writable takes this much without blocking. */
#define CHARDEV_STDIO_CHUNK 256
#define CHARDEV_WARN_INTERVAL_US G_USEC_PER_SEC

typedef enum {
  BACKEND_NULL,
  BACKEND_STDIO,
  BACKEND_FILE,
  BACKEND_UNIX_CLIENT,
  BACKEND_UNIX_SERVER,
} BackendKind;

struct _ArborChardev {
  GObject parent_instance;

  char *spec;            /* owned */
  GMainContext *context; /* owned */
  BackendKind kind;
  char *path;            /* owned: file or socket path */
  gboolean server_wait;

  /* The service source: drains output and applies accept_input changes.
   * Its ready time is set to 0 (from any thread) to wake it. Owned. */
  GSource *service;

  /* Main-context state. */
  GInputStream *in;          /* owned, pollable; NULL when no input */
  GOutputStream *out;        /* owned, pollable; NULL when closed/null */
  int out_fd;                /* for flush's poll; -1 if none */
  GIOStream *connection;     /* owned: the socket connection */
  GSocket *listen_socket;    /* owned: server only */
  GSource *in_source;        /* owned: active input watch */
  GSource *out_wait_source;  /* owned: waiting for G_IO_OUT */
  GSource *accept_source;    /* owned: server waiting for a client */
  gboolean stdin_raw;        /* we put the terminal in raw mode */
  gboolean closed_pending;   /* "closed" to emit from the service source */
  struct termios saved_termios;

  GMutex lock; /* protects the fields below */
  guint8 *ring;
  gsize ring_head, ring_len;
  gboolean connected;        /* output goes somewhere */
  gboolean discard;          /* null backend: accept and drop silently */
  gboolean accept_input;
  guint64 dropped;
  guint64 dropped_unreported;
  gint64 last_warning_us;
};

G_DEFINE_FINAL_TYPE(ArborChardev, arbor_chardev, G_TYPE_OBJECT)

enum {
  SIGNAL_RECEIVED,
  SIGNAL_OPENED,
  SIGNAL_CLOSED,
  N_SIGNALS
};

static guint chardev_signals[N_SIGNALS];

/* ---- terminal restore at exit ------------------------------------------ */

/* The one process-wide piece: atexit needs to find the saved terminal
 * state. Filled once; the stdio chardev that changes the mode records it. */
typedef struct {
  GMutex lock;
  gboolean active;
  struct termios saved;
} TermiosRestore;

static void termios_restore_atexit(void);

static gpointer
termios_restore_init(gpointer data)
{
  TermiosRestore *r = g_new0(TermiosRestore, 1);
  g_mutex_init(&r->lock);
  atexit(termios_restore_atexit);
  return r;
}

static TermiosRestore *
termios_restore_get(void)
{
  static GOnce once = G_ONCE_INIT;
  return g_once(&once, termios_restore_init, NULL);
}

static void
termios_restore_atexit(void)
{
  TermiosRestore *r = termios_restore_get();

  if (g_mutex_trylock(&r->lock)) {
    if (r->active)
      tcsetattr(STDIN_FILENO, TCSANOW, &r->saved);
    r->active = FALSE;
    g_mutex_unlock(&r->lock);
  }
}

static void
chardev_stdin_make_raw(ArborChardev *chr)
{
  if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &chr->saved_termios) != 0)
    return;

  TermiosRestore *r = termios_restore_get();
  g_mutex_lock(&r->lock);
  r->saved = chr->saved_termios;
  r->active = TRUE;
  g_mutex_unlock(&r->lock);

  /* Raw input, but keep output processing and ISIG so Ctrl-C still works. */
  struct termios raw = chr->saved_termios;
  raw.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  raw.c_oflag |= OPOST;
  raw.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
  raw.c_cflag &= ~(CSIZE | PARENB);
  raw.c_cflag |= CS8;
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
    chr->stdin_raw = TRUE;
}

static void
chardev_stdin_restore(ArborChardev *chr)
{
  if (!chr->stdin_raw)
    return;
  tcsetattr(STDIN_FILENO, TCSANOW, &chr->saved_termios);
  chr->stdin_raw = FALSE;

  TermiosRestore *r = termios_restore_get();
  g_mutex_lock(&r->lock);
  r->active = FALSE;
  g_mutex_unlock(&r->lock);
}

/* ---- helpers ----------------------------------------------------------- */

static void
chardev_wake(ArborChardev *chr)
{
  if (chr->service != NULL)
    g_source_set_ready_time(chr->service, 0);
}

/* Lock held: counts @n dropped bytes and warns at most once a second. */
static void
chardev_count_dropped_locked(ArborChardev *chr, gsize n, const char *why)
{
  chr->dropped += n;
  chr->dropped_unreported += n;

  gint64 now = g_get_monotonic_time();
  if (chr->last_warning_us == 0 || now - chr->last_warning_us >= CHARDEV_WARN_INTERVAL_US) {
    g_warning("chardev %s: dropped %" G_GUINT64_FORMAT " bytes of output (%s; %" G_GUINT64_FORMAT " in total)",
              chr->spec, chr->dropped_unreported, why, chr->dropped);
    chr->dropped_unreported = 0;
    chr->last_warning_us = now;
  }
}

static void chardev_update_input_watch(ArborChardev *chr);
static void chardev_start_accept(ArborChardev *chr);

/* The peer went away (EOF, error, disconnect): stop I/O, discard what was
 * queued (counted), emit "closed"; a server listens for the next client. */
static void
chardev_disconnect(ArborChardev *chr, const char *reason)
{
  g_debug("chardev %s: closed (%s)", chr->spec, reason);

  if (chr->in_source != NULL) {
    g_source_destroy(chr->in_source);
    g_clear_pointer(&chr->in_source, g_source_unref);
  }
  if (chr->out_wait_source != NULL) {
    g_source_destroy(chr->out_wait_source);
    g_clear_pointer(&chr->out_wait_source, g_source_unref);
  }
  g_clear_object(&chr->in);

  g_mutex_lock(&chr->lock);
  gboolean was_connected = chr->connected;
  chr->connected = FALSE;
  if (chr->ring_len > 0)
    chardev_count_dropped_locked(chr, chr->ring_len, "backend closed");
  chr->ring_head = chr->ring_len = 0;
  g_mutex_unlock(&chr->lock);

  /* stdio keeps its output when only stdin hit EOF. */
  if (chr->kind != BACKEND_STDIO) {
    g_clear_object(&chr->out);
    chr->out_fd = -1;
    if (chr->connection != NULL) {
      g_io_stream_close(chr->connection, NULL, NULL);
      g_clear_object(&chr->connection);
    }
  } else {
    g_mutex_lock(&chr->lock);
    chr->connected = chr->out != NULL;
    g_mutex_unlock(&chr->lock);
  }

  /* Emitted from the service source, never from inside the caller that
   * noticed (a flush or write path may hold its own locks). */
  if (was_connected || chr->kind == BACKEND_STDIO) {
    chr->closed_pending = TRUE;
    chardev_wake(chr);
  }
  if (chr->kind == BACKEND_UNIX_SERVER)
    chardev_start_accept(chr);
}

/* ---- output ------------------------------------------------------------ */

static gboolean chardev_out_ready(GObject *stream, gpointer user_data);

/* Main context: writes queued bytes until done or the backend would
 * block. Returns TRUE when everything queued is written. */
static gboolean
chardev_drain(ArborChardev *chr)
{
  if (chr->out_wait_source != NULL)
    return FALSE; /* already waiting for G_IO_OUT */

  for (;;) {
    g_mutex_lock(&chr->lock);
    gsize len = MIN(chr->ring_len, CHARDEV_RING_SIZE - chr->ring_head);
    const guint8 *data = chr->ring + chr->ring_head;
    g_mutex_unlock(&chr->lock);

    if (len == 0)
      return TRUE;
    if (chr->out == NULL) {
      g_mutex_lock(&chr->lock);
      chardev_count_dropped_locked(chr, chr->ring_len, "backend closed");
      chr->ring_head = chr->ring_len = 0;
      g_mutex_unlock(&chr->lock);
      return TRUE;
    }
    if (chr->kind == BACKEND_STDIO)
      len = MIN(len, CHARDEV_STDIO_CHUNK);

    /* Producers only append past ring_len, so [head, head+len) is stable
     * without the lock. */
    g_autoptr(GError) error = NULL;
    gssize n = g_pollable_output_stream_write_nonblocking(G_POLLABLE_OUTPUT_STREAM(chr->out), data, len, NULL,
                                                          &error);
    if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      chr->out_wait_source = g_pollable_output_stream_create_source(G_POLLABLE_OUTPUT_STREAM(chr->out), NULL);
      g_source_set_callback(chr->out_wait_source, G_SOURCE_FUNC(chardev_out_ready), chr, NULL);
      g_source_attach(chr->out_wait_source, chr->context);
      return FALSE;
    }
    if (n < 0) {
      g_autofree char *reason = g_strdup_printf("write: %s", error->message);
      chardev_disconnect(chr, reason);
      return TRUE;
    }
    g_mutex_lock(&chr->lock);
    chr->ring_head = (chr->ring_head + (gsize) n) % CHARDEV_RING_SIZE;
    chr->ring_len -= (gsize) n;
    g_mutex_unlock(&chr->lock);
  }
}

static gboolean
chardev_out_ready(GObject *stream, gpointer user_data)
{
  ArborChardev *chr = user_data;

  g_clear_pointer(&chr->out_wait_source, g_source_unref);
  chardev_drain(chr);
  return G_SOURCE_REMOVE;
}

gsize
arbor_chardev_write(ArborChardev *chr, const void *data, gsize len)
{
  g_return_val_if_fail(ARBOR_IS_CHARDEV(chr), 0);
  g_return_val_if_fail(data != NULL || len == 0, 0);

  if (len == 0)
    return 0;

  g_mutex_lock(&chr->lock);
  if (chr->discard) {
    g_mutex_unlock(&chr->lock);
    return len;
  }
  if (!chr->connected) {
    chardev_count_dropped_locked(chr, len, "backend not connected");
    g_mutex_unlock(&chr->lock);
    return 0;
  }

  gsize room = CHARDEV_RING_SIZE - chr->ring_len;
  gsize take = MIN(room, len);
  gboolean was_empty = chr->ring_len == 0;
  gsize tail = (chr->ring_head + chr->ring_len) % CHARDEV_RING_SIZE;
  gsize first = MIN(take, CHARDEV_RING_SIZE - tail);

  memcpy(chr->ring + tail, data, first);
  memcpy(chr->ring, (const guint8 *) data + first, take - first);
  chr->ring_len += take;
  if (take < len)
    chardev_count_dropped_locked(chr, len - take, "output buffer full");
  /* Wake the drain under the lock: the service source outlives no chardev. */
  if (was_empty && take > 0)
    chardev_wake(chr);
  g_mutex_unlock(&chr->lock);
  return take;
}

gsize
arbor_chardev_get_pending(ArborChardev *chr)
{
  g_return_val_if_fail(ARBOR_IS_CHARDEV(chr), 0);

  g_mutex_lock(&chr->lock);
  gsize n = chr->ring_len;
  g_mutex_unlock(&chr->lock);
  return n;
}

guint64
arbor_chardev_get_dropped(ArborChardev *chr)
{
  g_return_val_if_fail(ARBOR_IS_CHARDEV(chr), 0);

  g_mutex_lock(&chr->lock);
  guint64 n = chr->dropped;
  g_mutex_unlock(&chr->lock);
  return n;
}

void
arbor_chardev_flush(ArborChardev *chr, int timeout_ms)
{
  g_return_if_fail(ARBOR_IS_CHARDEV(chr));

  gint64 deadline = g_get_monotonic_time() + (gint64) MAX(timeout_ms, 0) * 1000;

  for (;;) {
    if (chr->out_wait_source != NULL) {
      g_source_destroy(chr->out_wait_source);
      g_clear_pointer(&chr->out_wait_source, g_source_unref);
    }
    if (chardev_drain(chr))
      return;
    /* Would block: wait for the fd, up to the deadline. */
    gint64 left_us = deadline - g_get_monotonic_time();
    if (left_us <= 0 || chr->out_fd < 0)
      break;
    GPollFD pfd = {.fd = chr->out_fd, .events = G_IO_OUT};
    g_poll(&pfd, 1, (int) MAX(left_us / 1000, 1));
  }
  g_debug("chardev %s: flush timed out with %" G_GSIZE_FORMAT " bytes pending", chr->spec,
          arbor_chardev_get_pending(chr));
}

gboolean
arbor_chardev_is_connected(ArborChardev *chr)
{
  g_return_val_if_fail(ARBOR_IS_CHARDEV(chr), FALSE);

  g_mutex_lock(&chr->lock);
  gboolean c = chr->connected || chr->discard;
  g_mutex_unlock(&chr->lock);
  return c;
}

/* ---- input ------------------------------------------------------------- */

static gboolean
chardev_in_ready(GObject *stream, gpointer user_data)
{
  ArborChardev *chr = user_data;
  guint8 buf[CHARDEV_READ_CHUNK];
  g_autoptr(GError) error = NULL;

  gssize n;

  /* A regular file on stdin cannot be polled but never blocks either. */
  if (g_pollable_input_stream_can_poll(G_POLLABLE_INPUT_STREAM(chr->in)))
    n = g_pollable_input_stream_read_nonblocking(G_POLLABLE_INPUT_STREAM(chr->in), buf, sizeof buf, NULL, &error);
  else
    n = g_input_stream_read(chr->in, buf, sizeof buf, NULL, &error);
  if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (n <= 0) {
    /* The source is destroyed by disconnect; drop our pointer first. */
    g_autofree char *reason = n == 0 ? g_strdup("end of input") : g_strdup_printf("read: %s", error->message);
    g_clear_pointer(&chr->in_source, g_source_unref);
    g_object_ref(chr);
    chardev_disconnect(chr, reason);
    g_object_unref(chr);
    return G_SOURCE_REMOVE;
  }

  g_autoptr(GBytes) bytes = g_bytes_new(buf, (gsize) n);
  g_object_ref(chr);
  g_signal_emit(chr, chardev_signals[SIGNAL_RECEIVED], 0, bytes);

  /* A consumer that paused input from its handler is not fed again, even
   * before the service source runs: at most one read is ever buffered. */
  g_mutex_lock(&chr->lock);
  gboolean accept = chr->accept_input;
  g_mutex_unlock(&chr->lock);
  gboolean still = chr->in_source != NULL && accept;
  if (!accept && chr->in_source != NULL) {
    g_source_destroy(chr->in_source);
    g_clear_pointer(&chr->in_source, g_source_unref);
  }
  g_object_unref(chr);
  return still ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
chardev_in_idle(gpointer user_data)
{
  return chardev_in_ready(NULL, user_data);
}

/* Main context: create or remove the input watch to match accept_input. */
static void
chardev_update_input_watch(ArborChardev *chr)
{
  g_mutex_lock(&chr->lock);
  gboolean want = chr->accept_input && chr->in != NULL;
  g_mutex_unlock(&chr->lock);

  if (want && chr->in_source == NULL) {
    if (g_pollable_input_stream_can_poll(G_POLLABLE_INPUT_STREAM(chr->in)))
      chr->in_source = g_pollable_input_stream_create_source(G_POLLABLE_INPUT_STREAM(chr->in), NULL);
    else
      chr->in_source = g_idle_source_new();
    g_source_set_callback(chr->in_source, g_pollable_input_stream_can_poll(G_POLLABLE_INPUT_STREAM(chr->in))
                                            ? G_SOURCE_FUNC(chardev_in_ready)
                                            : chardev_in_idle,
                          chr, NULL);
    g_source_attach(chr->in_source, chr->context);
  } else if (!want && chr->in_source != NULL) {
    g_source_destroy(chr->in_source);
    g_clear_pointer(&chr->in_source, g_source_unref);
  }
}

void
arbor_chardev_set_accept_input(ArborChardev *chr, gboolean accept)
{
  g_return_if_fail(ARBOR_IS_CHARDEV(chr));

  /* Any thread (a device's register read): the service source applies it. */
  g_mutex_lock(&chr->lock);
  gboolean changed = chr->accept_input != accept;
  chr->accept_input = accept;
  if (changed)
    chardev_wake(chr);
  g_mutex_unlock(&chr->lock);
}

static void
chardev_emit_closed_pending(ArborChardev *chr)
{
  if (chr->closed_pending) {
    chr->closed_pending = FALSE;
    g_signal_emit(chr, chardev_signals[SIGNAL_CLOSED], 0);
  }
}

static gboolean
chardev_service_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
  ArborChardev *chr = user_data;

  g_source_set_ready_time(source, -1);
  g_object_ref(chr);
  chardev_emit_closed_pending(chr);
  chardev_update_input_watch(chr);
  chardev_drain(chr);
  g_object_unref(chr);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs chardev_service_funcs = {
  .dispatch = chardev_service_dispatch,
};

/* ---- sockets ----------------------------------------------------------- */

static void
chardev_attach_connection(ArborChardev *chr, GIOStream *connection, int fd)
{
  chr->connection = connection;
  chr->in = g_object_ref(g_io_stream_get_input_stream(connection));
  chr->out = g_object_ref(g_io_stream_get_output_stream(connection));
  chr->out_fd = fd;
  g_mutex_lock(&chr->lock);
  chr->connected = TRUE;
  g_mutex_unlock(&chr->lock);
}

static gboolean
chardev_accept_ready(GSocket *socket, GIOCondition condition, gpointer user_data)
{
  ArborChardev *chr = user_data;
  g_autoptr(GError) error = NULL;
  GSocket *client = g_socket_accept(socket, NULL, &error);

  if (client == NULL) {
    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
      g_debug("chardev %s: accept: %s", chr->spec, error->message);
    return G_SOURCE_CONTINUE;
  }
  g_clear_pointer(&chr->accept_source, g_source_unref);
  chardev_attach_connection(chr, G_IO_STREAM(g_socket_connection_factory_create_connection(client)),
                            g_socket_get_fd(client));
  g_object_unref(client);
  g_debug("chardev %s: client connected", chr->spec);
  chardev_update_input_watch(chr);
  /* The previous client's "closed" comes first. */
  g_object_ref(chr);
  chardev_emit_closed_pending(chr);
  g_signal_emit(chr, chardev_signals[SIGNAL_OPENED], 0);
  g_object_unref(chr);
  return G_SOURCE_REMOVE;
}

static void
chardev_start_accept(ArborChardev *chr)
{
  if (chr->listen_socket == NULL || chr->accept_source != NULL)
    return;
  chr->accept_source = g_socket_create_source(chr->listen_socket, G_IO_IN, NULL);
  g_source_set_callback(chr->accept_source, G_SOURCE_FUNC(chardev_accept_ready), chr, NULL);
  g_source_attach(chr->accept_source, chr->context);
}

static gboolean
chardev_open_unix_server(ArborChardev *chr, GError **error)
{
  g_autoptr(GError) local = NULL;
  struct stat st;

  /* Like QEMU: a stale socket file from an earlier run is replaced. */
  if (g_lstat(chr->path, &st) == 0 && S_ISSOCK(st.st_mode))
    g_unlink(chr->path);

  g_autoptr(GSocket) sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                         &local);
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(chr->path);
  if (sock == NULL || !g_socket_bind(sock, addr, FALSE, &local) || !g_socket_listen(sock, &local)) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_IO, "chardev '%s': cannot listen on %s: %s", chr->spec, chr->path,
                local->message);
    return FALSE;
  }
  chr->listen_socket = g_steal_pointer(&sock);

  if (chr->server_wait) {
    /* As QEMU: block until the first client connects. */
    g_debug("chardev %s: waiting for a connection on %s", chr->spec, chr->path);
    g_socket_set_blocking(chr->listen_socket, TRUE);
    GSocket *client = g_socket_accept(chr->listen_socket, NULL, &local);
    g_socket_set_blocking(chr->listen_socket, FALSE);
    if (client == NULL) {
      g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_IO, "chardev '%s': accept: %s", chr->spec, local->message);
      return FALSE;
    }
    chardev_attach_connection(chr, G_IO_STREAM(g_socket_connection_factory_create_connection(client)),
                              g_socket_get_fd(client));
    g_object_unref(client);
  } else {
    g_socket_set_blocking(chr->listen_socket, FALSE);
    chardev_start_accept(chr);
  }
  return TRUE;
}

static gboolean
chardev_open_unix_client(ArborChardev *chr, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(chr->path);
  GSocketConnection *conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, &local);

  if (conn == NULL) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_IO, "chardev '%s': cannot connect to %s: %s", chr->spec, chr->path,
                local->message);
    return FALSE;
  }
  chardev_attach_connection(chr, G_IO_STREAM(conn), g_socket_get_fd(g_socket_connection_get_socket(conn)));
  return TRUE;
}

/* ---- spec parsing ------------------------------------------------------ */

static gboolean
parse_on_off(const char *spec, const char *key, const char *value, gboolean *out, GError **error)
{
  if (g_strcmp0(value, "on") == 0 || g_strcmp0(value, "yes") == 0 || g_strcmp0(value, "true") == 0) {
    *out = TRUE;
    return TRUE;
  }
  if (g_strcmp0(value, "off") == 0 || g_strcmp0(value, "no") == 0 || g_strcmp0(value, "false") == 0) {
    *out = FALSE;
    return TRUE;
  }
  g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "chardev '%s': bad value '%s' for '%s': expected on or off",
              spec, value != NULL ? value : "", key);
  return FALSE;
}

/* "unix:PATH[,server=on|off][,wait=on|off]" (also bare "server"/"nowait"). */
static gboolean
parse_unix_spec(ArborChardev *chr, const char *rest, GError **error)
{
  g_auto(GStrv) parts = g_strsplit(rest, ",", -1);
  gboolean server = FALSE, wait = TRUE, wait_given = FALSE;

  if (parts[0] == NULL || parts[0][0] == '\0') {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "chardev '%s': missing socket path", chr->spec);
    return FALSE;
  }
  for (guint i = 1; parts[i] != NULL; i++) {
    char *eq = strchr(parts[i], '=');
    const char *value = eq != NULL ? eq + 1 : NULL;
    if (eq != NULL)
      *eq = '\0';

    if (strcmp(parts[i], "server") == 0) {
      if (!parse_on_off(chr->spec, "server", value != NULL ? value : "on", &server, error))
        return FALSE;
    } else if (strcmp(parts[i], "wait") == 0) {
      if (!parse_on_off(chr->spec, "wait", value != NULL ? value : "on", &wait, error))
        return FALSE;
      wait_given = TRUE;
    } else if (strcmp(parts[i], "nowait") == 0 && value == NULL) {
      wait = FALSE;
      wait_given = TRUE;
    } else {
      g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID,
                  "chardev '%s': unknown option '%s' (expected server=on|off, wait=on|off)", chr->spec, parts[i]);
      return FALSE;
    }
  }
  if (wait_given && !server) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "chardev '%s': 'wait' only applies with server=on",
                chr->spec);
    return FALSE;
  }
  chr->path = g_strdup(parts[0]);
  chr->kind = server ? BACKEND_UNIX_SERVER : BACKEND_UNIX_CLIENT;
  chr->server_wait = wait;
  return TRUE;
}

static gboolean
chardev_open(ArborChardev *chr, GError **error)
{
  const char *spec = chr->spec;

  if (strcmp(spec, "null") == 0) {
    chr->kind = BACKEND_NULL;
    chr->discard = TRUE;
    return TRUE;
  }
  if (strcmp(spec, "stdio") == 0) {
    chr->kind = BACKEND_STDIO;
    chardev_stdin_make_raw(chr);
    chr->in = g_unix_input_stream_new(STDIN_FILENO, FALSE);
    chr->out = g_unix_output_stream_new(STDOUT_FILENO, FALSE);
    chr->out_fd = STDOUT_FILENO;
    chr->connected = TRUE;
    return TRUE;
  }
  if (g_str_has_prefix(spec, "file:")) {
    chr->kind = BACKEND_FILE;
    chr->path = g_strdup(spec + strlen("file:"));
    if (chr->path[0] == '\0') {
      g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "chardev '%s': missing file path", spec);
      return FALSE;
    }
    int fd = open(chr->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
      int saved = errno;
      g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_IO, "chardev '%s': cannot open %s: %s", spec, chr->path,
                  g_strerror(saved));
      return FALSE;
    }
    chr->out = g_unix_output_stream_new(fd, TRUE);
    chr->out_fd = fd;
    chr->connected = TRUE;
    return TRUE;
  }
  if (g_str_has_prefix(spec, "unix:")) {
    if (!parse_unix_spec(chr, spec + strlen("unix:"), error))
      return FALSE;
    return chr->kind == BACKEND_UNIX_SERVER ? chardev_open_unix_server(chr, error)
                                            : chardev_open_unix_client(chr, error);
  }

  g_autofree char *backend = g_strndup(spec, strcspn(spec, ":,"));
  g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID,
              "chardev '%s': unknown backend '%s' (expected stdio, null, file:PATH, unix:PATH[,server=on[,wait=off]])",
              spec, backend);
  return FALSE;
}

/* ---- object ------------------------------------------------------------ */

static void
arbor_chardev_dispose(GObject *object)
{
  ArborChardev *chr = ARBOR_CHARDEV(object);

  GSource **sources[] = {&chr->in_source, &chr->out_wait_source, &chr->accept_source, &chr->service};
  for (guint i = 0; i < G_N_ELEMENTS(sources); i++) {
    if (*sources[i] != NULL) {
      g_source_destroy(*sources[i]);
      g_clear_pointer(sources[i], g_source_unref);
    }
  }
  chardev_stdin_restore(chr);
  g_clear_object(&chr->in);
  g_clear_object(&chr->out);
  if (chr->connection != NULL) {
    g_io_stream_close(chr->connection, NULL, NULL);
    g_clear_object(&chr->connection);
  }
  if (chr->listen_socket != NULL) {
    g_socket_close(chr->listen_socket, NULL);
    g_clear_object(&chr->listen_socket);
    if (chr->path != NULL)
      g_unlink(chr->path);
  }
  g_mutex_lock(&chr->lock);
  chr->connected = FALSE;
  g_mutex_unlock(&chr->lock);
  G_OBJECT_CLASS(arbor_chardev_parent_class)->dispose(object);
}

static void
arbor_chardev_finalize(GObject *object)
{
  ArborChardev *chr = ARBOR_CHARDEV(object);

  if (chr->ring_len > 0)
    g_debug("chardev %s: %" G_GSIZE_FORMAT " bytes never written", chr->spec, chr->ring_len);
  g_free(chr->ring);
  g_free(chr->spec);
  g_free(chr->path);
  g_clear_pointer(&chr->context, g_main_context_unref);
  g_mutex_clear(&chr->lock);
  G_OBJECT_CLASS(arbor_chardev_parent_class)->finalize(object);
}

static void
arbor_chardev_class_init(ArborChardevClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->dispose = arbor_chardev_dispose;
  object_class->finalize = arbor_chardev_finalize;

  chardev_signals[SIGNAL_RECEIVED] = g_signal_new("received", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                                  NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BYTES);
  chardev_signals[SIGNAL_OPENED] =
    g_signal_new("opened", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  chardev_signals[SIGNAL_CLOSED] =
    g_signal_new("closed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
arbor_chardev_init(ArborChardev *chr)
{
  g_mutex_init(&chr->lock);
  chr->out_fd = -1;
  chr->accept_input = TRUE;
}

ArborChardev *
arbor_chardev_new(const char *spec, GMainContext *context, GError **error)
{
  g_return_val_if_fail(spec != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  g_autoptr(ArborChardev) chr = g_object_new(ARBOR_TYPE_CHARDEV, NULL);
  chr->spec = g_strdup(spec);
  chr->context = context != NULL ? g_main_context_ref(context) : g_main_context_ref_thread_default();
  chr->ring = g_malloc(CHARDEV_RING_SIZE);

  if (!chardev_open(chr, error))
    return NULL;

  chr->service = g_source_new(&chardev_service_funcs, sizeof(GSource));
  g_source_set_name(chr->service, "arbor-chardev");
  g_source_set_callback(chr->service, NULL, chr, NULL); /* dispose destroys it */
  /* First dispatch installs the input watch. */
  g_source_set_ready_time(chr->service, 0);
  g_source_attach(chr->service, chr->context);
  return g_steal_pointer(&chr);
}

const char *
arbor_chardev_get_spec(ArborChardev *chr)
{
  g_return_val_if_fail(ARBOR_IS_CHARDEV(chr), NULL);
  return chr->spec;
}
