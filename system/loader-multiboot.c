/* Multiboot v1, laid out the way QEMU does it: the kernel at its load
 * address, then (page aligned) the module descriptors, the command lines
 * and the boot loader name, then each module page aligned; the memory map
 * at 0x9000 and the info structure at 0x9500 (EBX). */
#include "arbor-config.h"

#include "loader-private.h"

#include <string.h>

#define MB_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_FLAG_VIDEO (1u << 2)
#define MB_FLAG_ADDRESS (1u << 16)
#define MB_SEARCH 8192

#define MBI_FLAGS 0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_BOOT_DEVICE 12
#define MBI_CMDLINE 16
#define MBI_MODS_COUNT 20
#define MBI_MODS_ADDR 24
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR 48
#define MBI_BOOT_LOADER 64
#define MBI_SIZE 88
#define MB_MOD_SIZE 16
#define MB_MMAP_ENTRY 24

#define MBI_HAS_MEMORY (1u << 0)
#define MBI_HAS_BOOT_DEVICE (1u << 1)
#define MBI_HAS_CMDLINE (1u << 2)
#define MBI_HAS_MODS (1u << 3)
#define MBI_HAS_MMAP (1u << 6)
#define MBI_HAS_LOADER_NAME (1u << 9)

static inline guint64
page_align(guint64 v)
{
  return (v + 0xfff) & ~(guint64)0xfff;
}

typedef struct {
  char *item;  /* "file args": the module's string, owned */
  char *path;  /* the file: up to the first space, owned */
  GBytes *data; /* owned */
} Module;

static void
module_clear(gpointer p)
{
  Module *m = p;

  g_free(m->item);
  g_free(m->path);
  g_clear_pointer(&m->data, g_bytes_unref);
}

/* Splits QEMU's -initrd list: ',' separates, ",," is a literal comma. */
static gboolean
parse_modules(ArborLoaderPlan *plan, const char *list, guint64 max_size, GArray *mods, GError **error)
{
  GString *cur = g_string_new(NULL);
  const char *p = list;

  for (;;) {
    if (*p == ',' && p[1] == ',') {
      g_string_append_c(cur, ',');
      p += 2;
      continue;
    }
    if (*p && *p != ',') {
      g_string_append_c(cur, *p++);
      continue;
    }
    Module m = { 0 };
    m.item = g_string_free(cur, FALSE);
    const char *space = strchr(m.item, ' ');
    m.path = space ? g_strndup(m.item, space - m.item) : g_strdup(m.item);
    g_array_append_val(mods, m);
    if (*m.path == '\0') {
      g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID,
                  "'%s': empty module name in -initrd '%s'", plan->path, list);
      return FALSE;
    }
    Module *last = &g_array_index(mods, Module, mods->len - 1);
    g_autoptr(GError) local = NULL;
    last->data = arbor_loader_read_file(last->path, max_size, &local);
    if (!last->data) {
      g_set_error(error, ARBOR_LOADER_ERROR, local->code, "module of '%s': %s", plan->path, local->message);
      return FALSE;
    }
    if (*p == '\0')
      break;
    p++;
    cur = g_string_new(NULL);
  }
  return TRUE;
}

static guint8 *
build_mmap(ArborLoaderPlan *plan, gsize *len)
{
  struct {
    guint64 base, end;
    guint32 type;
  } e[8];
  guint n = 0;

  e[n++] = (typeof(e[0])){ 0, MIN(plan->below_4g, 0x9fc00), 1 };
  if (plan->below_4g > 0x9fc00)
    e[n++] = (typeof(e[0])){ 0x9fc00, 0xa0000, 2 }; /* EBDA */
  e[n++] = (typeof(e[0])){ 0xf0000, 0x100000, 2 };   /* BIOS */
  if (plan->below_4g > 0x100000)
    e[n++] = (typeof(e[0])){ 0x100000, plan->below_4g, 1 };
  e[n++] = (typeof(e[0])){ 0xfffc0000, 0x100000000ULL, 2 }; /* BIOS ROM alias */
  if (plan->above_4g)
    e[n++] = (typeof(e[0])){ 0x100000000ULL, 0x100000000ULL + plan->above_4g, 1 };

  guint8 *buf = g_malloc0(n * MB_MMAP_ENTRY);
  for (guint i = 0; i < n; i++) {
    guint8 *q = buf + i * MB_MMAP_ENTRY;
    arbor_loader_st32(q, MB_MMAP_ENTRY - 4);
    arbor_loader_st64(q + 4, e[i].base);
    arbor_loader_st64(q + 12, e[i].end - e[i].base);
    arbor_loader_st32(q + 20, e[i].type);
  }
  *len = n * MB_MMAP_ENTRY;
  return buf;
}

