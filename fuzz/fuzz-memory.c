/* fuzz-memory: arbitrary sequences of topology operations and accesses
 * against the memory API, every result checked against a reference model.
 *
 * The input is a byte stream of operations (create io/ram/rom/container/
 * alias regions, add/del/move/enable/disable subregions with priorities,
 * begin/commit, sized dispatches, any-length reads/writes). The model is a
 * deliberately naive resolver: for each address it walks the region tree
 * (priority, newest wins among equal priorities, container holes fall
 * through, aliases, enabled flags, clipping to the parent) and predicts
 * which terminal region and offset serve it. I/O regions are "virtual
 * memory" whose byte at offset o is a hash of (region id, o), so any
 * splitting or widening the dispatcher does must still produce the same
 * bytes; writes to them are logged byte by byte and compared too.
 *
 * Inside a transaction the model keeps resolving with the tree as it was
 * at the outermost begin (the flat view only changes at commit).
 */
#include "arbor-config.h"

#include <arbor/arbor.h>
#include <arbor/address-space.h>
#include <arbor/memory-region.h>
#include "memory-private.h" /* arbor_rcu_barrier(): old flat views go away through RCU */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REGIONS   24
#define MAX_LOG       4096
#define MAX_BULK      96
#define PAGE          4096

typedef unsigned __int128 u128;

typedef enum {
  IO_PLAIN,  /* valid 1..8, unaligned, impl 1..8 */
  IO_NARROW, /* valid 1..4, unaligned, impl 1 (split into bytes) */
  IO_STRICT, /* valid 4 only, aligned, impl 4 */
  IO_BE,     /* big-endian device, valid 1..8, impl 1..4 */
  IO_WIDE,   /* valid 1..8 aligned, impl 2..4 (small accesses widened) */
  IO_RESULT, /* *_with_result callbacks; bytes at offsets ≡ 0x3f (mod 0x40) refuse */
  IO_N_VARIANTS
} IoVariant;

typedef struct FuzzState FuzzState;

/* Model of one region: the tree part is in RegTree (snapshotted at begin). */
typedef struct {
  ArborMemoryRegion *mr; /* owned ref, NULL when the slot is free */
  FuzzState *state;      /* back pointer for the callbacks */
  int id;
  ArborMemoryRegionKind kind;
  IoVariant variant;
  gboolean rom_has_ops;
  u128 size;       /* 2^64 for ARBOR_MEMORY_SIZE_4G64 */
  int target;      /* alias target slot */
  guint8 *bytes;   /* owned: model copy of RAM/ROM contents */
} Reg;

typedef struct {
  int parent; /* -1: not a subregion */
  guint64 addr;
  int prio;
  guint64 seq; /* insertion order: newest wins among equal priorities */
  gboolean enabled;
  guint64 alias_off;
} RegTree;

typedef struct {
  int id;
  guint64 off;
  guint8 byte;
} LogEntry;

struct FuzzState {
  const guint8 *data;
  size_t len;
  size_t pos;

  gboolean io_space; /* testing an I/O address space (16-bit, all-ones) */
  ArborAddressSpace *as;
  Reg regs[MAX_REGIONS];
  RegTree tree[MAX_REGIONS];
  RegTree snap[MAX_REGIONS]; /* tree at the outermost begin */
  int nregs;
  int depth; /* transaction depth */
  guint64 next_seq;

  gboolean trace; /* FUZZ_TRACE=1: print every operation (reproducing) */

  LogEntry log[MAX_LOG];
  int nlog;
  gboolean log_overflow;
};

/* ---- input ---------------------------------------------------------- */

static guint8
take_u8(FuzzState *s)
{
  return s->pos < s->len ? s->data[s->pos++] : 0;
}

static guint64
take_bytes(FuzzState *s, guint n)
{
  guint64 v = 0;
  for (guint i = 0; i < n; i++)
    v |= (guint64) take_u8(s) << (8 * i);
  return v;
}

/* ---- failure reporting ---------------------------------------------- */

static void G_GNUC_NORETURN G_GNUC_PRINTF(2, 3)
fail(FuzzState *s, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "fuzz-memory: MODEL MISMATCH: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  if (s->as != NULL) {
    g_autofree char *dump = arbor_address_space_dump(s->as);
    fprintf(stderr, "%s\n", dump);
  }
  for (int i = 0; i < s->nregs; i++) {
    const Reg *r = &s->regs[i];
    const RegTree *t = &s->tree[i];
    fprintf(stderr, "  model r%d kind=%d var=%d size=0x%" G_GINT64_MODIFIER "x%s parent=%d addr=0x%" G_GINT64_MODIFIER
            "x prio=%d seq=%" G_GUINT64_FORMAT " en=%d target=%d aoff=0x%" G_GINT64_MODIFIER "x\n",
            i, r->kind, r->variant, (guint64) r->size, r->size > G_MAXUINT64 ? "(+2^64)" : "", t->parent, t->addr,
            t->prio, t->seq, t->enabled, r->target, t->alias_off);
  }
  abort();
}

/* ---- the I/O regions' behaviour -------------------------------------- */

static guint8
io_byte(int id, guint64 off)
{
  guint64 h = (guint64) (id + 1) * 0x9e3779b97f4a7c15ULL ^ off * 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 31;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 29;
  return (guint8) h;
}

static gboolean
io_refuses(const Reg *r, guint64 off, guint size)
{
  if (r->variant != IO_RESULT)
    return FALSE;
  for (guint k = 0; k < size; k++)
    if (((off + k) & 0x3f) == 0x3f)
      return TRUE;
  return FALSE;
}

