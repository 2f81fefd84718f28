/* Real guests under KVM: port I/O, string I/O and MMIO of every size in
 * real, protected and long mode; unassigned reads seen by the guest; RAM
 * added while the guest runs; pause/resume/stop of spinning guests; HLT
 * and triple fault. Skipped where /dev/kvm is missing. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <arbor/arbor.h>

#include "spin-accel.h"

#define RAM_SIZE (2 * 1024 * 1024)
#define LOAD_ADDR 0x1000
#define STACK_TOP 0x8000
#define LOG_PORT_BASE 0x10
#define LOG_MMIO_BASE 0xa0000
#define REPORT_PORT 0x20

/* ---- a device that logs every access, in order ------------------------- */

typedef struct {
  char kind; /* 'i'/'o' port in/out, 'r'/'w' MMIO read/write */
  guint64 addr; /* port, or offset in the MMIO window */
  guint size;
  guint64 value;
} LogEntry;

typedef struct {
  GMutex lock;
  GCond cond;
  GArray *entries; /* of LogEntry */
  ArborMemoryRegion *io;   /* owned: ports 0x10-0x2f */
  ArborMemoryRegion *mmio; /* owned: 0xa0000-0xa0fff */
} LogDevice;

/* Byte i of a read at offset @off: 0xA?, 0xB?, ... with ? = off & 0xf. */
static guint64
log_pattern(guint64 off, guint size)
{
  guint64 value = 0;

  for (guint i = 0; i < size; i++)
    value |= (guint64)((((0xa + i) & 0xf) << 4) | (off & 0xf)) << (8 * i);
  return value;
}

static void
log_add(LogDevice *dev, char kind, guint64 addr, guint size, guint64 value)
{
  LogEntry entry = { kind, addr, size, value };

  g_mutex_lock(&dev->lock);
  g_array_append_val(dev->entries, entry);
  g_cond_broadcast(&dev->cond);
  g_mutex_unlock(&dev->lock);
}

static guint64
log_io_read(gpointer opaque, guint64 addr, guint size)
{
  guint64 value = log_pattern(addr, size);

  log_add(opaque, 'i', LOG_PORT_BASE + addr, size, value);
  return value;
}

static void
log_io_write(gpointer opaque, guint64 addr, guint size, guint64 value)
{
  log_add(opaque, 'o', LOG_PORT_BASE + addr, size, value);
}

static guint64
log_mmio_read(gpointer opaque, guint64 addr, guint size)
{
  guint64 value = log_pattern(addr, size);

  log_add(opaque, 'r', addr, size, value);
  return value;
}

static void
log_mmio_write(gpointer opaque, guint64 addr, guint size, guint64 value)
{
  log_add(opaque, 'w', addr, size, value);
}

static const ArborMemoryRegionOps log_io_ops = {
  .read = log_io_read,
  .write = log_io_write,
  .valid = { .min_access_size = 1, .max_access_size = 4, .unaligned = TRUE },
  .impl = { .min_access_size = 1, .max_access_size = 4, .unaligned = TRUE },
};

static const ArborMemoryRegionOps log_mmio_ops = {
  .read = log_mmio_read,
  .write = log_mmio_write,
  .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = TRUE },
  .impl = { .min_access_size = 1, .max_access_size = 8, .unaligned = TRUE },
};

static void
log_wait_len(LogDevice *dev, guint len)
{
  g_mutex_lock(&dev->lock);
  while (dev->entries->len < len)
    g_cond_wait(&dev->cond, &dev->lock);
  g_mutex_unlock(&dev->lock);
}

static void
log_assert(LogDevice *dev, const LogEntry *expected, guint n)
{
  g_mutex_lock(&dev->lock);
  for (guint i = 0; i < MIN(n, dev->entries->len); i++) {
    const LogEntry *got = &g_array_index(dev->entries, LogEntry, i);

    g_test_message("entry %u: %c %#" G_GINT64_MODIFIER "x/%u = %#" G_GINT64_MODIFIER "x", i, got->kind, got->addr,
                   got->size, got->value);
    g_assert_cmpint(got->kind, ==, expected[i].kind);
    g_assert_cmphex(got->addr, ==, expected[i].addr);
    g_assert_cmpuint(got->size, ==, expected[i].size);
    g_assert_cmphex(got->value, ==, expected[i].value);
  }
  g_assert_cmpuint(dev->entries->len, ==, n);
  g_mutex_unlock(&dev->lock);
}

/* ---- fixture: a machine with the kvm accelerator ------------------------ */

