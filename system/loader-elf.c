/* ELF program headers: ELF64 x86-64 kernels entered in long mode, and the
 * ELF32 i386 segments of Multiboot kernels. Every field from the file is
 * checked before use (offsets, sizes, overflow). */
#include "arbor-config.h"

#include "loader-private.h"

#include <string.h>

#define EI_NIDENT 16
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1

#define ELF32_EHDR_SIZE 52
#define ELF32_PHDR_SIZE 32
#define ELF64_EHDR_SIZE 64
#define ELF64_PHDR_SIZE 56

typedef struct {
  guint64 offset, paddr, filesz, memsz;
} Segment;

static gboolean
is_elf(const guint8 *p, gsize len)
{
  return len >= 4 && p[0] == 0x7f && p[1] == 'E' && p[2] == 'L' && p[3] == 'F';
}

/* Shared header checks; fills the program header table position. */
static gboolean
check_header(ArborLoaderPlan *plan, const guint8 *p, gsize len, guint cls, guint machine,
             guint64 *phoff, guint *phnum, guint64 *entry, GError **error)
{
  gsize ehdr = cls == ELFCLASS64 ? ELF64_EHDR_SIZE : ELF32_EHDR_SIZE;
  gsize phent = cls == ELFCLASS64 ? ELF64_PHDR_SIZE : ELF32_PHDR_SIZE;

  if (len < ehdr) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_TRUNCATED,
                "'%s': truncated ELF header (%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes)", plan->path, len, ehdr);
    return FALSE;
  }
  if (p[4] != cls) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_NOT_A_KERNEL, "'%s': not an ELF%s image", plan->path,
                cls == ELFCLASS64 ? "64" : "32");
    return FALSE;
  }
  if (p[5] != ELFDATA2LSB || p[6] != 1) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID,
                "'%s': not a little-endian ELF version 1 image", plan->path);
    return FALSE;
  }
  guint type = arbor_loader_ld16(p + 16);
  guint mach = arbor_loader_ld16(p + 18);
  if (mach != machine) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_NOT_A_KERNEL,
                "'%s': ELF machine %u, expected %u (%s)", plan->path, mach, machine,
                machine == EM_X86_64 ? "x86-64" : "i386");
    return FALSE;
  }
  if (type != ET_EXEC) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID,
                "'%s': ELF type %u is not an executable (ET_EXEC)", plan->path, type);
    return FALSE;
  }
  guint ph_entsize;
  if (cls == ELFCLASS64) {
    *entry = arbor_loader_ld64(p + 24);
    *phoff = arbor_loader_ld64(p + 32);
    ph_entsize = arbor_loader_ld16(p + 54);
    *phnum = arbor_loader_ld16(p + 56);
  } else {
    *entry = arbor_loader_ld32(p + 24);
    *phoff = arbor_loader_ld32(p + 28);
    ph_entsize = arbor_loader_ld16(p + 42);
    *phnum = arbor_loader_ld16(p + 44);
  }
  if (*phnum == 0) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID, "'%s': ELF image without program headers", plan->path);
    return FALSE;
  }
  if (ph_entsize != phent) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID,
                "'%s': ELF program header size %u, expected %" G_GSIZE_FORMAT, plan->path, ph_entsize, phent);
    return FALSE;
  }
  /* phnum <= 65535 and phent <= 56: the product cannot overflow. */
  guint64 table = (guint64)*phnum * phent;
  if (*phoff > len || table > len - *phoff) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_TRUNCATED,
                "'%s': truncated: the program headers (offset 0x%" G_GINT64_MODIFIER "x, %u entries) pass the end "
                "of the file (%" G_GSIZE_FORMAT " bytes)", plan->path, *phoff, *phnum, len);
    return FALSE;
  }
  return TRUE;
}

/* Reads the PT_LOAD segments, checked against the file and for overflow. */
static gboolean
read_segments(ArborLoaderPlan *plan, const guint8 *p, gsize len, guint cls, guint64 phoff, guint phnum,
              GArray *segs, GError **error)
{
  for (guint i = 0; i < phnum; i++) {
    Segment s;
    guint32 type;
    if (cls == ELFCLASS64) {
      const guint8 *ph = p + phoff + (guint64)i * ELF64_PHDR_SIZE;
      type = arbor_loader_ld32(ph);
      s.offset = arbor_loader_ld64(ph + 8);
      s.paddr = arbor_loader_ld64(ph + 24);
      s.filesz = arbor_loader_ld64(ph + 32);
      s.memsz = arbor_loader_ld64(ph + 40);
    } else {
      const guint8 *ph = p + phoff + (guint64)i * ELF32_PHDR_SIZE;
      type = arbor_loader_ld32(ph);
      s.offset = arbor_loader_ld32(ph + 4);
      s.paddr = arbor_loader_ld32(ph + 12);
      s.filesz = arbor_loader_ld32(ph + 16);
      s.memsz = arbor_loader_ld32(ph + 20);
    }
    if (type != PT_LOAD || s.memsz == 0)
      continue;
    if (s.filesz > s.memsz) {
      g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID,
                  "'%s': segment %u has a file size (0x%" G_GINT64_MODIFIER "x) larger than its memory size "
                  "(0x%" G_GINT64_MODIFIER "x)", plan->path, i, s.filesz, s.memsz);
      return FALSE;
    }
    if (s.offset > len || s.filesz > len - s.offset) {
      g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_TRUNCATED,
                  "'%s': truncated: segment %u (offset 0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER "x bytes) "
                  "passes the end of the file (%" G_GSIZE_FORMAT " bytes)", plan->path, i, s.offset, s.filesz, len);
      return FALSE;
    }
    if (s.memsz > G_MAXUINT64 - s.paddr || (cls == ELFCLASS32 && s.paddr + s.memsz > 0x100000000ULL)) {
      g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_OUT_OF_RAM,
                  "'%s': segment %u (0x%" G_GINT64_MODIFIER "x + 0x%" G_GINT64_MODIFIER "x) wraps around the "
                  "address space", plan->path, i, s.paddr, s.memsz);
      return FALSE;
    }
    g_array_append_val(segs, s);
  }
  if (segs->len == 0) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID, "'%s': no loadable (PT_LOAD) segment", plan->path);
    return FALSE;
  }
  return TRUE;
}

