/* ArborMemoryRegion: one node of an address-space tree.
 *
 * Topology is changed on the main thread only. Every change is reported to
 * the address spaces that can see the region (walking up through containers
 * and through the aliases that point at it), which re-render their flat
 * view now or at the end of their transaction. Dispatch (any thread) never
 * touches the tree: it goes through the published flat view, which holds a
 * reference on every terminal region it can dispatch to.
 */
#include "memory-private.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct _ArborMemoryRegion {
  GObject parent_instance;

  char *name;                     /* owned */
  ArborMemoryRegionKind kind;
  guint64 size;                   /* G_MAXUINT64 means 2^64 */
  gboolean enabled;

  /* io, and rom with write ops */
  ArborMemoryRegionOps ops;       /* copied */
  gboolean has_ops;
  gpointer opaque;                /* not owned */
  guint valid_min, valid_max, impl_min, impl_max; /* defaults applied */

  /* ram / rom */
  guint8 *host;                   /* owned mmap */
  gsize host_len;

  /* alias */
  ArborMemoryRegion *alias_target; /* owned ref */
  guint64 alias_offset;
  GPtrArray *aliased_by;          /* aliases onto this region; weak, main thread */

  /* tree */
  ArborMemoryRegion *container;   /* weak: the container holds a ref on us */
  guint64 addr;
  int priority;
  GPtrArray *subregions;          /* owned refs, highest priority first, newest first */
  GPtrArray *address_spaces;      /* weak: address spaces whose root we are */

  GObject *owner;                 /* not owned */
  guint64 access_count;           /* relaxed atomic */
};

G_DEFINE_FINAL_TYPE(ArborMemoryRegion, arbor_memory_region, G_TYPE_OBJECT)

static void
arbor_memory_region_dispose(GObject *object)
{
  ArborMemoryRegion *mr = ARBOR_MEMORY_REGION(object);

  arbor_tsan_acquire(mr);
  if (mr->subregions != NULL) {
    while (mr->subregions->len > 0) {
      ArborMemoryRegion *sub = g_ptr_array_steal_index(mr->subregions, mr->subregions->len - 1);
      sub->container = NULL;
      arbor_object_unref(sub);
    }
  }
  if (mr->alias_target != NULL) {
    if (mr->alias_target->aliased_by != NULL)
      g_ptr_array_remove(mr->alias_target->aliased_by, mr);
    arbor_object_unref(g_steal_pointer(&mr->alias_target));
  }
  G_OBJECT_CLASS(arbor_memory_region_parent_class)->dispose(object);
}

static void
arbor_memory_region_finalize(GObject *object)
{
  ArborMemoryRegion *mr = ARBOR_MEMORY_REGION(object);

  arbor_tsan_acquire(mr);
  if (mr->host != NULL)
    munmap(mr->host, mr->host_len);
  g_clear_pointer(&mr->subregions, g_ptr_array_unref);
  g_clear_pointer(&mr->aliased_by, g_ptr_array_unref);
  g_clear_pointer(&mr->address_spaces, g_ptr_array_unref);
  g_free(mr->name);
  G_OBJECT_CLASS(arbor_memory_region_parent_class)->finalize(object);
}

static void
arbor_memory_region_class_init(ArborMemoryRegionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->dispose = arbor_memory_region_dispose;
  object_class->finalize = arbor_memory_region_finalize;
}

static void
arbor_memory_region_init(ArborMemoryRegion *mr)
{
  mr->enabled = TRUE;
  mr->subregions = g_ptr_array_new();
  mr->aliased_by = g_ptr_array_new();
  mr->address_spaces = g_ptr_array_new();
  mr->valid_min = mr->impl_min = 1;
  mr->valid_max = mr->impl_max = 4;
}

static ArborMemoryRegion *
arbor_memory_region_new_kind(const char *name, ArborMemoryRegionKind kind, guint64 size)
{
  ArborMemoryRegion *mr = g_object_new(ARBOR_TYPE_MEMORY_REGION, NULL);

  mr->name = g_strdup(name != NULL ? name : "anonymous");
  mr->kind = kind;
  mr->size = size;
  return mr;
}

