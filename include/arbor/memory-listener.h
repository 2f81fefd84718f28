/* ArborMemoryListener: told about the sections of an address space's flat view. */
#pragma once

#include <arbor/arbor-types.h>

G_BEGIN_DECLS

/**
 * ArborMemorySection:
 * One contiguous piece of a flat view served by one terminal region (never
 * an alias or container: aliases are resolved).
 * @size: bytes; 0 means 2^64 (only a section spanning the whole space).
 * @host: host pointer for RAM/ROM sections (already offset), NULL for I/O.
 */
typedef struct {
  ArborMemoryRegion *mr;
  guint64 offset_within_address_space;
  guint64 offset_within_region;
  guint64 size;
  gpointer host;
  gboolean readonly; /* ROM */
} ArborMemorySection;

#define ARBOR_TYPE_MEMORY_LISTENER (arbor_memory_listener_get_type())
ARBOR_API G_DECLARE_INTERFACE(ArborMemoryListener, arbor_memory_listener, ARBOR, MEMORY_LISTENER, GObject)

/**
 * ArborMemoryListenerInterface:
 * Called on the thread that commits the topology (the main thread), in
 * order: begin, then section_del for every section that went away, then
 * section_add for every new one, then commit. A section that changed is
 * deleted and added again. All vfuncs are optional.
 */
struct _ArborMemoryListenerInterface {
  GTypeInterface parent_iface;

  void (*begin)(ArborMemoryListener *listener, ArborAddressSpace *as);
  void (*section_add)(ArborMemoryListener *listener, ArborAddressSpace *as, const ArborMemorySection *section);
  void (*section_del)(ArborMemoryListener *listener, ArborAddressSpace *as, const ArborMemorySection *section);
  void (*commit)(ArborMemoryListener *listener, ArborAddressSpace *as);
};

G_END_DECLS
