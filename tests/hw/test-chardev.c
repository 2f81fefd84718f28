/* ArborChardev backends: spec errors, null, file, stdio, unix client and
 * server, a peer that never reads, input flow control. */
#include <arbor/arbor.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "hw-test-util.h"

/* Dropped-output warnings are expected here: count them instead of
 * letting GTest treat them as fatal. */
static gint warnings_seen;

static GLogWriterOutput
count_warnings(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (level & G_LOG_LEVEL_WARNING) {
    g_atomic_int_inc(&warnings_seen);
    return G_LOG_WRITER_HANDLED;
  }
  return g_log_writer_default(level, fields, n_fields, user_data);
}

typedef struct {
  char *dir;
  GString *received;
  guint opened, closed;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->dir = g_dir_make_tmp("arbor-chardev-XXXXXX", &error);
  g_assert_no_error(error);
  f->received = g_string_new(NULL);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *p = g_build_filename(f->dir, name, NULL);
    g_unlink(p);
  }
  g_rmdir(f->dir);
  g_free(f->dir);
  g_string_free(f->received, TRUE);
  /* Let destroyed sources go. */
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

static void
on_received(ArborChardev *chr, GBytes *bytes, gpointer user_data)
{
  Fixture *f = user_data;
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  g_string_append_len(f->received, data, (gssize) len);
}

static void
on_opened(ArborChardev *chr, gpointer user_data)
{
  ((Fixture *) user_data)->opened++;
}

static void
on_closed(ArborChardev *chr, gpointer user_data)
{
  ((Fixture *) user_data)->closed++;
}

static void
connect_signals(ArborChardev *chr, Fixture *f)
{
  g_signal_connect(chr, "received", G_CALLBACK(on_received), f);
  g_signal_connect(chr, "opened", G_CALLBACK(on_opened), f);
  g_signal_connect(chr, "closed", G_CALLBACK(on_closed), f);
}

typedef struct {
  Fixture *f;
  guint want;
} CountWait;

static gboolean
received_at_least(gpointer data)
{
  CountWait *w = data;
  return w->f->received->len >= w->want;
}

static gboolean
opened_at_least(gpointer data)
{
  CountWait *w = data;
  return w->f->opened >= w->want;
}

static gboolean
closed_at_least(gpointer data)
{
  CountWait *w = data;
  return w->f->closed >= w->want;
}

typedef struct {
  GSocket *sock;
  GString *got;
  gsize want;
} PeerRead;

/* Reads what is available on a test-side socket (non-blocking). */
static gboolean
peer_read_at_least(gpointer data)
{
  PeerRead *r = data;
  char buf[4096];
  gssize n;

  while ((n = g_socket_receive_with_blocking(r->sock, buf, sizeof buf, FALSE, NULL, NULL)) > 0)
    g_string_append_len(r->got, buf, n);
  return r->got->len >= r->want;
}

static GSocket *
test_listen(const char *path)
{
  g_autoptr(GError) error = NULL;
  GSocket *sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);

  g_assert_no_error(error);
  g_assert_true(g_socket_bind(sock, addr, FALSE, &error));
  g_assert_no_error(error);
  g_assert_true(g_socket_listen(sock, &error));
  g_assert_no_error(error);
  return sock;
}

static GSocket *
test_connect(const char *path)
{
  g_autoptr(GError) error = NULL;
  GSocket *sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);

  g_assert_no_error(error);
  g_assert_true(g_socket_connect(sock, addr, NULL, &error));
  g_assert_no_error(error);
  return sock;
}

static void
test_bad_specs(Fixture *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename(f->dir, "missing.sock", NULL);
  g_autofree char *refused = g_build_filename(f->dir, "refused.sock", NULL);
  g_autofree char *client_missing = g_strdup_printf("unix:%s", missing);
  g_autofree char *client_refused = g_strdup_printf("unix:%s", refused);
  g_autofree char *bad_server = g_strdup_printf("unix:%s,server=maybe", missing);
  g_autofree char *bad_wait = g_strdup_printf("unix:%s,server=on,wait=sometimes", missing);
  g_autofree char *bad_option = g_strdup_printf("unix:%s,frob=1", missing);
  g_autofree char *wait_client = g_strdup_printf("unix:%s,wait=off", missing);
  g_autofree char *bad_bind = g_strdup_printf("unix:%s/no/such/dir/s,server=on,wait=off", f->dir);
  g_autofree char *bad_file = g_strdup_printf("file:%s/no/such/dir/out", f->dir);

  /* A socket file nobody listens on: connection refused. */
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) unbound = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(refused);
  g_assert_true(g_socket_bind(unbound, addr, FALSE, &error));
  g_assert_no_error(error);

  const char *specs[] = {
    "", "bogus", "tcp:localhost:4444", "stdio,signal=off", "null,x", "file:", "unix:", "unix:,server=on",
    client_missing, client_refused, bad_server, bad_wait, bad_option, wait_client, bad_bind, bad_file,
  };
  for (guint i = 0; i < G_N_ELEMENTS(specs); i++) {
    g_autoptr(GError) err = NULL;
    ArborChardev *chr = arbor_chardev_new(specs[i], NULL, &err);
    g_test_message("'%s' -> %s", specs[i], err != NULL ? err->message : "(no error)");
    g_assert_null(chr);
    g_assert_nonnull(err);
    g_assert_true(err->domain == ARBOR_ERROR);
    g_autofree char *quoted = g_strdup_printf("'%s'", specs[i]);
    g_assert_nonnull(strstr(err->message, quoted));
  }
}