static void
arbor_memory_region_set_ops(ArborMemoryRegion *mr, const ArborMemoryRegionOps *ops, gpointer opaque)
{
  mr->opaque = opaque;
  if (ops == NULL)
    return;
  mr->ops = *ops;
  mr->has_ops = TRUE;
  mr->valid_min = ops->valid.min_access_size ? ops->valid.min_access_size : 1;
  mr->valid_max = ops->valid.max_access_size ? ops->valid.max_access_size : 4;
  mr->impl_min = ops->impl.min_access_size ? ops->impl.min_access_size : 1;
  mr->impl_max = ops->impl.max_access_size ? ops->impl.max_access_size : 4;
  /* Sizes are powers of two up to 8; tolerate odd tables. */
  mr->valid_max = MAX(mr->valid_max, mr->valid_min);
  mr->impl_min = MIN(mr->impl_min, 8u);
  mr->impl_max = CLAMP(mr->impl_max, mr->impl_min, 8u);
}

ArborMemoryRegion *
arbor_memory_region_new_container(const char *name, guint64 size)
{
  return arbor_memory_region_new_kind(name, ARBOR_MEMORY_REGION_CONTAINER, size);
}

ArborMemoryRegion *
arbor_memory_region_new_io(const char *name, guint64 size, const ArborMemoryRegionOps *ops, gpointer opaque)
{
  ArborMemoryRegion *mr = arbor_memory_region_new_kind(name, ARBOR_MEMORY_REGION_IO, size);

  arbor_memory_region_set_ops(mr, ops, opaque);
  return mr;
}

static gboolean
arbor_memory_region_alloc_host(ArborMemoryRegion *mr, gboolean page_multiple, GError **error)
{
  gsize page = (gsize)sysconf(_SC_PAGESIZE);
  void *p;

  if (mr->size == 0 || mr->size == G_MAXUINT64 || mr->size > G_MAXSIZE - page) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID,
                "memory region '%s': invalid size %" G_GUINT64_FORMAT, mr->name, mr->size);
    return FALSE;
  }
  if (page_multiple && mr->size % page != 0) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID,
                "memory region '%s': size 0x%" G_GINT64_MODIFIER "x is not a multiple of the page size (0x%zx)",
                mr->name, mr->size, page);
    return FALSE;
  }
  mr->host_len = (gsize)((mr->size + page - 1) / page * page);
  p = mmap(NULL, mr->host_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    int saved = errno;
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_IO,
                "memory region '%s': cannot map 0x%zx bytes: %s", mr->name, mr->host_len, g_strerror(saved));
    mr->host_len = 0;
    return FALSE;
  }
  mr->host = p;
  return TRUE;
}

ArborMemoryRegion *
arbor_memory_region_new_ram(const char *name, guint64 size, GError **error)
{
  g_autoptr(ArborMemoryRegion) mr = arbor_memory_region_new_kind(name, ARBOR_MEMORY_REGION_RAM, size);

  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  if (!arbor_memory_region_alloc_host(mr, TRUE, error))
    return NULL;
  return g_steal_pointer(&mr);
}

ArborMemoryRegion *
arbor_memory_region_new_rom(const char *name, guint64 size, const ArborMemoryRegionOps *ops,
                            gpointer opaque, GError **error)
{
  g_autoptr(ArborMemoryRegion) mr = arbor_memory_region_new_kind(name, ARBOR_MEMORY_REGION_ROM, size);

  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  /* ROM images (option ROMs, firmware) need not be page multiples. */
  if (!arbor_memory_region_alloc_host(mr, FALSE, error))
    return NULL;
  arbor_memory_region_set_ops(mr, ops, opaque);
  return g_steal_pointer(&mr);
}

