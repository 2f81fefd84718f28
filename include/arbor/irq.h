/* ArborIrq: one interrupt line from a device to whoever handles it. */
#pragma once

#include <arbor/arbor-types.h>

G_BEGIN_DECLS

/* Called with the new level whenever the line is set (also when the level
 * does not change; handlers filter if they care). Any thread. */
typedef void (*ArborIrqHandler)(gpointer opaque, guint n, gboolean level);

/* A line is a small refcounted object; it keeps its last level. */
ARBOR_API ArborIrq *arbor_irq_new(ArborIrqHandler handler, gpointer opaque, guint n);
ARBOR_API ArborIrq *arbor_irq_ref(ArborIrq *irq);
ARBOR_API void arbor_irq_unref(ArborIrq *irq);
ARBOR_API void arbor_irq_set(ArborIrq *irq, gboolean level);
ARBOR_API gboolean arbor_irq_get_level(ArborIrq *irq);
ARBOR_API guint arbor_irq_get_number(ArborIrq *irq);
static inline void arbor_irq_raise(ArborIrq *irq) { arbor_irq_set(irq, TRUE); }
static inline void arbor_irq_lower(ArborIrq *irq) { arbor_irq_set(irq, FALSE); }
/* Sends an edge: raise then lower. */
ARBOR_API void arbor_irq_pulse(ArborIrq *irq);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArborIrq, arbor_irq_unref)

G_END_DECLS
