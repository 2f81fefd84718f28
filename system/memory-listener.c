/* ArborMemoryListener: the interface type; address-space.c calls it. */
#include "memory-private.h"

G_DEFINE_INTERFACE(ArborMemoryListener, arbor_memory_listener, G_TYPE_OBJECT)

static void
arbor_memory_listener_default_init(ArborMemoryListenerInterface *iface)
{
}