ArborMemoryRegion *
arbor_memory_region_new_alias(const char *name, ArborMemoryRegion *target, guint64 offset, guint64 size)
{
  ArborMemoryRegion *mr;

  g_return_val_if_fail(ARBOR_IS_MEMORY_REGION(target), NULL);

  mr = arbor_memory_region_new_kind(name, ARBOR_MEMORY_REGION_ALIAS, size);
  mr->alias_target = g_object_ref(target);
  mr->alias_offset = offset;
  g_ptr_array_add(target->aliased_by, mr);
  return mr;
}

const char *
arbor_memory_region_get_name(ArborMemoryRegion *mr)
{
  g_return_val_if_fail(ARBOR_IS_MEMORY_REGION(mr), NULL);
  return mr->name;
}

ArborMemoryRegionKind
arbor_memory_region_get_kind(ArborMemoryRegion *mr)
{
  g_return_val_if_fail(ARBOR_IS_MEMORY_REGION(mr), ARBOR_MEMORY_REGION_CONTAINER);
  return mr->kind;
}

guint64
arbor_memory_region_get_size(ArborMemoryRegion *mr)
{
  g_return_val_if_fail(ARBOR_IS_MEMORY_REGION(mr), 0);
  return mr->size;
}

ArborU128
arbor_memory_region_size128(ArborMemoryRegion *mr)
{
  return mr->size == G_MAXUINT64 ? ((ArborU128)1 << 64) : (ArborU128)mr->size;
}

gpointer
arbor_memory_region_get_ram_ptr(ArborMemoryRegion *mr)
{
  g_return_val_if_fail(ARBOR_IS_MEMORY_REGION(mr), NULL);
  return mr->host;
}

gboolean
arbor_memory_region_get_enabled(ArborMemoryRegion *mr)
{
  g_return_val_if_fail(ARBOR_IS_MEMORY_REGION(mr), FALSE);
  return mr->enabled;
}

guint64
arbor_memory_region_get_address(ArborMemoryRegion *mr)
{
  g_return_val_if_fail(ARBOR_IS_MEMORY_REGION(mr), 0);
  return mr->addr;
}

int
arbor_memory_region_get_priority(ArborMemoryRegion *mr)
{
  g_return_val_if_fail(ARBOR_IS_MEMORY_REGION(mr), 0);
  return mr->priority;
}

ArborMemoryRegion *
arbor_memory_region_get_container(ArborMemoryRegion *mr)
{
  g_return_val_if_fail(ARBOR_IS_MEMORY_REGION(mr), NULL);
  return mr->container;
}

void
arbor_memory_region_set_owner(ArborMemoryRegion *mr, GObject *owner)
{
  g_return_if_fail(ARBOR_IS_MEMORY_REGION(mr));
  g_return_if_fail(owner == NULL || G_IS_OBJECT(owner));
  mr->owner = owner;
}

GObject *
arbor_memory_region_get_owner(ArborMemoryRegion *mr)
{
  g_return_val_if_fail(ARBOR_IS_MEMORY_REGION(mr), NULL);
  return mr->owner;
}

static void arbor_memory_region_collect_spaces(ArborMemoryRegion *mr, GPtrArray *spaces, guint depth);

/* The region's own counter (general path, retired views) plus what the
 * current views of the address spaces that can see it have counted. */
guint64
arbor_memory_region_get_access_count(ArborMemoryRegion *mr)
{
  g_autoptr(GPtrArray) spaces = NULL;
  guint64 count;

  g_return_val_if_fail(ARBOR_IS_MEMORY_REGION(mr), 0);

  spaces = g_ptr_array_new();
  arbor_memory_region_collect_spaces(mr, spaces, 0);
  count = __atomic_load_n(&mr->access_count, __ATOMIC_RELAXED);
  for (guint i = 0; i < spaces->len; i++)
    count += arbor_address_space_count_region(g_ptr_array_index(spaces, i), mr);
  return count;
}

GPtrArray *
arbor_memory_region_peek_subregions(ArborMemoryRegion *mr)
{
  return mr->subregions;
}

ArborMemoryRegion *
arbor_memory_region_peek_alias_target(ArborMemoryRegion *mr)
{
  return mr->alias_target;
}

guint64
arbor_memory_region_get_alias_offset(ArborMemoryRegion *mr)
{
  return mr->alias_offset;
}

