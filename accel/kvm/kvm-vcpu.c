/* The KVM vCPU: creation on its own thread, the KVM_RUN loop with the
 * I/O and MMIO fast path, kicks, registers. */
#include "arbor-config.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm-private.h"

/* The signal that kicks a vCPU thread out of KVM_RUN (its handler is empty). */
#define KVM_KICK_SIGNAL SIGUSR1

typedef struct {
  ArborVcpu *vcpu;          /* unowned: owns us through its accel data */
  guint index;
  int fd;                   /* owned, -1 when closed */
  struct kvm_run *run;      /* owned mapping of the vCPU fd */
  gsize mmap_size;
  pthread_t thread;         /* the vCPU thread, target of kicks */
  ArborAddressSpace *memory; /* unowned: the accel holds it */
  ArborAddressSpace *io;     /* unowned: the accel holds it */
} KvmVcpu;

static inline KvmVcpu *
kvm_vcpu_get(ArborVcpu *vcpu)
{
  return arbor_vcpu_get_accel_data(vcpu);
}

/* ---- kick signal --------------------------------------------------------- */

static void
kvm_kick_handler(int sig, siginfo_t *info, void *ucontext)
{
  /* Nothing: its arrival is what makes KVM_RUN return -EINTR. */
}

static gboolean
kvm_install_kick_handler(GError **error)
{
  static gsize installed = 0;
  static int install_errno = 0; /* GOnce-initialized */
  sigset_t set;

  if (g_once_init_enter(&installed)) {
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = kvm_kick_handler;
    sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: interrupted calls must return */
    sigemptyset(&sa.sa_mask);
    if (sigaction(KVM_KICK_SIGNAL, &sa, NULL) < 0)
      install_errno = errno;
    g_once_init_leave(&installed, 1);
  }
  if (install_errno != 0)
    return arbor_kvm_ioctl_error(error, "sigaction(SIGUSR1)", install_errno);

  sigemptyset(&set);
  sigaddset(&set, KVM_KICK_SIGNAL);
  if (pthread_sigmask(SIG_UNBLOCK, &set, NULL) != 0)
    return arbor_kvm_ioctl_error(error, "pthread_sigmask", EINVAL);
  return TRUE;
}

/* ---- creation ------------------------------------------------------------ */

/* CPUID as KVM supports it, with this vCPU's APIC id. */
static gboolean
kvm_vcpu_set_cpuid(KvmVcpu *kv, ArborKvmAccel *accel, GError **error)
{
  const struct kvm_cpuid2 *supported = arbor_kvm_accel_get_cpuid(accel);
  gsize size = sizeof(*supported) + supported->nent * sizeof(struct kvm_cpuid_entry2);
  g_autofree struct kvm_cpuid2 *cpuid = g_memdup2(supported, size);

  for (guint i = 0; i < cpuid->nent; i++) {
    struct kvm_cpuid_entry2 *entry = &cpuid->entries[i];

    if (entry->function == 1)
      entry->ebx = (entry->ebx & 0x00ffffffu) | (kv->index << 24);
    else if (entry->function == 0xb || entry->function == 0x1f)
      entry->edx = kv->index;
  }
  if (arbor_kvm_ioctl(kv->fd, KVM_SET_CPUID2, (unsigned long)cpuid) < 0)
    return arbor_kvm_ioctl_error(error, "KVM_SET_CPUID2", errno);
  return TRUE;
}

static void
kvm_vcpu_free(KvmVcpu *kv)
{
  if (kv->run != NULL && kv->run != MAP_FAILED)
    munmap(kv->run, kv->mmap_size);
  if (kv->fd >= 0)
    close(kv->fd);
  g_free(kv);
}

