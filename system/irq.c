/* ArborIrq: a refcounted interrupt line that remembers its level. */
#include <arbor/irq.h>

struct _ArborIrq {
  gint ref_count;      /* atomic */
  gint level;          /* atomic: last level set */
  guint n;             /* line number passed to the handler */
  ArborIrqHandler handler;
  gpointer opaque;     /* unowned */
};

ArborIrq *
arbor_irq_new(ArborIrqHandler handler, gpointer opaque, guint n)
{
  ArborIrq *irq = g_new0(ArborIrq, 1);

  irq->ref_count = 1;
  irq->handler = handler;
  irq->opaque = opaque;
  irq->n = n;
  return irq;
}

ArborIrq *
arbor_irq_ref(ArborIrq *irq)
{
  g_return_val_if_fail(irq != NULL, NULL);
  g_atomic_int_inc(&irq->ref_count);
  return irq;
}

void
arbor_irq_unref(ArborIrq *irq)
{
  if (irq == NULL)
    return;
  if (g_atomic_int_dec_and_test(&irq->ref_count))
    g_free(irq);
}

void
arbor_irq_set(ArborIrq *irq, gboolean level)
{
  g_return_if_fail(irq != NULL);
  level = !!level;
  g_atomic_int_set(&irq->level, level);
  if (irq->handler != NULL)
    irq->handler(irq->opaque, irq->n, level);
}

gboolean
arbor_irq_get_level(ArborIrq *irq)
{
  g_return_val_if_fail(irq != NULL, FALSE);
  return g_atomic_int_get(&irq->level);
}

guint
arbor_irq_get_number(ArborIrq *irq)
{
  g_return_val_if_fail(irq != NULL, 0);
  return irq->n;
}

void
arbor_irq_pulse(ArborIrq *irq)
{
  arbor_irq_set(irq, TRUE);
  arbor_irq_set(irq, FALSE);
}
