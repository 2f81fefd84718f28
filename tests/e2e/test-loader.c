/* Loaders, in process: a machine with the qtest accelerator (it stores the
 * vCPU registers), images built here byte by byte, RAM read back. */
#include "arbor-config.h"

#include "e2e-util.h"

#include <arbor/arbor.h>
#include <glib/gstdio.h>
#include <string.h>

#define MiB (1024ULL * 1024)

typedef struct {
  ArborMachine *machine;
  ArborAccel *accel;
  ArborLoader *loader;
  char *dir;
} Fixture;

static void
fixture_setup_size(Fixture *f, guint64 ram)
{
  g_autoptr(GError) error = NULL;

  f->machine = arbor_machine_new(ram, 1, NULL, &error);
  g_assert_no_error(error);
  f->accel = arbor_accel_new("qtest", &error);
  g_assert_no_error(error);
  g_assert_true(arbor_machine_set_accel(f->machine, f->accel, &error));
  g_assert_no_error(error);
  f->loader = arbor_loader_new(f->machine);
  f->dir = e2e_tmpdir();
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  fixture_setup_size(f, 64 * MiB);
}

static void
fixture_setup_small(Fixture *f, gconstpointer data)
{
  fixture_setup_size(f, 2 * MiB);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  g_clear_object(&f->loader);
  arbor_machine_shutdown(f->machine);
  g_clear_object(&f->machine);
  g_clear_object(&f->accel);
  e2e_tmpdir_remove(f->dir);
  g_free(f->dir);
}

static char *
write_file(Fixture *f, const char *name, const void *data, gsize len)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename(f->dir, name, NULL);

  g_file_set_contents(path, data, len, &error);
  g_assert_no_error(error);
  return path;
}

static guint32
ram32(Fixture *f, guint64 addr)
{
  guint8 b[4];

  g_assert_cmpint(arbor_address_space_read(arbor_machine_get_memory(f->machine), addr, b, 4), ==, ARBOR_MEMTX_OK);
  return b[0] | (b[1] << 8) | (b[2] << 16) | ((guint32)b[3] << 24);
}

static guint64
ram64(Fixture *f, guint64 addr)
{
  return ram32(f, addr) | ((guint64)ram32(f, addr + 4) << 32);
}

static char *
ram_string(Fixture *f, guint64 addr)
{
  GString *s = g_string_new(NULL);

  for (guint i = 0; i < 4096; i++) {
    guint8 c;
    g_assert_cmpint(arbor_address_space_read(arbor_machine_get_memory(f->machine), addr + i, &c, 1), ==, ARBOR_MEMTX_OK);
    if (!c)
      break;
    g_string_append_c(s, c);
  }
  return g_string_free(s, FALSE);
}

static void
fill_ram(Fixture *f, guint64 addr, guint8 value, gsize len)
{
  g_autofree guint8 *buf = g_malloc(len);

  memset(buf, value, len);
  g_assert_cmpint(arbor_address_space_write(arbor_machine_get_memory(f->machine), addr, buf, len), ==, ARBOR_MEMTX_OK);
}

static void
get_state(Fixture *f, ArborRegs *regs, ArborSregs *sregs)
{
  g_autoptr(GError) error = NULL;
  ArborVcpu *vcpu = arbor_vcpu_manager_get_vcpu(arbor_machine_get_vcpu_manager(f->machine), 0);

  g_assert_true(arbor_vcpu_get_regs(vcpu, regs, &error));
  g_assert_true(arbor_vcpu_get_sregs(vcpu, sregs, &error));
  g_assert_no_error(error);
}

/* ---- image builders ---- */

static void
put32(GByteArray *a, gsize off, guint32 v)
{
  if (a->len < off + 4)
    g_byte_array_set_size(a, off + 4);
  for (guint i = 0; i < 4; i++)
    a->data[off + i] = (v >> (8 * i)) & 0xff;
}

static void
put16(GByteArray *a, gsize off, guint16 v)
{
  if (a->len < off + 2)
    g_byte_array_set_size(a, off + 2);
  a->data[off] = v & 0xff;
  a->data[off + 1] = v >> 8;
}

static void
put64(GByteArray *a, gsize off, guint64 v)
{
  put32(a, off, (guint32)v);
  put32(a, off + 4, (guint32)(v >> 32));
}

