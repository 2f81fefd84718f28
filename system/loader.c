/* ArborLoader: the object, the checks every format shares, and the
 * writing of images and entry state into the machine. */
#include "arbor-config.h"

#include "loader-private.h"

#include <arbor/address-space.h>
#include <arbor/machine.h>
#include <arbor/vcpu-manager.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(arbor-loader-error-quark, arbor_loader_error)

#define LEGACY_HOLE_START 0xa0000ULL
#define HIGH_RAM_START 0x100000ULL
#define PCI_HOLE_START 0xe0000000ULL /* RAM past 3.5 GiB moves above 4 GiB */
#define FOUR_GIB 0x100000000ULL

struct _ArborLoader {
  GObject parent_instance;

  ArborMachine *machine; /* owned ref */
  gulong reset_handler;
  GPtrArray *blobs; /* ArborLoaderBlob*, owned: everything loaded so far */
  ArborLoaderFormat format;
  gboolean has_entry;
  ArborLoaderEntry entry;
};

G_DEFINE_FINAL_TYPE(ArborLoader, arbor_loader, G_TYPE_OBJECT)

static void
blob_free(gpointer p)
{
  ArborLoaderBlob *blob = p;

  g_clear_pointer(&blob->bytes, g_bytes_unref);
  g_free(blob->what);
  g_free(blob);
}

static guint64
blob_size(const ArborLoaderBlob *blob)
{
  return (blob->bytes ? g_bytes_get_size(blob->bytes) : 0) + blob->zero;
}

void
arbor_loader_split_ram(guint64 ram_size, guint64 *below_4g, guint64 *above_4g)
{
  *below_4g = MIN(ram_size, PCI_HOLE_START);
  *above_4g = ram_size - *below_4g;
}

gboolean
arbor_loader_range_in_ram(guint64 below_4g, guint64 above_4g, guint64 addr, guint64 len)
{
  guint64 ranges[3][2] = {
    { 0, MIN(below_4g, LEGACY_HOLE_START) },
    { HIGH_RAM_START, below_4g },
    { FOUR_GIB, FOUR_GIB + above_4g },
  };

  if (len > G_MAXUINT64 - addr)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(ranges); i++) {
    if (ranges[i][1] <= ranges[i][0])
      continue;
    if (addr >= ranges[i][0] && addr + len <= ranges[i][1])
      return TRUE;
  }
  return FALSE;
}

void
arbor_loader_plan_init(ArborLoaderPlan *plan, guint64 ram_size, const char *path)
{
  memset(plan, 0, sizeof(*plan));
  plan->blobs = g_ptr_array_new_with_free_func(blob_free);
  plan->path = path;
  arbor_loader_split_ram(ram_size, &plan->below_4g, &plan->above_4g);
}

void
arbor_loader_plan_clear(ArborLoaderPlan *plan)
{
  g_clear_pointer(&plan->blobs, g_ptr_array_unref);
}

void
arbor_loader_plan_add(ArborLoaderPlan *plan, guint64 addr, GBytes *bytes, guint64 zero, char *what)
{
  ArborLoaderBlob *blob = g_new0(ArborLoaderBlob, 1);

  blob->addr = addr;
  blob->bytes = bytes;
  blob->zero = zero;
  blob->what = what;
  g_ptr_array_add(plan->blobs, blob);
}

void
arbor_loader_plan_add_copy(ArborLoaderPlan *plan, guint64 addr, const void *data, gsize len, char *what)
{
  arbor_loader_plan_add(plan, addr, g_bytes_new(data, len), 0, what);
}

/* Flat descriptors: null, 0x08 code32, 0x10 data, 0x18 code64. */
static const guint64 loader_gdt[4] = {
  0,
  0x00cf9b000000ffffULL,
  0x00cf93000000ffffULL,
  0x00af9b000000ffffULL,
};