const char *
arbor_memory_region_kind_to_string(ArborMemoryRegionKind kind)
{
  switch (kind) {
  case ARBOR_MEMORY_REGION_CONTAINER:
    return "container";
  case ARBOR_MEMORY_REGION_IO:
    return "i/o";
  case ARBOR_MEMORY_REGION_RAM:
    return "ram";
  case ARBOR_MEMORY_REGION_ROM:
    return "rom";
  case ARBOR_MEMORY_REGION_ALIAS:
    return "alias";
  default:
    return "?";
  }
}

void
arbor_memory_region_attach_address_space(ArborMemoryRegion *root, ArborAddressSpace *as)
{
  g_ptr_array_add(root->address_spaces, as);
}

void
arbor_memory_region_detach_address_space(ArborMemoryRegion *root, ArborAddressSpace *as)
{
  g_ptr_array_remove(root->address_spaces, as);
}

/* Topology propagation ------------------------------------------------ */

static void
arbor_memory_region_collect_spaces(ArborMemoryRegion *mr, GPtrArray *spaces, guint depth)
{
  /* Deeper than any sane tree: an alias cycle, which is a bug. */
  g_return_if_fail(depth < 256);

  for (guint i = 0; i < mr->address_spaces->len; i++) {
    gpointer as = g_ptr_array_index(mr->address_spaces, i);
    if (!g_ptr_array_find(spaces, as, NULL))
      g_ptr_array_add(spaces, as);
  }
  if (mr->container != NULL)
    arbor_memory_region_collect_spaces(mr->container, spaces, depth + 1);
  for (guint i = 0; i < mr->aliased_by->len; i++)
    arbor_memory_region_collect_spaces(g_ptr_array_index(mr->aliased_by, i), spaces, depth + 1);
}

/* @mr's place or contents changed: every address space that can see it
 * re-renders (now, or at the end of its transaction). */
static void
arbor_memory_region_topology_changed(ArborMemoryRegion *mr)
{
  g_autoptr(GPtrArray) spaces = g_ptr_array_new();

  arbor_memory_region_collect_spaces(mr, spaces, 0);
  for (guint i = 0; i < spaces->len; i++)
    arbor_address_space_topology_changed(g_ptr_array_index(spaces, i));
}

void
arbor_memory_region_set_enabled(ArborMemoryRegion *mr, gboolean enabled)
{
  g_return_if_fail(ARBOR_IS_MEMORY_REGION(mr));

  enabled = !!enabled;
  if (mr->enabled == enabled)
    return;
  mr->enabled = enabled;
  arbor_memory_region_topology_changed(mr);
}

static void
arbor_memory_region_insert_sorted(ArborMemoryRegion *container, ArborMemoryRegion *sub)
{
  guint i;

  /* Before the first one of lower or equal priority: newest wins ties. */
  for (i = 0; i < container->subregions->len; i++) {
    ArborMemoryRegion *other = g_ptr_array_index(container->subregions, i);
    if (sub->priority >= other->priority)
      break;
  }
  g_ptr_array_insert(container->subregions, (gint)i, sub);
}

void
arbor_memory_region_add_subregion_overlap(ArborMemoryRegion *container, guint64 offset,
                                          ArborMemoryRegion *subregion, int priority)
{
  g_return_if_fail(ARBOR_IS_MEMORY_REGION(container));
  g_return_if_fail(ARBOR_IS_MEMORY_REGION(subregion));
  g_return_if_fail(container->kind == ARBOR_MEMORY_REGION_CONTAINER);
  g_return_if_fail(subregion->container == NULL);
  g_return_if_fail(subregion != container);
  g_return_if_fail(subregion->address_spaces->len == 0);

  subregion->container = container;
  subregion->addr = offset;
  subregion->priority = priority;
  arbor_memory_region_insert_sorted(container, g_object_ref(subregion));
  arbor_memory_region_topology_changed(container);
}