/* A Multiboot header with the a.out kludge at file offset 0: the whole
 * file is loaded at @load_addr. */
static GByteArray *
build_aout(guint32 load_addr, guint32 load_end, guint32 bss_end, guint32 entry, gsize size)
{
  GByteArray *a = g_byte_array_new();
  guint32 flags = 0x00010003;

  g_byte_array_set_size(a, size);
  for (gsize i = 0; i < size; i++)
    a->data[i] = (guint8)(0x40 + i % 26);
  put32(a, 0, 0x1BADB002);
  put32(a, 4, flags);
  put32(a, 8, (guint32)-(0x1BADB002u + flags));
  put32(a, 12, load_addr); /* header_addr */
  put32(a, 16, load_addr);
  put32(a, 20, load_end);
  put32(a, 24, bss_end);
  put32(a, 28, entry);
  return a;
}

typedef struct {
  guint64 paddr;
  gsize filesz;
  guint64 memsz;
  guint8 fill;
} Seg;

/* ELF32 (EM_386) or ELF64 (EM_X86_64) executable; segment data from file
 * offset 0x200, filled with @fill; an optional Multiboot header (no
 * kludge) at the start of the first segment's data. */
static GByteArray *
build_elf(gboolean is64, const Seg *segs, guint nsegs, guint64 entry, gboolean multiboot)
{
  GByteArray *a = g_byte_array_new();
  gsize ehsize = is64 ? 64 : 52, phsize = is64 ? 56 : 32;
  gsize data = 0x200;

  g_byte_array_set_size(a, data);
  memset(a->data, 0, data);
  a->data[0] = 0x7f;
  a->data[1] = 'E';
  a->data[2] = 'L';
  a->data[3] = 'F';
  a->data[4] = is64 ? 2 : 1;
  a->data[5] = 1;
  a->data[6] = 1;
  put16(a, 16, 2);
  put16(a, 18, is64 ? 62 : 3);
  put32(a, 20, 1);
  if (is64) {
    put64(a, 24, entry);
    put64(a, 32, ehsize);
    put16(a, 52, ehsize);
    put16(a, 54, phsize);
    put16(a, 56, nsegs);
  } else {
    put32(a, 24, (guint32)entry);
    put32(a, 28, ehsize);
    put16(a, 40, ehsize);
    put16(a, 42, phsize);
    put16(a, 44, nsegs);
  }
  for (guint i = 0; i < nsegs; i++) {
    gsize ph = ehsize + i * phsize;
    gsize off = a->len;
    g_byte_array_set_size(a, off + segs[i].filesz);
    memset(a->data + off, segs[i].fill, segs[i].filesz);
    if (is64) {
      put32(a, ph, 1);
      put32(a, ph + 4, 7);
      put64(a, ph + 8, off);
      put64(a, ph + 16, segs[i].paddr);
      put64(a, ph + 24, segs[i].paddr);
      put64(a, ph + 32, segs[i].filesz);
      put64(a, ph + 40, segs[i].memsz);
    } else {
      put32(a, ph, 1);
      put32(a, ph + 4, (guint32)off);
      put32(a, ph + 8, (guint32)segs[i].paddr);
      put32(a, ph + 12, (guint32)segs[i].paddr);
      put32(a, ph + 16, (guint32)segs[i].filesz);
      put32(a, ph + 20, (guint32)segs[i].memsz);
      put32(a, ph + 24, 7);
    }
  }
  if (multiboot) {
    put32(a, data, 0x1BADB002);
    put32(a, data + 4, 0x3);
    put32(a, data + 8, (guint32)-(0x1BADB002u + 3));
  }
  return a;
}

static gboolean
load(Fixture *f, const char *name, GByteArray *image, const char *append, const char *initrd, GError **error)
{
  g_autofree char *path = write_file(f, name, image->data, image->len);
  ArborLoaderOptions opts = { .kernel = path, .append = append, .initrd = initrd };

  g_byte_array_unref(image);
  return arbor_loader_load_kernel(f->loader, &opts, error);
}

/* ---- good images ---- */