static guint64
io_value(const Reg *r, guint64 off, guint size)
{
  guint64 v = 0;
  for (guint k = 0; k < size; k++) {
    guint shift = r->variant == IO_BE ? 8 * (size - 1 - k) : 8 * k;
    v |= (guint64) io_byte(r->id, off + k) << shift;
  }
  return v;
}

static void
log_write(Reg *r, guint64 off, guint size, guint64 value)
{
  FuzzState *s = r->state;
  for (guint k = 0; k < size; k++) {
    guint shift = r->variant == IO_BE ? 8 * (size - 1 - k) : 8 * k;
    if (s->nlog >= MAX_LOG) {
      s->log_overflow = TRUE;
      return;
    }
    s->log[s->nlog++] = (LogEntry) { r->id, off + k, (guint8) (value >> shift) };
  }
}

static void
check_callback_size(Reg *r, guint size)
{
  if (size != 1 && size != 2 && size != 4 && size != 8)
    fail(r->state, "callback of r%d with size %u", r->id, size);
}

static guint64
io_read(gpointer opaque, guint64 addr, guint size)
{
  Reg *r = opaque;
  check_callback_size(r, size);
  return io_value(r, addr, size);
}

static void
io_write(gpointer opaque, guint64 addr, guint size, guint64 value)
{
  Reg *r = opaque;
  check_callback_size(r, size);
  log_write(r, addr, size, value);
}

static ArborMemTxResult
io_read_result(gpointer opaque, guint64 addr, guint size, guint64 *value)
{
  Reg *r = opaque;
  check_callback_size(r, size);
  if (io_refuses(r, addr, size))
    return ARBOR_MEMTX_ACCESS_ERROR;
  *value = io_value(r, addr, size);
  return ARBOR_MEMTX_OK;
}

static ArborMemTxResult
io_write_result(gpointer opaque, guint64 addr, guint size, guint64 value)
{
  Reg *r = opaque;
  check_callback_size(r, size);
  if (io_refuses(r, addr, size))
    return ARBOR_MEMTX_ACCESS_ERROR;
  log_write(r, addr, size, value);
  return ARBOR_MEMTX_OK;
}

static const ArborMemoryRegionOps io_ops[IO_N_VARIANTS] = {
  [IO_PLAIN] = { .read = io_read, .write = io_write,
                 .valid = { 1, 8, TRUE }, .impl = { 1, 8, TRUE } },
  [IO_NARROW] = { .read = io_read, .write = io_write,
                  .valid = { 1, 4, TRUE }, .impl = { 1, 1, TRUE } },
  [IO_STRICT] = { .read = io_read, .write = io_write,
                  .valid = { 4, 4, FALSE }, .impl = { 4, 4, FALSE } },
  [IO_BE] = { .read = io_read, .write = io_write, .endianness = ARBOR_ENDIAN_BIG,
              .valid = { 1, 8, TRUE }, .impl = { 1, 4, TRUE } },
  [IO_WIDE] = { .read = io_read, .write = io_write,
                .valid = { 1, 8, FALSE }, .impl = { 2, 4, FALSE } },
  [IO_RESULT] = { .read_with_result = io_read_result, .write_with_result = io_write_result,
                  .valid = { 1, 8, TRUE }, .impl = { 1, 8, TRUE } },
};

/* ROM regions with ops: writes are logged like I/O writes. */
static const ArborMemoryRegionOps rom_ops = {
  .read = io_read, .write = io_write,
  .valid = { 1, 8, TRUE }, .impl = { 1, 8, TRUE },
};

/* ---- the reference model -------------------------------------------- */

/* Does region @r serve offset @addr (< its size)? Sets the terminal region
 * and its offset. Naive on purpose: scans all regions for children. */
static gboolean
model_resolve(FuzzState *s, const RegTree *t, int r, guint64 addr, int *hit, guint64 *off, int depth)
{
  const Reg *reg = &s->regs[r];

  if (depth > 64)
    fail(s, "model recursion too deep (cycle?)");
  if (!t[r].enabled)
    return FALSE;

  switch (reg->kind) {
  case ARBOR_MEMORY_REGION_CONTAINER: {
    /* Candidates containing addr, tried best first. */
    int cand[MAX_REGIONS];
    int n = 0;
    for (int c = 0; c < s->nregs; c++) {
      if (t[c].parent != r || !t[c].enabled)
        continue;
      if ((u128) addr < (u128) t[c].addr || (u128) addr >= (u128) t[c].addr + s->regs[c].size)
        continue;
      cand[n++] = c;
    }
    /* insertion sort by (prio desc, seq desc) */
    for (int i = 1; i < n; i++) {
      int x = cand[i];
      int j = i - 1;
      while (j >= 0 && (t[cand[j]].prio < t[x].prio ||
                        (t[cand[j]].prio == t[x].prio && t[cand[j]].seq < t[x].seq))) {
        cand[j + 1] = cand[j];
        j--;
      }
      cand[j + 1] = x;
    }
    for (int i = 0; i < n; i++)
      if (model_resolve(s, t, cand[i], addr - t[cand[i]].addr, hit, off, depth + 1))
        return TRUE;
    return FALSE;
  }
  case ARBOR_MEMORY_REGION_ALIAS: {
    u128 toff = (u128) t[r].alias_off + addr;
    if (toff >= s->regs[reg->target].size)
      return FALSE;
    return model_resolve(s, t, reg->target, (guint64) toff, hit, off, depth + 1);
  }
  default:
    *hit = r;
    *off = addr;
    return TRUE;
  }
}

static const RegTree *
model_view(FuzzState *s)
{
  return s->depth > 0 ? s->snap : s->tree;
}