void
arbor_loader_plan_add_mode_structures(ArborLoaderPlan *plan, ArborLoaderMode mode)
{
  if (mode == ARBOR_LOADER_MODE_REAL)
    return;

  guint8 gdt[sizeof(loader_gdt)];
  for (guint i = 0; i < G_N_ELEMENTS(loader_gdt); i++)
    arbor_loader_st64(gdt + 8 * i, loader_gdt[i]);
  arbor_loader_plan_add_copy(plan, ARBOR_LOADER_GDT_ADDR, gdt, sizeof(gdt), g_strdup("the loader's GDT"));

  if (mode != ARBOR_LOADER_MODE_LONG)
    return;

  /* PML4 -> PDPT -> 4 page directories of 2 MiB pages: identity map of
   * the first 4 GiB. */
  gsize len = 6 * 4096;
  g_autofree guint8 *pt = g_malloc0(len);
  guint64 base = ARBOR_LOADER_PAGE_TABLES;
  arbor_loader_st64(pt, (base + 0x1000) | 0x3);
  for (guint i = 0; i < 4; i++) {
    arbor_loader_st64(pt + 0x1000 + 8 * i, (base + 0x2000 + 0x1000 * i) | 0x3);
    for (guint j = 0; j < 512; j++) {
      guint64 phys = ((guint64)i << 30) | ((guint64)j << 21);
      arbor_loader_st64(pt + 0x2000 + 0x1000 * i + 8 * j, phys | 0x83);
    }
  }
  arbor_loader_plan_add_copy(plan, base, pt, len, g_strdup("the loader's page tables"));
  arbor_loader_plan_add(plan, ARBOR_LOADER_STACK_TOP - 0x1000, NULL, 0x1000, g_strdup("the loader's stack"));
}

GBytes *
arbor_loader_read_file(const char *path, guint64 max_size, GError **error)
{
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);

  if (fd < 0) {
    int err = errno;
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_IO, "could not open '%s': %s", path, g_strerror(err));
    return NULL;
  }
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_IO, "'%s' is not a regular file", path);
    close(fd);
    return NULL;
  }
  if (st.st_size == 0) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_TRUNCATED, "'%s' is empty", path);
    close(fd);
    return NULL;
  }
  if ((guint64)st.st_size > max_size) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_OUT_OF_RAM,
                "'%s' is %" G_GUINT64_FORMAT " bytes, more than the %" G_GUINT64_FORMAT " bytes of RAM", path,
                (guint64)st.st_size, max_size);
    close(fd);
    return NULL;
  }

  gsize size = st.st_size;
  guint8 *buf = g_malloc(size);
  gsize done = 0;
  while (done < size) {
    ssize_t n = read(fd, buf + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int err = errno;
      g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_IO, "could not read '%s': %s", path,
                  n == 0 ? "file shrank while reading" : g_strerror(err));
      g_free(buf);
      close(fd);
      return NULL;
    }
    done += n;
  }
  close(fd);
  return g_bytes_new_take(buf, size);
}

static int
blob_cmp(gconstpointer a, gconstpointer b)
{
  const ArborLoaderBlob *x = *(ArborLoaderBlob *const *)a;
  const ArborLoaderBlob *y = *(ArborLoaderBlob *const *)b;

  return x->addr < y->addr ? -1 : x->addr > y->addr ? 1 : 0;
}

/* Every new blob inside RAM; no two blobs (old or new) overlapping. */
static gboolean
check_plan(ArborLoader *loader, ArborLoaderPlan *plan, GError **error)
{
  for (guint i = 0; i < plan->blobs->len; i++) {
    ArborLoaderBlob *blob = plan->blobs->pdata[i];
    guint64 size = blob_size(blob);
    if (!arbor_loader_range_in_ram(plan->below_4g, plan->above_4g, blob->addr, size)) {
      g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_OUT_OF_RAM,
                  "'%s': %s at 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x is outside RAM "
                  "(RAM: 0-0x9ffff, 0x100000-0x%" G_GINT64_MODIFIER "x%s)",
                  plan->path, blob->what, blob->addr, blob->addr + size - (size ? 1 : 0), plan->below_4g - 1,
                  plan->above_4g ? " and above 4 GiB" : "");
      return FALSE;
    }
  }

  g_autoptr(GPtrArray) all = g_ptr_array_new();
  for (guint i = 0; i < loader->blobs->len; i++)
    g_ptr_array_add(all, loader->blobs->pdata[i]);
  for (guint i = 0; i < plan->blobs->len; i++)
    g_ptr_array_add(all, plan->blobs->pdata[i]);
  g_ptr_array_sort(all, blob_cmp);

  /* Sorted by start: an overlap shows against the furthest-reaching earlier blob. */
  ArborLoaderBlob *reach = NULL;
  for (guint i = 0; i < all->len; i++) {
    ArborLoaderBlob *blob = all->pdata[i];
    if (blob_size(blob) == 0)
      continue;
    if (reach && blob->addr < reach->addr + blob_size(reach)) {
      g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_OVERLAP,
                  "'%s': %s (0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x) overlaps %s "
                  "(0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x)",
                  plan->path, blob->what, blob->addr, blob->addr + blob_size(blob) - 1, reach->what, reach->addr,
                  reach->addr + blob_size(reach) - 1);
      return FALSE;
    }
    if (!reach || blob->addr + blob_size(blob) > reach->addr + blob_size(reach))
      reach = blob;
  }
  return TRUE;
}

