/* ArborAddressSpace: a root region rendered into a flat view, and dispatch. */
#pragma once

#include <arbor/arbor-types.h>
#include <arbor/memory-region.h>
#include <arbor/memory-listener.h>

G_BEGIN_DECLS

typedef enum {
  ARBOR_ADDRESS_SPACE_MEMORY, /* 64-bit; unassigned reads return 0 */
  ARBOR_ADDRESS_SPACE_IO,     /* 16-bit ports; unassigned reads return all ones */
} ArborAddressSpaceKind;

#define ARBOR_TYPE_ADDRESS_SPACE (arbor_address_space_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborAddressSpace, arbor_address_space, ARBOR, ADDRESS_SPACE, GObject)

/* Holds a ref on @root. */
ARBOR_API ArborAddressSpace *arbor_address_space_new(const char *name,
                                                     ArborMemoryRegion *root,
                                                     ArborAddressSpaceKind kind);
ARBOR_API const char *arbor_address_space_get_name(ArborAddressSpace *as);
ARBOR_API ArborMemoryRegion *arbor_address_space_get_root(ArborAddressSpace *as);
ARBOR_API ArborAddressSpaceKind arbor_address_space_get_kind(ArborAddressSpace *as);

/* Topology changes between begin and commit are rendered once, at the
 * outermost commit. Nestable. Outside a transaction every change is
 * committed at once. Main thread only (the thread that owns the topology). */
ARBOR_API void arbor_address_space_begin(ArborAddressSpace *as);
ARBOR_API void arbor_address_space_commit(ArborAddressSpace *as);

/* Sized access: @size is 1, 2, 4 or 8. Lock-free on the calling thread's
 * side; callable from any thread. Unassigned: reads give 0 (memory) or all
 * ones (I/O), writes are dropped; the result is ARBOR_MEMTX_DECODE_ERROR. */
ARBOR_API ArborMemTxResult arbor_address_space_dispatch_read(ArborAddressSpace *as,
                                                             guint64 addr,
                                                             guint size,
                                                             guint64 *value);
ARBOR_API ArborMemTxResult arbor_address_space_dispatch_write(ArborAddressSpace *as,
                                                              guint64 addr,
                                                              guint size,
                                                              guint64 value);

/* Any length (loaders, qtest): RAM is copied directly, I/O is split into the
 * largest aligned accesses the regions accept. Returns the first error, but
 * carries on over the whole range. */
ARBOR_API ArborMemTxResult arbor_address_space_read(ArborAddressSpace *as,
                                                    guint64 addr,
                                                    void *buf,
                                                    gsize len);
ARBOR_API ArborMemTxResult arbor_address_space_write(ArborAddressSpace *as,
                                                     guint64 addr,
                                                     const void *buf,
                                                     gsize len);
/* Also writes into ROM (for loaders). */
ARBOR_API ArborMemTxResult arbor_address_space_write_rom(ArborAddressSpace *as,
                                                         guint64 addr,
                                                         const void *buf,
                                                         gsize len);

/* Host pointer for [addr, addr+len) when it lies wholly inside one RAM/ROM
 * section of the current view, else NULL. Valid while the topology does
 * not change (loaders, main thread). */
ARBOR_API gpointer arbor_address_space_get_host_ptr(ArborAddressSpace *as, guint64 addr, gsize len);

/* Listeners: replayed with section_add for every current section on add,
 * and with section_del for every section on remove. The address space
 * holds a ref on each listener. */
ARBOR_API void arbor_address_space_add_listener(ArborAddressSpace *as, ArborMemoryListener *listener);
ARBOR_API void arbor_address_space_remove_listener(ArborAddressSpace *as, ArborMemoryListener *listener);

/* Text dump like QEMU's "info mtree": the region tree with addresses,
 * priorities and kinds, then the flat view. Free with g_free(). */
ARBOR_API char *arbor_address_space_dump(ArborAddressSpace *as);

/* Monotonic count of commits that changed the flat view (tests, stats). */
ARBOR_API guint64 arbor_address_space_get_generation(ArborAddressSpace *as);

G_END_DECLS