gboolean
arbor_kvm_vcpu_init(ArborAccel *accel, ArborVcpu *vcpu, GError **error)
{
  ArborKvmAccel *self = ARBOR_KVM_ACCEL(accel);
  int vm_fd = arbor_kvm_accel_get_vm_fd(self);
  KvmVcpu *kv;

  if (vm_fd < 0) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_FAILED, "the kvm accelerator has no VM (init_machine not run)");
    return FALSE;
  }
  kv = g_new0(KvmVcpu, 1);
  kv->vcpu = vcpu;
  kv->index = arbor_vcpu_get_index(vcpu);
  kv->thread = pthread_self();
  kv->memory = arbor_kvm_accel_get_memory(self);
  kv->io = arbor_kvm_accel_get_io(self);
  kv->mmap_size = arbor_kvm_accel_get_vcpu_mmap_size(self);

  kv->fd = arbor_kvm_ioctl(vm_fd, KVM_CREATE_VCPU, kv->index);
  if (kv->fd < 0) {
    arbor_kvm_ioctl_error(error, "KVM_CREATE_VCPU", errno);
    goto fail;
  }
  kv->run = mmap(NULL, kv->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, kv->fd, 0);
  if (kv->run == MAP_FAILED) {
    arbor_kvm_ioctl_error(error, "mmap of the vCPU's kvm_run", errno);
    goto fail;
  }
  if (!kvm_vcpu_set_cpuid(kv, self, error))
    goto fail;
  if (!kvm_install_kick_handler(error))
    goto fail;

  arbor_vcpu_set_accel_data(vcpu, kv);
  if (!arbor_kvm_vcpu_reset(accel, vcpu, error)) {
    arbor_vcpu_set_accel_data(vcpu, NULL);
    goto fail;
  }
  g_debug("vCPU %u: KVM fd %d, kvm_run %zu bytes", kv->index, kv->fd, kv->mmap_size);
  return TRUE;

fail:
  kvm_vcpu_free(kv); /* the generic code prefixes the error with the vCPU */
  return FALSE;
}

void
arbor_kvm_vcpu_destroy(ArborAccel *accel, ArborVcpu *vcpu)
{
  KvmVcpu *kv = kvm_vcpu_get(vcpu);

  if (kv == NULL)
    return;
  arbor_vcpu_set_accel_data(vcpu, NULL);
  kvm_vcpu_free(kv);
}

/* ---- kicks ----------------------------------------------------------------- */

/* immediate_exit stays set until the vCPU thread clears it under the
 * command lock, so a kick that lands before KVM_RUN makes it return at
 * once; the signal gets a thread already inside KVM_RUN out. */