void
arbor_memory_region_add_subregion(ArborMemoryRegion *container, guint64 offset, ArborMemoryRegion *subregion)
{
  arbor_memory_region_add_subregion_overlap(container, offset, subregion, 0);
}

void
arbor_memory_region_del_subregion(ArborMemoryRegion *container, ArborMemoryRegion *subregion)
{
  g_return_if_fail(ARBOR_IS_MEMORY_REGION(container));
  g_return_if_fail(ARBOR_IS_MEMORY_REGION(subregion));
  g_return_if_fail(subregion->container == container);

  g_ptr_array_remove(container->subregions, subregion);
  subregion->container = NULL;
  arbor_memory_region_topology_changed(container);
  /* A flat view that still dispatches to it holds its own ref. */
  arbor_object_unref(subregion);
}

void
arbor_memory_region_set_address(ArborMemoryRegion *mr, guint64 offset)
{
  g_return_if_fail(ARBOR_IS_MEMORY_REGION(mr));

  if (mr->addr == offset)
    return;
  mr->addr = offset;
  if (mr->container != NULL)
    arbor_memory_region_topology_changed(mr->container);
}

void
arbor_memory_region_set_alias_offset(ArborMemoryRegion *alias, guint64 offset)
{
  g_return_if_fail(ARBOR_IS_MEMORY_REGION(alias));
  g_return_if_fail(alias->kind == ARBOR_MEMORY_REGION_ALIAS);

  if (alias->alias_offset == offset)
    return;
  alias->alias_offset = offset;
  arbor_memory_region_topology_changed(alias);
}

/* Access ------------------------------------------------------------------ */

static inline gboolean
arbor_access_size_ok(guint size)
{
  return size == 1 || size == 2 || size == 4 || size == 8;
}

static inline guint64
arbor_bswap(guint64 v, guint size)
{
  switch (size) {
  case 2:
    return GUINT16_SWAP_LE_BE((guint16)v);
  case 4:
    return GUINT32_SWAP_LE_BE((guint32)v);
  case 8:
    return GUINT64_SWAP_LE_BE(v);
  default:
    return v;
  }
}

/* Shift of a @part-byte piece at byte @pos inside a @total-byte value in
 * the device's byte order. */
static inline guint
arbor_piece_shift(guint pos, guint part, guint total, gboolean big)
{
  return big ? (total - pos - part) * 8 : pos * 8;
}

static ArborMemTxResult
arbor_io_call_read(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 *value)
{
  if (mr->ops.read_with_result != NULL)
    return mr->ops.read_with_result(mr->opaque, addr, size, value);
  if (mr->ops.read != NULL) {
    *value = mr->ops.read(mr->opaque, addr, size);
    return ARBOR_MEMTX_OK;
  }
  *value = 0;
  return ARBOR_MEMTX_OK;
}

static ArborMemTxResult
arbor_io_call_write(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 value)
{
  if (mr->ops.write_with_result != NULL)
    return mr->ops.write_with_result(mr->opaque, addr, size, value);
  if (mr->ops.write != NULL)
    mr->ops.write(mr->opaque, addr, size, value);
  return ARBOR_MEMTX_OK;
}

static inline ArborMemTxResult
arbor_memtx_merge(ArborMemTxResult a, ArborMemTxResult b)
{
  return a != ARBOR_MEMTX_OK ? a : b;
}

