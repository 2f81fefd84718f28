/* See guest-util.h. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "guest-util.h"

gboolean
guest_util_kvm_missing(void)
{
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  int err = errno;

  if (fd >= 0) {
    close(fd);
    return FALSE;
  }
  return err == ENOENT || err == ENODEV || err == ENXIO;
}

gboolean
guest_util_load(ArborMachine *machine, const char *path, guint64 addr, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len;

  if (!g_file_get_contents(path, &contents, &len, error))
    return FALSE;
  if (arbor_address_space_write(arbor_machine_get_memory(machine), addr, contents, len) != ARBOR_MEMTX_OK) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "%s does not fit in guest RAM at %#" G_GINT64_MODIFIER "x",
                path, addr);
    return FALSE;
  }
  return TRUE;
}

gboolean
guest_util_set_pm32(ArborVcpu *vcpu, guint64 rip, const ArborRegs *init, GError **error)
{
  ArborSegment code = { .limit = 0xffffffff, .selector = 0x8, .type = 0xb, .present = 1, .s = 1, .db = 1, .g = 1 };
  ArborSegment data = { .limit = 0xffffffff, .selector = 0x10, .type = 0x3, .present = 1, .s = 1, .db = 1, .g = 1 };
  ArborRegs regs = init != NULL ? *init : (ArborRegs){ 0 };
  ArborSregs sregs;

  if (!arbor_vcpu_get_sregs(vcpu, &sregs, error))
    return FALSE;
  sregs.cs = code;
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
  sregs.cr0 = 0x11;
  if (!arbor_vcpu_set_sregs(vcpu, &sregs, error))
    return FALSE;
  regs.rip = rip;
  regs.rsp = 0x8000;
  regs.rflags = 0x2;
  return arbor_vcpu_set_regs(vcpu, &regs, error);
}