static void
test_aout(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) copy = build_aout(0x100000, 0x100000 + 0x300, 0x100000 + 0x2000, 0x100020, 0x400);
  ArborRegs regs;
  ArborSregs sregs;

  fill_ram(f, 0x100000, 0xff, 0x3000);
  g_assert_true(load(f, "k.aout", g_byte_array_ref(copy), "console=ttyS0 quiet", NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpint(arbor_loader_get_format(f->loader), ==, ARBOR_LOADER_FORMAT_MULTIBOOT_AOUT);
  g_assert_cmpuint(arbor_loader_get_entry(f->loader), ==, 0x100020);

  /* Only up to load_end comes from the file; then bss zeroed up to bss_end. */
  g_assert_cmphex(ram32(f, 0x100000), ==, 0x1BADB002);
  g_assert_cmphex(ram32(f, 0x100100), ==, *(guint32 *)(copy->data + 0x100));
  g_assert_cmphex(ram32(f, 0x100300), ==, 0);
  g_assert_cmphex(ram32(f, 0x101ffc), ==, 0);
  g_assert_cmphex(ram32(f, 0x102000), !=, 0); /* the module list page: command lines */

  get_state(f, &regs, &sregs);
  g_assert_cmphex(regs.rax, ==, 0x2BADB002);
  g_assert_cmphex(regs.rbx, ==, ARBOR_LOADER_MB_INFO_ADDR);
  g_assert_cmphex(regs.rip, ==, 0x100020);
  g_assert_cmphex(regs.rflags, ==, 0x2);
  g_assert_cmphex(sregs.cs.selector, ==, 0x08);
  g_assert_cmphex(sregs.cs.limit, ==, 0xffffffff);
  g_assert_cmpuint(sregs.cs.db, ==, 1);
  g_assert_cmpuint(sregs.cs.l, ==, 0);
  g_assert_cmphex(sregs.ds.selector, ==, 0x10);
  g_assert_cmphex(sregs.ss.base, ==, 0);
  g_assert_cmphex(sregs.cr0 & 0x80000001, ==, 0x1); /* PE, no PG */
  g_assert_cmphex(sregs.efer, ==, 0);
  g_assert_cmphex(sregs.gdt.base, ==, ARBOR_LOADER_GDT_ADDR);
  g_assert_cmphex(ram64(f, ARBOR_LOADER_GDT_ADDR + 8), ==, 0x00cf9b000000ffffULL);

  /* The info structure, QEMU's layout. */
  guint64 mbi = ARBOR_LOADER_MB_INFO_ADDR;
  g_assert_cmphex(ram32(f, mbi), ==, 0x24f);
  g_assert_cmpuint(ram32(f, mbi + 4), ==, 639);
  g_assert_cmpuint(ram32(f, mbi + 8), ==, 64 * 1024 - 1024);
  g_assert_cmphex(ram32(f, mbi + 12), ==, 0x8000ffff);
  g_autofree char *cmdline = ram_string(f, ram32(f, mbi + 16));
  g_autofree char *expected = g_strdup_printf("%s/k.aout console=ttyS0 quiet", f->dir);
  g_assert_cmpstr(cmdline, ==, expected);
  g_assert_cmpuint(ram32(f, mbi + 20), ==, 0);
  g_autofree char *name = ram_string(f, ram32(f, mbi + 64));
  g_assert_cmpstr(name, ==, "arbor");
  /* The info area starts on the page after the image. */
  g_assert_cmphex(ram32(f, mbi + 24), ==, 0x102000);
}

static void
test_mmap(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true(load(f, "k", build_aout(0x100000, 0, 0, 0x100000, 0x200), NULL, NULL, &error));
  g_assert_no_error(error);

  guint64 mbi = ARBOR_LOADER_MB_INFO_ADDR;
  guint32 len = ram32(f, mbi + 44), addr = ram32(f, mbi + 48);
  g_assert_cmphex(addr, ==, ARBOR_LOADER_MB_MMAP_ADDR);
  g_assert_cmpuint(len % 24, ==, 0);
  g_assert_cmpuint(len / 24, ==, 5);

  struct {
    guint64 base, len;
    guint32 type;
  } want[] = {
    { 0, 0x9fc00, 1 },
    { 0x9fc00, 0x400, 2 },
    { 0xf0000, 0x10000, 2 },
    { 0x100000, 63 * MiB, 1 },
    { 0xfffc0000, 0x40000, 2 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
    guint64 e = addr + 24 * i;
    g_assert_cmpuint(ram32(f, e), ==, 20);
    g_assert_cmphex(ram64(f, e + 4), ==, want[i].base);
    g_assert_cmphex(ram64(f, e + 12), ==, want[i].len);
    g_assert_cmpuint(ram32(f, e + 20), ==, want[i].type);
  }
  /* Without -append the command line is the path and a space, as QEMU. */
  g_autofree char *cmdline = ram_string(f, ram32(f, mbi + 16));
  g_autofree char *expected = g_strdup_printf("%s/k ", f->dir);
  g_assert_cmpstr(cmdline, ==, expected);
}

static void
test_modules(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *m1 = write_file(f, "mod1", "first module", 12);
  g_autofree char *m2 = write_file(f, "mod2", "second", 6);
  g_autofree char *initrd = g_strdup_printf("%s arg1 arg2,%s x,,y", m1, m2);

  g_assert_true(load(f, "k", build_aout(0x100000, 0, 0x101800, 0x100000, 0x200), "a", initrd, &error));
  g_assert_no_error(error);

  guint64 mbi = ARBOR_LOADER_MB_INFO_ADDR;
  g_assert_cmpuint(ram32(f, mbi + 20), ==, 2);
  guint32 mods = ram32(f, mbi + 24);
  g_assert_cmphex(mods, ==, 0x102000);

  g_autofree char *s1 = g_strdup_printf("%s arg1 arg2", m1);
  g_autofree char *s2 = g_strdup_printf("%s x,y", m2);
  const char *strings[] = { s1, s2 };
  const char *contents[] = { "first module", "second" };
  guint32 prev_end = 0;
  for (guint i = 0; i < 2; i++) {
    guint32 start = ram32(f, mods + 16 * i), end = ram32(f, mods + 16 * i + 4);
    g_assert_cmphex(start & 0xfff, ==, 0);
    g_assert_cmpuint(start, >, prev_end);
    g_assert_cmpuint(end - start, ==, strlen(contents[i]));
    g_autofree char *content = ram_string(f, start);
    g_assert_true(g_str_has_prefix(content, contents[i]));
    g_autofree char *string = ram_string(f, ram32(f, mods + 16 * i + 8));
    g_assert_cmpstr(string, ==, strings[i]);
    prev_end = end;
  }
}

static void
test_elf32(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  Seg segs[] = {
    { 0x100000, 0x300, 0x300, 0x11 },
    { 0x104000, 0x100, 0x1000, 0x22 },
  };
  ArborRegs regs;
  ArborSregs sregs;

  fill_ram(f, 0x104000, 0xee, 0x1000);
  g_assert_true(load(f, "k.elf", build_elf(FALSE, segs, 2, 0x100010, TRUE), NULL, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpint(arbor_loader_get_format(f->loader), ==, ARBOR_LOADER_FORMAT_MULTIBOOT_ELF);
  g_assert_cmphex(ram32(f, 0x100000), ==, 0x1BADB002);
  g_assert_cmphex(ram32(f, 0x100100), ==, 0x11111111);
  g_assert_cmphex(ram32(f, 0x104000), ==, 0x22222222);
  g_assert_cmphex(ram32(f, 0x1040fc), ==, 0x22222222);
  g_assert_cmphex(ram32(f, 0x104100), ==, 0); /* bss */
  g_assert_cmphex(ram32(f, 0x104ffc), ==, 0);
  /* Info after the highest segment, page aligned. */
  g_assert_cmphex(ram32(f, ARBOR_LOADER_MB_INFO_ADDR + 24), ==, 0x105000);
  get_state(f, &regs, &sregs);
  g_assert_cmphex(regs.rip, ==, 0x100010);
  g_assert_cmphex(regs.rax, ==, 0x2BADB002);
}

static void
test_elf64(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  Seg segs[] = { { 0x200000, 0x100, 0x2000, 0x33 } };
  ArborRegs regs;
  ArborSregs sregs;

  g_assert_true(load(f, "k64", build_elf(TRUE, segs, 1, 0x200040, FALSE), NULL, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpint(arbor_loader_get_format(f->loader), ==, ARBOR_LOADER_FORMAT_ELF64);
  g_assert_cmphex(ram32(f, 0x200000), ==, 0x33333333);
  g_assert_cmphex(ram32(f, 0x200100), ==, 0);

  get_state(f, &regs, &sregs);
  g_assert_cmphex(regs.rip, ==, 0x200040);
  g_assert_cmphex(regs.rsp, ==, ARBOR_LOADER_STACK_TOP);
  g_assert_cmphex(sregs.cs.selector, ==, 0x18);
  g_assert_cmpuint(sregs.cs.l, ==, 1);
  g_assert_cmpuint(sregs.cs.db, ==, 0);
  g_assert_cmphex(sregs.cr3, ==, ARBOR_LOADER_PAGE_TABLES);
  g_assert_cmphex(sregs.cr4 & 0x20, ==, 0x20);
  g_assert_cmphex(sregs.cr0 & 0x80000001, ==, 0x80000001);
  g_assert_cmphex(sregs.efer & 0x500, ==, 0x500);
  /* Identity map of 4 GiB with 2 MiB pages. */
  g_assert_cmphex(ram64(f, 0x1000), ==, 0x2003);
  g_assert_cmphex(ram64(f, 0x2000 + 8 * 3), ==, 0x6003);
  g_assert_cmphex(ram64(f, 0x3000 + 8), ==, 0x200083);
  g_assert_cmphex(ram64(f, 0x6000 + 8 * 511), ==, 0xffe00083);
}

static void
test_flat(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = write_file(f, "flat.bin", "\x90\x90\xf4", 3);
  ArborRegs regs;
  ArborSregs sregs;

  g_assert_true(arbor_loader_load_flat(f->loader, path, 0x7c00, TRUE, ARBOR_LOADER_MODE_REAL, &error));
  g_assert_no_error(error);
  g_assert_cmphex(ram32(f, 0x7c00) & 0xffffff, ==, 0xf49090);
  get_state(f, &regs, &sregs);
  g_assert_cmphex(sregs.cs.selector, ==, 0x7c0);
  g_assert_cmphex(sregs.cs.base, ==, 0x7c00);
  g_assert_cmphex(regs.rip, ==, 0);
  g_assert_cmphex(sregs.cr0 & 1, ==, 0);

  /* A second file without an entry leaves the entry alone. */
  g_assert_true(arbor_loader_load_flat(f->loader, path, 0x300000, FALSE, ARBOR_LOADER_MODE_PROTECTED, &error));
  g_assert_no_error(error);
  g_assert_cmphex(arbor_loader_get_entry(f->loader), ==, 0x7c00);

  /* Real-mode entry above 1 MiB is refused. */
  g_assert_false(arbor_loader_load_flat(f->loader, path, 0x200000, TRUE, ARBOR_LOADER_MODE_REAL, &error));
  g_assert_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID);
  g_clear_error(&error);

  /* Loading over what is already loaded is refused. */
  g_assert_false(arbor_loader_load_flat(f->loader, path, 0x300001, FALSE, ARBOR_LOADER_MODE_PROTECTED, &error));
  g_assert_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_OVERLAP);
}

static void
test_flat_modes(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = write_file(f, "flat.bin", "\xf4", 1);
  ArborRegs regs;
  ArborSregs sregs;

  g_assert_true(arbor_loader_load_flat(f->loader, path, 0x100000, TRUE, ARBOR_LOADER_MODE_LONG, &error));
  g_assert_no_error(error);
  get_state(f, &regs, &sregs);
  g_assert_cmphex(regs.rip, ==, 0x100000);
  g_assert_cmpuint(sregs.cs.l, ==, 1);
  g_assert_cmphex(sregs.efer & 0x500, ==, 0x500);
  g_assert_cmpint(arbor_loader_get_format(f->loader), ==, ARBOR_LOADER_FORMAT_FLAT);
}

/* The real guests built in tests/guests/e2e. */
static void
test_built_guests(Fixture *f, gconstpointer data)
{
  const struct {
    const char *file;
    ArborLoaderFormat format;
  } guests[] = {
    { "hello.elf", ARBOR_LOADER_FORMAT_MULTIBOOT_ELF },
    { "hello-aout.elf", ARBOR_LOADER_FORMAT_MULTIBOOT_AOUT },
    { "long64.elf", ARBOR_LOADER_FORMAT_ELF64 },
  };

  if (!g_getenv("ARBOR_E2E_GUEST_DIR")) {
    g_test_fail_printf("ARBOR_E2E_GUEST_DIR is not set: run this test through meson test");
    return;
  }
  for (guint i = 0; i < G_N_ELEMENTS(guests); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *path = e2e_guest_path(guests[i].file);
    g_autoptr(ArborLoader) loader = arbor_loader_new(f->machine);
    ArborLoaderOptions opts = { .kernel = path };
    ArborRegs regs;
    ArborSregs sregs;

    g_assert_true(arbor_loader_load_kernel(loader, &opts, &error));
    g_assert_no_error(error);
    g_assert_cmpint(arbor_loader_get_format(loader), ==, guests[i].format);
    get_state(f, &regs, &sregs);
    g_assert_cmphex(regs.rip, ==, arbor_loader_get_entry(loader));
    g_assert_cmphex(regs.rip, >=, 0x100000);
    /* The code at the entry point is what the file holds there. */
    g_assert_cmphex(ram32(f, regs.rip), !=, 0);
  }
}

/* system_reset: the image and the entry state come back. */
static void
test_reset_restores(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ArborVcpu *vcpu = arbor_vcpu_manager_get_vcpu(arbor_machine_get_vcpu_manager(f->machine), 0);
  ArborRegs regs;
  ArborSregs sregs;

  g_assert_true(load(f, "k", build_aout(0x100000, 0, 0, 0x100004, 0x200), "x", NULL, &error));
  g_assert_no_error(error);
  fill_ram(f, 0x100000, 0, 16);
  fill_ram(f, ARBOR_LOADER_MB_INFO_ADDR, 0, 16);
  memset(&regs, 0, sizeof(regs));
  g_assert_true(arbor_vcpu_set_regs(vcpu, &regs, &error));

  g_assert_true(arbor_machine_reset(f->machine, &error));
  g_assert_no_error(error);
  g_assert_cmphex(ram32(f, 0x100000), ==, 0x1BADB002);
  g_assert_cmphex(ram32(f, ARBOR_LOADER_MB_INFO_ADDR), ==, 0x24f);
  get_state(f, &regs, &sregs);
  g_assert_cmphex(regs.rip, ==, 0x100004);
  g_assert_cmphex(regs.rax, ==, 0x2BADB002);
  g_assert_cmphex(sregs.cs.selector, ==, 0x08);
}

/* ---- bad images: each refused with its error code, RAM untouched ---- */

typedef struct {
  const char *name;
  ArborLoaderError code;
  const char *message_part;
} BadCase;

static void
expect_refused(Fixture *f, GByteArray *image, const char *initrd, ArborLoaderError code, const char *part)
{
  g_autoptr(GError) error = NULL;

  fill_ram(f, 0x100000, 0xa5, 16);
  g_assert_false(load(f, "bad", image, NULL, initrd, &error));
  g_assert_error(error, ARBOR_LOADER_ERROR, (gint)code);
  if (g_test_verbose())
    g_printerr("refused: %s\n", error->message);
  g_assert_nonnull(strstr(error->message, "bad"));
  if (part)
    g_assert_nonnull(strstr(error->message, part));
  g_assert_cmphex(ram32(f, 0x100000), ==, 0xa5a5a5a5);
  g_assert_cmpint(arbor_loader_get_format(f->loader), ==, ARBOR_LOADER_FORMAT_NONE);
}

static void
test_bad_files(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename(f->dir, "missing", NULL);
  ArborLoaderOptions opts = { .kernel = missing };

  g_assert_false(arbor_loader_load_kernel(f->loader, &opts, &error));
  g_assert_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_IO);
  g_assert_nonnull(strstr(error->message, missing));
  g_clear_error(&error);

  opts.kernel = f->dir; /* a directory */
  g_assert_false(arbor_loader_load_kernel(f->loader, &opts, &error));
  g_assert_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_IO);
  g_clear_error(&error);

  GByteArray *empty = g_byte_array_new();
  expect_refused(f, empty, NULL, ARBOR_LOADER_ERROR_TRUNCATED, "empty");

  GByteArray *text = g_byte_array_new();
  g_byte_array_append(text, (const guint8 *)"#!/bin/sh\necho not a kernel\n", 28);
  expect_refused(f, text, NULL, ARBOR_LOADER_ERROR_NOT_A_KERNEL, "not a kernel");

  GByteArray *tiny = g_byte_array_new();
  g_byte_array_append(tiny, (const guint8 *)"\x7f" "EL", 3);
  expect_refused(f, tiny, NULL, ARBOR_LOADER_ERROR_TRUNCATED, NULL);
}

static void
test_bad_multiboot(Fixture *f, gconstpointer data)
{
  GByteArray *a;

  a = build_aout(0x100000, 0, 0, 0x100000, 0x200);
  put32(a, 8, 0x12345678);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_BAD_CHECKSUM, "checksum");

  /* header_addr below load_addr */
  a = build_aout(0x100000, 0, 0, 0x100000, 0x200);
  put32(a, 12, 0xff000);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_INVALID, "header_addr");

  /* header_addr - load_addr beyond the header's offset: before the file */
  a = build_aout(0x100000, 0, 0, 0x100000, 0x200);
  put32(a, 12, 0x100100);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_INVALID, NULL);

  a = build_aout(0x100000, 0xff000, 0, 0x100000, 0x200);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_INVALID, "load_end_addr");

  a = build_aout(0x100000, 0x100100, 0x100080, 0x100000, 0x200);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_INVALID, "bss_end_addr");

  /* load_end past the end of the file */
  a = build_aout(0x100000, 0x110000, 0, 0x100000, 0x200);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_TRUNCATED, "truncated");

  /* header cut short */
  a = build_aout(0x100000, 0, 0, 0x100000, 0x200);
  g_byte_array_set_size(a, 20);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_TRUNCATED, NULL);

  /* outside RAM (64 MiB), in the VGA hole, wrapping the 32-bit space */
  expect_refused(f, build_aout(0x8000000, 0, 0, 0x8000000, 0x200), NULL, ARBOR_LOADER_ERROR_OUT_OF_RAM, "outside RAM");
  expect_refused(f, build_aout(0xa0000, 0, 0, 0xa0000, 0x200), NULL, ARBOR_LOADER_ERROR_OUT_OF_RAM, NULL);
  expect_refused(f, build_aout(0x100000, 0, 0xffffffff, 0x100000, 0x200), NULL, ARBOR_LOADER_ERROR_OUT_OF_RAM, NULL);

  /* over the Multiboot info and memory map at 0x9000 */
  expect_refused(f, build_aout(0x9000, 0, 0, 0x9000, 0x200), NULL, ARBOR_LOADER_ERROR_OVERLAP, "Multiboot");
  /* over the GDT at 0x500 */
  expect_refused(f, build_aout(0x400, 0, 0, 0x400, 0x200), NULL, ARBOR_LOADER_ERROR_OVERLAP, "GDT");

  /* a missing module, and modules for an ELF64 kernel */
  expect_refused(f, build_aout(0x100000, 0, 0, 0x100000, 0x200), "/nonexistent/module arg", ARBOR_LOADER_ERROR_IO,
                 "/nonexistent/module");
  expect_refused(f, build_aout(0x100000, 0, 0, 0x100000, 0x200), ",x", ARBOR_LOADER_ERROR_INVALID, "empty module");
  Seg seg64[] = { { 0x200000, 0x10, 0x10, 1 } };
  expect_refused(f, build_elf(TRUE, seg64, 1, 0x200000, FALSE), "/etc/hostname", ARBOR_LOADER_ERROR_INVALID, "Multiboot");
}