static void
test_null(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborChardev) chr = arbor_chardev_new("null", NULL, &error);

  g_assert_no_error(error);
  g_assert_cmpstr(arbor_chardev_get_spec(chr), ==, "null");
  g_assert_true(arbor_chardev_is_connected(chr));
  g_assert_cmpuint(arbor_chardev_write(chr, "discard me", 10), ==, 10);
  g_assert_cmpuint(arbor_chardev_get_pending(chr), ==, 0);
  g_assert_cmpuint(arbor_chardev_get_dropped(chr), ==, 0);
  arbor_chardev_flush(chr, 100);
}

typedef struct {
  ArborChardev *chr;
  int id;
} WriterArgs;

static gpointer
file_writer(gpointer data)
{
  WriterArgs *a = data;
  g_autofree char *line = g_strdup_printf("thread %d\n", a->id);
  for (int i = 0; i < 100; i++)
    g_assert_cmpuint(arbor_chardev_write(a->chr, line, strlen(line)), ==, strlen(line));
  return NULL;
}

static void
test_file(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(f->dir, "out.txt", NULL);
  g_autofree char *spec = g_strdup_printf("file:%s", path);

  /* Truncates what was there. */
  g_assert_true(g_file_set_contents(path, "old contents that must go", -1, &error));
  g_autoptr(ArborChardev) chr = arbor_chardev_new(spec, NULL, &error);
  g_assert_no_error(error);

  WriterArgs args[4];
  GThread *threads[4];
  for (int i = 0; i < 4; i++) {
    args[i] = (WriterArgs){chr, i};
    threads[i] = g_thread_new("writer", file_writer, &args[i]);
  }
  for (int i = 0; i < 4; i++)
    g_thread_join(threads[i]);
  arbor_chardev_flush(chr, 5000);
  g_assert_cmpuint(arbor_chardev_get_pending(chr), ==, 0);
  g_assert_cmpuint(arbor_chardev_get_dropped(chr), ==, 0);

  g_autofree char *contents = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &contents, &len, &error));
  g_assert_cmpuint(len, ==, 4 * 100 * strlen("thread 0\n"));
  g_assert_null(strstr(contents, "old"));
  g_assert_nonnull(strstr(contents, "thread 3\n"));
}

static void
test_stdio(Fixture *f, gconstpointer data)
{
  if (g_test_subprocess()) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArborChardev) chr = arbor_chardev_new("stdio", NULL, &error);
    g_assert_no_error(error);
    connect_signals(chr, f);
    g_assert_cmpuint(arbor_chardev_write(chr, "hello-stdio\n", 12), ==, 12);
    arbor_chardev_flush(chr, 5000);
    g_assert_cmpuint(arbor_chardev_get_pending(chr), ==, 0);
    /* stdin is /dev/null here: end of input closes. */
    CountWait w = {f, 1};
    g_assert_true(hw_test_wait(closed_at_least, &w));
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  g_test_trap_assert_stdout("*hello-stdio*");
}

static int
open_pty_slave(void)
{
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  g_assert_cmpint(master, >=, 0);
  g_assert_cmpint(grantpt(master), ==, 0);
  g_assert_cmpint(unlockpt(master), ==, 0);
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
  g_assert_cmpint(slave, >=, 0);
  return slave; /* the master stays open for the process's life */
}

static gboolean
fd_is_canonical(int fd)
{
  struct termios t;
  g_assert_cmpint(tcgetattr(fd, &t), ==, 0);
  return (t.c_lflag & ICANON) != 0;
}

/* stdin on a terminal: raw while the chardev lives, restored when it is
 * disposed, and restored by exit() when it never is. */
