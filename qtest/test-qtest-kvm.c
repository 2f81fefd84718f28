/* qtest beside a running KVM guest: arbor -accel kvm -qtest, a real-mode
 * guest that keeps incrementing a byte, and the test reading and writing
 * its RAM and ports meanwhile. Skips where /dev/kvm does not exist. */
#include "arbor-config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "libqtest.h"

/* 0x7c00: inc byte [0x500]; jmp 0x7c00 */
static const guint8 guest_code[] = { 0xfe, 0x06, 0x00, 0x05, 0xeb, 0xfa };

static gboolean
kvm_available(void)
{
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

  if (fd >= 0) {
    close(fd);
    return TRUE;
  }
  if (errno == ENOENT || errno == ENODEV || errno == ENXIO) {
    g_test_skip_printf("/dev/kvm missing: %s", g_strerror(errno));
    return FALSE;
  }
  /* EACCES and the like are a broken setup, not a reason to skip. */
  g_test_fail_printf("/dev/kvm exists but cannot be opened: %s", g_strerror(errno));
  return FALSE;
}

static void
test_beside_guest(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *guest = NULL;
  g_autofree char *args = NULL;
  QTestState *s;
  guint8 first, later = 0;
  guint tries;

  if (!kvm_available())
    return;

  dir = g_dir_make_tmp("arbor-qtest-kvm-XXXXXX", &error);
  g_assert_no_error(error);
  guest = g_build_filename(dir, "loop.bin", NULL);
  g_assert_true(g_file_set_contents(guest, (const char *)guest_code, sizeof(guest_code), &error));
  g_assert_no_error(error);
  args = g_strdup_printf("-serial null -device loader,file=%s,addr=0x7c00,cpu-num=0,mode=real", guest);

  s = qtest_init_accel("kvm", args);
  /* The virtual clock is the qtest accelerator's: under kvm QEMU does not
   * know these commands either. */
  {
    g_autofree char *reply = qtest_raw(s, "clock_step 10");

    g_assert_cmpstr(reply, ==, "FAIL Unknown command 'clock_step'");
  }

  /* The guest runs: its counter moves while we watch (bounded polling). */
  first = qtest_readb(s, 0x500);
  for (tries = 0; tries < 100000; tries++) {
    later = qtest_readb(s, 0x500);
    if (later != first)
      break;
  }
  g_assert_cmpuint(later, !=, first);

  /* RAM the guest does not touch round-trips; so does a device register. */
  qtest_writeq(s, 0x100000, 0x0123456789abcdefULL);
  g_assert_cmphex(qtest_readq(s, 0x100000), ==, 0x0123456789abcdefULL);
  qtest_outb(s, 0x3ff, 0xa5);
  g_assert_cmphex(qtest_inb(s, 0x3ff), ==, 0xa5);
  /* Patch the guest: make it spin without touching memory (jmp $). */
  qtest_writew(s, 0x7c00, 0xfeeb);
  g_assert_cmphex(qtest_readw(s, 0x7c00), ==, 0xfeeb);
  g_assert_false(qtest_is_broken(s));
  g_assert_cmpint(qtest_quit(s), ==, 0);

  g_unlink(guest);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/qtest/kvm/beside-running-guest", test_beside_guest);
  return g_test_run();
}