typedef struct {
  ArborMachine *machine;
  ArborAccel *accel;
  ArborVcpuManager *vcpus;
  LogDevice log;
  gboolean skipped;
} Guest;

static gboolean
kvm_missing(void)
{
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  int err = errno;

  if (fd >= 0) {
    close(fd);
    return FALSE;
  }
  if (err == ENOENT || err == ENODEV || err == ENXIO) {
    g_test_skip("/dev/kvm missing: these tests need KVM");
    return TRUE;
  }
  g_error("cannot open /dev/kvm: %s (a permission problem is a failure, not a skip)", g_strerror(err));
  return TRUE;
}

static void
guest_setup(Guest *g, gconstpointer data)
{
  guint smp = GPOINTER_TO_UINT(data) != 0 ? GPOINTER_TO_UINT(data) : 1;
  g_autoptr(GError) error = NULL;

  g_mutex_init(&g->log.lock);
  g_cond_init(&g->log.cond);
  g->log.entries = g_array_new(FALSE, TRUE, sizeof(LogEntry));
  if (kvm_missing()) {
    g->skipped = TRUE;
    return;
  }
  g->machine = arbor_machine_new(RAM_SIZE, smp, NULL, &error);
  g_assert_no_error(error);
  g->log.io = arbor_memory_region_new_io("log-io", 0x20, &log_io_ops, &g->log);
  g->log.mmio = arbor_memory_region_new_io("log-mmio", 0x1000, &log_mmio_ops, &g->log);
  arbor_memory_region_add_subregion(arbor_machine_get_system_io(g->machine), LOG_PORT_BASE, g->log.io);
  arbor_memory_region_add_subregion(arbor_machine_get_system_memory(g->machine), LOG_MMIO_BASE, g->log.mmio);

  g->accel = arbor_accel_new("kvm", &error);
  g_assert_no_error(error);
  g_assert_true(arbor_machine_set_accel(g->machine, g->accel, &error));
  g_assert_no_error(error);
  g->vcpus = arbor_machine_get_vcpu_manager(g->machine);
  for (guint i = 0; i < smp; i++)
    g_object_set(arbor_vcpu_manager_get_vcpu(g->vcpus, i), "exit-on-halt", TRUE, NULL);
}

static void
guest_teardown(Guest *g, gconstpointer data)
{
  if (g->machine != NULL)
    arbor_machine_shutdown(g->machine);
  g_clear_object(&g->machine);
  g_clear_object(&g->accel);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_clear_object(&g->log.io);
  g_clear_object(&g->log.mmio);
  g_array_unref(g->log.entries);
  g_mutex_clear(&g->log.lock);
  g_cond_clear(&g->log.cond);
}

static ArborVcpu *
guest_vcpu(Guest *g, guint i)
{
  return arbor_vcpu_manager_get_vcpu(g->vcpus, i);
}

