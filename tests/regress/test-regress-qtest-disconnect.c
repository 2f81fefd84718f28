/* Regression: a qtest client that sends a command with a big reply and
 * disconnects before reading it deadlocked the emulator's main thread.
 *
 * Found by tests/stress/test-stress-qtest-clients (a client sending
 * "memset ...\nb64read 0x200000 65536\n" and closing at once). The reply
 * (87 KiB) is larger than one output chunk, so qtest_chardev_write_all()
 * flushes the chardev while holding the server's out_lock; the flush hits
 * the closed peer, chardev_disconnect() emits "closed" synchronously, and
 * the server's on_chardev_closed() -> qtest_client_closed() takes out_lock
 * again: a self-deadlock on a non-recursive GMutex. The emulator then
 * ignores SIGTERM too (its main loop never runs again).
 *
 * The check runs in a subprocess with a time limit, so a deadlock is a
 * test failure instead of a hung test run.
 */
#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <arbor/arbor.h>

static GSocket *
connect_to(const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
  GSocket *sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);

  g_assert_no_error(error);
  g_assert_true(g_socket_connect(sock, addr, NULL, &error));
  g_assert_no_error(error);
  return sock;
}

static void
send_str(GSocket *sock, const char *s)
{
  g_autoptr(GError) error = NULL;
  gsize len = strlen(s), done = 0;

  while (done < len) {
    gssize n = g_socket_send(sock, s + done, len - done, NULL, &error);
    g_assert_no_error(error);
    done += (gsize) n;
  }
}

static void
test_big_reply_then_disconnect_subprocess(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainContext) context = g_main_context_new();
  g_autoptr(ArborMachine) machine = NULL;
  g_autoptr(ArborAccel) accel = NULL;
  g_autoptr(ArborQtestServer) server = NULL;
  g_autofree char *dir = g_dir_make_tmp("arbor-regress-qtest-XXXXXX", &error);
  g_autofree char *path = g_build_filename(dir, "qtest.sock", NULL);
  g_autofree char *spec = g_strdup_printf("unix:%s,server=on,wait=off", path);
  GString *reply = g_string_new(NULL);

  signal(SIGPIPE, SIG_IGN);
  /* The chardev warns (rate-limited) about output it drops for a closed
   * peer: expected here, so warnings are not fatal; criticals still are. */
  g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_main_context_push_thread_default(context);
  machine = arbor_machine_new(8 * 1024 * 1024, 1, context, &error);
  g_assert_no_error(error);
  accel = arbor_accel_new("qtest", &error);
  g_assert_no_error(error);
  g_assert_true(arbor_machine_set_accel(machine, accel, &error));
  server = arbor_qtest_server_new(machine, spec, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(server);

  /* Client 1: asks for 87 KiB of reply and leaves without reading it. */
  {
    GSocket *sock = connect_to(path);
    for (int i = 0; i < 100; i++)
      g_main_context_iteration(context, FALSE);
    send_str(sock, "memset 0x100000 65536 0x56\nb64read 0x100000 65536\n");
    g_socket_close(sock, NULL);
    g_object_unref(sock);
  }

  /* Client 2: the server must have survived and answer. */
  {
    GSocket *sock = NULL;
    g_autofree char *line = NULL;

    /* The listener comes back after the first client is gone. */
    for (int i = 0; i < 1000 && sock == NULL; i++) {
      g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
      GSocket *s = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL);
      g_main_context_iteration(context, FALSE);
      if (g_socket_connect(s, addr, NULL, NULL))
        sock = s;
      else
        g_object_unref(s);
    }
    g_assert_nonnull(sock);
    send_str(sock, "readb 0x100001\n");
    g_socket_set_blocking(sock, FALSE);
    while (strchr(reply->str, '\n') == NULL) {
      char buf[256];
      gssize n;

      /* This iteration never returns when the server deadlocked. */
      g_main_context_iteration(context, TRUE);
      n = g_socket_receive(sock, buf, sizeof(buf), NULL, NULL);
      if (n > 0)
        g_string_append_len(reply, buf, n);
    }
    line = g_strndup(reply->str, strchr(reply->str, '\n') - reply->str);
    g_assert_cmpstr(line, ==, "OK 0x0000000000000056");
    g_socket_close(sock, NULL);
    g_object_unref(sock);
  }

  g_string_free(reply, TRUE);
  g_clear_object(&server);
  arbor_machine_shutdown(machine);
  g_main_context_pop_thread_default(context);
  g_unlink(path);
  g_rmdir(dir);
}

static void
test_big_reply_then_disconnect(void)
{
  /* 20 s is far beyond what the exchange takes; only a deadlock reaches it. */
  g_test_trap_subprocess("/regress/qtest/big-reply-then-disconnect/subprocess", 20 * G_USEC_PER_SEC,
                         G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed();
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/regress/qtest/big-reply-then-disconnect", test_big_reply_then_disconnect);
  g_test_add_func("/regress/qtest/big-reply-then-disconnect/subprocess", test_big_reply_then_disconnect_subprocess);
  return g_test_run();
}
