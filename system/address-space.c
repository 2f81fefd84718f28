/* ArborAddressSpace: a root region, its published flat view, dispatch.
 *
 * The current flat view is published through one atomic pointer. Readers
 * (any thread) enter an RCU read section, load the pointer and dispatch:
 * no lock, no shared write. The main thread renders a new view at commit,
 * swaps the pointer and hands the old view to arbor_rcu_call(); it is freed
 * -- dropping its refs on regions and owners -- after every dispatch that
 * could have seen it has returned.
 */
#include "memory-private.h"

#include <string.h>

/* Unassigned-access log: at most this many lines per second per space. */
#define ARBOR_UNASSIGNED_LOG_PER_SECOND 10

struct _ArborAddressSpace {
  GObject parent_instance;

  char *name;                 /* owned */
  ArborMemoryRegion *root;    /* owned ref */
  ArborAddressSpaceKind kind;

  ArborFlatView *current;     /* owned; atomic pointer, RCU-published */
  guint transaction_depth;    /* main thread */
  gboolean pending;           /* a change awaits the outermost commit */
  guint64 generation;         /* atomic */
  GPtrArray *listeners;       /* owned refs */

  /* Rate limit of the unassigned-access log (atomics, any thread). */
  gint64 log_window;          /* second of the current window */
  gint log_count;             /* lines logged in the window */
  gint log_suppressed;        /* lines dropped in the window */
};

G_DEFINE_FINAL_TYPE(ArborAddressSpace, arbor_address_space, G_TYPE_OBJECT)

static void arbor_address_space_update(ArborAddressSpace *as);

static void
arbor_address_space_dispose(GObject *object)
{
  ArborAddressSpace *as = ARBOR_ADDRESS_SPACE(object);
  ArborFlatView *old;

  if (as->root != NULL) {
    arbor_memory_region_detach_address_space(as->root, as);
    g_clear_object(&as->root);
  }
  g_clear_pointer(&as->listeners, g_ptr_array_unref);
  old = __atomic_exchange_n(&as->current, NULL, __ATOMIC_SEQ_CST);
  if (old != NULL)
    arbor_flat_view_retire(old);
  G_OBJECT_CLASS(arbor_address_space_parent_class)->dispose(object);
}

static void
arbor_address_space_finalize(GObject *object)
{
  ArborAddressSpace *as = ARBOR_ADDRESS_SPACE(object);

  g_free(as->name);
  G_OBJECT_CLASS(arbor_address_space_parent_class)->finalize(object);
}

static void
arbor_address_space_class_init(ArborAddressSpaceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->dispose = arbor_address_space_dispose;
  object_class->finalize = arbor_address_space_finalize;
}

static void
arbor_address_space_init(ArborAddressSpace *as)
{
  as->listeners = g_ptr_array_new_with_free_func(g_object_unref);
}

ArborAddressSpace *
arbor_address_space_new(const char *name, ArborMemoryRegion *root, ArborAddressSpaceKind kind)
{
  ArborAddressSpace *as;

  g_return_val_if_fail(ARBOR_IS_MEMORY_REGION(root), NULL);
  g_return_val_if_fail(arbor_memory_region_get_container(root) == NULL, NULL);

  as = g_object_new(ARBOR_TYPE_ADDRESS_SPACE, NULL);
  as->name = g_strdup(name != NULL ? name : "anonymous");
  as->root = g_object_ref(root);
  as->kind = kind;
  arbor_memory_region_attach_address_space(root, as);
  as->current = arbor_flat_view_render(root);
  as->generation = 1;
  return as;
}

const char *
arbor_address_space_get_name(ArborAddressSpace *as)
{
  g_return_val_if_fail(ARBOR_IS_ADDRESS_SPACE(as), NULL);
  return as->name;
}

ArborMemoryRegion *
arbor_address_space_get_root(ArborAddressSpace *as)
{
  g_return_val_if_fail(ARBOR_IS_ADDRESS_SPACE(as), NULL);
  return as->root;
}

ArborAddressSpaceKind
arbor_address_space_get_kind(ArborAddressSpace *as)
{
  g_return_val_if_fail(ARBOR_IS_ADDRESS_SPACE(as), ARBOR_ADDRESS_SPACE_MEMORY);
  return as->kind;
}

guint64
arbor_address_space_count_region(ArborAddressSpace *as, ArborMemoryRegion *mr)
{
  /* Main thread: the writer's own view cannot go away under us. */
  return as->current != NULL ? arbor_flat_view_count(as->current, mr) : 0;
}

