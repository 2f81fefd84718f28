/* Internals of the memory API: RCU, region accessors, flat views.
 * Only libarbor's memory component (system/rcu.c, memory-*.c, flat-view.c,
 * address-space.c) uses the inline parts; tests use the ARBOR_API ones. */
#pragma once

#include <string.h>

#include <arbor/address-space.h>
#include <arbor/memory-listener.h>
#include <arbor/memory-region.h>

#include "tsan-private.h"

G_BEGIN_DECLS

/* Value helpers shared by region and address-space dispatch. Guest
 * memory and device values are little-endian (the x86 view). */
static inline guint64
arbor_size_mask(guint size)
{
  return size >= 8 ? G_MAXUINT64 : ((G_GUINT64_CONSTANT(1) << (size * 8)) - 1);
}

static inline guint64
arbor_le_load(const guint8 *p, guint size)
{
  switch (size) {
  case 1:
    return *p;
  case 2: {
    guint16 v;
    memcpy(&v, p, 2);
    return GUINT16_FROM_LE(v);
  }
  case 4: {
    guint32 v;
    memcpy(&v, p, 4);
    return GUINT32_FROM_LE(v);
  }
  default: {
    guint64 v;
    memcpy(&v, p, 8);
    return GUINT64_FROM_LE(v);
  }
  }
}

static inline void
arbor_le_store(guint8 *p, guint size, guint64 value)
{
  switch (size) {
  case 1:
    *p = (guint8)value;
    break;
  case 2: {
    guint16 v = GUINT16_TO_LE((guint16)value);
    memcpy(p, &v, 2);
    break;
  }
  case 4: {
    guint32 v = GUINT32_TO_LE((guint32)value);
    memcpy(p, &v, 4);
    break;
  }
  default: {
    guint64 v = GUINT64_TO_LE(value);
    memcpy(p, &v, 8);
    break;
  }
  }
}

/* g_object_unref() that tells ThreadSanitizer about the refcount's
 * release ordering (finalize acquires it). */
static inline void
arbor_object_unref(gpointer object)
{
  arbor_tsan_release(object);
  g_object_unref(object);
}

/* ------------------------------------------------------------------ */
/* RCU (system/rcu.c)                                                  */
/* ------------------------------------------------------------------ */

/* One per thread that ever entered a read section. @ctr is the grace-period
 * counter snapshot taken when the outermost read section started, 0 while
 * the thread is quiescent; only the owner thread writes it, the writer side
 * reads it. @nesting is private to the owner thread. */
typedef struct _ArborRcuReader {
  guint64 ctr;                  /* atomic */
  guint nesting;                /* owner thread only */
  gboolean reader_fence;        /* copy of the registry's choice (constant) */
  const guint64 *gp;            /* the registry's grace-period counter */
  guint shard;                  /* which copy of the flat views' counters this thread bumps */
} ArborRcuReader;

/* Records are allocated one per cache line: each reader writes its own
 * record on every dispatch and must not share the line with another. */
#define ARBOR_RCU_READER_ALLOC 64
G_STATIC_ASSERT(sizeof(ArborRcuReader) <= ARBOR_RCU_READER_ALLOC);

/* Thread-local pointer to this thread's record (NULL until first use). */
extern __thread ArborRcuReader *arbor_rcu_reader_tls __attribute__((tls_model("initial-exec")));

ArborRcuReader *arbor_rcu_register_thread(void);

/* Read side: lock-free and wait-free; no shared cache line is written.
 * Returns this thread's record (its shard is used for counters). */
