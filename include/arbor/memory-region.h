/* ArborMemoryRegion: one node of an address-space tree (QEMU's semantics). */
#pragma once

#include <arbor/arbor-types.h>

G_BEGIN_DECLS

/* Result of one access, visible to the caller of a dispatch. */
typedef enum {
  ARBOR_MEMTX_OK = 0,
  ARBOR_MEMTX_DECODE_ERROR, /* nothing there, or an access size the region refuses */
  ARBOR_MEMTX_ACCESS_ERROR, /* the device refused the access */
} ArborMemTxResult;

typedef enum {
  ARBOR_ENDIAN_LITTLE = 0, /* default: the x86 view */
  ARBOR_ENDIAN_BIG,
} ArborEndianness;

typedef enum {
  ARBOR_MEMORY_REGION_CONTAINER,
  ARBOR_MEMORY_REGION_IO,
  ARBOR_MEMORY_REGION_RAM,
  ARBOR_MEMORY_REGION_ROM,
  ARBOR_MEMORY_REGION_ALIAS,
} ArborMemoryRegionKind;

/* Access-size constraints. 0 in min/max means "1" and "4" as in QEMU. */
typedef struct {
  guint min_access_size;
  guint max_access_size;
  gboolean unaligned;
} ArborAccessConstraints;

/**
 * ArborMemoryRegionOps:
 * @read: returns the value read at @addr (offset inside the region), @size
 *   bytes (1, 2, 4 or 8), within @impl limits.
 * @write: writes @value.
 * @read_with_result / @write_with_result: optional; used instead of the
 *   plain callbacks when set, so a device can report an access error.
 * @valid: what the guest may do; anything else is a decode error.
 * @impl: what the callbacks handle; bigger accesses are split, smaller
 *   ones widened (read-modify-write is NOT done: a widened write writes the
 *   value zero-extended, as QEMU does).
 *
 * Callbacks run on whichever thread dispatches (vCPU threads, the main
 * thread for qtest and loaders): the device serializes itself.
 */
typedef struct {
  guint64 (*read)(gpointer opaque, guint64 addr, guint size);
  void (*write)(gpointer opaque, guint64 addr, guint size, guint64 value);
  ArborMemTxResult (*read_with_result)(gpointer opaque, guint64 addr, guint size, guint64 *value);
  ArborMemTxResult (*write_with_result)(gpointer opaque, guint64 addr, guint size, guint64 value);
  ArborEndianness endianness;
  ArborAccessConstraints valid;
  ArborAccessConstraints impl;
} ArborMemoryRegionOps;

/* A size of G_MAXUINT64 means 2^64: the whole 64-bit space. */
#define ARBOR_MEMORY_SIZE_4G64 G_MAXUINT64

#define ARBOR_TYPE_MEMORY_REGION (arbor_memory_region_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborMemoryRegion, arbor_memory_region, ARBOR, MEMORY_REGION, GObject)

ARBOR_API ArborMemoryRegion *arbor_memory_region_new_container(const char *name, guint64 size);
ARBOR_API ArborMemoryRegion *arbor_memory_region_new_io(const char *name,
                                                        guint64 size,
                                                        const ArborMemoryRegionOps *ops,
                                                        gpointer opaque);
/* Host memory: page-aligned, anonymous mmap, zeroed; NULL + error when the
 * mapping fails or the size is 0 / not a multiple of the page size. */
ARBOR_API ArborMemoryRegion *arbor_memory_region_new_ram(const char *name, guint64 size, GError **error);
/* Read-only RAM: reads come from host memory; writes go to @ops->write when
 * @ops is given, and are dropped otherwise. */
ARBOR_API ArborMemoryRegion *arbor_memory_region_new_rom(const char *name,
                                                         guint64 size,
                                                         const ArborMemoryRegionOps *ops,
                                                         gpointer opaque,
                                                         GError **error);
/* A window of @size bytes onto @target starting at @offset (holds a ref on @target). */
ARBOR_API ArborMemoryRegion *arbor_memory_region_new_alias(const char *name,
                                                           ArborMemoryRegion *target,
                                                           guint64 offset,
                                                           guint64 size);

ARBOR_API const char *arbor_memory_region_get_name(ArborMemoryRegion *mr);
ARBOR_API ArborMemoryRegionKind arbor_memory_region_get_kind(ArborMemoryRegion *mr);
ARBOR_API guint64 arbor_memory_region_get_size(ArborMemoryRegion *mr);
/* Host pointer of a RAM or ROM region, NULL for other kinds. */
ARBOR_API gpointer arbor_memory_region_get_ram_ptr(ArborMemoryRegion *mr);
ARBOR_API gboolean arbor_memory_region_get_enabled(ArborMemoryRegion *mr);
ARBOR_API void arbor_memory_region_set_enabled(ArborMemoryRegion *mr, gboolean enabled);
/* Offset in the parent container (0 when not a subregion). */
ARBOR_API guint64 arbor_memory_region_get_address(ArborMemoryRegion *mr);
ARBOR_API int arbor_memory_region_get_priority(ArborMemoryRegion *mr);
ARBOR_API ArborMemoryRegion *arbor_memory_region_get_container(ArborMemoryRegion *mr);
/* The object that implements the region (a device). Not referenced by the
 * region; a flat view holds a ref on it as long as it can dispatch to it. */
ARBOR_API void arbor_memory_region_set_owner(ArborMemoryRegion *mr, GObject *owner);
ARBOR_API GObject *arbor_memory_region_get_owner(ArborMemoryRegion *mr);

/* Topology. The container takes a reference on @subregion; a region can be
 * in at most one container at a time (a programming error otherwise). */
ARBOR_API void arbor_memory_region_add_subregion(ArborMemoryRegion *container,
                                                 guint64 offset,
                                                 ArborMemoryRegion *subregion);
ARBOR_API void arbor_memory_region_add_subregion_overlap(ArborMemoryRegion *container,
                                                         guint64 offset,
                                                         ArborMemoryRegion *subregion,
                                                         int priority);
ARBOR_API void arbor_memory_region_del_subregion(ArborMemoryRegion *container,
                                                 ArborMemoryRegion *subregion);
/* Moves a subregion inside its container. */
ARBOR_API void arbor_memory_region_set_address(ArborMemoryRegion *mr, guint64 offset);
ARBOR_API void arbor_memory_region_set_alias_offset(ArborMemoryRegion *alias, guint64 offset);

/* Direct, size-checked access to a region without an address space (used by
 * aliases, ROM loading and tests): same splitting/widening rules. */
ARBOR_API ArborMemTxResult arbor_memory_region_dispatch_read(ArborMemoryRegion *mr,
                                                             guint64 addr,
                                                             guint size,
                                                             guint64 *value);
ARBOR_API ArborMemTxResult arbor_memory_region_dispatch_write(ArborMemoryRegion *mr,
                                                              guint64 addr,
                                                              guint size,
                                                              guint64 value);

/* Number of dispatches this region served (relaxed atomic counter, for the
 * monitor's "info exits"). */
ARBOR_API guint64 arbor_memory_region_get_access_count(ArborMemoryRegion *mr);

G_END_DECLS
