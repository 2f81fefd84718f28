/* ArborLoader: puts a guest image into a machine's RAM and sets vCPU 0's
 * entry state: Multiboot v1 (ELF32 or the a.out kludge), ELF64 with a
 * direct long-mode entry, or a flat binary at a given address. */
#pragma once

#include <arbor/arbor-types.h>

G_BEGIN_DECLS

typedef enum {
  ARBOR_LOADER_ERROR_IO,           /* missing or unreadable file */
  ARBOR_LOADER_ERROR_TRUNCATED,    /* empty, or shorter than its headers say */
  ARBOR_LOADER_ERROR_NOT_A_KERNEL, /* no Multiboot header, not an ELF64 x86-64 image */
  ARBOR_LOADER_ERROR_BAD_CHECKSUM, /* a Multiboot magic whose checksum does not add up */
  ARBOR_LOADER_ERROR_INVALID,      /* inconsistent headers (addresses, sizes, flags) */
  ARBOR_LOADER_ERROR_OUT_OF_RAM,   /* a segment or structure does not fit in RAM */
  ARBOR_LOADER_ERROR_OVERLAP,      /* segments overlap each other or the loader's structures */
  ARBOR_LOADER_ERROR_VCPU,         /* setting the entry registers failed */
} ArborLoaderError;

#define ARBOR_LOADER_ERROR (arbor_loader_error_quark())
ARBOR_API GQuark arbor_loader_error_quark(void);

typedef enum {
  ARBOR_LOADER_FORMAT_NONE,
  ARBOR_LOADER_FORMAT_MULTIBOOT_ELF,  /* Multiboot v1, ELF32 program headers */
  ARBOR_LOADER_FORMAT_MULTIBOOT_AOUT, /* Multiboot v1, a.out kludge (flag bit 16) */
  ARBOR_LOADER_FORMAT_ELF64,          /* ELF64, entered in long mode */
  ARBOR_LOADER_FORMAT_FLAT,           /* raw bytes at an address */
} ArborLoaderFormat;

/* How the vCPU is entered for a flat binary. */
typedef enum {
  ARBOR_LOADER_MODE_PROTECTED, /* 32-bit flat protected mode, paging off (default) */
  ARBOR_LOADER_MODE_REAL,      /* real mode, CS:IP = (addr >> 4):(addr & 0xf); addr < 1 MiB */
  ARBOR_LOADER_MODE_LONG,      /* 64-bit, identity-mapped first 4 GiB */
} ArborLoaderMode;

/**
 * ArborLoaderOptions:
 * @kernel: the -kernel file.
 * @append: the -append text (NULL: empty). Multiboot guests see the command
 *   line "<kernel path> <append>", as QEMU passes it.
 * @initrd: the -initrd list "FILE[ ARGS][,FILE[ ARGS]...]" (",," is a
 *   literal comma), loaded as Multiboot modules; NULL: none. Each module's
 *   string is the whole item (file name and arguments), as in QEMU.
 */
typedef struct {
  const char *kernel;
  const char *append;
  const char *initrd;
} ArborLoaderOptions;

/* Fixed guest-physical places of the loader's own structures. */
#define ARBOR_LOADER_GDT_ADDR       0x500   /* flat GDT: 0x08 code32, 0x10 data, 0x18 code64 */
#define ARBOR_LOADER_PAGE_TABLES    0x1000  /* long mode: PML4, PDPT, 4 PDs (0x1000-0x6fff) */
#define ARBOR_LOADER_STACK_TOP      0x8000  /* long mode: initial RSP */
#define ARBOR_LOADER_MB_MMAP_ADDR   0x9000  /* Multiboot memory map (as QEMU) */
#define ARBOR_LOADER_MB_INFO_ADDR   0x9500  /* Multiboot info; EBX (as QEMU) */
#define ARBOR_LOADER_MB_BOOTLOADER  "arbor"

#define ARBOR_TYPE_LOADER (arbor_loader_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborLoader, arbor_loader, ARBOR, LOADER, GObject)

/* Holds a ref on @machine, whose accelerator must be set (vCPUs exist).
 * The loader reloads its images and entry state on the machine's "reset". */
ARBOR_API ArborLoader *arbor_loader_new(ArborMachine *machine);

/* Picks the format by content (Multiboot header first, as QEMU; then
 * ELF64). Everything is validated before the first byte goes into RAM. */
ARBOR_API gboolean arbor_loader_load_kernel(ArborLoader *loader, const ArborLoaderOptions *opts, GError **error);

/* QEMU's generic loader (-device loader,file=F,addr=A[,cpu-num=0]): the
 * file's bytes at @addr; with @set_entry, vCPU 0 starts there in @mode. */
ARBOR_API gboolean arbor_loader_load_flat(ArborLoader *loader,
                                          const char *path,
                                          guint64 addr,
                                          gboolean set_entry,
                                          ArborLoaderMode mode,
                                          GError **error);

/* Writes the images again and sets the entry registers (what "reset" does). */
ARBOR_API gboolean arbor_loader_restore(ArborLoader *loader, GError **error);

ARBOR_API ArborLoaderFormat arbor_loader_get_format(ArborLoader *loader);
ARBOR_API const char *arbor_loader_format_name(ArborLoaderFormat format);
/* Entry point of the kernel (0 when nothing sets one). */
ARBOR_API guint64 arbor_loader_get_entry(ArborLoader *loader);

G_END_DECLS