static gboolean
write_blob(ArborLoader *loader, const ArborLoaderBlob *blob, GError **error)
{
  ArborAddressSpace *as = arbor_machine_get_memory(loader->machine);
  static const guint8 zeroes[4096];
  gsize len = blob->bytes ? g_bytes_get_size(blob->bytes) : 0;

  if (len && arbor_address_space_write_rom(as, blob->addr, g_bytes_get_data(blob->bytes, NULL), len) != ARBOR_MEMTX_OK)
    goto fail;
  for (guint64 off = 0; off < blob->zero; off += sizeof(zeroes)) {
    gsize n = MIN(sizeof(zeroes), blob->zero - off);
    if (arbor_address_space_write_rom(as, blob->addr + len + off, zeroes, n) != ARBOR_MEMTX_OK)
      goto fail;
  }
  return TRUE;

fail:
  g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_OUT_OF_RAM,
              "writing %s at 0x%" G_GINT64_MODIFIER "x failed: no RAM there", blob->what, blob->addr);
  return FALSE;
}

static void
set_segment(ArborSegment *seg, guint16 selector, guint64 base, guint32 limit, guint8 type, gboolean big, gboolean gran, gboolean longmode)
{
  memset(seg, 0, sizeof(*seg));
  seg->selector = selector;
  seg->base = base;
  seg->limit = limit;
  seg->type = type;
  seg->present = 1;
  seg->s = 1;
  seg->db = big ? 1 : 0;
  seg->g = gran ? 1 : 0;
  seg->l = longmode ? 1 : 0;
}

void
arbor_loader_build_entry_state(const ArborLoaderEntry *entry, ArborRegs *regs, ArborSregs *sregs)
{
  memset(regs, 0, sizeof(*regs));
  regs->rflags = 0x2;
  regs->rax = entry->rax;
  regs->rbx = entry->rbx;
  regs->rsp = entry->rsp;
  regs->rip = entry->entry;

  ArborSegment data;
  switch (entry->mode) {
  case ARBOR_LOADER_MODE_REAL: {
    guint16 sel = (guint16)(entry->entry >> 4);
    set_segment(&sregs->cs, sel, (guint64)sel << 4, 0xffff, 0xb, FALSE, FALSE, FALSE);
    set_segment(&data, 0, 0, 0xffff, 0x3, FALSE, FALSE, FALSE);
    regs->rip = entry->entry & 0xf;
    sregs->cr0 = 0x10; /* ET */
    sregs->cr4 = 0;
    sregs->efer = 0;
    break;
  }
  case ARBOR_LOADER_MODE_PROTECTED:
    set_segment(&sregs->cs, 0x08, 0, 0xffffffff, 0xb, TRUE, TRUE, FALSE);
    set_segment(&data, 0x10, 0, 0xffffffff, 0x3, TRUE, TRUE, FALSE);
    sregs->gdt.base = ARBOR_LOADER_GDT_ADDR;
    sregs->gdt.limit = sizeof(loader_gdt) - 1;
    sregs->cr0 = 0x11; /* PE | ET, paging off */
    sregs->cr4 = 0;
    sregs->efer = 0;
    break;
  case ARBOR_LOADER_MODE_LONG:
    set_segment(&sregs->cs, 0x18, 0, 0xffffffff, 0xb, FALSE, TRUE, TRUE);
    set_segment(&data, 0x10, 0, 0xffffffff, 0x3, TRUE, TRUE, FALSE);
    sregs->gdt.base = ARBOR_LOADER_GDT_ADDR;
    sregs->gdt.limit = sizeof(loader_gdt) - 1;
    sregs->cr3 = ARBOR_LOADER_PAGE_TABLES;
    sregs->cr4 = 0x20;        /* PAE */
    sregs->cr0 = 0x80000011;  /* PG | ET | PE */
    sregs->efer = 0x500;      /* LME | LMA */
    break;
  }
  sregs->ds = data;
  sregs->es = data;
  sregs->fs = data;
  sregs->gs = data;
  sregs->ss = data;
}

