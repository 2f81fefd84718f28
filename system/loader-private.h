/* Internals shared by the loader's format parsers (loader*.c). */
#pragma once

#include <arbor/loader.h>
#include <arbor/vcpu.h>

G_BEGIN_DECLS

/* One piece of guest memory the loader owns: @bytes at @addr, then @zero
 * bytes of zeroes (bss). Written again at every reset. */
typedef struct {
  guint64 addr;
  GBytes *bytes; /* owned; NULL for pure zero fill */
  guint64 zero;
  char *what; /* owned; "segment 1 of 'k.elf'", "the Multiboot info" */
} ArborLoaderBlob;

typedef struct {
  ArborLoaderMode mode;
  guint64 entry;
  guint64 rax, rbx, rsp;
} ArborLoaderEntry;

/* What a parser produces; nothing touches the machine until it is checked. */
typedef struct {
  GPtrArray *blobs; /* ArborLoaderBlob*, owned */
  ArborLoaderFormat format;
  gboolean has_entry;
  ArborLoaderEntry entry;
  guint64 below_4g; /* RAM layout of the machine */
  guint64 above_4g;
  const char *path; /* for messages; not owned */
} ArborLoaderPlan;

ARBOR_API void arbor_loader_plan_init(ArborLoaderPlan *plan, guint64 ram_size, const char *path);
ARBOR_API void arbor_loader_plan_clear(ArborLoaderPlan *plan);
/* Takes ownership of @bytes (may be NULL). */
ARBOR_API void arbor_loader_plan_add(ArborLoaderPlan *plan, guint64 addr, GBytes *bytes, guint64 zero, char *what);
ARBOR_API void arbor_loader_plan_add_copy(ArborLoaderPlan *plan, guint64 addr, const void *data, gsize len, char *what);
/* Adds the flat GDT (and for long mode the page tables and stack page). */
ARBOR_API void arbor_loader_plan_add_mode_structures(ArborLoaderPlan *plan, ArborLoaderMode mode);

/* TRUE when [addr, addr+len) lies wholly in one RAM range of the layout. */
ARBOR_API gboolean arbor_loader_range_in_ram(guint64 below_4g, guint64 above_4g, guint64 addr, guint64 len);
ARBOR_API void arbor_loader_split_ram(guint64 ram_size, guint64 *below_4g, guint64 *above_4g);

/* Reads a whole file, refusing missing, unreadable, empty or huge ones. */
ARBOR_API GBytes *arbor_loader_read_file(const char *path, guint64 max_size, GError **error);

/* Parsers. Multiboot returns FALSE with no error set when there is no
 * Multiboot header at all (then other formats are tried). */
ARBOR_API gboolean arbor_loader_plan_multiboot(ArborLoaderPlan *plan,
                                               GBytes *image,
                                               const ArborLoaderOptions *opts,
                                               GError **error);
ARBOR_API gboolean arbor_loader_plan_elf64(ArborLoaderPlan *plan, GBytes *image, GError **error);
/* ELF32 (i386) PT_LOAD segments for Multiboot: adds the blobs and returns
 * the lowest and highest physical address and the entry. */
ARBOR_API gboolean arbor_loader_plan_elf32_segments(ArborLoaderPlan *plan,
                                                    GBytes *image,
                                                    guint64 *low,
                                                    guint64 *high,
                                                    guint64 *entry,
                                                    GError **error);

/* Builds the segment/control register state of @mode entering at @entry. */
ARBOR_API void arbor_loader_build_entry_state(const ArborLoaderEntry *entry,
                                              ArborRegs *regs,
                                              ArborSregs *sregs);

static inline guint32
arbor_loader_ld32(const guint8 *p)
{
  return (guint32)p[0] | ((guint32)p[1] << 8) | ((guint32)p[2] << 16) | ((guint32)p[3] << 24);
}

static inline guint16
arbor_loader_ld16(const guint8 *p)
{
  return (guint16)(p[0] | (p[1] << 8));
}

static inline guint64
arbor_loader_ld64(const guint8 *p)
{
  return (guint64)arbor_loader_ld32(p) | ((guint64)arbor_loader_ld32(p + 4) << 32);
}

static inline void
arbor_loader_st32(guint8 *p, guint32 v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

static inline void
arbor_loader_st64(guint8 *p, guint64 v)
{
  arbor_loader_st32(p, (guint32)v);
  arbor_loader_st32(p + 4, (guint32)(v >> 32));
}

G_END_DECLS
