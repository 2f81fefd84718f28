/* Text dump of a region tree and a flat view (like QEMU's "info mtree").
 *
 * Format (stable, tested):
 *   <indent><start>-<end> (prio <p>, <kind>): <name>[ [disabled]]
 *   <indent><start>-<end> (prio <p>, alias): alias <name> @<target> <tstart>-<tend>
 * with 16 hex digits, two spaces of indent per depth, subregions by
 * address (then by precedence); then "FlatView" and one line per range:
 *   "  <start>-<end> (<kind>): <region> @<offset in region>"
 */
#include "memory-private.h"

static guint64
arbor_dump_last(ArborU128 start, ArborU128 size)
{
  ArborU128 last = size == 0 ? start : start + size - 1;

  return last > G_MAXUINT64 ? G_MAXUINT64 : (guint64)last;
}

void
arbor_memory_dump_tree(GString *out, ArborMemoryRegion *mr, ArborU128 base, guint depth)
{
  ArborU128 size = arbor_memory_region_size128(mr);
  ArborMemoryRegionKind kind = arbor_memory_region_get_kind(mr);
  g_autoptr(GPtrArray) sorted = NULL;
  GPtrArray *subs;
  guint64 start = base > G_MAXUINT64 ? G_MAXUINT64 : (guint64)base;

  g_string_append_printf(out, "%*s%016" G_GINT64_MODIFIER "x-%016" G_GINT64_MODIFIER "x (prio %d, %s): ",
                         (int)depth * 2, "", start, arbor_dump_last(base, size),
                         arbor_memory_region_get_priority(mr), arbor_memory_region_kind_to_string(kind));
  if (kind == ARBOR_MEMORY_REGION_ALIAS) {
    ArborMemoryRegion *target = arbor_memory_region_peek_alias_target(mr);
    guint64 off = arbor_memory_region_get_alias_offset(mr);

    g_string_append_printf(out, "alias %s @%s %016" G_GINT64_MODIFIER "x-%016" G_GINT64_MODIFIER "x",
                           arbor_memory_region_get_name(mr), arbor_memory_region_get_name(target),
                           off, arbor_dump_last(off, size));
  } else {
    g_string_append(out, arbor_memory_region_get_name(mr));
  }
  if (!arbor_memory_region_get_enabled(mr))
    g_string_append(out, " [disabled]");
  g_string_append_c(out, '\n');

  if (depth > 64)
    return; /* an alias cycle would be a bug; do not recurse forever */

  /* Subregions by address; the array is in precedence order and the
   * insertion sort below is stable, so equal addresses keep it. */
  subs = arbor_memory_region_peek_subregions(mr);
  sorted = g_ptr_array_sized_new(subs->len);
  for (guint i = 0; i < subs->len; i++) {
    ArborMemoryRegion *sub = g_ptr_array_index(subs, i);
    guint j = sorted->len;

    g_ptr_array_add(sorted, sub);
    while (j > 0 && arbor_memory_region_get_address(g_ptr_array_index(sorted, j - 1)) >
                        arbor_memory_region_get_address(sub)) {
      sorted->pdata[j] = sorted->pdata[j - 1];
      j--;
    }
    sorted->pdata[j] = sub;
  }
  for (guint i = 0; i < sorted->len; i++) {
    ArborMemoryRegion *sub = g_ptr_array_index(sorted, i);
    arbor_memory_dump_tree(out, sub, base + arbor_memory_region_get_address(sub), depth + 1);
  }
}

void
arbor_memory_dump_flat_view(GString *out, const ArborFlatView *fv)
{
  for (gsize i = 0; i < fv->n; i++) {
    const ArborFlatRange *r = &fv->ranges[i];

    g_string_append_printf(out, "  %016" G_GINT64_MODIFIER "x-%016" G_GINT64_MODIFIER "x (%s): %s @%016"
                           G_GINT64_MODIFIER "x\n",
                           fv->starts[i], r->last, arbor_memory_region_kind_to_string(r->kind),
                           arbor_memory_region_get_name(r->mr), r->offset);
  }
}