guint64
arbor_address_space_get_generation(ArborAddressSpace *as)
{
  g_return_val_if_fail(ARBOR_IS_ADDRESS_SPACE(as), 0);
  return __atomic_load_n(&as->generation, __ATOMIC_RELAXED);
}

/* Transactions and publication ------------------------------------------- */

void
arbor_address_space_begin(ArborAddressSpace *as)
{
  g_return_if_fail(ARBOR_IS_ADDRESS_SPACE(as));
  as->transaction_depth++;
}

void
arbor_address_space_commit(ArborAddressSpace *as)
{
  g_return_if_fail(ARBOR_IS_ADDRESS_SPACE(as));
  g_return_if_fail(as->transaction_depth > 0);

  if (--as->transaction_depth == 0 && as->pending)
    arbor_address_space_update(as);
}

void
arbor_address_space_topology_changed(ArborAddressSpace *as)
{
  if (as->transaction_depth > 0)
    as->pending = TRUE;
  else
    arbor_address_space_update(as);
}

typedef void (*ArborSectionFunc)(ArborMemoryListener *listener, ArborAddressSpace *as,
                                 const ArborMemorySection *section);

static void
arbor_listeners_section(ArborAddressSpace *as, gboolean add, const ArborFlatView *fv, gsize idx)
{
  ArborMemorySection section;

  arbor_flat_view_section(fv, idx, &section);
  for (guint i = 0; i < as->listeners->len; i++) {
    ArborMemoryListener *l = g_ptr_array_index(as->listeners, i);
    ArborMemoryListenerInterface *iface = ARBOR_MEMORY_LISTENER_GET_IFACE(l);
    ArborSectionFunc fn = add ? iface->section_add : iface->section_del;
    if (fn != NULL)
      fn(l, as, &section);
  }
}

static void
arbor_listeners_begin_commit(ArborAddressSpace *as, gboolean begin)
{
  for (guint i = 0; i < as->listeners->len; i++) {
    ArborMemoryListener *l = g_ptr_array_index(as->listeners, i);
    ArborMemoryListenerInterface *iface = ARBOR_MEMORY_LISTENER_GET_IFACE(l);
    void (*fn)(ArborMemoryListener *, ArborAddressSpace *) = begin ? iface->begin : iface->commit;
    if (fn != NULL)
      fn(l, as);
  }
}

static gboolean
arbor_range_same(const ArborFlatView *fa, gsize ia, const ArborFlatView *fb, gsize ib)
{
  const ArborFlatRange *a = &fa->ranges[ia], *b = &fb->ranges[ib];

  return fa->starts[ia] == fb->starts[ib] && a->last == b->last && a->mr == b->mr && a->offset == b->offset;
}

/* Tells listeners what changed between two views: every old range with no
 * identical range in the new view is deleted, then every new range with no
 * identical old one is added. Both are sorted: one merge pass each. */
static void
arbor_address_space_notify(ArborAddressSpace *as, const ArborFlatView *old, const ArborFlatView *new)
{
  if (as->listeners->len == 0)
    return;
  arbor_listeners_begin_commit(as, TRUE);
  for (int pass = 0; pass < 2; pass++) {
    const ArborFlatView *from = pass == 0 ? old : new;
    const ArborFlatView *other = pass == 0 ? new : old;
    gsize j = 0;

    for (gsize i = 0; i < from->n; i++) {
      while (j < other->n && other->starts[j] < from->starts[i])
        j++;
      if (j < other->n && arbor_range_same(from, i, other, j))
        continue;
      arbor_listeners_section(as, pass == 1, from, i);
    }
  }
  arbor_listeners_begin_commit(as, FALSE);
}

static void
arbor_address_space_update(ArborAddressSpace *as)
{
  ArborFlatView *old = as->current;
  ArborFlatView *new;

  as->pending = FALSE;
  if (as->root == NULL)
    return;
  new = arbor_flat_view_render(as->root);
  if (arbor_flat_view_equal(old, new)) {
    arbor_flat_view_free(new);
    return;
  }
  /* Publish: readers see the old or the new view, whole. */
  __atomic_store_n(&as->current, new, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&as->generation, 1, __ATOMIC_RELAXED);
  /* A listener may change the topology again: a nested update retires
   * @new, which must stay valid until our diff is done. */
  arbor_rcu_read_lock();
  arbor_address_space_notify(as, old, new);
  arbor_rcu_read_unlock();
  arbor_flat_view_retire(old);
}