static void
test_stdio_tty(Fixture *f, gconstpointer data)
{
  if (g_test_subprocess()) {
    int slave = open_pty_slave();
    g_assert_true(fd_is_canonical(slave));
    g_assert_cmpint(dup2(slave, STDIN_FILENO), ==, STDIN_FILENO);

    g_autoptr(GError) error = NULL;
    ArborChardev *chr = arbor_chardev_new("stdio", NULL, &error);
    g_assert_no_error(error);
    g_assert_false(fd_is_canonical(slave));
    g_object_unref(chr);
    g_assert_true(fd_is_canonical(slave));

    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
      ArborChardev *leaked = arbor_chardev_new("stdio", NULL, NULL);
      if (leaked == NULL || fd_is_canonical(STDIN_FILENO))
        _exit(2);
      exit(0); /* no dispose: the atexit handler restores */
    }
    int status = 0;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_assert_true(fd_is_canonical(slave));
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
}

static void
test_unix_client(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(f->dir, "c.sock", NULL);
  g_autofree char *spec = g_strdup_printf("unix:%s", path);
  g_autoptr(GSocket) listener = test_listen(path);
  g_autoptr(ArborChardev) chr = arbor_chardev_new(spec, NULL, &error);

  g_assert_no_error(error);
  connect_signals(chr, f);
  g_assert_true(arbor_chardev_is_connected(chr));
  g_autoptr(GSocket) peer = g_socket_accept(listener, NULL, &error);
  g_assert_no_error(error);

  /* Output reaches the peer. */
  g_assert_cmpuint(arbor_chardev_write(chr, "ping", 4), ==, 4);
  PeerRead r = {peer, g_string_new(NULL), 4};
  g_assert_true(hw_test_wait(peer_read_at_least, &r));
  g_assert_cmpstr(r.got->str, ==, "ping");
  g_string_free(r.got, TRUE);

  /* Input arrives as "received". */
  g_assert_cmpint(g_socket_send(peer, "pong", 4, NULL, &error), ==, 4);
  CountWait w = {f, 4};
  g_assert_true(hw_test_wait(received_at_least, &w));
  g_assert_cmpstr(f->received->str, ==, "pong");

  /* The peer goes away: "closed", and output is counted as dropped. */
  g_socket_close(peer, NULL);
  CountWait c = {f, 1};
  g_assert_true(hw_test_wait(closed_at_least, &c));
  g_assert_false(arbor_chardev_is_connected(chr));
  guint64 before = arbor_chardev_get_dropped(chr);
  g_assert_cmpuint(arbor_chardev_write(chr, "lost", 4), ==, 0);
  g_assert_cmpuint(arbor_chardev_get_dropped(chr), ==, before + 4);
}

static void
test_unix_server_nowait(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(f->dir, "s.sock", NULL);
  g_autofree char *spec = g_strdup_printf("unix:%s,server=on,wait=off", path);
  g_autoptr(ArborChardev) chr = arbor_chardev_new(spec, NULL, &error);

  g_assert_no_error(error);
  connect_signals(chr, f);
  g_assert_false(arbor_chardev_is_connected(chr));
  g_assert_cmpuint(arbor_chardev_write(chr, "early", 5), ==, 0);
  g_assert_cmpuint(arbor_chardev_get_dropped(chr), ==, 5);

  for (guint round = 1; round <= 2; round++) {
    g_autoptr(GSocket) client = test_connect(path);
    CountWait o = {f, round};
    g_assert_true(hw_test_wait(opened_at_least, &o));
    g_assert_true(arbor_chardev_is_connected(chr));

    g_assert_cmpuint(arbor_chardev_write(chr, "hello", 5), ==, 5);
    PeerRead r = {client, g_string_new(NULL), 5};
    g_assert_true(hw_test_wait(peer_read_at_least, &r));
    g_assert_cmpstr(r.got->str, ==, "hello");
    g_string_free(r.got, TRUE);

    g_string_truncate(f->received, 0);
    g_assert_cmpint(g_socket_send(client, "typed", 5, NULL, &error), ==, 5);
    CountWait w = {f, 5};
    g_assert_true(hw_test_wait(received_at_least, &w));
    g_assert_cmpstr(f->received->str, ==, "typed");

    /* Disconnect; a later client may connect again. */
    g_socket_close(client, NULL);
    CountWait c = {f, round};
    g_assert_true(hw_test_wait(closed_at_least, &c));
    g_assert_false(arbor_chardev_is_connected(chr));
  }
  g_assert_cmpuint(f->opened, ==, 2);
  g_assert_cmpuint(f->closed, ==, 2);
}

static gpointer
connect_when_listening(gpointer data)
{
  const char *path = data;
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);

  for (int i = 0; i < 10000; i++) {
    GSocket *sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, NULL);
    if (g_socket_connect(sock, addr, NULL, NULL))
      return sock;
    g_object_unref(sock);
    g_usleep(1000);
  }
  return NULL;
}

