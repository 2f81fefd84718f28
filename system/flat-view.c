/* Flat views: a region tree rendered into sorted, merged, non-overlapping
 * ranges, each served by one terminal region.
 *
 * Rendering walks the tree in precedence order (a container's subregions
 * highest priority first, newest first among equals) and lets each
 * terminal region fill only the holes left by what was rendered before it.
 * So higher priorities win, and a container's holes show whatever lower
 * priority region lies beneath. The covered set is a balanced sequence,
 * so a topology of n regions renders in O(n log n).
 */
#include "memory-private.h"

typedef struct {
  ArborU128 start;
  ArborU128 end;              /* exclusive */
  ArborMemoryRegion *mr;
  ArborU128 offset;           /* offset of start inside mr */
} ArborRenderPiece;

typedef struct {
  GSequence *covered;         /* ArborRenderPiece*, sorted by start, disjoint */
} ArborRender;

static gint
arbor_render_piece_cmp(gconstpointer a, gconstpointer b, gpointer user_data)
{
  const ArborRenderPiece *pa = a, *pb = b;

  return pa->start < pb->start ? -1 : pa->start > pb->start ? 1 : 0;
}

static void
arbor_render_insert(ArborRender *ctx, GSequenceIter *before, ArborU128 start, ArborU128 end,
                    ArborMemoryRegion *mr, ArborU128 offset)
{
  ArborRenderPiece *p = g_new(ArborRenderPiece, 1);

  p->start = start;
  p->end = end;
  p->mr = mr;
  p->offset = offset;
  g_sequence_insert_before(before, p);
}

/* Fills the holes of [start, end) with @mr, where @base is the address of
 * @mr's byte 0 (may be "negative" through an alias: signed). */
static void
arbor_render_terminal(ArborRender *ctx, ArborMemoryRegion *mr, __int128 base, ArborU128 start, ArborU128 end)
{
  ArborRenderPiece key = { .start = start };
  GSequenceIter *it = g_sequence_search(ctx->covered, &key, arbor_render_piece_cmp, NULL);
  ArborU128 cur = start;

  /* A piece starting before us may still cover our beginning. */
  if (!g_sequence_iter_is_begin(it)) {
    ArborRenderPiece *prev = g_sequence_get(g_sequence_iter_prev(it));
    if (prev->end > cur)
      cur = prev->end;
  }
  while (cur < end) {
    ArborRenderPiece *next = g_sequence_iter_is_end(it) ? NULL : g_sequence_get(it);

    if (next == NULL || next->start >= end) {
      arbor_render_insert(ctx, it, cur, end, mr, cur - (ArborU128)base);
      break;
    }
    if (next->start > cur)
      arbor_render_insert(ctx, it, cur, next->start, mr, cur - (ArborU128)base);
    if (next->end > cur)
      cur = next->end;
    it = g_sequence_iter_next(it);
  }
}

static void
arbor_render_region(ArborRender *ctx, ArborMemoryRegion *mr, __int128 base, ArborU128 clip_start,
                    ArborU128 clip_end, guint depth)
{
  __int128 mr_end = base + (__int128)arbor_memory_region_size128(mr);
  ArborU128 start, end;

  g_return_if_fail(depth < 256); /* alias cycle */

  if (!arbor_memory_region_get_enabled(mr))
    return;
  /* Intersect [base, mr_end) with the clip window. */
  start = base > (__int128)clip_start ? (ArborU128)base : clip_start;
  end = mr_end < (__int128)clip_end ? (ArborU128)(mr_end < 0 ? 0 : mr_end) : clip_end;
  if (start >= end)
    return;

  switch (arbor_memory_region_get_kind(mr)) {
  case ARBOR_MEMORY_REGION_ALIAS:
    arbor_render_region(ctx, arbor_memory_region_peek_alias_target(mr),
                        base - (__int128)arbor_memory_region_get_alias_offset(mr), start, end, depth + 1);
    break;
  case ARBOR_MEMORY_REGION_CONTAINER: {
    GPtrArray *subs = arbor_memory_region_peek_subregions(mr);
    for (guint i = 0; i < subs->len; i++) {
      ArborMemoryRegion *sub = g_ptr_array_index(subs, i);
      arbor_render_region(ctx, sub, base + arbor_memory_region_get_address(sub), start, end, depth + 1);
    }
    break;
  }
  default:
    arbor_render_terminal(ctx, mr, base, start, end);
    break;
  }
}