static void
test_bad_modules_ram(Fixture *f, gconstpointer data)
{
  /* 2 MiB of RAM: a 1.5 MiB module after the kernel does not fit. */
  g_autofree guint8 *big = g_malloc0(1536 * 1024);
  g_autofree char *mod = write_file(f, "big.mod", big, 1536 * 1024);

  expect_refused(f, build_aout(0x100000, 0, 0, 0x100000, 0x200), mod, ARBOR_LOADER_ERROR_OUT_OF_RAM, "outside RAM");
}

static void
test_bad_elf(Fixture *f, gconstpointer data)
{
  Seg one[] = { { 0x200000, 0x100, 0x100, 1 } };
  GByteArray *a;

  /* ELF32 without Multiboot header; ELF64 with one (no kludge) */
  expect_refused(f, build_elf(FALSE, one, 1, 0x200000, FALSE), NULL, ARBOR_LOADER_ERROR_NOT_A_KERNEL, "ELF32");
  expect_refused(f, build_elf(TRUE, one, 1, 0x200000, TRUE), NULL, ARBOR_LOADER_ERROR_NOT_A_KERNEL, "32-bit");

  /* program headers past the end */
  a = build_elf(TRUE, one, 1, 0x200000, FALSE);
  put64(a, 32, 0x10000);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_TRUNCATED, "program headers");

  /* e_phnum huge */
  a = build_elf(TRUE, one, 1, 0x200000, FALSE);
  put16(a, 56, 0xffff);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_TRUNCATED, NULL);

  /* wrong phentsize, wrong machine, not executable, no segments */
  a = build_elf(TRUE, one, 1, 0x200000, FALSE);
  put16(a, 54, 40);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_INVALID, NULL);
  a = build_elf(TRUE, one, 1, 0x200000, FALSE);
  put16(a, 18, 183);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_NOT_A_KERNEL, "machine");
  a = build_elf(TRUE, one, 1, 0x200000, FALSE);
  put16(a, 16, 3);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_INVALID, "ET_EXEC");
  a = build_elf(TRUE, one, 1, 0x200000, FALSE);
  put16(a, 56, 0);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_INVALID, NULL);

  /* segment data past the end of the file; offset + filesz overflowing */
  a = build_elf(TRUE, one, 1, 0x200000, FALSE);
  put64(a, 64 + 32, 0x100000);
  put64(a, 64 + 40, 0x100000);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_TRUNCATED, "segment 0");
  a = build_elf(TRUE, one, 1, 0x200000, FALSE);
  put64(a, 64 + 8, G_MAXUINT64 - 8);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_TRUNCATED, NULL);

  /* filesz > memsz */
  a = build_elf(TRUE, one, 1, 0x200000, FALSE);
  put64(a, 64 + 40, 0x10);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_INVALID, "larger than its memory size");

  /* paddr + memsz wrapping; outside RAM; entry beyond 4 GiB */
  a = build_elf(TRUE, one, 1, 0x200000, FALSE);
  put64(a, 64 + 24, G_MAXUINT64 - 0x10);
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_OUT_OF_RAM, NULL);
  Seg far[] = { { 0x10000000, 0x100, 0x100, 1 } };
  expect_refused(f, build_elf(TRUE, far, 1, 0x10000000, FALSE), NULL, ARBOR_LOADER_ERROR_OUT_OF_RAM, "outside RAM");
  expect_refused(f, build_elf(TRUE, one, 1, 0x100000000ULL, FALSE), NULL, ARBOR_LOADER_ERROR_INVALID, "4 GiB");

  /* over the page tables; two segments overlapping each other */
  Seg low[] = { { 0x2000, 0x100, 0x100, 1 } };
  expect_refused(f, build_elf(TRUE, low, 1, 0x2000, FALSE), NULL, ARBOR_LOADER_ERROR_OVERLAP, "page tables");
  Seg two[] = { { 0x200000, 0x100, 0x2000, 1 }, { 0x201000, 0x100, 0x100, 2 } };
  expect_refused(f, build_elf(TRUE, two, 2, 0x200000, FALSE), NULL, ARBOR_LOADER_ERROR_OVERLAP, "segment");
  expect_refused(f, build_elf(FALSE, two, 2, 0x200000, TRUE), NULL, ARBOR_LOADER_ERROR_OVERLAP, "segment");

  /* big-endian */
  a = build_elf(TRUE, one, 1, 0x200000, FALSE);
  a->data[5] = 2;
  expect_refused(f, a, NULL, ARBOR_LOADER_ERROR_INVALID, "little-endian");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  static const struct {
    const char *path;
    void (*func)(Fixture *, gconstpointer);
  } tests[] = {
    { "/loader/multiboot/aout", test_aout },
    { "/loader/multiboot/mmap", test_mmap },
    { "/loader/multiboot/modules", test_modules },
    { "/loader/multiboot/elf32", test_elf32 },
    { "/loader/elf64/long-mode", test_elf64 },
    { "/loader/flat/real-and-overlap", test_flat },
    { "/loader/flat/long", test_flat_modes },
    { "/loader/guests/built", test_built_guests },
    { "/loader/reset/restores", test_reset_restores },
    { "/loader/bad/files", test_bad_files },
    { "/loader/bad/multiboot", test_bad_multiboot },
    { "/loader/bad/elf", test_bad_elf },
  };
  for (guint i = 0; i < G_N_ELEMENTS(tests); i++)
    g_test_add(tests[i].path, Fixture, NULL, fixture_setup, tests[i].func, fixture_teardown);
  g_test_add("/loader/bad/modules-past-ram", Fixture, NULL, fixture_setup_small, test_bad_modules_ram, fixture_teardown);
  return g_test_run();
}