/* Reads @size bytes in the device's byte order, adjusted to impl sizes. */
static ArborMemTxResult
arbor_io_read_impl(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 *value)
{
  gboolean big = mr->ops.endianness == ARBOR_ENDIAN_BIG;
  ArborMemTxResult res = ARBOR_MEMTX_OK;
  guint64 v = 0;

  if (G_LIKELY(size >= mr->impl_min && size <= mr->impl_max)) {
    res = arbor_io_call_read(mr, addr, size, &v);
    *value = v & arbor_size_mask(size);
    return res;
  }

  if (size < mr->impl_min) {
    guint wide = mr->impl_min;
    guint64 aligned = addr & ~(guint64)(wide - 1);
    guint pos = (guint)(addr - aligned);

    if (pos + size <= wide) {
      /* Read the wider aligned word and extract our bytes. */
      res = arbor_io_call_read(mr, aligned, wide, &v);
      *value = (v >> arbor_piece_shift(pos, size, wide, big)) & arbor_size_mask(size);
      return res;
    }
    /* Straddles two wide words: byte by byte. */
    for (guint i = 0; i < size; i++) {
      guint64 b = 0;
      res = arbor_memtx_merge(res, arbor_io_read_impl(mr, addr + i, 1, &b));
      v |= (b & 0xff) << arbor_piece_shift(i, 1, size, big);
    }
    *value = v;
    return res;
  }

  /* Bigger than impl.max: several calls, recombined. */
  for (guint i = 0; i < size; i += mr->impl_max) {
    guint64 part = 0;
    res = arbor_memtx_merge(res, arbor_io_call_read(mr, addr + i, mr->impl_max, &part));
    part &= arbor_size_mask(mr->impl_max);
    v |= part << arbor_piece_shift(i, mr->impl_max, size, big);
  }
  *value = v;
  return res;
}

static ArborMemTxResult
arbor_io_write_impl(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 value)
{
  gboolean big = mr->ops.endianness == ARBOR_ENDIAN_BIG;
  ArborMemTxResult res = ARBOR_MEMTX_OK;

  value &= arbor_size_mask(size);
  if (G_LIKELY(size >= mr->impl_min && size <= mr->impl_max))
    return arbor_io_call_write(mr, addr, size, value);

  if (size < mr->impl_min) {
    guint wide = mr->impl_min;
    guint64 aligned = addr & ~(guint64)(wide - 1);
    guint pos = (guint)(addr - aligned);

    if (pos + size <= wide) {
      /* No read-modify-write: the value shifted into place (as QEMU). */
      return arbor_io_call_write(mr, aligned, wide, value << arbor_piece_shift(pos, size, wide, big));
    }
    for (guint i = 0; i < size; i++) {
      guint64 b = (value >> arbor_piece_shift(i, 1, size, big)) & 0xff;
      res = arbor_memtx_merge(res, arbor_io_write_impl(mr, addr + i, 1, b));
    }
    return res;
  }

  for (guint i = 0; i < size; i += mr->impl_max) {
    guint64 part = (value >> arbor_piece_shift(i, mr->impl_max, size, big)) & arbor_size_mask(mr->impl_max);
    res = arbor_memtx_merge(res, arbor_io_call_write(mr, addr + i, mr->impl_max, part));
  }
  return res;
}

static inline gboolean
arbor_io_access_valid(ArborMemoryRegion *mr, guint64 addr, guint size)
{
  if (size < mr->valid_min || size > mr->valid_max)
    return FALSE;
  if (!mr->ops.valid.unaligned && (addr & (size - 1)) != 0)
    return FALSE;
  return TRUE;
}

static ArborMemTxResult
arbor_io_read(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 *value)
{
  ArborMemTxResult res;
  guint64 v = 0;

  if (!arbor_io_access_valid(mr, addr, size)) {
    g_debug("%s: invalid read of size %u at 0x%" G_GINT64_MODIFIER "x", mr->name, size, addr);
    *value = 0; /* an I/O address space turns this into all ones */
    return ARBOR_MEMTX_DECODE_ERROR;
  }
  res = arbor_io_read_impl(mr, addr, size, &v);
  if (mr->ops.endianness == ARBOR_ENDIAN_BIG)
    v = arbor_bswap(v, size);
  *value = v;
  return res;
}

static ArborMemTxResult
arbor_io_write(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 value)
{
  if (!arbor_io_access_valid(mr, addr, size)) {
    g_debug("%s: invalid write of size %u at 0x%" G_GINT64_MODIFIER "x", mr->name, size, addr);
    return ARBOR_MEMTX_DECODE_ERROR;
  }
  value &= arbor_size_mask(size);
  if (mr->ops.endianness == ARBOR_ENDIAN_BIG)
    value = arbor_bswap(value, size);
  return arbor_io_write_impl(mr, addr, size, value);
}