static gboolean
apply_entry(ArborLoader *loader, GError **error)
{
  ArborVcpuManager *mgr = arbor_machine_get_vcpu_manager(loader->machine);
  ArborVcpu *vcpu = mgr && arbor_vcpu_manager_get_count(mgr) > 0 ? arbor_vcpu_manager_get_vcpu(mgr, 0) : NULL;
  g_autoptr(GError) local = NULL;
  ArborRegs regs;
  ArborSregs sregs;

  if (!vcpu) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_VCPU, "the machine has no vCPU to start the guest on");
    return FALSE;
  }
  /* Start from the vCPU's own state: TR, LDT and IDT keep their reset values. */
  if (!arbor_vcpu_get_sregs(vcpu, &sregs, &local))
    goto fail;
  arbor_loader_build_entry_state(&loader->entry, &regs, &sregs);
  if (!arbor_vcpu_set_sregs(vcpu, &sregs, &local) || !arbor_vcpu_set_regs(vcpu, &regs, &local))
    goto fail;
  return TRUE;

fail:
  g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_VCPU, "setting the entry state of vCPU 0: %s",
              local ? local->message : "unknown error");
  return FALSE;
}

gboolean
arbor_loader_restore(ArborLoader *loader, GError **error)
{
  g_return_val_if_fail(ARBOR_IS_LOADER(loader), FALSE);

  for (guint i = 0; i < loader->blobs->len; i++) {
    if (!write_blob(loader, loader->blobs->pdata[i], error))
      return FALSE;
  }
  if (loader->has_entry)
    return apply_entry(loader, error);
  return TRUE;
}

/* Checks @plan against what is loaded, writes it and takes its blobs. */
static gboolean
commit_plan(ArborLoader *loader, ArborLoaderPlan *plan, GError **error)
{
  if (!check_plan(loader, plan, error))
    return FALSE;
  for (guint i = 0; i < plan->blobs->len; i++) {
    ArborLoaderBlob *blob = plan->blobs->pdata[i];
    if (!write_blob(loader, blob, error))
      return FALSE;
    g_debug("loaded %s at 0x%" G_GINT64_MODIFIER "x (%" G_GUINT64_FORMAT " bytes)", blob->what, blob->addr,
            blob_size(blob));
  }
  if (plan->has_entry) {
    ArborLoaderEntry saved = loader->entry;
    gboolean had = loader->has_entry;
    loader->entry = plan->entry;
    loader->has_entry = TRUE;
    if (!apply_entry(loader, error)) {
      loader->entry = saved;
      loader->has_entry = had;
      return FALSE;
    }
    loader->format = plan->format;
  } else if (loader->format == ARBOR_LOADER_FORMAT_NONE) {
    loader->format = plan->format;
  }
  g_ptr_array_extend_and_steal(loader->blobs, g_steal_pointer(&plan->blobs));
  plan->blobs = g_ptr_array_new_with_free_func(blob_free);
  return TRUE;
}

gboolean
arbor_loader_load_kernel(ArborLoader *loader, const ArborLoaderOptions *opts, GError **error)
{
  g_return_val_if_fail(ARBOR_IS_LOADER(loader), FALSE);
  g_return_val_if_fail(opts != NULL && opts->kernel != NULL, FALSE);

  guint64 ram = arbor_machine_get_ram_size(loader->machine);
  g_autoptr(GBytes) image = arbor_loader_read_file(opts->kernel, ram, error);
  if (!image)
    return FALSE;

  ArborLoaderPlan plan;
  arbor_loader_plan_init(&plan, ram, opts->kernel);
  g_autoptr(GError) local = NULL;
  gboolean ok = arbor_loader_plan_multiboot(&plan, image, opts, &local);
  if (!ok && !local) {
    if (opts->initrd && *opts->initrd) {
      /* Modules only mean something to Multiboot kernels. */
      g_set_error(&local, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID,
                  "'%s': -initrd needs a Multiboot kernel", opts->kernel);
    } else {
      ok = arbor_loader_plan_elf64(&plan, image, &local);
    }
  }
  if (ok)
    ok = commit_plan(loader, &plan, &local);
  arbor_loader_plan_clear(&plan);
  if (!ok) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  g_info("loaded '%s' (%s), entry 0x%" G_GINT64_MODIFIER "x", opts->kernel, arbor_loader_format_name(loader->format),
         loader->entry.entry);
  return TRUE;
}