static void
guest_load(Guest *g, const char *name, guint64 addr)
{
  g_autofree char *path = g_test_build_filename(G_TEST_BUILT, "guests", name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;

  g_assert_true(g_file_get_contents(path, &contents, &len, &error));
  g_assert_no_error(error);
  g_assert_cmpint(arbor_address_space_write(arbor_machine_get_memory(g->machine), addr, contents, len), ==,
                  ARBOR_MEMTX_OK);
}

static void
guest_write_u64(Guest *g, guint64 addr, guint64 value)
{
  g_assert_cmpint(arbor_address_space_write(arbor_machine_get_memory(g->machine), addr, &value, 8), ==,
                  ARBOR_MEMTX_OK);
}

static guint32
guest_read_u32(Guest *g, guint64 addr)
{
  guint32 value = 0;

  g_assert_cmpint(arbor_address_space_read(arbor_machine_get_memory(g->machine), addr, &value, 4), ==,
                  ARBOR_MEMTX_OK);
  return value;
}

typedef enum { MODE_REAL, MODE_PROTECTED, MODE_LONG } GuestMode;

/* Page tables for long mode: 1 GiB identity-mapped with 2 MiB pages. */
static void
guest_build_page_tables(Guest *g)
{
  guint64 pml4 = 0x2000, pdpt = 0x3000, pd = 0x4000;

  guest_write_u64(g, pml4, pdpt | 0x3);
  guest_write_u64(g, pdpt, pd | 0x3);
  for (guint64 i = 0; i < 512; i++)
    guest_write_u64(g, pd + 8 * i, (i << 21) | 0x83);
}

static void
guest_set_mode(Guest *g, guint index, GuestMode mode, const ArborRegs *init)
{
  g_autoptr(GError) error = NULL;
  ArborVcpu *vcpu = guest_vcpu(g, index);
  ArborSregs sregs;
  ArborRegs regs = init != NULL ? *init : (ArborRegs){ 0 };
  ArborSegment code = { .limit = 0xffffffff, .selector = 0x8, .type = 0xb, .present = 1, .s = 1, .db = 1, .g = 1 };
  ArborSegment data = { .limit = 0xffffffff, .selector = 0x10, .type = 0x3, .present = 1, .s = 1, .db = 1, .g = 1 };

  g_assert_true(arbor_vcpu_get_sregs(vcpu, &sregs, &error));
  g_assert_no_error(error);
  switch (mode) {
  case MODE_REAL:
    sregs.cs = (ArborSegment){ .limit = 0xffff, .type = 0xb, .present = 1, .s = 1 };
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss =
      (ArborSegment){ .limit = 0xffff, .type = 0x3, .present = 1, .s = 1 };
    break;
  case MODE_PROTECTED:
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.cr0 = 0x11; /* PE, ET */
    break;
  case MODE_LONG:
    guest_build_page_tables(g);
    code.db = 0;
    code.l = 1;
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.cr3 = 0x2000;
    sregs.cr4 = 0x20;         /* PAE */
    sregs.cr0 = 0x80000011;   /* PG, PE, ET */
    sregs.efer = 0x500;       /* LME, LMA */
    break;
  }
  g_assert_true(arbor_vcpu_set_sregs(vcpu, &sregs, &error));
  g_assert_no_error(error);
  regs.rip = LOAD_ADDR;
  regs.rsp = STACK_TOP;
  regs.rflags = 0x2;
  g_assert_true(arbor_vcpu_set_regs(vcpu, &regs, &error));
  g_assert_no_error(error);
}

/* Runs vCPU 0 until it exits; returns the exit. */
static void
guest_run_to_exit(Guest *g, ArborVcpuExit *exit)
{
  g_autoptr(GError) error = NULL;
  ArborVcpu *vcpu = guest_vcpu(g, 0);

  g_assert_true(arbor_vcpu_run(vcpu, &error));
  g_assert_no_error(error);
  g_assert_cmpint(arbor_vcpu_wait_state(vcpu, 1u << ARBOR_VCPU_STATE_EXITED), ==, ARBOR_VCPU_STATE_EXITED);
  arbor_vcpu_get_exit(vcpu, exit);
}

#define R(port, size, value) { 'i', port, size, value }
#define W(port, size, value) { 'o', port, size, value }
#define MR(off, size, value) { 'r', off, size, value }
#define MW(off, size, value) { 'w', off, size, value }
#define REPORT(value) W(REPORT_PORT, 4, value)

static void
test_real_mode_io(Guest *g, gconstpointer data)
{
  static const LogEntry expected[] = {
    W(0x10, 1, 0x12), W(0x12, 2, 0x3456), W(0x14, 4, 0x789abcde),
    R(0x10, 1, 0xa0), REPORT(0xa0),
    R(0x12, 2, 0xb2a2), REPORT(0xb2a2),
    R(0x14, 4, 0xd4c4b4a4), REPORT(0xd4c4b4a4),
    REPORT(0xff), REPORT(0xffff), REPORT(0xffffffff),
    W(0x18, 1, 'a'), W(0x18, 1, 'r'), W(0x18, 1, 'b'), W(0x18, 1, 'r'),
    R(0x1a, 2, 0xbaaa), R(0x1a, 2, 0xbaaa), R(0x1a, 2, 0xbaaa),
    REPORT(0xbaaa), REPORT(0xbaaa), REPORT(0xbaaa),
    MW(0x0, 1, 0x5a), MW(0x2, 2, 0x1234), MW(0x4, 4, 0xcafebabe),
    MR(0x8, 1, 0xa8), REPORT(0xa8),
    MR(0xa, 2, 0xbaaa), REPORT(0xbaaa),
    MR(0xc, 4, 0xdcccbcac), REPORT(0xdcccbcac),
    REPORT(0),
  };
  ArborVcpuExit exit;

  if (g->skipped)
    return;
  guest_load(g, "rm-io.bin", LOAD_ADDR);
  guest_set_mode(g, 0, MODE_REAL, NULL);
  guest_run_to_exit(g, &exit);
  g_assert_cmpint(exit.reason, ==, ARBOR_VCPU_EXIT_HALT);
  log_assert(&g->log, expected, G_N_ELEMENTS(expected));
  g_assert_cmpuint(arbor_vcpu_get_stat(guest_vcpu(g, 0), ARBOR_VCPU_STAT_MMIO_WRITE), ==, 3);
}

static void
test_protected_mode_io(Guest *g, gconstpointer data)
{
  static const LogEntry expected[] = {
    W(0x18, 2, 0x6261), W(0x18, 2, 0x6463), W(0x18, 2, 0x6665),
    R(0x19, 1, 0xa9), R(0x19, 1, 0xa9), R(0x19, 1, 0xa9), R(0x19, 1, 0xa9), R(0x19, 1, 0xa9),
    REPORT(0xa9a9a9a9), REPORT(0xa9),
    MW(0x0, 1, 0x11), MW(0x2, 2, 0x2222), MW(0x4, 4, 0x33333333),
    MR(0x1, 1, 0xa1), REPORT(0xa1),
    MR(0x6, 2, 0xb6a6), REPORT(0xb6a6),
    MR(0x8, 4, 0xd8c8b8a8), REPORT(0xd8c8b8a8),
    REPORT(0xffffffff), REPORT(0),
  };
  ArborVcpuExit exit;

  if (g->skipped)
    return;
  guest_load(g, "pm32-io.bin", LOAD_ADDR);
  guest_set_mode(g, 0, MODE_PROTECTED, NULL);
  guest_run_to_exit(g, &exit);
  g_assert_cmpint(exit.reason, ==, ARBOR_VCPU_EXIT_HALT);
  log_assert(&g->log, expected, G_N_ELEMENTS(expected));
}

static void
test_long_mode_io(Guest *g, gconstpointer data)
{
  static const LogEntry expected[] = {
    W(0x10, 1, 0x77), W(0x12, 2, 0x8899), W(0x14, 4, 0xaabbccdd),
    R(0x14, 4, 0xd4c4b4a4), REPORT(0xd4c4b4a4),
    MW(0x10, 8, 0x1122334455667788), MW(0x1, 1, 0x01), MW(0x2, 2, 0x0202), MW(0x4, 4, 0x04040404),
    MR(0x18, 8, 0x1808f8e8d8c8b8a8), REPORT(0xd8c8b8a8), REPORT(0x1808f8e8),
    MR(0x3, 1, 0xa3), REPORT(0xa3), REPORT(0),
    MR(0x4, 2, 0xb4a4), REPORT(0xb4a4), REPORT(0),
    MR(0x8, 4, 0xd8c8b8a8), REPORT(0xd8c8b8a8), REPORT(0),
    REPORT(0), REPORT(0),
    REPORT(0xffffffff), REPORT(0),
  };
  ArborVcpuExit exit;

  if (g->skipped)
    return;
  guest_load(g, "lm64-io.bin", LOAD_ADDR);
  guest_set_mode(g, 0, MODE_LONG, NULL);
  guest_run_to_exit(g, &exit);
  g_assert_cmpint(exit.reason, ==, ARBOR_VCPU_EXIT_HALT);
  log_assert(&g->log, expected, G_N_ELEMENTS(expected));
}

/* RAM that appears at 0x10000000 while the guest polls it. */
static void
test_ram_hotplug(Guest *g, gconstpointer data)
{
  static const LogEntry expected[] = { REPORT(0xcafef00d) };
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborMemoryRegion) ram = NULL;
  ArborVcpu *vcpu;
  ArborVcpuExit exit;
  guint32 magic = 0xcafef00d;

  if (g->skipped)
    return;
  guest_load(g, "pm32-hotplug.bin", LOAD_ADDR);
  guest_set_mode(g, 0, MODE_PROTECTED, NULL);
  vcpu = guest_vcpu(g, 0);
  g_assert_true(arbor_vcpu_run(vcpu, &error));
  g_assert_no_error(error);

  ram = arbor_memory_region_new_ram("hotplug", 0x10000, &error);
  g_assert_no_error(error);
  memcpy(arbor_memory_region_get_ram_ptr(ram), &magic, sizeof(magic));
  arbor_memory_region_add_subregion(arbor_machine_get_system_memory(g->machine), 0x10000000, ram);

  g_assert_cmpint(arbor_vcpu_wait_state(vcpu, 1u << ARBOR_VCPU_STATE_EXITED), ==, ARBOR_VCPU_STATE_EXITED);
  arbor_vcpu_get_exit(vcpu, &exit);
  g_assert_cmpint(exit.reason, ==, ARBOR_VCPU_EXIT_HALT);
  log_assert(&g->log, expected, G_N_ELEMENTS(expected));
  arbor_memory_region_del_subregion(arbor_machine_get_system_memory(g->machine), ram);
}