static inline void
arbor_memory_region_count(ArborMemoryRegion *mr)
{
  /* General path only (the fast path counts in the flat range). Atomic:
   * retired views fold their counts into this counter concurrently. */
  __atomic_fetch_add(&mr->access_count, 1, __ATOMIC_RELAXED);
}

void
arbor_memory_region_add_count(ArborMemoryRegion *mr, guint64 delta)
{
  __atomic_fetch_add(&mr->access_count, delta, __ATOMIC_RELAXED);
}

void
arbor_memory_region_fill_fast_path(ArborMemoryRegion *mr, ArborFlatRange *range)
{
  range->kind = (guint8)mr->kind;
  range->fast_sizes = 0;
  range->unaligned = mr->ops.valid.unaligned;
  range->read = NULL;
  range->write = NULL;
  if (mr->kind == ARBOR_MEMORY_REGION_RAM || mr->kind == ARBOR_MEMORY_REGION_ROM) {
    range->ptr = mr->host + range->offset;
    return;
  }
  range->ptr = mr->opaque;
  /* Straight calls only for little-endian plain callbacks, at the sizes
   * both valid and impl accept; anything else takes the general path. */
  if (mr->kind != ARBOR_MEMORY_REGION_IO || !mr->has_ops || mr->ops.endianness != ARBOR_ENDIAN_LITTLE ||
      mr->ops.read == NULL || mr->ops.write == NULL || mr->ops.read_with_result != NULL ||
      mr->ops.write_with_result != NULL)
    return;
  range->read = mr->ops.read;
  range->write = mr->ops.write;
  for (guint size = 1; size <= 8; size *= 2)
    if (size >= mr->valid_min && size <= mr->valid_max && size >= mr->impl_min && size <= mr->impl_max)
      range->fast_sizes |= (guint8)size;
}

ArborMemTxResult
arbor_memory_region_access_read(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 *value)
{
  arbor_memory_region_count(mr);
  switch (mr->kind) {
  case ARBOR_MEMORY_REGION_RAM:
  case ARBOR_MEMORY_REGION_ROM:
    *value = arbor_le_load(mr->host + addr, size);
    return ARBOR_MEMTX_OK;
  case ARBOR_MEMORY_REGION_IO:
    if (G_UNLIKELY(!mr->has_ops)) {
      *value = 0;
      return ARBOR_MEMTX_DECODE_ERROR;
    }
    return arbor_io_read(mr, addr, size, value);
  default:
    *value = 0;
    return ARBOR_MEMTX_DECODE_ERROR;
  }
}

ArborMemTxResult
arbor_memory_region_access_write(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 value)
{
  arbor_memory_region_count(mr);
  switch (mr->kind) {
  case ARBOR_MEMORY_REGION_RAM:
    arbor_le_store(mr->host + addr, size, value);
    return ARBOR_MEMTX_OK;
  case ARBOR_MEMORY_REGION_ROM:
    /* Read-only: the device sees the write, or it is dropped. */
    if (mr->has_ops)
      return arbor_io_write(mr, addr, size, value);
    return ARBOR_MEMTX_OK;
  case ARBOR_MEMORY_REGION_IO:
    if (G_UNLIKELY(!mr->has_ops))
      return ARBOR_MEMTX_DECODE_ERROR;
    return arbor_io_write(mr, addr, size, value);
  default:
    return ARBOR_MEMTX_DECODE_ERROR;
  }
}

guint
arbor_memory_region_max_access(ArborMemoryRegion *mr)
{
  if (mr->kind == ARBOR_MEMORY_REGION_RAM || mr->kind == ARBOR_MEMORY_REGION_ROM)
    return 8;
  return mr->has_ops ? MIN(mr->valid_max, 8u) : 4;
}

gboolean
arbor_memory_region_accepts_unaligned(ArborMemoryRegion *mr)
{
  if (mr->kind == ARBOR_MEMORY_REGION_RAM || mr->kind == ARBOR_MEMORY_REGION_ROM)
    return TRUE;
  return mr->has_ops && mr->ops.valid.unaligned;
}