static inline ArborRcuReader *
arbor_rcu_read_lock(void)
{
  ArborRcuReader *r = arbor_rcu_reader_tls;

  if (G_UNLIKELY(r == NULL))
    r = arbor_rcu_register_thread();
  if (r->nesting++ == 0) {
    __atomic_store_n(&r->ctr, __atomic_load_n(r->gp, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
    /* Order the ctr store before the loads of published pointers. When the
     * writer uses membarrier(2) it does the ordering for us. */
    if (r->reader_fence)
      __atomic_thread_fence(__ATOMIC_SEQ_CST);
    else
      __atomic_signal_fence(__ATOMIC_SEQ_CST);
  }
  return r;
}

static inline void
arbor_rcu_read_unlock(void)
{
  ArborRcuReader *r = arbor_rcu_reader_tls;

  if (--r->nesting == 0)
    __atomic_store_n(&r->ctr, 0, __ATOMIC_RELEASE);
}

/* Number of registered reader records (tests: exited threads unregister). */
ARBOR_API guint arbor_rcu_count_readers(void);
/* TRUE when the calling thread is inside a read section. */
ARBOR_API gboolean arbor_rcu_read_locked(void);

/* Runs @func(@data) on the reclaim thread once every read section that
 * could have seen @data has ended. Never blocks. */
ARBOR_API void arbor_rcu_call(GDestroyNotify func, gpointer data);
/* Waits (sleeping) for a grace period. Not inside a read section. */
ARBOR_API void arbor_rcu_synchronize(void);
/* Waits (sleeping) until every arbor_rcu_call() queued before has run.
 * Not inside a read section. Tests use it before checking refcounts. */
ARBOR_API void arbor_rcu_barrier(void);

/* ------------------------------------------------------------------ */
/* Regions (system/memory-region.c)                                    */
/* ------------------------------------------------------------------ */

typedef unsigned __int128 ArborU128;
typedef struct _ArborFlatRange ArborFlatRange;

/* Size as a 129-bit-safe value: 2^64 for G_MAXUINT64. */
ArborU128 arbor_memory_region_size128(ArborMemoryRegion *mr);
/* Subregions, highest priority first, newest first among equals. Borrowed. */
GPtrArray *arbor_memory_region_peek_subregions(ArborMemoryRegion *mr);
ArborMemoryRegion *arbor_memory_region_peek_alias_target(ArborMemoryRegion *mr);
guint64 arbor_memory_region_get_alias_offset(ArborMemoryRegion *mr);
const char *arbor_memory_region_kind_to_string(ArborMemoryRegionKind kind);

/* The root records which address spaces render it. */
void arbor_memory_region_attach_address_space(ArborMemoryRegion *root, ArborAddressSpace *as);
void arbor_memory_region_detach_address_space(ArborMemoryRegion *root, ArborAddressSpace *as);

/* Access to a terminal region (io/ram/rom) at @addr inside it; the caller
 * has checked the bounds. Counts the access. Any thread. */
/* Adds @delta to the region's own counter (atomic). */
void arbor_memory_region_add_count(ArborMemoryRegion *mr, guint64 delta);
/* Fills the fast-path fields of a flat range for @mr. */
void arbor_memory_region_fill_fast_path(ArborMemoryRegion *mr, ArborFlatRange *range);

/* Statistics counter bump of a flat range: relaxed, without a locked
 * instruction. Counters are per view and sharded per thread (see
 * ArborFlatView), so the fast path never touches the region object and
 * two vCPUs rarely share a counter (if they do, a count may be lost). */
static inline void
arbor_counter_inc(guint64 *counter)
{
  __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}
ArborMemTxResult arbor_memory_region_access_read(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 *value);
ArborMemTxResult arbor_memory_region_access_write(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 value);
/* Largest access the region's ops accept (valid.max, default 4), 8 for RAM. */
guint arbor_memory_region_max_access(ArborMemoryRegion *mr);
gboolean arbor_memory_region_accepts_unaligned(ArborMemoryRegion *mr);
gboolean arbor_memory_region_has_write_ops(ArborMemoryRegion *mr);

/* Address space internals (system/address-space.c). */
void arbor_address_space_topology_changed(ArborAddressSpace *as);
/* Dispatches of @mr counted in the current view (main thread). */
guint64 arbor_address_space_count_region(ArborAddressSpace *as, ArborMemoryRegion *mr);

/* ------------------------------------------------------------------ */
/* Flat views (system/flat-view.c)                                     */
/* ------------------------------------------------------------------ */

/* One contiguous piece of the view served by one terminal region. Exactly
 * one cache line: everything the dispatch fast path needs, so that it does
 * not have to read the region object. Its start is fv->starts[index]. */
struct _ArborFlatRange {
  guint64 last;             /* inclusive, so 2^64 fits */
  guint64 offset;           /* offset of the start inside @mr */
  guint8 kind;              /* ArborMemoryRegionKind */
  guint8 fast_sizes;        /* I/O sizes (1|2|4|8 bits) the callbacks take as they are */
  guint8 unaligned;         /* valid.unaligned */
  guint8 padding[5];
  guint64 (*read)(gpointer opaque, guint64 addr, guint size);             /* fast path */
  void (*write)(gpointer opaque, guint64 addr, guint size, guint64 value); /* fast path */
  gpointer ptr;             /* RAM/ROM: host memory at the start; I/O: opaque */
  guint64 spare;
  ArborMemoryRegion *mr;    /* terminal region; ref held by the view */
};

#define ARBOR_FLAT_VIEW_FANOUT 16
/* Dispatch counters are kept in this many copies; a thread bumps the copy
 * of its shard, so vCPUs dispatching to one device do not fight over a
 * cache line. */
#define ARBOR_FLAT_VIEW_COUNT_SHARDS 8
#define ARBOR_FLAT_VIEW_MAX_LEVELS 16

/* Immutable once published; freed through arbor_rcu_call().
 *
 * Lookup is a static B+-tree over the sorted range starts ("S-tree"):
 * level 0 is the starts array itself, padded with G_MAXUINT64 to whole
 * blocks of 16; level l+1 holds the first key of every block of level l
 * but the first. One block per level is scanned with 16 independent
 * compares: 3 levels (3-6 cache lines) for 4096 ranges, instead of 12
 * dependent loads for a binary search. */
typedef struct {
  gsize n;
  guint64 *starts;          /* owned, level 0: n sorted starts + padding */
  ArborFlatRange *ranges;   /* owned, n entries, same order, 64-byte aligned */
  guint n_levels;
  guint64 *level[ARBOR_FLAT_VIEW_MAX_LEVELS]; /* level[0] == starts; others owned */
  GPtrArray *refs;          /* owned: refs on regions and their owners */
  guint64 *counts;          /* owned: [shard * count_stride + index], 64-byte aligned */
  gsize count_stride;       /* n rounded up to a cache line of counters */
  guint64 *folded;          /* owned: range counts already folded at retire */
} ArborFlatView;

/* Dispatches counted for range @idx, all shards. */
static inline guint64
arbor_flat_view_range_count(const ArborFlatView *fv, gsize idx)
{
  guint64 sum = 0;

  for (guint s = 0; s < ARBOR_FLAT_VIEW_COUNT_SHARDS; s++)
    sum += __atomic_load_n(&fv->counts[s * fv->count_stride + idx], __ATOMIC_RELAXED);
  return sum;
}

/* The counter a thread of shard @shard bumps for range @idx. */
static inline guint64 *
arbor_flat_view_counter(ArborFlatView *fv, guint shard, gsize idx)
{
  return &fv->counts[shard * fv->count_stride + idx];
}

ArborFlatView *arbor_flat_view_render(ArborMemoryRegion *root);
/* Frees a view that was never published. */
void arbor_flat_view_free(gpointer view);
/* Unpublished view: folds its range counters into the regions now, frees
 * it after a grace period (folding the last late counts then). */
void arbor_flat_view_retire(ArborFlatView *fv);
/* Dispatch count of @mr in @fv's ranges. */
guint64 arbor_flat_view_count(const ArborFlatView *fv, ArborMemoryRegion *mr);
gboolean arbor_flat_view_equal(const ArborFlatView *a, const ArborFlatView *b);
void arbor_flat_view_section(const ArborFlatView *fv, gsize idx, ArborMemorySection *section);
gssize arbor_flat_view_find_slow(const ArborFlatView *fv, guint64 addr);

static inline guint64
arbor_flat_view_start(const ArborFlatView *fv, gsize idx)
{
  return fv->starts[idx];
}

/* Number of keys <= @addr in one block of the tree. */
static inline guint
arbor_flat_view_block_rank(const guint64 *block, guint64 addr)
{
  guint c = 0;

#pragma GCC unroll 16
  for (guint i = 0; i < ARBOR_FLAT_VIEW_FANOUT; i++)
    c += block[i] <= addr;
  return c;
}

/* Index of the range containing @addr, or -1. O(log16 n). */
static inline gssize
arbor_flat_view_find(const ArborFlatView *fv, guint64 addr)
{
  gsize pos = 0;

  /* The padding keys are G_MAXUINT64: that address takes the slow way. */
  if (G_UNLIKELY(addr == G_MAXUINT64))
    return arbor_flat_view_find_slow(fv, addr);
  for (guint l = fv->n_levels; l-- > 0;)
    pos = pos * ARBOR_FLAT_VIEW_FANOUT + arbor_flat_view_block_rank(fv->level[l] + pos * ARBOR_FLAT_VIEW_FANOUT, addr);
  /* pos = number of starts <= addr */
  if (pos == 0 || addr > fv->ranges[pos - 1].last)
    return -1;
  return (gssize)pos - 1;
}

/* Index of the first range starting after @addr, or fv->n. */
gsize arbor_flat_view_next(const ArborFlatView *fv, guint64 addr);

/* Dump helpers (system/memory-dump.c). */
void arbor_memory_dump_tree(GString *out, ArborMemoryRegion *mr, ArborU128 base, guint depth);
void arbor_memory_dump_flat_view(GString *out, const ArborFlatView *fv);

G_END_DECLS
