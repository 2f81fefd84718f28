/* Helpers for the end-to-end tests. */
#include "e2e-util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/wait.h>
#include <unistd.h>

void
e2e_result_free(E2eResult *result)
{
  if (!result)
    return;
  g_free(result->out);
  g_free(result->err);
  g_free(result);
}

const char *
e2e_arbor_binary(void)
{
  const char *bin = g_getenv("ARBOR_BINARY");

  g_assert_nonnull(bin);
  return bin;
}

char *
e2e_guest_path(const char *file)
{
  const char *dir = g_getenv("ARBOR_E2E_GUEST_DIR");

  g_assert_nonnull(dir);
  return g_build_filename(dir, file, NULL);
}

E2eResult *
e2e_run(const char *const *args, const char *input)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_autoptr(GError) error = NULL;

  g_ptr_array_add(argv, (gpointer)e2e_arbor_binary());
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);

  g_autoptr(GSubprocess) proc = g_subprocess_newv((const char *const *)argv->pdata,
                                                  G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                    G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                                  &error);
  g_assert_no_error(error);
  E2eResult *result = g_new0(E2eResult, 1);
  g_subprocess_communicate_utf8(proc, input ? input : "", NULL, &result->out, &result->err, &error);
  g_assert_no_error(error);
  if (g_subprocess_get_if_exited(proc))
    result->status = g_subprocess_get_exit_status(proc);
  else
    result->status = 128 + g_subprocess_get_term_sig(proc);
  if (g_test_verbose())
    g_printerr("status %d\nstdout:\n%s\nstderr:\n%s\n", result->status, result->out, result->err);
  return result;
}

gboolean
e2e_require_kvm(void)
{
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

  if (fd >= 0) {
    close(fd);
    return TRUE;
  }
  if (errno == ENOENT || errno == ENODEV || errno == ENXIO) {
    g_test_skip("/dev/kvm missing: cannot run guests");
    return FALSE;
  }
  g_test_fail_printf("/dev/kvm exists but cannot be opened: %s", g_strerror(errno));
  return FALSE;
}

char *
e2e_tmpdir(void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp("arbor-e2e-XXXXXX", &error);

  g_assert_no_error(error);
  return dir;
}

void
e2e_tmpdir_remove(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name(d))) {
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_unlink(path);
  }
  g_rmdir(dir);
}