static void
arbor_flat_view_hold(ArborFlatView *fv, GHashTable *held, gpointer object)
{
  if (object != NULL && g_hash_table_add(held, object))
    g_ptr_array_add(fv->refs, g_object_ref(object));
}

static gsize
arbor_round_up_blocks(gsize n)
{
  gsize blocks = (n + ARBOR_FLAT_VIEW_FANOUT - 1) / ARBOR_FLAT_VIEW_FANOUT;

  return MAX(blocks, 1) * ARBOR_FLAT_VIEW_FANOUT;
}

/* Builds the upper levels of the search tree over fv->starts. */
static void
arbor_flat_view_build_levels(ArborFlatView *fv)
{
  gsize len = arbor_round_up_blocks(fv->n); /* keys in the current level, padded */

  fv->level[0] = fv->starts;
  fv->n_levels = 1;
  while (len > ARBOR_FLAT_VIEW_FANOUT) {
    const guint64 *below = fv->level[fv->n_levels - 1];
    gsize blocks = len / ARBOR_FLAT_VIEW_FANOUT;
    gsize seps = blocks - 1; /* first key of every block but the first */
    gsize up_len = arbor_round_up_blocks(seps);
    guint64 *up;

    g_assert(fv->n_levels < ARBOR_FLAT_VIEW_MAX_LEVELS);
    up = g_new(guint64, up_len);
    for (gsize j = 0; j < up_len; j++)
      up[j] = j < seps ? below[(j + 1) * ARBOR_FLAT_VIEW_FANOUT] : G_MAXUINT64;
    fv->level[fv->n_levels++] = up;
    len = up_len;
  }
}

ArborFlatView *
arbor_flat_view_render(ArborMemoryRegion *root)
{
  ArborRender ctx = { .covered = g_sequence_new(g_free) };
  g_autoptr(GHashTable) held = g_hash_table_new(NULL, NULL);
  ArborFlatView *fv = g_new0(ArborFlatView, 1);
  gsize n = 0, cap, padded;
  GSequenceIter *it;
  ArborU128 prev_end = 0;

  arbor_render_region(&ctx, root, 0, 0, (ArborU128)1 << 64, 0);

  cap = (gsize)g_sequence_get_length(ctx.covered);
  padded = arbor_round_up_blocks(cap);
  fv->starts = g_new(guint64, padded);
  fv->ranges = g_aligned_alloc0(MAX(cap, 1), sizeof(ArborFlatRange), 64);
  fv->refs = g_ptr_array_new_with_free_func(arbor_object_unref);

  for (it = g_sequence_get_begin_iter(ctx.covered); !g_sequence_iter_is_end(it); it = g_sequence_iter_next(it)) {
    ArborRenderPiece *p = g_sequence_get(it);
    ArborFlatRange *prev = n > 0 ? &fv->ranges[n - 1] : NULL;

    /* Merge with the previous range when it continues it exactly. */
    if (prev != NULL && prev->mr == p->mr && prev_end == p->start &&
        (ArborU128)prev->offset + (p->start - fv->starts[n - 1]) == p->offset) {
      prev->last = (guint64)(p->end - 1);
      prev_end = p->end;
      continue;
    }
    {
      ArborFlatRange *r = &fv->ranges[n];

      fv->starts[n] = (guint64)p->start;
      r->last = (guint64)(p->end - 1);
      r->mr = p->mr;
      r->offset = (guint64)p->offset;
      arbor_memory_region_fill_fast_path(p->mr, r);
      arbor_flat_view_hold(fv, held, p->mr);
      arbor_flat_view_hold(fv, held, arbor_memory_region_get_owner(p->mr));
      prev_end = p->end;
      n++;
    }
  }
  fv->n = n;
  fv->count_stride = (MAX(n, 1) + 7) / 8 * 8;
  fv->counts = g_aligned_alloc0(fv->count_stride * ARBOR_FLAT_VIEW_COUNT_SHARDS, sizeof(guint64), 64);
  for (gsize i = n; i < padded; i++)
    fv->starts[i] = G_MAXUINT64;
  arbor_flat_view_build_levels(fv);
  g_sequence_free(ctx.covered);
  return fv;
}