/* Unassigned accesses -------------------------------------------------------- */

static void
arbor_address_space_log_unassigned(ArborAddressSpace *as, const char *what, guint64 addr, guint size)
{
  gint64 now, window;

  if (g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    return;
  now = g_get_monotonic_time() / G_USEC_PER_SEC;
  window = __atomic_load_n(&as->log_window, __ATOMIC_RELAXED);
  if (window != now && __atomic_compare_exchange_n(&as->log_window, &window, now, FALSE,
                                                   __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    gint suppressed = __atomic_exchange_n(&as->log_suppressed, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&as->log_count, 0, __ATOMIC_RELAXED);
    if (suppressed > 0)
      g_debug("%s: (%d more unassigned accesses suppressed)", as->name, suppressed);
  }
  if (__atomic_fetch_add(&as->log_count, 1, __ATOMIC_RELAXED) < ARBOR_UNASSIGNED_LOG_PER_SECOND)
    g_debug("%s: unassigned %s of size %u at 0x%" G_GINT64_MODIFIER "x", as->name, what, size, addr);
  else
    __atomic_fetch_add(&as->log_suppressed, 1, __ATOMIC_RELAXED);
}

static inline guint8
arbor_address_space_unassigned_byte(ArborAddressSpace *as)
{
  return as->kind == ARBOR_ADDRESS_SPACE_IO ? 0xff : 0x00;
}

/* Dispatch --------------------------------------------------------------------- */

static inline ArborFlatView *
arbor_address_space_view(ArborAddressSpace *as)
{
  return __atomic_load_n(&as->current, __ATOMIC_ACQUIRE);
}

static inline gboolean
arbor_size_valid(guint size)
{
  return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Largest power of two <= n (n in 1..8). */
static inline guint
arbor_pow2_floor(guint64 n)
{
  return n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1;
}

/* Slow path of a sized access: it straddles ranges or holes. Each part is
 * dispatched to its own range; hole bytes read as 0 / 0xff. */
static ArborMemTxResult
arbor_address_space_split(ArborAddressSpace *as, ArborFlatView *fv, guint64 addr, guint size,
                          guint64 *value, gboolean is_write)
{
  ArborMemTxResult res = ARBOR_MEMTX_OK;
  guint64 v = 0;
  guint pos = 0;

  while (pos < size) {
    guint64 a = addr + pos;
    gssize idx = fv != NULL ? arbor_flat_view_find(fv, a) : -1;
    guint64 n;

    if (idx < 0) {
      gsize next = fv != NULL ? arbor_flat_view_next(fv, a) : 0;
      n = size - pos;
      if (fv != NULL && next < fv->n && fv->starts[next] - a < n)
        n = fv->starts[next] - a;
      arbor_address_space_log_unassigned(as, is_write ? "write" : "read", a, (guint)n);
      if (!is_write)
        for (guint i = 0; i < n; i++)
          v |= (guint64)arbor_address_space_unassigned_byte(as) << ((pos + i) * 8);
      if (res == ARBOR_MEMTX_OK)
        res = ARBOR_MEMTX_DECODE_ERROR;
      pos += (guint)n;
      continue;
    }
    {
      ArborFlatRange *r = &fv->ranges[idx];
      guint64 avail = r->last - a;
      guint piece;
      ArborMemTxResult pr;
      guint64 off = r->offset + (a - arbor_flat_view_start(fv, (gsize)idx));

      n = size - pos;
      if (avail < n - 1)
        n = avail + 1;
      piece = arbor_pow2_floor(n);
      if (is_write) {
        guint64 pv = (*value >> (pos * 8)) & (piece == 8 ? G_MAXUINT64 : ((G_GUINT64_CONSTANT(1) << (piece * 8)) - 1));
        pr = arbor_memory_region_access_write(r->mr, off, piece, pv);
      } else {
        guint64 pv = 0;
        pr = arbor_memory_region_access_read(r->mr, off, piece, &pv);
        if (pr == ARBOR_MEMTX_DECODE_ERROR && as->kind == ARBOR_ADDRESS_SPACE_IO)
          pv = G_MAXUINT64;
        if (piece < 8)
          pv &= (G_GUINT64_CONSTANT(1) << (piece * 8)) - 1;
        v |= pv << (pos * 8);
      }
      if (res == ARBOR_MEMTX_OK)
        res = pr;
      pos += piece;
    }
  }
  if (!is_write)
    *value = v;
  return res;
}

/* One range serves the whole access: the common case. Plain little-endian
 * callbacks at a size they take are called straight from the range (no
 * region object touched but its counter); the rest goes through the
 * general size-adjusting path. */
static inline ArborMemTxResult
arbor_range_read(ArborAddressSpace *as, ArborFlatView *fv, guint shard, gsize idx, guint64 addr, guint size,
                 guint64 *value)
{
  ArborFlatRange *r = &fv->ranges[idx];
  guint64 delta = addr - arbor_flat_view_start(fv, idx);
  guint64 off = r->offset + delta;
  ArborMemTxResult res;

  if (G_LIKELY((r->fast_sizes & size) && (r->unaligned || (off & (size - 1)) == 0))) {
    arbor_counter_inc(arbor_flat_view_counter(fv, shard, idx));
    *value = r->read(r->ptr, off, size) & arbor_size_mask(size);
    return ARBOR_MEMTX_OK;
  }
  if (r->kind == ARBOR_MEMORY_REGION_RAM || r->kind == ARBOR_MEMORY_REGION_ROM) {
    arbor_counter_inc(arbor_flat_view_counter(fv, shard, idx));
    *value = arbor_le_load((const guint8 *)r->ptr + delta, size);
    return ARBOR_MEMTX_OK;
  }
  res = arbor_memory_region_access_read(r->mr, off, size, value);
  /* Nothing answered on a port: the bus floats high. */
  if (G_UNLIKELY(res == ARBOR_MEMTX_DECODE_ERROR) && as->kind == ARBOR_ADDRESS_SPACE_IO)
    *value = arbor_size_mask(size);
  return res;
}

static inline ArborMemTxResult
arbor_range_write(ArborFlatView *fv, guint shard, gsize idx, guint64 addr, guint size, guint64 value)
{
  ArborFlatRange *r = &fv->ranges[idx];
  guint64 delta = addr - arbor_flat_view_start(fv, idx);
  guint64 off = r->offset + delta;

  if (G_LIKELY((r->fast_sizes & size) && (r->unaligned || (off & (size - 1)) == 0))) {
    arbor_counter_inc(arbor_flat_view_counter(fv, shard, idx));
    r->write(r->ptr, off, size, value & arbor_size_mask(size));
    return ARBOR_MEMTX_OK;
  }
  if (r->kind == ARBOR_MEMORY_REGION_RAM) {
    arbor_counter_inc(arbor_flat_view_counter(fv, shard, idx));
    arbor_le_store((guint8 *)r->ptr + delta, size, value);
    return ARBOR_MEMTX_OK;
  }
  return arbor_memory_region_access_write(r->mr, off, size, value);
}

ArborMemTxResult
arbor_address_space_dispatch_read(ArborAddressSpace *as, guint64 addr, guint size, guint64 *value)
{
  ArborRcuReader *reader;
  ArborFlatView *fv;
  ArborMemTxResult res;
  gssize idx;

  if (G_UNLIKELY(!arbor_size_valid(size))) {
    *value = 0;
    return ARBOR_MEMTX_DECODE_ERROR;
  }
  reader = arbor_rcu_read_lock();
  fv = arbor_address_space_view(as);
  idx = G_LIKELY(fv != NULL) ? arbor_flat_view_find(fv, addr) : -1;
  if (G_LIKELY(idx >= 0 && size - 1 <= fv->ranges[idx].last - addr))
    res = arbor_range_read(as, fv, reader->shard, (gsize)idx, addr, size, value);
  else
    res = arbor_address_space_split(as, fv, addr, size, value, FALSE);
  arbor_rcu_read_unlock();
  return res;
}

ArborMemTxResult
arbor_address_space_dispatch_write(ArborAddressSpace *as, guint64 addr, guint size, guint64 value)
{
  ArborRcuReader *reader;
  ArborFlatView *fv;
  ArborMemTxResult res;
  gssize idx;

  if (G_UNLIKELY(!arbor_size_valid(size)))
    return ARBOR_MEMTX_DECODE_ERROR;
  reader = arbor_rcu_read_lock();
  fv = arbor_address_space_view(as);
  idx = G_LIKELY(fv != NULL) ? arbor_flat_view_find(fv, addr) : -1;
  if (G_LIKELY(idx >= 0 && size - 1 <= fv->ranges[idx].last - addr))
    res = arbor_range_write(fv, reader->shard, (gsize)idx, addr, size, value);
  else
    res = arbor_address_space_split(as, fv, addr, size, &value, TRUE);
  arbor_rcu_read_unlock();
  return res;
}

/* Any-length access ------------------------------------------------------------ */

typedef enum {
  ARBOR_RW_READ,
  ARBOR_RW_WRITE,
  ARBOR_RW_WRITE_ROM,
} ArborRwMode;

static ArborMemTxResult
arbor_address_space_rw(ArborAddressSpace *as, guint64 addr, guint8 *buf, gsize len, ArborRwMode mode)
{
  ArborMemTxResult res = ARBOR_MEMTX_OK;
  ArborFlatView *fv;

  arbor_rcu_read_lock();
  fv = arbor_address_space_view(as);
  while (len > 0) {
    gssize idx = fv != NULL ? arbor_flat_view_find(fv, addr) : -1;
    guint64 n;

    if (idx < 0) {
      gsize next = fv != NULL ? arbor_flat_view_next(fv, addr) : 0;
      n = len;
      if (fv != NULL && next < fv->n && fv->starts[next] - addr < n)
        n = fv->starts[next] - addr;
      arbor_address_space_log_unassigned(as, mode == ARBOR_RW_READ ? "read" : "write", addr, (guint)MIN(n, G_MAXUINT));
      if (mode == ARBOR_RW_READ)
        memset(buf, arbor_address_space_unassigned_byte(as), n);
      if (res == ARBOR_MEMTX_OK)
        res = ARBOR_MEMTX_DECODE_ERROR;
    } else {
      ArborFlatRange *r = &fv->ranges[idx];
      guint64 start = arbor_flat_view_start(fv, (gsize)idx);
      guint64 avail = r->last - addr; /* bytes left minus one */
      gboolean is_mem = r->kind == ARBOR_MEMORY_REGION_RAM || r->kind == ARBOR_MEMORY_REGION_ROM;

      n = len - 1 <= avail ? len : avail + 1;
      if (is_mem && (mode == ARBOR_RW_READ || r->kind == ARBOR_MEMORY_REGION_RAM || mode == ARBOR_RW_WRITE_ROM)) {
        guint8 *host = (guint8 *)r->ptr + (addr - start);
        if (mode == ARBOR_RW_READ)
          memcpy(buf, host, n);
        else
          memcpy(host, buf, n);
      } else if (r->kind == ARBOR_MEMORY_REGION_ROM && !arbor_memory_region_has_write_ops(r->mr)) {
        /* Write to ROM without ops: dropped. */
      } else {
        /* I/O: the largest aligned accesses the region accepts. */
        guint max = arbor_memory_region_max_access(r->mr);
        gboolean unaligned = arbor_memory_region_accepts_unaligned(r->mr);
        guint64 done = 0;

        while (done < n) {
          guint64 off = r->offset + (addr + done - start);
          guint size = arbor_pow2_floor(MIN(n - done, (guint64)max));
          ArborMemTxResult pr;

          while (!unaligned && size > 1 && (off & (size - 1)) != 0)
            size /= 2;
          if (mode == ARBOR_RW_READ) {
            guint64 v = 0;
            pr = arbor_memory_region_access_read(r->mr, off, size, &v);
            for (guint i = 0; i < size; i++)
              buf[done + i] = (guint8)(v >> (i * 8));
          } else {
            guint64 v = 0;
            for (guint i = 0; i < size; i++)
              v |= (guint64)buf[done + i] << (i * 8);
            pr = arbor_memory_region_access_write(r->mr, off, size, v);
          }
          if (res == ARBOR_MEMTX_OK)
            res = pr;
          done += size;
        }
      }
    }
    buf += n;
    len -= n;
    addr += n;
  }
  arbor_rcu_read_unlock();
  return res;
}

ArborMemTxResult
arbor_address_space_read(ArborAddressSpace *as, guint64 addr, void *buf, gsize len)
{
  g_return_val_if_fail(ARBOR_IS_ADDRESS_SPACE(as), ARBOR_MEMTX_DECODE_ERROR);
  g_return_val_if_fail(buf != NULL || len == 0, ARBOR_MEMTX_DECODE_ERROR);
  return arbor_address_space_rw(as, addr, buf, len, ARBOR_RW_READ);
}

ArborMemTxResult
arbor_address_space_write(ArborAddressSpace *as, guint64 addr, const void *buf, gsize len)
{
  g_return_val_if_fail(ARBOR_IS_ADDRESS_SPACE(as), ARBOR_MEMTX_DECODE_ERROR);
  g_return_val_if_fail(buf != NULL || len == 0, ARBOR_MEMTX_DECODE_ERROR);
  /* The buffer is only read in write mode. */
  return arbor_address_space_rw(as, addr, (guint8 *)buf, len, ARBOR_RW_WRITE);
}

ArborMemTxResult
arbor_address_space_write_rom(ArborAddressSpace *as, guint64 addr, const void *buf, gsize len)
{
  g_return_val_if_fail(ARBOR_IS_ADDRESS_SPACE(as), ARBOR_MEMTX_DECODE_ERROR);
  g_return_val_if_fail(buf != NULL || len == 0, ARBOR_MEMTX_DECODE_ERROR);
  return arbor_address_space_rw(as, addr, (guint8 *)buf, len, ARBOR_RW_WRITE_ROM);
}

gpointer
arbor_address_space_get_host_ptr(ArborAddressSpace *as, guint64 addr, gsize len)
{
  gpointer host = NULL;
  ArborFlatView *fv;
  gssize idx;

  g_return_val_if_fail(ARBOR_IS_ADDRESS_SPACE(as), NULL);

  arbor_rcu_read_lock();
  fv = arbor_address_space_view(as);
  idx = fv != NULL ? arbor_flat_view_find(fv, addr) : -1;
  if (idx >= 0) {
    ArborFlatRange *r = &fv->ranges[idx];
    if ((r->kind == ARBOR_MEMORY_REGION_RAM || r->kind == ARBOR_MEMORY_REGION_ROM) &&
        (len == 0 || len - 1 <= r->last - addr))
      host = (guint8 *)r->ptr + (addr - arbor_flat_view_start(fv, (gsize)idx));
  }
  arbor_rcu_read_unlock();
  return host;
}

/* Listeners -------------------------------------------------------------------- */

void
arbor_address_space_add_listener(ArborAddressSpace *as, ArborMemoryListener *listener)
{
  ArborMemoryListenerInterface *iface;
  ArborFlatView *fv;
  ArborMemorySection section;

  g_return_if_fail(ARBOR_IS_ADDRESS_SPACE(as));
  g_return_if_fail(ARBOR_IS_MEMORY_LISTENER(listener));
  g_return_if_fail(!g_ptr_array_find(as->listeners, listener, NULL));

  g_ptr_array_add(as->listeners, g_object_ref(listener));
  iface = ARBOR_MEMORY_LISTENER_GET_IFACE(listener);
  fv = as->current; /* main thread: the writer's own view */
  if (iface->begin != NULL)
    iface->begin(listener, as);
  for (gsize i = 0; fv != NULL && i < fv->n; i++) {
    arbor_flat_view_section(fv, i, &section);
    if (iface->section_add != NULL)
      iface->section_add(listener, as, &section);
  }
  if (iface->commit != NULL)
    iface->commit(listener, as);
}

void
arbor_address_space_remove_listener(ArborAddressSpace *as, ArborMemoryListener *listener)
{
  ArborMemoryListenerInterface *iface;
  ArborFlatView *fv;
  ArborMemorySection section;
  guint index;

  g_return_if_fail(ARBOR_IS_ADDRESS_SPACE(as));
  g_return_if_fail(ARBOR_IS_MEMORY_LISTENER(listener));
  if (!g_ptr_array_find(as->listeners, listener, &index)) {
    g_return_if_reached();
  }

  iface = ARBOR_MEMORY_LISTENER_GET_IFACE(listener);
  fv = as->current;
  if (iface->begin != NULL)
    iface->begin(listener, as);
  for (gsize i = 0; fv != NULL && i < fv->n; i++) {
    arbor_flat_view_section(fv, i, &section);
    if (iface->section_del != NULL)
      iface->section_del(listener, as, &section);
  }
  if (iface->commit != NULL)
    iface->commit(listener, as);
  g_ptr_array_remove_index(as->listeners, index);
}

/* Dump ------------------------------------------------------------------------- */

char *
arbor_address_space_dump(ArborAddressSpace *as)
{
  GString *out;
  ArborFlatView *fv;

  g_return_val_if_fail(ARBOR_IS_ADDRESS_SPACE(as), NULL);

  out = g_string_new(NULL);
  g_string_append_printf(out, "address-space: %s\n", as->name);
  arbor_memory_dump_tree(out, as->root, 0, 1);
  g_string_append(out, "FlatView\n");
  arbor_rcu_read_lock();
  fv = arbor_address_space_view(as);
  if (fv != NULL)
    arbor_memory_dump_flat_view(out, fv);
  arbor_rcu_read_unlock();
  return g_string_free(out, FALSE);
}