gboolean
arbor_loader_plan_multiboot(ArborLoaderPlan *plan, GBytes *image, const ArborLoaderOptions *opts, GError **error)
{
  gsize len;
  const guint8 *p = g_bytes_get_data(image, &len);
  gsize limit = MIN(len, (gsize)MB_SEARCH);
  gssize header = -1, bad = -1;

  for (gsize i = 0; i + 12 <= limit; i += 4) {
    if (arbor_loader_ld32(p + i) != MB_MAGIC)
      continue;
    guint32 sum = MB_MAGIC + arbor_loader_ld32(p + i + 4) + arbor_loader_ld32(p + i + 8);
    if (sum == 0) {
      header = i;
      break;
    }
    if (bad < 0)
      bad = i;
  }
  if (header < 0) {
    if (bad >= 0) {
      g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_BAD_CHECKSUM,
                  "'%s': the Multiboot header at offset 0x%" G_GSSIZE_MODIFIER "x has a bad checksum", plan->path, bad);
    }
    return FALSE;
  }

  guint32 flags = arbor_loader_ld32(p + header + 4);
  guint64 load_addr, kernel_size, entry;

  if (flags & MB_FLAG_VIDEO)
    g_info("'%s' asks for a video mode; arbor has no video", plan->path);

  if (flags & MB_FLAG_ADDRESS) {
    if ((gsize)header + 32 > len) {
      g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_TRUNCATED,
                  "'%s': truncated Multiboot header at offset 0x%" G_GSSIZE_MODIFIER "x", plan->path, header);
      return FALSE;
    }
    guint32 header_addr = arbor_loader_ld32(p + header + 12);
    guint32 mh_load = arbor_loader_ld32(p + header + 16);
    guint32 load_end = arbor_loader_ld32(p + header + 20);
    guint32 bss_end = arbor_loader_ld32(p + header + 24);
    entry = arbor_loader_ld32(p + header + 28);

    if (header_addr < mh_load || header_addr - mh_load > (guint64)header) {
      g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID,
                  "'%s': Multiboot header_addr 0x%x and load_addr 0x%x put the image before the start of the file",
                  plan->path, header_addr, mh_load);
      return FALSE;
    }
    guint64 offset = header - (header_addr - mh_load);
    guint64 load_size;
    if (load_end) {
      if (load_end < mh_load) {
        g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID,
                    "'%s': Multiboot load_end_addr 0x%x is below load_addr 0x%x", plan->path, load_end, mh_load);
        return FALSE;
      }
      load_size = load_end - mh_load;
    } else {
      load_size = len - offset;
    }
    if (load_size > len - offset) {
      g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_TRUNCATED,
                  "'%s': truncated: the Multiboot header asks for 0x%" G_GINT64_MODIFIER "x bytes from offset "
                  "0x%" G_GINT64_MODIFIER "x, the file has %" G_GSIZE_FORMAT, plan->path, load_size, offset, len);
      return FALSE;
    }
    kernel_size = load_size;
    if (bss_end) {
      if ((guint64)bss_end < mh_load + load_size) {
        g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID,
                    "'%s': Multiboot bss_end_addr 0x%x is below the end of the loaded image", plan->path, bss_end);
        return FALSE;
      }
      kernel_size = bss_end - mh_load;
    }
    load_addr = mh_load;
    GBytes *part = load_size ? g_bytes_new_from_bytes(image, offset, load_size) : NULL;
    arbor_loader_plan_add(plan, load_addr, part, kernel_size - load_size, g_strdup_printf("the image of '%s'", plan->path));
    plan->format = ARBOR_LOADER_FORMAT_MULTIBOOT_AOUT;
  } else {
    guint64 low, high;
    if (!arbor_loader_plan_elf32_segments(plan, image, &low, &high, &entry, error))
      return FALSE;
    load_addr = low;
    kernel_size = high - low;
    plan->format = ARBOR_LOADER_FORMAT_MULTIBOOT_ELF;
  }

  /* Modules, command lines and the loader name, after the kernel. */
  guint64 ram = plan->below_4g + plan->above_4g;
  g_autoptr(GArray) mods = g_array_new(FALSE, TRUE, sizeof(Module));
  g_array_set_clear_func(mods, module_clear);
  if (opts->initrd && *opts->initrd && !parse_modules(plan, opts->initrd, ram, mods, error))
    return FALSE;

  g_autofree char *cmdline = g_strdup_printf("%s %s", opts->kernel, opts->append ? opts->append : "");
  guint64 info_base = load_addr + page_align(kernel_size);
  GString *strings = g_string_new(NULL);
  g_autofree guint32 *mod_string = g_new0(guint32, mods->len + 1);
  guint64 strings_base = info_base + (guint64)mods->len * MB_MOD_SIZE;
  for (guint i = 0; i < mods->len; i++) {
    mod_string[i] = (guint32)(strings_base + strings->len);
    g_string_append_len(strings, g_array_index(mods, Module, i).item, strlen(g_array_index(mods, Module, i).item) + 1);
  }
  guint64 cmdline_addr = strings_base + strings->len;
  g_string_append_len(strings, cmdline, strlen(cmdline) + 1);
  guint64 loader_name_addr = strings_base + strings->len;
  g_string_append_len(strings, ARBOR_LOADER_MB_BOOTLOADER, sizeof(ARBOR_LOADER_MB_BOOTLOADER));

  gsize info_len = mods->len * MB_MOD_SIZE + strings->len;
  g_autofree guint8 *info = g_malloc0(info_len);
  memcpy(info + mods->len * MB_MOD_SIZE, strings->str, strings->len);
  g_string_free(strings, TRUE);

  guint64 mod_addr = info_base + page_align(info_len);
  for (guint i = 0; i < mods->len; i++) {
    Module *m = &g_array_index(mods, Module, i);
    gsize size = g_bytes_get_size(m->data);
    guint8 *d = info + i * MB_MOD_SIZE;
    arbor_loader_st32(d, (guint32)mod_addr);
    arbor_loader_st32(d + 4, (guint32)(mod_addr + size));
    arbor_loader_st32(d + 8, mod_string[i]);
    if (mod_addr + size > 0x100000000ULL) {
      g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_OUT_OF_RAM,
                  "'%s': module '%s' would end at 0x%" G_GINT64_MODIFIER "x, past 4 GiB", plan->path, m->path,
                  mod_addr + size);
      return FALSE;
    }
    arbor_loader_plan_add(plan, mod_addr, g_bytes_ref(m->data), 0, g_strdup_printf("module '%s'", m->path));
    mod_addr = page_align(mod_addr + size);
  }
  if (cmdline_addr + info_len > 0x100000000ULL) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_OUT_OF_RAM,
                "'%s': the Multiboot command lines would pass 4 GiB", plan->path);
    return FALSE;
  }
  arbor_loader_plan_add_copy(plan, info_base, info, info_len,
                             g_strdup("the Multiboot module list and command lines"));

  gsize mmap_len;
  g_autofree guint8 *mmap = build_mmap(plan, &mmap_len);
  arbor_loader_plan_add_copy(plan, ARBOR_LOADER_MB_MMAP_ADDR, mmap, mmap_len, g_strdup("the Multiboot memory map"));

  guint8 mbi[MBI_SIZE] = { 0 };
  arbor_loader_st32(mbi + MBI_FLAGS, MBI_HAS_MEMORY | MBI_HAS_BOOT_DEVICE | MBI_HAS_CMDLINE | MBI_HAS_MODS |
                                       MBI_HAS_MMAP | MBI_HAS_LOADER_NAME);
  /* KiB of usable memory below 1 MiB: up to the EBDA, 639 as QEMU reports it. */
  arbor_loader_st32(mbi + MBI_MEM_LOWER, (guint32)(MIN(plan->below_4g, 0x9fc00) / 1024));
  arbor_loader_st32(mbi + MBI_MEM_UPPER, plan->below_4g > 0x100000 ? (guint32)(plan->below_4g / 1024 - 1024) : 0);
  arbor_loader_st32(mbi + MBI_BOOT_DEVICE, 0x8000ffff);
  arbor_loader_st32(mbi + MBI_CMDLINE, (guint32)cmdline_addr);
  arbor_loader_st32(mbi + MBI_MODS_COUNT, mods->len);
  arbor_loader_st32(mbi + MBI_MODS_ADDR, (guint32)info_base);
  arbor_loader_st32(mbi + MBI_MMAP_LENGTH, (guint32)mmap_len);
  arbor_loader_st32(mbi + MBI_MMAP_ADDR, ARBOR_LOADER_MB_MMAP_ADDR);
  arbor_loader_st32(mbi + MBI_BOOT_LOADER, (guint32)loader_name_addr);
  arbor_loader_plan_add_copy(plan, ARBOR_LOADER_MB_INFO_ADDR, mbi, sizeof(mbi), g_strdup("the Multiboot info"));

  arbor_loader_plan_add_mode_structures(plan, ARBOR_LOADER_MODE_PROTECTED);
  plan->has_entry = TRUE;
  plan->entry.mode = ARBOR_LOADER_MODE_PROTECTED;
  plan->entry.entry = entry;
  plan->entry.rax = MB_BOOT_MAGIC;
  plan->entry.rbx = ARBOR_LOADER_MB_INFO_ADDR;
  return TRUE;
}