void
arbor_kvm_vcpu_kick(ArborAccel *accel, ArborVcpu *vcpu)
{
  KvmVcpu *kv = kvm_vcpu_get(vcpu);

  if (kv == NULL)
    return;
  __atomic_store_n(&kv->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
  pthread_kill(kv->thread, KVM_KICK_SIGNAL);
}

void
arbor_kvm_vcpu_kick_clear(ArborAccel *accel, ArborVcpu *vcpu)
{
  KvmVcpu *kv = kvm_vcpu_get(vcpu);

  __atomic_store_n(&kv->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

/* ---- registers ----------------------------------------------------------- */

static void
regs_from_kvm(ArborRegs *regs, const struct kvm_regs *k)
{
  *regs = (ArborRegs){
    .rax = k->rax, .rbx = k->rbx, .rcx = k->rcx, .rdx = k->rdx,
    .rsi = k->rsi, .rdi = k->rdi, .rsp = k->rsp, .rbp = k->rbp,
    .r8 = k->r8, .r9 = k->r9, .r10 = k->r10, .r11 = k->r11,
    .r12 = k->r12, .r13 = k->r13, .r14 = k->r14, .r15 = k->r15,
    .rip = k->rip, .rflags = k->rflags,
  };
}

static void
regs_to_kvm(struct kvm_regs *k, const ArborRegs *regs)
{
  *k = (struct kvm_regs){
    .rax = regs->rax, .rbx = regs->rbx, .rcx = regs->rcx, .rdx = regs->rdx,
    .rsi = regs->rsi, .rdi = regs->rdi, .rsp = regs->rsp, .rbp = regs->rbp,
    .r8 = regs->r8, .r9 = regs->r9, .r10 = regs->r10, .r11 = regs->r11,
    .r12 = regs->r12, .r13 = regs->r13, .r14 = regs->r14, .r15 = regs->r15,
    .rip = regs->rip, .rflags = regs->rflags,
  };
}

static void
segment_from_kvm(ArborSegment *seg, const struct kvm_segment *k)
{
  *seg = (ArborSegment){
    .base = k->base, .limit = k->limit, .selector = k->selector, .type = k->type,
    .present = k->present, .dpl = k->dpl, .db = k->db, .s = k->s, .l = k->l,
    .g = k->g, .avl = k->avl, .unusable = k->unusable,
  };
}

static void
segment_to_kvm(struct kvm_segment *k, const ArborSegment *seg)
{
  *k = (struct kvm_segment){
    .base = seg->base, .limit = seg->limit, .selector = seg->selector, .type = seg->type,
    .present = seg->present, .dpl = seg->dpl, .db = seg->db, .s = seg->s, .l = seg->l,
    .g = seg->g, .avl = seg->avl, .unusable = seg->unusable,
  };
}

static void
sregs_from_kvm(ArborSregs *sregs, const struct kvm_sregs *k)
{
  segment_from_kvm(&sregs->cs, &k->cs);
  segment_from_kvm(&sregs->ds, &k->ds);
  segment_from_kvm(&sregs->es, &k->es);
  segment_from_kvm(&sregs->fs, &k->fs);
  segment_from_kvm(&sregs->gs, &k->gs);
  segment_from_kvm(&sregs->ss, &k->ss);
  segment_from_kvm(&sregs->tr, &k->tr);
  segment_from_kvm(&sregs->ldt, &k->ldt);
  sregs->gdt = (ArborDescriptorTable){ .base = k->gdt.base, .limit = k->gdt.limit };
  sregs->idt = (ArborDescriptorTable){ .base = k->idt.base, .limit = k->idt.limit };
  sregs->cr0 = k->cr0;
  sregs->cr2 = k->cr2;
  sregs->cr3 = k->cr3;
  sregs->cr4 = k->cr4;
  sregs->cr8 = k->cr8;
  sregs->efer = k->efer;
  sregs->apic_base = k->apic_base;
}

/* Keeps @k's interrupt bitmap (pending external interrupts). */
static void
sregs_to_kvm(struct kvm_sregs *k, const ArborSregs *sregs)
{
  segment_to_kvm(&k->cs, &sregs->cs);
  segment_to_kvm(&k->ds, &sregs->ds);
  segment_to_kvm(&k->es, &sregs->es);
  segment_to_kvm(&k->fs, &sregs->fs);
  segment_to_kvm(&k->gs, &sregs->gs);
  segment_to_kvm(&k->ss, &sregs->ss);
  segment_to_kvm(&k->tr, &sregs->tr);
  segment_to_kvm(&k->ldt, &sregs->ldt);
  k->gdt = (struct kvm_dtable){ .base = sregs->gdt.base, .limit = sregs->gdt.limit };
  k->idt = (struct kvm_dtable){ .base = sregs->idt.base, .limit = sregs->idt.limit };
  k->cr0 = sregs->cr0;
  k->cr2 = sregs->cr2;
  k->cr3 = sregs->cr3;
  k->cr4 = sregs->cr4;
  k->cr8 = sregs->cr8;
  k->efer = sregs->efer;
  k->apic_base = sregs->apic_base;
}

static gboolean
kvm_vcpu_check(KvmVcpu *kv, GError **error)
{
  if (kv != NULL)
    return TRUE;
  g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_FAILED, "the KVM vCPU is not (or no longer) created");
  return FALSE;
}

gboolean
arbor_kvm_vcpu_get_regs(ArborAccel *accel, ArborVcpu *vcpu, ArborRegs *regs, GError **error)
{
  KvmVcpu *kv = kvm_vcpu_get(vcpu);
  struct kvm_regs k;

  if (!kvm_vcpu_check(kv, error))
    return FALSE;
  if (arbor_kvm_ioctl(kv->fd, KVM_GET_REGS, (unsigned long)&k) < 0)
    return arbor_kvm_ioctl_error(error, "KVM_GET_REGS", errno);
  regs_from_kvm(regs, &k);
  return TRUE;
}

gboolean
arbor_kvm_vcpu_set_regs(ArborAccel *accel, ArborVcpu *vcpu, const ArborRegs *regs, GError **error)
{
  KvmVcpu *kv = kvm_vcpu_get(vcpu);
  struct kvm_regs k;

  if (!kvm_vcpu_check(kv, error))
    return FALSE;
  regs_to_kvm(&k, regs);
  if (arbor_kvm_ioctl(kv->fd, KVM_SET_REGS, (unsigned long)&k) < 0)
    return arbor_kvm_ioctl_error(error, "KVM_SET_REGS", errno);
  return TRUE;
}

gboolean
arbor_kvm_vcpu_get_sregs(ArborAccel *accel, ArborVcpu *vcpu, ArborSregs *sregs, GError **error)
{
  KvmVcpu *kv = kvm_vcpu_get(vcpu);
  struct kvm_sregs k;

  if (!kvm_vcpu_check(kv, error))
    return FALSE;
  if (arbor_kvm_ioctl(kv->fd, KVM_GET_SREGS, (unsigned long)&k) < 0)
    return arbor_kvm_ioctl_error(error, "KVM_GET_SREGS", errno);
  sregs_from_kvm(sregs, &k);
  return TRUE;
}

gboolean
arbor_kvm_vcpu_set_sregs(ArborAccel *accel, ArborVcpu *vcpu, const ArborSregs *sregs, GError **error)
{
  KvmVcpu *kv = kvm_vcpu_get(vcpu);
  struct kvm_sregs k;

  if (!kvm_vcpu_check(kv, error))
    return FALSE;
  if (arbor_kvm_ioctl(kv->fd, KVM_GET_SREGS, (unsigned long)&k) < 0)
    return arbor_kvm_ioctl_error(error, "KVM_GET_SREGS", errno);
  sregs_to_kvm(&k, sregs);
  if (arbor_kvm_ioctl(kv->fd, KVM_SET_SREGS, (unsigned long)&k) < 0)
    return arbor_kvm_ioctl_error(error, "KVM_SET_SREGS", errno);
  return TRUE;
}

/* The x86 power-on state: real mode, CS:IP = f000:fff0 with CS base
 * 0xffff0000, as a PC starts. Loaders set their own state afterwards. */
gboolean
arbor_kvm_vcpu_reset(ArborAccel *accel, ArborVcpu *vcpu, GError **error)
{
  ArborSegment data = { .limit = 0xffff, .type = 3, .present = 1, .s = 1 };
  ArborRegs regs = { .rip = 0xfff0, .rflags = 0x2, .rdx = 0x600 };
  ArborSregs sregs;

  if (!arbor_kvm_vcpu_get_sregs(accel, vcpu, &sregs, error))
    return FALSE;
  sregs.cs = (ArborSegment){ .base = 0xffff0000, .limit = 0xffff, .selector = 0xf000, .type = 0xb,
                             .present = 1, .s = 1 };
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
  sregs.tr = (ArborSegment){ .limit = 0xffff, .type = 0xb, .present = 1 };
  sregs.ldt = (ArborSegment){ .limit = 0xffff, .type = 2, .present = 1 };
  sregs.gdt = (ArborDescriptorTable){ .limit = 0xffff };
  sregs.idt = (ArborDescriptorTable){ .limit = 0xffff };
  sregs.cr0 = 0x60000010;
  sregs.cr2 = sregs.cr3 = sregs.cr4 = sregs.cr8 = 0;
  sregs.efer = 0;
  if (!arbor_kvm_vcpu_set_sregs(accel, vcpu, &sregs, error))
    return FALSE;
  return arbor_kvm_vcpu_set_regs(accel, vcpu, &regs, error);
}

/* ---- the run loop --------------------------------------------------------- */

static inline gboolean
kvm_debug_enabled(void)
{
  return !g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN);
}

/* Port I/O, string I/O included: @count items of @size bytes at data_offset. */
static void
kvm_handle_io(KvmVcpu *kv, gboolean debug)
{
  struct kvm_run *run = kv->run;
  guint8 *data = (guint8 *)run + run->io.data_offset;
  guint size = run->io.size;
  gboolean out = run->io.direction == KVM_EXIT_IO_OUT;

  arbor_vcpu_count_exit(kv->vcpu, out ? ARBOR_VCPU_STAT_IO_OUT : ARBOR_VCPU_STAT_IO_IN);
  for (guint32 i = 0; i < run->io.count; i++, data += size) {
    guint64 value = 0;

    if (out) {
      memcpy(&value, data, size);
      arbor_address_space_dispatch_write(kv->io, run->io.port, size, value);
    } else {
      arbor_address_space_dispatch_read(kv->io, run->io.port, size, &value);
      memcpy(data, &value, size);
    }
    if (G_UNLIKELY(debug))
      g_debug("vCPU %u: %s port %#x size %u value %#" G_GINT64_MODIFIER "x (%u/%u)", kv->index,
              out ? "out" : "in", run->io.port, size, value, i + 1, run->io.count);
  }
}

/* Sizes other than 1/2/4/8 go byte by byte. */
static void
kvm_mmio_access(KvmVcpu *kv, guint64 addr, guint len, guint8 *data, gboolean write)
{
  if (len == 1 || len == 2 || len == 4 || len == 8) {
    guint64 value = 0;

    if (write) {
      memcpy(&value, data, len);
      arbor_address_space_dispatch_write(kv->memory, addr, len, value);
    } else {
      arbor_address_space_dispatch_read(kv->memory, addr, len, &value);
      memcpy(data, &value, len);
    }
    return;
  }
  for (guint i = 0; i < len && i < 8; i++) {
    guint64 value = data[i];

    if (write)
      arbor_address_space_dispatch_write(kv->memory, addr + i, 1, value);
    else {
      arbor_address_space_dispatch_read(kv->memory, addr + i, 1, &value);
      data[i] = (guint8)value;
    }
  }
}

static void
kvm_handle_mmio(KvmVcpu *kv, gboolean debug)
{
  struct kvm_run *run = kv->run;
  gboolean write = run->mmio.is_write != 0;

  arbor_vcpu_count_exit(kv->vcpu, write ? ARBOR_VCPU_STAT_MMIO_WRITE : ARBOR_VCPU_STAT_MMIO_READ);
  kvm_mmio_access(kv, run->mmio.phys_addr, run->mmio.len, run->mmio.data, write);
  if (G_UNLIKELY(debug)) {
    guint64 value = 0;

    memcpy(&value, run->mmio.data, MIN(run->mmio.len, 8u));
    g_debug("vCPU %u: mmio %s %#" G_GINT64_MODIFIER "x size %u value %#" G_GINT64_MODIFIER "x", kv->index,
            write ? "write" : "read", (guint64)run->mmio.phys_addr, run->mmio.len, value);
  }
}

/* Logs what the guest was doing when it ended. */
static void
kvm_log_registers(KvmVcpu *kv)
{
  struct kvm_regs r;
  struct kvm_sregs s;

  if (ioctl(kv->fd, KVM_GET_REGS, &r) < 0 || ioctl(kv->fd, KVM_GET_SREGS, &s) < 0) {
    g_message("vCPU %u: registers unavailable: %s", kv->index, g_strerror(errno));
    return;
  }
  g_message("vCPU %u registers:\n"
            " RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n"
            " RSI=%016llx RDI=%016llx RBP=%016llx RSP=%016llx\n"
            " RIP=%016llx RFL=%08llx\n"
            " CS=%04x base %016llx limit %08x type %x l %u db %u\n"
            " SS=%04x DS=%04x ES=%04x\n"
            " CR0=%08llx CR2=%016llx CR3=%016llx CR4=%08llx EFER=%08llx\n"
            " GDT=%016llx/%04x IDT=%016llx/%04x",
            kv->index, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.rip, r.rflags, s.cs.selector,
            s.cs.base, s.cs.limit, s.cs.type, s.cs.l, s.cs.db, s.ss.selector, s.ds.selector, s.es.selector, s.cr0,
            s.cr2, s.cr3, s.cr4, s.efer, s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
}

static void
kvm_exit_copy_data(ArborVcpuExit *exit, const __u64 *data, guint32 ndata)
{
  exit->ndata = MIN(ndata, G_N_ELEMENTS(exit->data));
  for (guint32 i = 0; i < exit->ndata; i++)
    exit->data[i] = data[i];
}

static void
kvm_exit_describe_data(ArborVcpuExit *exit, GString *desc)
{
  for (guint32 i = 0; i < exit->ndata; i++)
    g_string_append_printf(desc, "%s%#" G_GINT64_MODIFIER "x", i == 0 ? " data " : " ", exit->data[i]);
}

/* The exits that end the vCPU: fill @exit, log, return EXITED. */
static ArborVcpuRunResult
kvm_handle_fatal_exit(KvmVcpu *kv, ArborVcpuExit *exit)
{
  struct kvm_run *run = kv->run;
  g_autoptr(GString) desc = g_string_new(NULL);

  exit->hw_reason = run->exit_reason;
  switch (run->exit_reason) {
  case KVM_EXIT_SHUTDOWN:
    arbor_vcpu_count_exit(kv->vcpu, ARBOR_VCPU_STAT_SHUTDOWN);
    exit->reason = ARBOR_VCPU_EXIT_SHUTDOWN;
    g_string_append(desc, "shutdown (triple fault)");
    break;
  case KVM_EXIT_SYSTEM_EVENT:
    arbor_vcpu_count_exit(kv->vcpu, ARBOR_VCPU_STAT_SYSTEM_EVENT);
    exit->reason = ARBOR_VCPU_EXIT_SYSTEM_EVENT;
    exit->suberror = run->system_event.type;
    exit->data[0] = run->system_event.type;
    exit->ndata = 1;
    g_string_append_printf(desc, "system event type %u", run->system_event.type);
    for (guint32 i = 0; i < MIN(run->system_event.ndata, 15u); i++)
      exit->data[exit->ndata++] = run->system_event.data[i];
    break;
  case KVM_EXIT_INTERNAL_ERROR:
    arbor_vcpu_count_exit(kv->vcpu, ARBOR_VCPU_STAT_INTERNAL_ERROR);
    exit->reason = ARBOR_VCPU_EXIT_INTERNAL_ERROR;
    exit->suberror = run->internal.suberror;
    kvm_exit_copy_data(exit, run->internal.data, run->internal.ndata);
    g_string_append_printf(desc, "KVM internal error, suberror %u%s", run->internal.suberror,
                           run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? " (emulation failed)" : "");
    kvm_exit_describe_data(exit, desc);
    break;
  case KVM_EXIT_FAIL_ENTRY:
    arbor_vcpu_count_exit(kv->vcpu, ARBOR_VCPU_STAT_FAIL_ENTRY);
    exit->reason = ARBOR_VCPU_EXIT_FAIL_ENTRY;
    exit->data[0] = run->fail_entry.hardware_entry_failure_reason;
    exit->data[1] = run->fail_entry.cpu;
    exit->ndata = 2;
    g_string_append_printf(desc, "VM entry failed, hardware reason %#" G_GINT64_MODIFIER "x on host cpu %u",
                           (guint64)run->fail_entry.hardware_entry_failure_reason, run->fail_entry.cpu);
    break;
  default:
    arbor_vcpu_count_exit(kv->vcpu, ARBOR_VCPU_STAT_OTHER);
    exit->reason = ARBOR_VCPU_EXIT_UNKNOWN;
    exit->data[0] = run->hw.hardware_exit_reason;
    exit->ndata = 1;
    g_string_append_printf(desc, "unhandled KVM exit reason %u (hardware reason %#" G_GINT64_MODIFIER "x)",
                           run->exit_reason, (guint64)run->hw.hardware_exit_reason);
    break;
  }
  g_strlcpy(exit->description, desc->str, sizeof(exit->description));
  g_message("vCPU %u: %s", kv->index, desc->str);
  kvm_log_registers(kv);
  return ARBOR_VCPU_RUN_EXITED;
}

ArborVcpuRunResult
arbor_kvm_vcpu_run(ArborAccel *accel, ArborVcpu *vcpu, ArborVcpuExit *exit)
{
  KvmVcpu *kv = kvm_vcpu_get(vcpu);
  gboolean debug = kvm_debug_enabled();
  struct kvm_run *run = kv->run;

  for (;;) {
    /* I/O and MMIO completions are finished by the next KVM_RUN, even one
     * that returns -EINTR at once because of immediate_exit. */
    if (ioctl(kv->fd, KVM_RUN, 0) < 0) {
      int err = errno;

      if (err == EINTR) {
        arbor_vcpu_count_exit(vcpu, ARBOR_VCPU_STAT_INTR);
        if (G_UNLIKELY(debug))
          g_debug("vCPU %u: interrupted", kv->index);
        return ARBOR_VCPU_RUN_INTERRUPTED;
      }
      if (err == EAGAIN)
        continue;
      exit->reason = ARBOR_VCPU_EXIT_RUN_FAILED;
      exit->hw_reason = 0;
      g_snprintf(exit->description, sizeof(exit->description), "KVM_RUN failed: %s", g_strerror(err));
      g_message("vCPU %u: %s", kv->index, exit->description);
      return ARBOR_VCPU_RUN_EXITED;
    }

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
      kvm_handle_io(kv, debug);
      continue;
    case KVM_EXIT_MMIO:
      kvm_handle_mmio(kv, debug);
      continue;
    case KVM_EXIT_HLT:
      arbor_vcpu_count_exit(vcpu, ARBOR_VCPU_STAT_HLT);
      if (G_UNLIKELY(debug))
        g_debug("vCPU %u: hlt", kv->index);
      return ARBOR_VCPU_RUN_HALTED;
    case KVM_EXIT_IRQ_WINDOW_OPEN:
      arbor_vcpu_count_exit(vcpu, ARBOR_VCPU_STAT_IRQ_WINDOW);
      if (G_UNLIKELY(debug))
        g_debug("vCPU %u: interrupt window open", kv->index);
      continue;
    case KVM_EXIT_INTR:
      arbor_vcpu_count_exit(vcpu, ARBOR_VCPU_STAT_INTR);
      if (G_UNLIKELY(debug))
        g_debug("vCPU %u: KVM_EXIT_INTR", kv->index);
      return ARBOR_VCPU_RUN_INTERRUPTED;
    default:
      if (G_UNLIKELY(debug))
        g_debug("vCPU %u: exit reason %u", kv->index, run->exit_reason);
      return kvm_handle_fatal_exit(kv, exit);
    }
  }
}