static void
test_unix_server_wait(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(f->dir, "w.sock", NULL);
  g_autofree char *spec = g_strdup_printf("unix:%s,server=on", path);

  /* new() blocks until this thread's client connects. */
  GThread *thread = g_thread_new("client", connect_when_listening, path);
  g_autoptr(ArborChardev) chr = arbor_chardev_new(spec, NULL, &error);
  g_autoptr(GSocket) client = g_thread_join(thread);

  g_assert_no_error(error);
  g_assert_nonnull(client);
  g_assert_true(arbor_chardev_is_connected(chr));
  g_assert_cmpuint(arbor_chardev_write(chr, "served", 6), ==, 6);
  PeerRead r = {client, g_string_new(NULL), 6};
  g_assert_true(hw_test_wait(peer_read_at_least, &r));
  g_assert_cmpstr(r.got->str, ==, "served");
  g_string_free(r.got, TRUE);

  /* The socket file goes away with the chardev. */
  g_clear_object(&chr);
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

static void
test_slow_peer(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(f->dir, "slow.sock", NULL);
  g_autofree char *spec = g_strdup_printf("unix:%s", path);
  g_autoptr(GSocket) listener = test_listen(path);
  g_autoptr(ArborChardev) chr = arbor_chardev_new(spec, NULL, &error);
  g_assert_no_error(error);
  g_autoptr(GSocket) peer = g_socket_accept(listener, NULL, &error); /* never reads */
  g_assert_no_error(error);

  const gsize chunk = 64 * 1024, total = 10 * 1024 * 1024;
  g_autofree guint8 *buf = g_malloc0(chunk);
  gsize accepted = 0;
  gint warned_before = g_atomic_int_get(&warnings_seen);

  for (gsize done = 0; done < total; done += chunk) {
    accepted += arbor_chardev_write(chr, buf, chunk);
    /* Let the backend drain what the socket takes; it must never block. */
    g_main_context_iteration(NULL, FALSE);
  }
  for (int i = 0; i < 100; i++)
    g_main_context_iteration(NULL, FALSE);
  arbor_chardev_flush(chr, 10);

  gsize pending = arbor_chardev_get_pending(chr);
  guint64 dropped = arbor_chardev_get_dropped(chr);
  g_test_message("accepted %" G_GSIZE_FORMAT ", pending %" G_GSIZE_FORMAT ", dropped %" G_GUINT64_FORMAT, accepted,
                 pending, dropped);
  g_assert_cmpuint(accepted + dropped, ==, total);
  g_assert_cmpuint(dropped, >=, total - accepted);
  g_assert_cmpuint(dropped, >, 0);
  g_assert_cmpuint(pending, >, 0);
  g_assert_cmpuint(pending, <=, 1024 * 1024);
  /* Dropping was reported (rate-limited: at least once, far fewer than 160 times). */
  gint warned = g_atomic_int_get(&warnings_seen) - warned_before;
  g_assert_cmpint(warned, >=, 1);
  g_assert_cmpint(warned, <, 10);
}

static gpointer
pause_input(gpointer data)
{
  arbor_chardev_set_accept_input(data, FALSE);
  return NULL;
}

static void
test_accept_input(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(f->dir, "in.sock", NULL);
  g_autofree char *spec = g_strdup_printf("unix:%s", path);
  g_autoptr(GSocket) listener = test_listen(path);
  g_autoptr(ArborChardev) chr = arbor_chardev_new(spec, NULL, &error);
  g_assert_no_error(error);
  connect_signals(chr, f);
  g_autoptr(GSocket) peer = g_socket_accept(listener, NULL, &error);
  g_assert_no_error(error);

  /* Called from another thread, as a device's register read would. */
  GThread *t = g_thread_new("pause", pause_input, chr);
  g_thread_join(t);
  g_assert_cmpint(g_socket_send(peer, "held", 4, NULL, &error), ==, 4);
  for (int i = 0; i < 50; i++) {
    g_main_context_iteration(NULL, FALSE);
    g_usleep(1000);
  }
  g_assert_cmpuint(f->received->len, ==, 0);

  arbor_chardev_set_accept_input(chr, TRUE);
  CountWait w = {f, 4};
  g_assert_true(hw_test_wait(received_at_least, &w));
  g_assert_cmpstr(f->received->str, ==, "held");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_log_set_writer_func(count_warnings, NULL, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD("/chardev/spec/bad", test_bad_specs);
  ADD("/chardev/null", test_null);
  ADD("/chardev/file", test_file);
  ADD("/chardev/stdio", test_stdio);
  ADD("/chardev/stdio-tty", test_stdio_tty);
  ADD("/chardev/unix/client", test_unix_client);
  ADD("/chardev/unix/server-nowait", test_unix_server_nowait);
  ADD("/chardev/unix/server-wait", test_unix_server_wait);
  ADD("/chardev/unix/slow-peer", test_slow_peer);
  ADD("/chardev/unix/accept-input", test_accept_input);
#undef ADD
  return g_test_run();
}