/* A guest spinning with no exits pauses, resumes and stops at once. */
static void
test_pause_spinning(Guest *g, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ArborVcpu *vcpu;
  guint32 at_pause;

  if (g->skipped)
    return;
  guest_load(g, "pm32-spin.bin", LOAD_ADDR);
  guest_set_mode(g, 0, MODE_PROTECTED, NULL);
  vcpu = guest_vcpu(g, 0);
  g_assert_true(arbor_vcpu_run(vcpu, &error));
  while (guest_read_u32(g, 0x500) < 1000000)
    g_usleep(1000);
  g_assert_true(arbor_vcpu_pause(vcpu, &error));
  g_assert_no_error(error);
  at_pause = guest_read_u32(g, 0x500);
  for (int i = 0; i < 100; i++)
    g_thread_yield();
  g_assert_cmpuint(guest_read_u32(g, 0x500), ==, at_pause);
  g_assert_cmpuint(arbor_vcpu_get_stat(vcpu, ARBOR_VCPU_STAT_INTR), >=, 1);

  g_assert_true(arbor_vcpu_resume(vcpu, &error));
  g_assert_no_error(error);
  while (guest_read_u32(g, 0x500) < at_pause + 1000000)
    g_usleep(1000);
  arbor_vcpu_stop(vcpu);
  g_assert_cmpint(arbor_vcpu_get_state(vcpu), ==, ARBOR_VCPU_STATE_STOPPED);
}