void
arbor_flat_view_free(gpointer view)
{
  ArborFlatView *fv = view;

  if (fv == NULL)
    return;
  g_ptr_array_unref(fv->refs);
  g_free(fv->folded);
  g_aligned_free(fv->counts);
  for (guint l = 1; l < fv->n_levels; l++)
    g_free(fv->level[l]);
  g_free(fv->starts);
  g_aligned_free(fv->ranges);
  g_free(fv);
}

/* After the grace period: no dispatch can count in @view any more. */
static void
arbor_flat_view_reclaim(gpointer view)
{
  ArborFlatView *fv = view;

  for (gsize i = 0; i < fv->n; i++) {
    guint64 late = arbor_flat_view_range_count(fv, i) - fv->folded[i];
    if (late != 0)
      arbor_memory_region_add_count(fv->ranges[i].mr, late);
  }
  arbor_flat_view_free(fv);
}

void
arbor_flat_view_retire(ArborFlatView *fv)
{
  fv->folded = g_new(guint64, MAX(fv->n, 1));
  for (gsize i = 0; i < fv->n; i++) {
    fv->folded[i] = arbor_flat_view_range_count(fv, i);
    if (fv->folded[i] != 0)
      arbor_memory_region_add_count(fv->ranges[i].mr, fv->folded[i]);
  }
  arbor_rcu_call(arbor_flat_view_reclaim, fv);
}

guint64
arbor_flat_view_count(const ArborFlatView *fv, ArborMemoryRegion *mr)
{
  guint64 count = 0;

  for (gsize i = 0; i < fv->n; i++)
    if (fv->ranges[i].mr == mr)
      count += arbor_flat_view_range_count(fv, i);
  return count;
}

gboolean
arbor_flat_view_equal(const ArborFlatView *a, const ArborFlatView *b)
{
  if (a->n != b->n)
    return FALSE;
  for (gsize i = 0; i < a->n; i++) {
    const ArborFlatRange *ra = &a->ranges[i], *rb = &b->ranges[i];
    if (a->starts[i] != b->starts[i] || ra->last != rb->last || ra->mr != rb->mr || ra->offset != rb->offset)
      return FALSE;
  }
  return TRUE;
}

void
arbor_flat_view_section(const ArborFlatView *fv, gsize idx, ArborMemorySection *section)
{
  const ArborFlatRange *r = &fv->ranges[idx];
  guint64 start = fv->starts[idx];

  section->mr = r->mr;
  section->offset_within_address_space = start;
  section->offset_within_region = r->offset;
  section->size = r->last - start + 1; /* wraps to 0 for 2^64 */
  section->host = r->kind == ARBOR_MEMORY_REGION_RAM || r->kind == ARBOR_MEMORY_REGION_ROM ? r->ptr : NULL;
  section->readonly = r->kind == ARBOR_MEMORY_REGION_ROM;
}

gssize
arbor_flat_view_find_slow(const ArborFlatView *fv, guint64 addr)
{
  gsize pos = arbor_flat_view_next(fv, addr);

  if (pos == 0 || addr > fv->ranges[pos - 1].last)
    return -1;
  return (gssize)pos - 1;
}

gsize
arbor_flat_view_next(const ArborFlatView *fv, guint64 addr)
{
  gsize lo = 0, hi = fv->n;

  /* First index whose start is > addr. */
  while (lo < hi) {
    gsize mid = lo + (hi - lo) / 2;
    if (fv->starts[mid] <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}