/* Resolve an address of the address space (root is slot 0). */
static gboolean
model_lookup(FuzzState *s, guint64 addr, int *hit, guint64 *off)
{
  if ((u128) addr >= s->regs[0].size)
    return FALSE;
  return model_resolve(s, model_view(s), 0, addr, hit, off, 0);
}

static guint64
unassigned_value(FuzzState *s, guint size)
{
  if (!s->io_space)
    return 0;
  return size == 8 ? G_MAXUINT64 : (1ULL << (8 * size)) - 1;
}

static const ArborMemoryRegionOps *
reg_ops(const Reg *r)
{
  if (r->kind == ARBOR_MEMORY_REGION_IO)
    return &io_ops[r->variant];
  if (r->kind == ARBOR_MEMORY_REGION_ROM && r->rom_has_ops)
    return &rom_ops;
  return NULL;
}

/* Would the region accept a sized guest access at @off (its valid rules)? */
static gboolean
access_valid(const Reg *r, guint64 off, guint size)
{
  const ArborMemoryRegionOps *ops;

  if (r->kind != ARBOR_MEMORY_REGION_IO)
    return TRUE;
  ops = reg_ops(r);
  if (size < ops->valid.min_access_size || size > ops->valid.max_access_size)
    return FALSE;
  if (!ops->valid.unaligned && (off & (size - 1)) != 0)
    return FALSE;
  return TRUE;
}

/* ---- region pool ---------------------------------------------------- */

static gboolean
reachable(FuzzState *s, int from, int to, int depth)
{
  if (from == to)
    return TRUE;
  if (depth > MAX_REGIONS + 2)
    return TRUE; /* be conservative */
  if (s->regs[from].kind == ARBOR_MEMORY_REGION_ALIAS && reachable(s, s->regs[from].target, to, depth + 1))
    return TRUE;
  if (s->regs[from].kind == ARBOR_MEMORY_REGION_CONTAINER)
    for (int c = 0; c < s->nregs; c++)
      if (s->tree[c].parent == from && reachable(s, c, to, depth + 1))
        return TRUE;
  return FALSE;
}

static u128
pick_size(FuzzState *s, gboolean allow_huge)
{
  guint8 sel = take_u8(s);
  if (allow_huge && sel >= 250)
    return (u128) 1 << 64;
  if (sel >= 240)
    return (u128) (take_bytes(s, 4) | 1);
  if (sel >= 200)
    return (u128) (1 + take_u8(s)) * 0x100;
  return 1 + (take_bytes(s, 2) & 0x3fff);
}

static guint64
size_arg(u128 size)
{
  return size > G_MAXUINT64 ? ARBOR_MEMORY_SIZE_4G64 : (guint64) size;
}

static int
new_slot(FuzzState *s, ArborMemoryRegionKind kind, u128 size)
{
  int i = s->nregs;
  Reg *r = &s->regs[i];
  memset(r, 0, sizeof(*r));
  memset(&s->tree[i], 0, sizeof(s->tree[i]));
  r->state = s;
  r->id = i;
  r->kind = kind;
  r->size = size;
  r->target = -1;
  s->tree[i].parent = -1;
  s->tree[i].enabled = TRUE;
  /* A region created inside a transaction is not in the snapshot's tree. */
  s->snap[i] = s->tree[i];
  s->snap[i].parent = -1;
  return i;
}