/* 1000 pause/resume cycles on 4 vCPUs, each counting through a port and
 * an MMIO register: nothing lost, nothing repeated. */
static void
test_cycles(Guest *g, gconstpointer data)
{
  const guint nvcpus = 4;
  CountDevice *ports = NULL, *mmio = NULL;

  if (g->skipped)
    return;
  ports = count_device_new(nvcpus);
  mmio = count_device_new(nvcpus);
  arbor_memory_region_add_subregion(arbor_machine_get_system_io(g->machine), 0x100, count_device_get_region(ports));
  arbor_memory_region_add_subregion(arbor_machine_get_system_memory(g->machine), 0xa1000,
                                    count_device_get_region(mmio));
  guest_load(g, "pm32-count.bin", LOAD_ADDR);
  for (guint i = 0; i < nvcpus; i++) {
    ArborRegs regs = { .rdx = 0x100 + 4 * i, .rbx = 0xa1000 + 4 * i };

    guest_set_mode(g, i, MODE_PROTECTED, &regs);
  }

  arbor_vcpu_manager_run_all(g->vcpus);
  for (guint c = 0; c < 1000; c++) {
    for (guint i = 0; i < nvcpus && c % 100 == 0; i++)
      count_device_wait_count(ports, i, count_device_get_count(ports, i) + 1);
    arbor_vcpu_manager_pause_all(g->vcpus);
    for (guint i = 0; i < nvcpus; i++) {
      g_autoptr(GError) error = NULL;
      ArborRegs regs;
      guint64 io_last = count_device_get_last(ports, i);
      guint64 mmio_last = count_device_get_last(mmio, i);

      guint64 rax;

      g_assert_true(arbor_vcpu_get_regs(guest_vcpu(g, i), &regs, &error));
      g_assert_no_error(error);
      /* Paused at any instruction boundary of "inc; out; mov; jmp": the
       * accesses made so far are exactly those the registers account for. */
      rax = regs.rax & 0xffffffff;
      g_assert_true(rax == io_last || rax == io_last + 1);
      g_assert_true(mmio_last == io_last || mmio_last + 1 == io_last);
      if (rax == io_last + 1)
        g_assert_cmpuint(mmio_last, ==, io_last);
    }
    arbor_vcpu_manager_resume_all(g->vcpus);
    while (g_main_context_iteration(NULL, FALSE))
      ;
  }
  arbor_vcpu_manager_stop_all(g->vcpus);
  for (guint i = 0; i < nvcpus; i++) {
    g_assert_cmpuint(count_device_get_errors(ports, i), ==, 0);
    g_assert_cmpuint(count_device_get_errors(mmio, i), ==, 0);
    g_assert_cmpuint(count_device_get_count(ports, i), >=, 10);
  }
  arbor_memory_region_del_subregion(arbor_machine_get_system_io(g->machine), count_device_get_region(ports));
  arbor_memory_region_del_subregion(arbor_machine_get_system_memory(g->machine), count_device_get_region(mmio));
  count_device_free(ports);
  count_device_free(mmio);
}