gboolean
arbor_memory_region_has_write_ops(ArborMemoryRegion *mr)
{
  return mr->has_ops && (mr->ops.write != NULL || mr->ops.write_with_result != NULL);
}

/* Direct access without an address space. Containers are rendered on the
 * fly (rare: tests, loaders), aliases forward to their target. */
static ArborMemTxResult
arbor_memory_region_dispatch(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 *value, gboolean is_write)
{
  ArborMemTxResult res = ARBOR_MEMTX_OK;
  ArborFlatView *fv;
  guint64 v = 0;

  if (!arbor_access_size_ok(size) || (ArborU128)addr + size > arbor_memory_region_size128(mr)) {
    if (!is_write)
      *value = 0;
    return ARBOR_MEMTX_DECODE_ERROR;
  }

  switch (mr->kind) {
  case ARBOR_MEMORY_REGION_ALIAS:
    if ((ArborU128)mr->alias_offset + addr + size > arbor_memory_region_size128(mr->alias_target)) {
      if (!is_write)
        *value = 0;
      return ARBOR_MEMTX_DECODE_ERROR;
    }
    return arbor_memory_region_dispatch(mr->alias_target, addr + mr->alias_offset, size, value, is_write);
  case ARBOR_MEMORY_REGION_CONTAINER:
    break;
  default:
    if (is_write)
      return arbor_memory_region_access_write(mr, addr, size, *value);
    return arbor_memory_region_access_read(mr, addr, size, value);
  }

  /* Container: through a temporary flat view; whole when one range
   * serves the access, else byte by byte. */
  fv = arbor_flat_view_render(mr);
  {
    gssize idx = arbor_flat_view_find(fv, addr);
    if (idx >= 0 && size - 1 <= fv->ranges[idx].last - addr) {
      ArborFlatRange *r = &fv->ranges[idx];
      guint64 off = r->offset + (addr - arbor_flat_view_start(fv, (gsize)idx));
      ArborMemoryRegion *target = g_object_ref(r->mr);
      arbor_flat_view_free(fv);
      if (is_write)
        res = arbor_memory_region_access_write(target, off, size, *value);
      else
        res = arbor_memory_region_access_read(target, off, size, value);
      g_object_unref(target);
      return res;
    }
  }
  for (guint i = 0; i < size; i++) {
    gssize idx = arbor_flat_view_find(fv, addr + i);
    guint64 b = 0;

    if (idx < 0) {
      res = arbor_memtx_merge(res, ARBOR_MEMTX_DECODE_ERROR);
      continue;
    }
    {
      ArborFlatRange *r = &fv->ranges[idx];
      guint64 off = r->offset + (addr + i - arbor_flat_view_start(fv, (gsize)idx));
      if (is_write) {
        b = (*value >> (i * 8)) & 0xff;
        res = arbor_memtx_merge(res, arbor_memory_region_access_write(r->mr, off, 1, b));
      } else {
        res = arbor_memtx_merge(res, arbor_memory_region_access_read(r->mr, off, 1, &b));
        v |= (b & 0xff) << (i * 8);
      }
    }
  }
  arbor_flat_view_free(fv);
  if (!is_write)
    *value = v;
  return res;
}

ArborMemTxResult
arbor_memory_region_dispatch_read(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 *value)
{
  g_return_val_if_fail(ARBOR_IS_MEMORY_REGION(mr), ARBOR_MEMTX_DECODE_ERROR);
  g_return_val_if_fail(value != NULL, ARBOR_MEMTX_DECODE_ERROR);
  return arbor_memory_region_dispatch(mr, addr, size, value, FALSE);
}

ArborMemTxResult
arbor_memory_region_dispatch_write(ArborMemoryRegion *mr, guint64 addr, guint size, guint64 value)
{
  g_return_val_if_fail(ARBOR_IS_MEMORY_REGION(mr), ARBOR_MEMTX_DECODE_ERROR);
  return arbor_memory_region_dispatch(mr, addr, size, &value, TRUE);
}