static void
add_segments(ArborLoaderPlan *plan, GBytes *image, GArray *segs)
{
  for (guint i = 0; i < segs->len; i++) {
    Segment *s = &g_array_index(segs, Segment, i);
    GBytes *part = s->filesz ? g_bytes_new_from_bytes(image, s->offset, s->filesz) : NULL;
    arbor_loader_plan_add(plan, s->paddr, part, s->memsz - s->filesz,
                          g_strdup_printf("segment %u of '%s'", i, plan->path));
  }
}

gboolean
arbor_loader_plan_elf32_segments(ArborLoaderPlan *plan, GBytes *image, guint64 *low, guint64 *high, guint64 *entry, GError **error)
{
  gsize len;
  const guint8 *p = g_bytes_get_data(image, &len);
  guint64 phoff;
  guint phnum;

  if (!is_elf(p, len)) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_NOT_A_KERNEL,
                "'%s': Multiboot header without the address fields (flag 16) needs an ELF image", plan->path);
    return FALSE;
  }
  if (len > 4 && p[4] == ELFCLASS64) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_NOT_A_KERNEL,
                "'%s': cannot load an x86-64 Multiboot image; give a 32-bit one", plan->path);
    return FALSE;
  }
  if (!check_header(plan, p, len, ELFCLASS32, EM_386, &phoff, &phnum, entry, error))
    return FALSE;
  g_autoptr(GArray) segs = g_array_new(FALSE, FALSE, sizeof(Segment));
  if (!read_segments(plan, p, len, ELFCLASS32, phoff, phnum, segs, error))
    return FALSE;
  *low = G_MAXUINT64;
  *high = 0;
  for (guint i = 0; i < segs->len; i++) {
    Segment *s = &g_array_index(segs, Segment, i);
    *low = MIN(*low, s->paddr);
    *high = MAX(*high, s->paddr + s->memsz);
  }
  add_segments(plan, image, segs);
  return TRUE;
}

gboolean
arbor_loader_plan_elf64(ArborLoaderPlan *plan, GBytes *image, GError **error)
{
  gsize len;
  const guint8 *p = g_bytes_get_data(image, &len);
  guint64 phoff, entry;
  guint phnum;

  if (!is_elf(p, len)) {
    g_set_error(error, ARBOR_LOADER_ERROR, len < 4 ? ARBOR_LOADER_ERROR_TRUNCATED : ARBOR_LOADER_ERROR_NOT_A_KERNEL,
                "'%s': not a kernel: no Multiboot header in the first 8192 bytes and not an ELF64 image", plan->path);
    return FALSE;
  }
  if (len > 4 && p[4] == ELFCLASS32) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_NOT_A_KERNEL,
                "'%s': not a kernel: an ELF32 image without a Multiboot header", plan->path);
    return FALSE;
  }
  if (!check_header(plan, p, len, ELFCLASS64, EM_X86_64, &phoff, &phnum, &entry, error))
    return FALSE;
  g_autoptr(GArray) segs = g_array_new(FALSE, FALSE, sizeof(Segment));
  if (!read_segments(plan, p, len, ELFCLASS64, phoff, phnum, segs, error))
    return FALSE;
  if (entry >= 0x100000000ULL) {
    g_set_error(error, ARBOR_LOADER_ERROR, ARBOR_LOADER_ERROR_INVALID,
                "'%s': entry point 0x%" G_GINT64_MODIFIER "x is outside the identity-mapped first 4 GiB", plan->path, entry);
    return FALSE;
  }
  add_segments(plan, image, segs);
  arbor_loader_plan_add_mode_structures(plan, ARBOR_LOADER_MODE_LONG);
  plan->format = ARBOR_LOADER_FORMAT_ELF64;
  plan->has_entry = TRUE;
  plan->entry.mode = ARBOR_LOADER_MODE_LONG;
  plan->entry.entry = entry;
  plan->entry.rsp = ARBOR_LOADER_STACK_TOP;
  return TRUE;
}