gboolean
arbor_loader_load_flat(ArborLoader *loader, const char *path, guint64 addr, gboolean set_entry, ArborLoaderMode mode, GError **error)
{
  g_return_val_if_fail(ARBOR_IS_LOADER(loader), FALSE);
  g_return_val_if_fail(path != NULL, FALSE);

  guint64 ram = arbor_machine_get_ram_size(loader->machine);
  g_autoptr(GBytes) image = arbor_loader_read_file(path, ram, error);
  if (!image)
    return FALSE;

  if (set_entry && mode == ARBOR_LOADER_MODE_REAL && addr >= 0x100000) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID,
                "'%s': a real-mode entry needs an address below 1 MiB, not 0x%" G_GINT64_MODIFIER "x", path, addr);
    return FALSE;
  }
  if (set_entry && addr >= FOUR_GIB) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID,
                "'%s': entry 0x%" G_GINT64_MODIFIER "x is beyond 4 GiB", path, addr);
    return FALSE;
  }

  ArborLoaderPlan plan;
  arbor_loader_plan_init(&plan, ram, path);
  plan.format = ARBOR_LOADER_FORMAT_FLAT;
  arbor_loader_plan_add(&plan, addr, g_bytes_ref(image), 0, g_strdup_printf("the contents of '%s'", path));
  if (set_entry) {
    plan.has_entry = TRUE;
    plan.entry.mode = mode;
    plan.entry.entry = addr;
    if (mode == ARBOR_LOADER_MODE_LONG)
      plan.entry.rsp = ARBOR_LOADER_STACK_TOP;
    /* The GDT/page tables may already be there from an earlier load. */
    gboolean have_gdt = FALSE, have_pt = FALSE;
    for (guint i = 0; i < loader->blobs->len; i++) {
      ArborLoaderBlob *blob = loader->blobs->pdata[i];
      have_gdt |= blob->addr == ARBOR_LOADER_GDT_ADDR && blob->bytes;
      have_pt |= blob->addr == ARBOR_LOADER_PAGE_TABLES && blob->bytes;
    }
    if (mode == ARBOR_LOADER_MODE_LONG && !have_pt && have_gdt) {
      g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_OVERLAP,
                  "'%s': a long-mode entry cannot be combined with an earlier 32-bit kernel", path);
      arbor_loader_plan_clear(&plan);
      return FALSE;
    }
    if (!(mode == ARBOR_LOADER_MODE_LONG ? have_pt : have_gdt))
      arbor_loader_plan_add_mode_structures(&plan, mode);
  }
  gboolean ok = commit_plan(loader, &plan, error);
  arbor_loader_plan_clear(&plan);
  return ok;
}

ArborLoaderFormat
arbor_loader_get_format(ArborLoader *loader)
{
  g_return_val_if_fail(ARBOR_IS_LOADER(loader), ARBOR_LOADER_FORMAT_NONE);
  return loader->format;
}

guint64
arbor_loader_get_entry(ArborLoader *loader)
{
  g_return_val_if_fail(ARBOR_IS_LOADER(loader), 0);
  return loader->has_entry ? loader->entry.entry : 0;
}

const char *
arbor_loader_format_name(ArborLoaderFormat format)
{
  switch (format) {
  case ARBOR_LOADER_FORMAT_NONE: return "none";
  case ARBOR_LOADER_FORMAT_MULTIBOOT_ELF: return "multiboot-elf";
  case ARBOR_LOADER_FORMAT_MULTIBOOT_AOUT: return "multiboot-aout";
  case ARBOR_LOADER_FORMAT_ELF64: return "elf64";
  case ARBOR_LOADER_FORMAT_FLAT: return "flat";
  }
  return "unknown";
}

static void
on_machine_reset(ArborMachine *machine, gpointer user_data)
{
  ArborLoader *loader = user_data;
  g_autoptr(GError) error = NULL;

  if (!arbor_loader_restore(loader, &error))
    g_warning("reset: reloading the guest failed: %s", error->message);
}

ArborLoader *
arbor_loader_new(ArborMachine *machine)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(machine), NULL);

  ArborLoader *loader = g_object_new(ARBOR_TYPE_LOADER, NULL);
  loader->machine = g_object_ref(machine);
  loader->reset_handler = g_signal_connect(machine, "reset", G_CALLBACK(on_machine_reset), loader);
  return loader;
}

static void
arbor_loader_dispose(GObject *object)
{
  ArborLoader *loader = ARBOR_LOADER(object);

  if (loader->machine && loader->reset_handler)
    g_clear_signal_handler(&loader->reset_handler, loader->machine);
  g_clear_object(&loader->machine);
  G_OBJECT_CLASS(arbor_loader_parent_class)->dispose(object);
}

static void
arbor_loader_finalize(GObject *object)
{
  ArborLoader *loader = ARBOR_LOADER(object);

  g_ptr_array_unref(loader->blobs);
  G_OBJECT_CLASS(arbor_loader_parent_class)->finalize(object);
}

static void
arbor_loader_class_init(ArborLoaderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->dispose = arbor_loader_dispose;
  object_class->finalize = arbor_loader_finalize;
}

static void
arbor_loader_init(ArborLoader *loader)
{
  loader->blobs = g_ptr_array_new_with_free_func(blob_free);
}