/* Without an irqchip HLT parks the vCPU until kicked. */
static void
test_hlt(Guest *g, gconstpointer data)
{
  static const LogEntry expected[] = { REPORT(1), REPORT(2) };
  g_autoptr(GError) error = NULL;
  ArborVcpu *vcpu;

  if (g->skipped)
    return;
  guest_load(g, "rm-halt.bin", LOAD_ADDR);
  guest_set_mode(g, 0, MODE_REAL, NULL);
  vcpu = guest_vcpu(g, 0);
  g_object_set(vcpu, "exit-on-halt", FALSE, NULL);
  g_assert_true(arbor_vcpu_run(vcpu, &error));
  g_assert_cmpint(arbor_vcpu_wait_state(vcpu, 1u << ARBOR_VCPU_STATE_HALTED), ==, ARBOR_VCPU_STATE_HALTED);
  log_wait_len(&g->log, 1);
  arbor_vcpu_kick(vcpu);
  log_wait_len(&g->log, 2);
  g_assert_cmpint(arbor_vcpu_wait_state(vcpu, 1u << ARBOR_VCPU_STATE_HALTED), ==, ARBOR_VCPU_STATE_HALTED);
  log_assert(&g->log, expected, G_N_ELEMENTS(expected));
  g_assert_cmpuint(arbor_vcpu_get_stat(vcpu, ARBOR_VCPU_STAT_HLT), >=, 1);
  arbor_vcpu_stop(vcpu);
}

/* #UD with no IDT: triple fault, reason SHUTDOWN; a reset makes the vCPU
 * runnable again from the reset vector. */
static void
test_triple_fault(Guest *g, gconstpointer data)
{
  static const LogEntry expected[] = { REPORT(1) };
  g_autoptr(GError) error = NULL;
  ArborVcpu *vcpu;
  ArborVcpuExit exit;
  ArborSregs sregs;
  ArborRegs regs;

  if (g->skipped)
    return;
  guest_load(g, "pm32-triple.bin", LOAD_ADDR);
  guest_set_mode(g, 0, MODE_PROTECTED, NULL);
  vcpu = guest_vcpu(g, 0);
  g_assert_true(arbor_vcpu_get_sregs(vcpu, &sregs, &error));
  sregs.idt.base = 0;
  sregs.idt.limit = 0;
  g_assert_true(arbor_vcpu_set_sregs(vcpu, &sregs, &error));
  g_assert_no_error(error);
  guest_run_to_exit(g, &exit);
  g_assert_cmpint(exit.reason, ==, ARBOR_VCPU_EXIT_SHUTDOWN);
  g_assert_nonnull(strstr(exit.description, "triple fault"));
  g_assert_cmpuint(arbor_vcpu_get_stat(vcpu, ARBOR_VCPU_STAT_SHUTDOWN), ==, 1);
  log_assert(&g->log, expected, G_N_ELEMENTS(expected));

  g_assert_true(arbor_vcpu_reset(vcpu, &error));
  g_assert_no_error(error);
  g_assert_cmpint(arbor_vcpu_get_state(vcpu), ==, ARBOR_VCPU_STATE_PAUSED);
  g_assert_true(arbor_vcpu_get_regs(vcpu, &regs, &error));
  g_assert_cmphex(regs.rip, ==, 0xfff0);
  g_assert_true(arbor_vcpu_get_sregs(vcpu, &sregs, &error));
  g_assert_cmphex(sregs.cs.base, ==, 0xffff0000);
  g_assert_cmphex(sregs.cs.selector, ==, 0xf000);
}

#define ADD(path, func, smp) \
  g_test_add("/kvm/guest/" path, Guest, GUINT_TO_POINTER(smp), guest_setup, func, guest_teardown)

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  ADD("real-mode-io", test_real_mode_io, 1);
  ADD("protected-mode-io", test_protected_mode_io, 1);
  ADD("long-mode-io", test_long_mode_io, 1);
  ADD("ram-hotplug", test_ram_hotplug, 1);
  ADD("pause-spinning", test_pause_spinning, 1);
  ADD("cycles-1000-x4", test_cycles, 4);
  ADD("hlt", test_hlt, 1);
  ADD("triple-fault", test_triple_fault, 1);
  return g_test_run();
}