static void G_GNUC_PRINTF(2, 3)
trace(FuzzState *s, const char *fmt, ...)
{
  va_list ap;
  if (!s->trace)
    return;
  va_start(ap, fmt);
  fprintf(stderr, "  op: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
}

static void
op_create(FuzzState *s, guint8 what)
{
  g_autoptr(GError) error = NULL;
  char name[32];
  int i;

  if (s->nregs >= MAX_REGIONS)
    return;
  g_snprintf(name, sizeof(name), "r%d", s->nregs);

  switch (what % 5) {
  case 0: { /* io */
    IoVariant v = take_u8(s) % IO_N_VARIANTS;
    u128 size = pick_size(s, TRUE);
    i = new_slot(s, ARBOR_MEMORY_REGION_IO, size);
    s->regs[i].variant = v;
    s->regs[i].mr = arbor_memory_region_new_io(name, size_arg(size), &io_ops[v], &s->regs[i]);
    break;
  }
  case 1: { /* ram */
    guint pages = 1 + take_u8(s) % 2;
    i = new_slot(s, ARBOR_MEMORY_REGION_RAM, pages * PAGE);
    s->regs[i].mr = arbor_memory_region_new_ram(name, pages * PAGE, &error);
    if (s->regs[i].mr == NULL)
      fail(s, "new_ram(%u pages): %s", pages, error->message);
    s->regs[i].bytes = g_malloc0(pages * PAGE);
    if (arbor_memory_region_get_ram_ptr(s->regs[i].mr) == NULL)
      fail(s, "RAM region without host pointer");
    break;
  }
  case 2: { /* rom */
    guint pages = 1 + take_u8(s) % 2;
    gboolean with_ops = take_u8(s) & 1;
    guint8 *host;
    i = new_slot(s, ARBOR_MEMORY_REGION_ROM, pages * PAGE);
    s->regs[i].rom_has_ops = with_ops;
    s->regs[i].mr = arbor_memory_region_new_rom(name, pages * PAGE, with_ops ? &rom_ops : NULL,
                                                &s->regs[i], &error);
    if (s->regs[i].mr == NULL)
      fail(s, "new_rom: %s", error->message);
    s->regs[i].bytes = g_malloc(pages * PAGE);
    host = arbor_memory_region_get_ram_ptr(s->regs[i].mr);
    if (host == NULL)
      fail(s, "ROM region without host pointer");
    for (guint k = 0; k < pages * PAGE; k++)
      s->regs[i].bytes[k] = host[k] = (guint8) (k * 7 + i);
    break;
  }
  case 3: { /* container */
    u128 size = pick_size(s, TRUE);
    i = new_slot(s, ARBOR_MEMORY_REGION_CONTAINER, size);
    s->regs[i].mr = arbor_memory_region_new_container(name, size_arg(size));
    break;
  }
  default: { /* alias */
    int target = take_u8(s) % s->nregs;
    u128 size = pick_size(s, FALSE);
    guint64 off = take_u8(s) >= 240 ? take_bytes(s, 8) : take_bytes(s, 2);
    i = new_slot(s, ARBOR_MEMORY_REGION_ALIAS, size);
    s->regs[i].target = target;
    s->tree[i].alias_off = off;
    s->snap[i].alias_off = off;
    s->regs[i].mr = arbor_memory_region_new_alias(name, s->regs[target].mr, off, size_arg(size));
    break;
  }
  }
  if (s->regs[i].mr == NULL)
    fail(s, "region constructor returned NULL");
  trace(s, "create r%d kind=%d variant=%d size=0x%" G_GINT64_MODIFIER "x target=%d", i, s->regs[i].kind,
        s->regs[i].variant, (guint64) s->regs[i].size, s->regs[i].target);
  s->nregs++;
}

static guint64
pick_offset(FuzzState *s)
{
  guint8 sel = take_u8(s);
  if (sel >= 248)
    return G_MAXUINT64 - (take_bytes(s, 2) & 0xfff); /* near the top: clipping, wrap */
  if (sel >= 230)
    return take_bytes(s, 4);
  if (sel >= 128)
    return (take_bytes(s, 2) & 0x7ff) << 4;
  return take_bytes(s, 2) & 0x3fff;
}

static void
op_add(FuzzState *s)
{
  int c, r;
  guint8 mode;
  guint64 off;
  int prio = 0;

  if (s->nregs < 2)
    return;
  c = take_u8(s) % s->nregs;
  r = take_u8(s) % s->nregs;
  mode = take_u8(s);
  off = pick_offset(s);
  if (s->regs[c].kind != ARBOR_MEMORY_REGION_CONTAINER || r == 0 || s->tree[r].parent != -1 ||
      reachable(s, r, c, 0))
    return;
  if (mode & 1) {
    prio = (int) (take_u8(s) % 7) - 3;
    arbor_memory_region_add_subregion_overlap(s->regs[c].mr, off, s->regs[r].mr, prio);
  } else {
    arbor_memory_region_add_subregion(s->regs[c].mr, off, s->regs[r].mr);
  }
  trace(s, "add r%d to r%d at 0x%" G_GINT64_MODIFIER "x prio %d (%s)", r, c, off, prio, mode & 1 ? "overlap" : "plain");
  s->tree[r].parent = c;
  s->tree[r].addr = off;
  s->tree[r].prio = prio;
  s->tree[r].seq = ++s->next_seq;
}

static int
pick_subregion(FuzzState *s)
{
  int start = take_u8(s);
  for (int k = 0; k < s->nregs; k++) {
    int r = (start + k) % s->nregs;
    if (s->tree[r].parent != -1)
      return r;
  }
  return -1;
}

static void
op_del(FuzzState *s)
{
  int r = pick_subregion(s);
  if (r < 0)
    return;
  trace(s, "del r%d", r);
  arbor_memory_region_del_subregion(s->regs[s->tree[r].parent].mr, s->regs[r].mr);
  s->tree[r].parent = -1;
  s->tree[r].addr = 0;
}

static void
op_move(FuzzState *s)
{
  int r = pick_subregion(s);
  guint64 off = pick_offset(s);
  if (r < 0)
    return;
  trace(s, "move r%d to 0x%" G_GINT64_MODIFIER "x", r, off);
  arbor_memory_region_set_address(s->regs[r].mr, off);
  /* arbor keeps a moved subregion's place among equal priorities (QEMU
   * re-adds it, making it the newest; QEMU leaves equal-priority overlap
   * unspecified, so both are fair: the model follows arbor). */
  s->tree[r].addr = off;
}

static void
op_enable(FuzzState *s)
{
  int r;
  gboolean en;
  if (s->nregs < 2)
    return;
  r = 1 + take_u8(s) % (s->nregs - 1); /* never the root */
  en = take_u8(s) & 1;
  trace(s, "enable r%d %d", r, en);
  arbor_memory_region_set_enabled(s->regs[r].mr, en);
  s->tree[r].enabled = en;
}

static void
op_alias_offset(FuzzState *s)
{
  int start = take_u8(s);
  guint64 off = take_u8(s) >= 240 ? take_bytes(s, 8) : take_bytes(s, 2);
  for (int k = 0; k < s->nregs; k++) {
    int r = (start + k) % s->nregs;
    if (s->regs[r].kind == ARBOR_MEMORY_REGION_ALIAS) {
      trace(s, "alias offset r%d 0x%" G_GINT64_MODIFIER "x", r, off);
      arbor_memory_region_set_alias_offset(s->regs[r].mr, off);
      s->tree[r].alias_off = off;
      return;
    }
  }
}

static void
op_begin(FuzzState *s)
{
  if (s->depth >= 4)
    return;
  if (s->depth == 0)
    memcpy(s->snap, s->tree, sizeof(s->tree));
  s->depth++;
  trace(s, "begin -> %d", s->depth);
  arbor_address_space_begin(s->as);
}

static void
op_commit(FuzzState *s)
{
  if (s->depth == 0)
    return;
  s->depth--;
  trace(s, "commit -> %d", s->depth);
  arbor_address_space_commit(s->as);
}

/* ---- accesses ------------------------------------------------------- */

static guint64
pick_addr(FuzzState *s)
{
  guint8 sel = take_u8(s);
  guint64 a;

  if (sel < 128 && s->nregs > 1) {
    /* near the start or end of some region, in address-space coordinates */
    int r = 1 + take_u8(s) % (s->nregs - 1);
    guint64 base = 0;
    int depth = 0;
    for (int p = r; p != 0 && p != -1 && depth < MAX_REGIONS; p = s->tree[p].parent, depth++)
      base += s->tree[p].addr;
    if (sel & 1)
      base += (guint64) s->regs[r].size;
    a = base + (guint64) (gint64) (gint8) take_u8(s);
  } else if (sel < 240) {
    a = take_bytes(s, 2);
  } else {
    a = take_bytes(s, 8);
  }
  if (s->io_space && (sel & 0x80) == 0)
    a &= 0xffff;
  return a;
}

static guint
pick_size_log2(FuzzState *s)
{
  return 1u << (take_u8(s) & 3);
}

static int
log_cmp(const void *a, const void *b)
{
  const LogEntry *x = a, *y = b;
  if (x->id != y->id)
    return x->id < y->id ? -1 : 1;
  if (x->off != y->off)
    return x->off < y->off ? -1 : 1;
  return (int) x->byte - (int) y->byte;
}

static void
check_log(FuzzState *s, LogEntry *expect, int nexpect, const char *what, guint64 addr)
{
  if (s->log_overflow)
    return;
  qsort(expect, nexpect, sizeof(LogEntry), log_cmp);
  qsort(s->log, s->nlog, sizeof(LogEntry), log_cmp);
  if (nexpect != s->nlog)
    fail(s, "%s at 0x%" G_GINT64_MODIFIER "x: %d bytes reached devices, expected %d", what, addr, s->nlog, nexpect);
  for (int k = 0; k < nexpect; k++)
    if (log_cmp(&expect[k], &s->log[k]) != 0)
      fail(s, "%s at 0x%" G_GINT64_MODIFIER "x: device byte r%d+0x%" G_GINT64_MODIFIER "x=%02x, expected r%d+0x%" G_GINT64_MODIFIER "x=%02x",
           what, addr, s->log[k].id, s->log[k].off, s->log[k].byte, expect[k].id, expect[k].off, expect[k].byte);
}

/* Classifies a sized access: returns TRUE with hit and off set when every byte
 * lands contiguously in one terminal region; *unassigned when none does. */
static gboolean
classify(FuzzState *s, guint64 addr, guint size, int *hit, guint64 *off, gboolean *unassigned)
{
  int h0 = -1;
  guint64 o0 = 0;
  guint nun = 0;

  *unassigned = FALSE;
  if ((u128) addr + size - 1 > G_MAXUINT64)
    return FALSE;
  for (guint k = 0; k < size; k++) {
    int h;
    guint64 o;
    if (!model_lookup(s, addr + k, &h, &o)) {
      nun++;
      continue;
    }
    if (k == 0) {
      h0 = h;
      o0 = o;
    } else if (h != h0 || o != o0 + k) {
      return FALSE;
    }
  }
  if (nun == size) {
    *unassigned = TRUE;
    return FALSE;
  }
  if (nun != 0)
    return FALSE;
  *hit = h0;
  *off = o0;
  return TRUE;
}

static void
op_sized_read(FuzzState *s)
{
  guint64 addr = pick_addr(s);
  guint size = pick_size_log2(s);
  guint64 v = 0xdeadbeefdeadbeefULL;
  int h;
  guint64 off;
  gboolean unassigned;
  ArborMemTxResult res = arbor_address_space_dispatch_read(s->as, addr, size, &v);

  trace(s, "read%u 0x%" G_GINT64_MODIFIER "x -> %d 0x%" G_GINT64_MODIFIER "x", size, addr, res, v);
  if (classify(s, addr, size, &h, &off, &unassigned)) {
    const Reg *r = &s->regs[h];
    guint64 expect = 0;
    if (!access_valid(r, off, size)) {
      if (res != ARBOR_MEMTX_DECODE_ERROR)
        fail(s, "read%u at 0x%" G_GINT64_MODIFIER "x (r%d+0x%" G_GINT64_MODIFIER "x): invalid access gave %d, expected decode error",
             size, addr, h, off, res);
      return;
    }
    if (r->kind == ARBOR_MEMORY_REGION_IO && io_refuses(r, off, size)) {
      if (res != ARBOR_MEMTX_ACCESS_ERROR)
        fail(s, "read%u at 0x%" G_GINT64_MODIFIER "x: refused access gave %d", size, addr, res);
      return;
    }
    if (r->kind == ARBOR_MEMORY_REGION_IO) {
      for (guint k = 0; k < size; k++)
        expect |= (guint64) io_byte(r->id, off + k) << (8 * k);
    } else {
      for (guint k = 0; k < size; k++)
        expect |= (guint64) r->bytes[off + k] << (8 * k);
    }
    if (res != ARBOR_MEMTX_OK || v != expect)
      fail(s, "read%u at 0x%" G_GINT64_MODIFIER "x (r%d+0x%" G_GINT64_MODIFIER "x): got %d/0x%" G_GINT64_MODIFIER "x, expected 0x%" G_GINT64_MODIFIER "x",
           size, addr, h, off, res, v, expect);
  } else if (unassigned) {
    if (res != ARBOR_MEMTX_DECODE_ERROR || v != unassigned_value(s, size))
      fail(s, "read%u at unassigned 0x%" G_GINT64_MODIFIER "x: got %d/0x%" G_GINT64_MODIFIER "x", size, addr, res, v);
  }
}

static void
op_sized_write(FuzzState *s)
{
  guint64 addr = pick_addr(s);
  guint size = pick_size_log2(s);
  guint64 value = take_bytes(s, size);
  int h;
  guint64 off;
  gboolean unassigned;
  gboolean checked = classify(s, addr, size, &h, &off, &unassigned);
  ArborMemTxResult res;
  LogEntry expect[8];
  int nexpect = 0;

  if (checked && s->regs[h].kind == ARBOR_MEMORY_REGION_RAM) {
    /* what the model will hold after the write */
    for (guint k = 0; k < size; k++)
      s->regs[h].bytes[off + k] = (guint8) (value >> (8 * k));
  } else if (!checked && !unassigned) {
    /* Straddles regions: the model cannot tell which RAM bytes change;
     * only reads, never writes, go across boundaries. */
    return;
  }

  s->nlog = 0;
  s->log_overflow = FALSE;
  res = arbor_address_space_dispatch_write(s->as, addr, size, value);
  trace(s, "write%u 0x%" G_GINT64_MODIFIER "x = 0x%" G_GINT64_MODIFIER "x -> %d", size, addr, value, res);

  if (unassigned) {
    if (res != ARBOR_MEMTX_DECODE_ERROR || s->nlog != 0)
      fail(s, "write%u at unassigned 0x%" G_GINT64_MODIFIER "x: got %d, %d device bytes", size, addr, res, s->nlog);
    return;
  }
  {
    const Reg *r = &s->regs[h];
    const ArborMemoryRegionOps *ops = reg_ops(r);
    if (!access_valid(r, off, size)) {
      if (res != ARBOR_MEMTX_DECODE_ERROR || s->nlog != 0)
        fail(s, "write%u at 0x%" G_GINT64_MODIFIER "x: invalid access gave %d, %d device bytes", size, addr, res, s->nlog);
      return;
    }
    if (r->kind == ARBOR_MEMORY_REGION_IO && io_refuses(r, off, size)) {
      if (res != ARBOR_MEMTX_ACCESS_ERROR)
        fail(s, "write%u at 0x%" G_GINT64_MODIFIER "x: refused access gave %d", size, addr, res);
      return;
    }
    if (r->kind == ARBOR_MEMORY_REGION_IO && res != ARBOR_MEMTX_OK)
      fail(s, "write%u at 0x%" G_GINT64_MODIFIER "x (r%d+0x%" G_GINT64_MODIFIER "x): got %d", size, addr, h, off, res);
    if (ops != NULL && size >= MAX(ops->impl.min_access_size, 1u)) {
      for (guint k = 0; k < size; k++)
        expect[nexpect++] = (LogEntry) { r->id, off + k, (guint8) (value >> (8 * k)) };
      check_log(s, expect, nexpect, "write", addr);
    } else if (ops == NULL && s->nlog != 0) {
      fail(s, "write%u at 0x%" G_GINT64_MODIFIER "x to RAM/ROM reached a device", size, addr);
    }
  }
}

/* Any-length access: per-byte model. Returns FALSE when the range is not
 * predictable (bytes in regions whose splitting the model does not pin). */
typedef struct {
  int hit;        /* -1: unassigned */
  guint64 off;
} ByteInfo;

static void
op_bulk(FuzzState *s, int mode /* 0 read, 1 write, 2 write_rom */)
{
  guint64 addr = pick_addr(s);
  gsize len = 1 + take_u8(s) % MAX_BULK;
  guint8 buf[MAX_BULK];
  ByteInfo info[MAX_BULK];
  gboolean any_unassigned = FALSE, any_refusal = FALSE, values_known = TRUE, log_known = TRUE;
  ArborMemTxResult res;
  LogEntry expect[MAX_BULK];
  int nexpect = 0;

  if ((u128) addr + len - 1 > G_MAXUINT64)
    len = (gsize) (G_MAXUINT64 - addr + 1);
  trace(s, "bulk %s 0x%" G_GINT64_MODIFIER "x len %zu", mode == 0 ? "read" : mode == 1 ? "write" : "write_rom", addr, len);
  for (gsize k = 0; k < len; k++) {
    if (!model_lookup(s, addr + k, &info[k].hit, &info[k].off)) {
      info[k].hit = -1;
      any_unassigned = TRUE;
      continue;
    }
    {
      const Reg *r = &s->regs[info[k].hit];
      if (r->kind == ARBOR_MEMORY_REGION_IO) {
        if (r->variant == IO_STRICT || r->variant == IO_WIDE)
          values_known = log_known = FALSE; /* split/widen choice not pinned */
        if (io_refuses(r, info[k].off, 1)) {
          any_refusal = TRUE;
          log_known = FALSE;
        }
      }
    }
  }

  if (mode == 0) {
    memset(buf, 0xa5, sizeof(buf));
    res = arbor_address_space_read(s->as, addr, buf, len);
    if (!any_unassigned && !any_refusal && values_known && res != ARBOR_MEMTX_OK)
      fail(s, "read of %zu at 0x%" G_GINT64_MODIFIER "x: got %d", len, addr, res);
    if (any_unassigned && res == ARBOR_MEMTX_OK)
      fail(s, "read of %zu at 0x%" G_GINT64_MODIFIER "x over a hole gave OK", len, addr);
    if (!values_known)
      return;
    for (gsize k = 0; k < len; k++) {
      const Reg *r;
      guint8 expect_byte;
      if (info[k].hit < 0)
        continue;
      r = &s->regs[info[k].hit];
      if (r->kind == ARBOR_MEMORY_REGION_IO) {
        if (r->variant == IO_RESULT && any_refusal)
          continue;
        expect_byte = io_byte(r->id, info[k].off);
      } else {
        expect_byte = r->bytes[info[k].off];
      }
      if (buf[k] != expect_byte)
        fail(s, "read of %zu at 0x%" G_GINT64_MODIFIER "x: byte %zu (r%d+0x%" G_GINT64_MODIFIER "x) is %02x, expected %02x",
             len, addr, k, info[k].hit, info[k].off, buf[k], expect_byte);
    }
    return;
  }

  for (gsize k = 0; k < len; k++)
    buf[k] = take_u8(s);
  for (gsize k = 0; k < len; k++) {
    Reg *r;
    if (info[k].hit < 0)
      continue;
    r = &s->regs[info[k].hit];
    if (r->kind == ARBOR_MEMORY_REGION_RAM || (r->kind == ARBOR_MEMORY_REGION_ROM && mode == 2))
      r->bytes[info[k].off] = buf[k];
    else if (reg_ops(r) != NULL)
      expect[nexpect++] = (LogEntry) { r->id, info[k].off, buf[k] };
  }
  s->nlog = 0;
  s->log_overflow = FALSE;
  if (mode == 1)
    res = arbor_address_space_write(s->as, addr, buf, len);
  else
    res = arbor_address_space_write_rom(s->as, addr, buf, len);
  if (!any_unassigned && !any_refusal && values_known && res != ARBOR_MEMTX_OK)
    fail(s, "write of %zu at 0x%" G_GINT64_MODIFIER "x: got %d", len, addr, res);
  if (any_unassigned && res == ARBOR_MEMTX_OK)
    fail(s, "write of %zu at 0x%" G_GINT64_MODIFIER "x over a hole gave OK", len, addr);
  if (log_known && mode == 1)
    check_log(s, expect, nexpect, "bulk write", addr);
}

/* Direct dispatch to one terminal region, in bounds. */
static void
op_region_dispatch(FuzzState *s)
{
  int r = take_u8(s) % s->nregs;
  Reg *reg = &s->regs[r];
  guint size = pick_size_log2(s);
  gboolean write = take_u8(s) & 1;
  guint64 off, v = 0;
  ArborMemTxResult res;

  if (reg->kind == ARBOR_MEMORY_REGION_CONTAINER || reg->kind == ARBOR_MEMORY_REGION_ALIAS)
    return;
  if (reg->size < size)
    return;
  off = (guint64) ((u128) take_bytes(s, 4) % (reg->size - size + 1));

  trace(s, "direct %s%u r%d+0x%" G_GINT64_MODIFIER "x", write ? "write" : "read", size, r, off);
  if (write) {
    guint64 value = take_bytes(s, 8);
    if (reg->kind == ARBOR_MEMORY_REGION_RAM)
      for (guint k = 0; k < size; k++)
        reg->bytes[off + k] = (guint8) (value >> (8 * k));
    s->nlog = 0;
    arbor_memory_region_dispatch_write(reg->mr, off, size, value);
    return;
  }
  res = arbor_memory_region_dispatch_read(reg->mr, off, size, &v);
  if (!access_valid(reg, off, size) || io_refuses(reg, off, size)) {
    if (res == ARBOR_MEMTX_OK)
      fail(s, "direct read%u of r%d+0x%" G_GINT64_MODIFIER "x: invalid access gave OK", size, r, off);
    return;
  }
  {
    guint64 expect = 0;
    for (guint k = 0; k < size; k++)
      expect |= (guint64) (reg->kind == ARBOR_MEMORY_REGION_IO ? io_byte(reg->id, off + k) : reg->bytes[off + k]) << (8 * k);
    if (res != ARBOR_MEMTX_OK || v != expect)
      fail(s, "direct read%u of r%d+0x%" G_GINT64_MODIFIER "x: got %d/0x%" G_GINT64_MODIFIER "x, expected 0x%" G_GINT64_MODIFIER "x",
           size, r, off, res, v, expect);
  }
}

static void
op_host_ptr(FuzzState *s)
{
  guint64 addr = pick_addr(s);
  gsize len = 1 + take_u8(s) % 64;
  guint8 *p;
  int h0 = -1;
  guint64 o0 = 0;
  gboolean one_ram = TRUE;

  if (s->depth > 0)
    return; /* "valid while the topology does not change" */
  if ((u128) addr + len - 1 > G_MAXUINT64)
    return;
  p = arbor_address_space_get_host_ptr(s->as, addr, len);
  for (gsize k = 0; k < len && one_ram; k++) {
    int h;
    guint64 o;
    if (!model_lookup(s, addr + k, &h, &o) ||
        (s->regs[h].kind != ARBOR_MEMORY_REGION_RAM && s->regs[h].kind != ARBOR_MEMORY_REGION_ROM)) {
      one_ram = FALSE;
    } else if (k == 0) {
      h0 = h;
      o0 = o;
    } else if (h != h0 || o != o0 + k) {
      one_ram = FALSE;
    }
  }
  if (p != NULL) {
    guint8 *base;
    if (!one_ram)
      fail(s, "host_ptr(0x%" G_GINT64_MODIFIER "x, %zu) is not NULL but the range is not one RAM block", addr, len);
    base = arbor_memory_region_get_ram_ptr(s->regs[h0].mr);
    if (p != base + o0)
      fail(s, "host_ptr(0x%" G_GINT64_MODIFIER "x, %zu) points at the wrong place (r%d+0x%" G_GINT64_MODIFIER "x)", addr, len, h0, o0);
  }
}

static void
op_getters(FuzzState *s)
{
  int r = take_u8(s) % s->nregs;
  const RegTree *t = &s->tree[r];
  ArborMemoryRegion *mr = s->regs[r].mr;
  ArborMemoryRegion *parent = arbor_memory_region_get_container(mr);

  if (arbor_memory_region_get_kind(mr) != s->regs[r].kind)
    fail(s, "r%d: wrong kind", r);
  if (arbor_memory_region_get_size(mr) != size_arg(s->regs[r].size))
    fail(s, "r%d: wrong size", r);
  if (arbor_memory_region_get_enabled(mr) != t->enabled)
    fail(s, "r%d: wrong enabled", r);
  if (parent != (t->parent >= 0 ? s->regs[t->parent].mr : NULL))
    fail(s, "r%d: wrong container", r);
  if (t->parent >= 0 && arbor_memory_region_get_address(mr) != t->addr)
    fail(s, "r%d: wrong address 0x%" G_GINT64_MODIFIER "x", r, arbor_memory_region_get_address(mr));
  if (t->parent >= 0 && arbor_memory_region_get_priority(mr) != t->prio)
    fail(s, "r%d: wrong priority %d", r, arbor_memory_region_get_priority(mr));
}

/* ---- driver --------------------------------------------------------- */

static void
quiet_log_writer_setup(void)
{
  /* Criticals are programming errors: the fuzzer only does legal calls, so
   * any g_return_if_fail that fires inside arbor is a finding. */
  g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  quiet_log_writer_setup();
  g_setenv("G_DEBUG", "fatal-criticals", FALSE);
  return 0;
}

static FuzzState *
fuzz_state_get(void)
{
  /* One state, reused: it is large and the fuzzer is single-threaded. */
  static FuzzState *state;
  if (state == NULL)
    state = g_new0(FuzzState, 1);
  return state;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  FuzzState *s = fuzz_state_get();
  guint8 flags;
  GObject *weak[MAX_REGIONS];
  GObject *weak_as;
  int nregs;

  memset(s, 0, sizeof(*s));
  s->trace = g_getenv("FUZZ_TRACE") != NULL;
  s->data = data;
  s->len = size;
  flags = take_u8(s);
  s->io_space = flags & 1;

  /* slot 0: the root */
  new_slot(s, ARBOR_MEMORY_REGION_CONTAINER, s->io_space ? 0x10000 : (u128) 1 << 64);
  s->regs[0].mr = arbor_memory_region_new_container("root", s->io_space ? 0x10000 : ARBOR_MEMORY_SIZE_4G64);
  s->nregs = 1;
  s->as = arbor_address_space_new("fuzz", s->regs[0].mr,
                                  s->io_space ? ARBOR_ADDRESS_SPACE_IO : ARBOR_ADDRESS_SPACE_MEMORY);

  for (int steps = 0; s->pos < s->len && steps < 2000; steps++) {
    guint8 op = take_u8(s);
    switch (op % 20) {
    case 0: case 1: case 2:
      op_create(s, take_u8(s));
      break;
    case 3: case 4: case 5:
      op_add(s);
      break;
    case 6:
      op_del(s);
      break;
    case 7:
      op_move(s);
      break;
    case 8:
      op_enable(s);
      break;
    case 9:
      op_alias_offset(s);
      break;
    case 10:
      op_begin(s);
      break;
    case 11:
      op_commit(s);
      break;
    case 12: case 13:
      op_sized_read(s);
      break;
    case 14:
      op_sized_write(s);
      break;
    case 15:
      op_bulk(s, 0);
      break;
    case 16:
      op_bulk(s, take_u8(s) & 1 ? 2 : 1);
      break;
    case 17:
      op_region_dispatch(s);
      break;
    case 18:
      op_host_ptr(s);
      break;
    default:
      if (op == 255) {
        g_autofree char *dump = arbor_address_space_dump(s->as);
        if (dump == NULL)
          fail(s, "dump returned NULL");
      } else {
        op_getters(s);
      }
      break;
    }
  }
  while (s->depth > 0)
    op_commit(s);

  /* Everything must go away once the last references are dropped. */
  nregs = s->nregs;
  weak_as = G_OBJECT(s->as);
  g_object_add_weak_pointer(weak_as, (gpointer *) &weak_as);
  g_clear_object(&s->as);
  for (int i = nregs - 1; i >= 0; i--) {
    if (s->tree[i].parent >= 0)
      arbor_memory_region_del_subregion(s->regs[s->tree[i].parent].mr, s->regs[i].mr);
  }
  for (int i = 0; i < nregs; i++) {
    weak[i] = G_OBJECT(s->regs[i].mr);
    g_object_add_weak_pointer(weak[i], (gpointer *) &weak[i]);
  }
  /* Aliases hold their targets: drop in reverse creation order. */
  for (int i = nregs - 1; i >= 0; i--) {
    g_clear_object(&s->regs[i].mr);
    g_free(s->regs[i].bytes);
  }
  /* Replaced flat views hold refs until their grace period has passed. */
  arbor_rcu_barrier();
  if (weak_as != NULL)
    fail(s, "address space still alive after its last unref");
  for (int i = 0; i < nregs; i++)
    if (weak[i] != NULL) {
      fprintf(stderr, "fuzz-memory: r%d still alive after its last unref (ref leak)\n", i);
      abort();
    }
  return 0;
}
