/* Internals of the memory API: RCU, region accessors, flat views.
 * Only libarbor's memory component (system/rcu.c, memory-*.c, flat-view.c,
 * address-space.c) uses the inline parts; tests use the ARBOR_API ones. */
#pragma once

#include <arbor/address-space.h>
#include <arbor/memory-listener.h>
#include <arbor/memory-region.h>

G_BEGIN_DECLS

#if defined(__SANITIZE_THREAD__)
#define ARBOR_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ARBOR_TSAN 1
#endif
#endif

#ifdef ARBOR_TSAN
/* GLib and GObject are not instrumented: their futex locks and refcount
 * atomics create happens-before edges ThreadSanitizer cannot see. We
 * annotate the ones the memory API relies on (object lifetimes, locks). */
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#endif

static inline void
arbor_tsan_acquire(void *addr)
{
#ifdef ARBOR_TSAN
  __tsan_acquire(addr);
#endif
}

static inline void
arbor_tsan_release(void *addr)
{
#ifdef ARBOR_TSAN
  __tsan_release(addr);
#endif
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
} ArborRcuReader;

/* Thread-local pointer to this thread's record (NULL until first use). */
extern __thread ArborRcuReader *arbor_rcu_reader_tls __attribute__((tls_model("initial-exec")));

ArborRcuReader *arbor_rcu_register_thread(void);

/* Read side: lock-free and wait-free; no shared cache line is written. */
static inline void
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
}

static inline void
arbor_rcu_read_unlock(void)
{
  ArborRcuReader *r = arbor_rcu_reader_tls;

  if (--r->nesting == 0)
    __atomic_store_n(&r->ctr, 0, __ATOMIC_RELEASE);
}

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
ArborMemTxResult arbor_memory_region_access_read(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 *value);
ArborMemTxResult arbor_memory_region_access_write(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 value);
/* Largest access the region's ops accept (valid.max, default 4), 8 for RAM. */
guint arbor_memory_region_max_access(ArborMemoryRegion *mr);
gboolean arbor_memory_region_accepts_unaligned(ArborMemoryRegion *mr);
gboolean arbor_memory_region_has_write_ops(ArborMemoryRegion *mr);

/* Address space internals (system/address-space.c). */
void arbor_address_space_topology_changed(ArborAddressSpace *as);

/* ------------------------------------------------------------------ */
/* Flat views (system/flat-view.c)                                     */
/* ------------------------------------------------------------------ */

/* One contiguous piece of the view served by one terminal region. */
typedef struct {
  guint64 start;            /* address in the address space */
  guint64 last;             /* inclusive, so 2^64 fits */
  ArborMemoryRegion *mr;    /* terminal region; ref held by the view */
  guint64 offset;           /* offset of @start inside @mr */
  guint8 *host;             /* RAM/ROM host memory at @start, else NULL */
  ArborMemoryRegionKind kind;
} ArborFlatRange;

/* Immutable once published; freed through arbor_rcu_call(). */
typedef struct {
  gsize n;
  guint64 *starts;          /* n entries, sorted; searched on the fast path */
  ArborFlatRange *ranges;   /* n entries, same order; owned */
  GPtrArray *refs;          /* owned: refs on regions and their owners */
} ArborFlatView;

ArborFlatView *arbor_flat_view_render(ArborMemoryRegion *root);
void arbor_flat_view_free(gpointer view);
gboolean arbor_flat_view_equal(const ArborFlatView *a, const ArborFlatView *b);
void arbor_flat_view_section(const ArborFlatRange *r, ArborMemorySection *section);

/* Index of the range containing @addr, or -1. Branch-free binary search
 * over the contiguous start array: O(log n), no mispredicted branches. */
static inline gssize
arbor_flat_view_find(const ArborFlatView *fv, guint64 addr)
{
  const guint64 *base = fv->starts;
  gsize n = fv->n;
  gsize idx;

  if (G_UNLIKELY(n == 0))
    return -1;
  while (n > 1) {
    gsize half = n / 2;
    base = (base[half] <= addr) ? base + half : base;
    n -= half;
  }
  idx = (gsize)(base - fv->starts);
  if (*base > addr || addr > fv->ranges[idx].last)
    return -1;
  return (gssize)idx;
}

/* Index of the first range starting after @addr, or fv->n. */
gsize arbor_flat_view_next(const ArborFlatView *fv, guint64 addr);

/* Dump helpers (system/memory-dump.c). */
void arbor_memory_dump_tree(GString *out, ArborMemoryRegion *mr, ArborU128 base, guint depth);
void arbor_memory_dump_flat_view(GString *out, const ArborFlatView *fv);

G_END_DECLS
