/* ArborQtestServer: QEMU's qtest text protocol, served over a chardev (or
 * fed in process), acting on an ArborMachine. */
#include "arbor-config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arbor/arbor.h>

#include "qtest-private.h"

struct _ArborQtestServer {
  GObject parent_instance;

  ArborMachine *machine;       /* owned ref; NULL: parser only (in-process) */
  ArborChardev *chr;           /* owned; NULL in process */
  gulong received_id, opened_id, closed_id;
  gboolean server_mode;        /* the chardev listens: a closed client is not the end */

  ArborQtestOutputFunc output_func; /* in process: where replies go */
  gpointer output_opaque;

  GString *inbuf;              /* owned: the incomplete line received so far */
  guint session;               /* counts disconnects (main thread) */
  gboolean discarding;         /* inside a line that grew past the bound */
  guint64 discarded;           /* bytes dropped from that line */

  /* Replies, asynchronous IRQ lines (any thread: devices raise lines from
   * vCPU threads) and the log are serialized by out_lock. */
  GMutex out_lock;
  FILE *log;                   /* owned; NULL: no log */
  GTimer *timer;               /* owned while a client is connected (log times) */
  gboolean opened;             /* a client is connected */
  gboolean big_send_active;    /* a long reply is being written without out_lock */
  GString *deferred;           /* owned: lines queued behind that reply */
  gboolean intercepting;       /* the GSI lines go to us (irq_intercept_in) */
  gboolean irq_levels[ARBOR_MACHINE_NUM_GSI]; /* last level reported per line */
};

G_DEFINE_FINAL_TYPE(ArborQtestServer, arbor_qtest_server, G_TYPE_OBJECT)

/* ---- output ------------------------------------------------------------ */

/* Larger replies are pushed out in pieces, draining the chardev's bounded
 * queue in between (only on the main context, where commands run). */
#define QTEST_OUTPUT_CHUNK (16 * 1024)
#define QTEST_FLUSH_TIMEOUT_MS 5000

static void
qtest_log_time(ArborQtestServer *self, const char *tag, gboolean relative)
{
  fprintf(self->log, "[%s %s%.06f] ", tag, relative ? "+" : "",
          self->timer != NULL ? g_timer_elapsed(self->timer, NULL) : 0.0);
}

/* Main thread, out_lock NOT held: a flush may find the peer gone and emit
 * "closed" right here, and that handler takes out_lock. */
static void
qtest_chardev_write_all(ArborQtestServer *self, const char *data, gsize len)
{
  while (len > 0) {
    gsize piece = MIN(len, QTEST_OUTPUT_CHUNK);
    gsize done;

    if (arbor_chardev_get_pending(self->chr) > 0)
      arbor_chardev_flush(self->chr, QTEST_FLUSH_TIMEOUT_MS);
    if (!arbor_chardev_is_connected(self->chr)) {
      g_debug("qtest: client gone; %" G_GSIZE_FORMAT " bytes of reply dropped", len);
      return;
    }
    done = arbor_chardev_write(self->chr, data, piece);
    data += done;
    len -= done;
    if (done < piece && arbor_chardev_get_pending(self->chr) > 0) {
      /* Even after a flush the peer does not read: give up on this reply
       * (the chardev has counted what it dropped). */
      g_warning("qtest: client does not read; %" G_GSIZE_FORMAT " bytes of reply lost", len);
      return;
    }
  }
}

/* Sends one protocol line (@text ends with '\n'); out_lock held.
 *
 * A line longer than one chunk (a big read reply, main thread only) is
 * written with out_lock dropped, since draining the chardev can emit its
 * "closed" signal synchronously; lines other threads send meanwhile (IRQ
 * lines from vCPU threads) wait in self->deferred and follow the reply
 * whole, so nothing is ever interleaved inside a line. */
static void
qtest_send_locked(ArborQtestServer *self, const char *text, gsize len)
{
  if (!self->opened)
    return;
  if (self->log != NULL) {
    qtest_log_time(self, "S", TRUE);
    fwrite(text, 1, len, self->log);
  }
  if (self->output_func != NULL) {
    self->output_func(self->output_opaque, text, len);
    return;
  }
  if (self->chr == NULL)
    return;
  if (self->big_send_active) {
    g_string_append_len(self->deferred, text, len);
    return;
  }
  if (len <= QTEST_OUTPUT_CHUNK) {
    arbor_chardev_write(self->chr, text, len);
    return;
  }

  self->big_send_active = TRUE;
  g_mutex_unlock(&self->out_lock);
  qtest_chardev_write_all(self, text, len);
  g_mutex_lock(&self->out_lock);
  self->big_send_active = FALSE;
  if (self->opened && self->deferred->len > 0)
    arbor_chardev_write(self->chr, self->deferred->str, self->deferred->len);
  g_string_truncate(self->deferred, 0);
}

static void
qtest_send(ArborQtestServer *self, GString *reply)
{
  g_mutex_lock(&self->out_lock);
  qtest_send_locked(self, reply->str, reply->len);
  g_mutex_unlock(&self->out_lock);
}

/* ---- interrupts -------------------------------------------------------- */

static void
qtest_send_irq_locked(ArborQtestServer *self, guint gsi, gboolean level)
{
  char line[32];
  int len = g_snprintf(line, sizeof(line), "IRQ %s %u\n", level ? "raise" : "lower", gsi);

  qtest_send_locked(self, line, len);
}

/* The machine's interceptor: any thread. Only level changes are reported,
 * as QEMU does; the line goes out before the reply of the command that
 * caused it because commands run synchronously on the serving thread. */
static void
qtest_irq_intercept(gpointer opaque, guint gsi, gboolean level)
{
  ArborQtestServer *self = opaque;

  if (gsi >= ARBOR_MACHINE_NUM_GSI)
    return;
  level = !!level;
  g_mutex_lock(&self->out_lock);
  if (self->irq_levels[gsi] != level) {
    self->irq_levels[gsi] = level;
    qtest_send_irq_locked(self, gsi, level);
  }
  g_mutex_unlock(&self->out_lock);
}

/* ---- argument parsing -------------------------------------------------- */

/* Bounds on what one command may move, and so on a line ("write" with the
 * largest data as hex, plus the command and two numbers, fits). */
#define QTEST_MAX_SIZE (16u * 1024 * 1024)
#define QTEST_MAX_LINE (2u * QTEST_MAX_SIZE + 256)

/* Echoes at most this much of a bad token back. */
#define QTEST_ECHO_MAX 64

static void G_GNUC_PRINTF(2, 3)
reply_fail(GString *reply, const char *fmt, ...)
{
  va_list args;

  g_string_assign(reply, "FAIL ");
  va_start(args, fmt);
  g_string_append_vprintf(reply, fmt, args);
  va_end(args);
}

static const char *
echo_token(const char *tok, char *buf, gsize size)
{
  if (strlen(tok) <= QTEST_ECHO_MAX)
    return tok;
  g_snprintf(buf, size, "%.*s...", QTEST_ECHO_MAX, tok);
  return buf;
}

/* Like strtoull(tok, &end, 0) with the whole token consumed. */
static gboolean
parse_u64(const char *tok, const char *what, guint64 *out, GString *reply)
{
  char echo[QTEST_ECHO_MAX + 8];
  char *end = NULL;
  unsigned long long value;

  if (*tok == '\0') {
    reply_fail(reply, "%s is empty (two spaces in a row?)", what);
    return FALSE;
  }
  errno = 0;
  value = strtoull(tok, &end, 0);
  if (end == tok || *end != '\0') {
    reply_fail(reply, "%s '%s' is not a number", what, echo_token(tok, echo, sizeof(echo)));
    return FALSE;
  }
  if (errno == ERANGE) {
    reply_fail(reply, "%s '%s' does not fit in 64 bits", what, echo_token(tok, echo, sizeof(echo)));
    return FALSE;
  }
  *out = value;
  return TRUE;
}

/* Like strtoll(tok, &end, 0) with the whole token consumed. */
static gboolean
parse_i64(const char *tok, const char *what, gint64 *out, GString *reply)
{
  char echo[QTEST_ECHO_MAX + 8];
  char *end = NULL;
  long long value;

  if (*tok == '\0') {
    reply_fail(reply, "%s is empty (two spaces in a row?)", what);
    return FALSE;
  }
  errno = 0;
  value = strtoll(tok, &end, 0);
  if (end == tok || *end != '\0') {
    reply_fail(reply, "%s '%s' is not a number", what, echo_token(tok, echo, sizeof(echo)));
    return FALSE;
  }
  if (errno == ERANGE) {
    reply_fail(reply, "%s '%s' does not fit in a signed 64-bit integer", what,
               echo_token(tok, echo, sizeof(echo)));
    return FALSE;
  }
  *out = value;
  return TRUE;
}

static gboolean
parse_port(const char *tok, guint64 *port, GString *reply)
{
  if (!parse_u64(tok, "ADDR", port, reply))
    return FALSE;
  if (*port > 0xffff) {
    reply_fail(reply, "port 0x%" G_GINT64_MODIFIER "x is above 0xffff", *port);
    return FALSE;
  }
  return TRUE;
}

/* ADDR and SIZE of a bulk command: SIZE within the bound, no wrap. */
static gboolean
parse_range(char **args, gboolean allow_zero, guint64 *addr, guint64 *size, GString *reply)
{
  if (!parse_u64(args[0], "ADDR", addr, reply) || !parse_u64(args[1], "SIZE", size, reply))
    return FALSE;
  if (*size == 0 && !allow_zero) {
    reply_fail(reply, "SIZE must not be 0");
    return FALSE;
  }
  if (*size > QTEST_MAX_SIZE) {
    reply_fail(reply, "SIZE %" G_GUINT64_FORMAT " is too large (at most %u bytes per command)", *size,
               QTEST_MAX_SIZE);
    return FALSE;
  }
  if (*size > 0 && *addr + (*size - 1) < *addr) {
    reply_fail(reply, "range 0x%" G_GINT64_MODIFIER "x + %" G_GUINT64_FORMAT " wraps past the end of the address space",
               *addr, *size);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_wrap(guint64 addr, guint size, GString *reply)
{
  if (addr + (size - 1) < addr) {
    reply_fail(reply, "range 0x%" G_GINT64_MODIFIER "x + %u wraps past the end of the address space", addr, size);
    return FALSE;
  }
  return TRUE;
}

static int
hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
is_base64_char(char c)
{
  return g_ascii_isalnum(c) || c == '+' || c == '/';
}

/* Strict base64: whole quads, the alphabet, '=' only as final padding. */
static gboolean
base64_is_valid(const char *text, gsize len)
{
  gsize pad = 0;

  if (len % 4 != 0)
    return FALSE;
  if (len >= 1 && text[len - 1] == '=')
    pad++;
  if (len >= 2 && text[len - 2] == '=')
    pad++;
  for (gsize i = 0; i < len - pad; i++) {
    if (!is_base64_char(text[i]))
      return FALSE;
  }
  return TRUE;
}

/* ---- commands ---------------------------------------------------------- */

typedef struct {
  ArborQtestServer *self;
  const char *name;  /* the command word */
  char **args;       /* the words after it */
  guint nargs;
  GString *reply;    /* the reply, without the final '\n' */
} QtestCommand;

static gboolean
need_machine(QtestCommand *cmd)
{
  if (cmd->self->machine == NULL) {
    reply_fail(cmd->reply, "no machine attached to this qtest server");
    return FALSE;
  }
  return TRUE;
}

static guint
access_size(char suffix)
{
  switch (suffix) {
  case 'b':
    return 1;
  case 'w':
    return 2;
  case 'l':
    return 4;
  default:
    return 8;
  }
}

static guint64
size_mask(guint size)
{
  return size == 8 ? G_MAXUINT64 : (G_GUINT64_CONSTANT(1) << (size * 8)) - 1;
}

static void
cmd_out(QtestCommand *cmd)
{
  guint size = access_size(cmd->name[3]);
  guint64 port, value;

  if (!need_machine(cmd) || !parse_port(cmd->args[0], &port, cmd->reply) ||
      !parse_u64(cmd->args[1], "VALUE", &value, cmd->reply))
    return;
  /* Like QEMU, a value wider than the access is truncated. */
  arbor_address_space_dispatch_write(arbor_machine_get_io(cmd->self->machine), port, size,
                                     value & size_mask(size));
  g_string_assign(cmd->reply, "OK");
}

static void
cmd_in(QtestCommand *cmd)
{
  guint size = access_size(cmd->name[2]);
  guint64 port, value = G_MAXUINT64;

  if (!need_machine(cmd) || !parse_port(cmd->args[0], &port, cmd->reply))
    return;
  arbor_address_space_dispatch_read(arbor_machine_get_io(cmd->self->machine), port, size, &value);
  g_string_printf(cmd->reply, "OK 0x%04x", (guint32)(value & size_mask(size)));
}

static void
cmd_write_sized(QtestCommand *cmd)
{
  guint size = access_size(cmd->name[5]);
  guint64 addr, value, le;

  if (!need_machine(cmd) || !parse_u64(cmd->args[0], "ADDR", &addr, cmd->reply) ||
      !parse_u64(cmd->args[1], "VALUE", &value, cmd->reply) || !check_wrap(addr, size, cmd->reply))
    return;
  /* The guest is little-endian: the low bytes of the value go first. */
  le = GUINT64_TO_LE(value);
  arbor_address_space_write(arbor_machine_get_memory(cmd->self->machine), addr, &le, size);
  g_string_assign(cmd->reply, "OK");
}

static void
cmd_read_sized(QtestCommand *cmd)
{
  guint size = access_size(cmd->name[4]);
  guint64 addr, le = 0;

  if (!need_machine(cmd) || !parse_u64(cmd->args[0], "ADDR", &addr, cmd->reply) ||
      !check_wrap(addr, size, cmd->reply))
    return;
  arbor_address_space_read(arbor_machine_get_memory(cmd->self->machine), addr, &le, size);
  g_string_printf(cmd->reply, "OK 0x%016" PRIx64, (guint64)GUINT64_FROM_LE(le));
}

static void
cmd_read(QtestCommand *cmd)
{
  static const char digits[] = "0123456789abcdef";
  g_autofree guint8 *data = NULL;
  guint64 addr, size;

  if (!need_machine(cmd) || !parse_range(cmd->args, FALSE, &addr, &size, cmd->reply))
    return;
  data = g_malloc(size);
  arbor_address_space_read(arbor_machine_get_memory(cmd->self->machine), addr, data, size);

  g_string_set_size(cmd->reply, 0);
  g_string_append(cmd->reply, "OK 0x");
  for (guint64 i = 0; i < size; i++) {
    g_string_append_c(cmd->reply, digits[data[i] >> 4]);
    g_string_append_c(cmd->reply, digits[data[i] & 0xf]);
  }
}

static void
cmd_b64read(QtestCommand *cmd)
{
  g_autofree guint8 *data = NULL;
  g_autofree char *encoded = NULL;
  guint64 addr, size;

  /* SIZE 0 is well defined here (an empty string), as in QEMU. */
  if (!need_machine(cmd) || !parse_range(cmd->args, TRUE, &addr, &size, cmd->reply))
    return;
  data = g_malloc(MAX(size, 1));
  arbor_address_space_read(arbor_machine_get_memory(cmd->self->machine), addr, data, size);
  encoded = g_base64_encode(data, size);
  g_string_printf(cmd->reply, "OK %s", encoded);
}

static void
cmd_write(QtestCommand *cmd)
{
  const char *hex = cmd->args[2];
  gsize hex_len = strlen(hex);
  g_autofree guint8 *data = NULL;
  guint64 addr, size, ndigits;

  if (!need_machine(cmd) || !parse_u64(cmd->args[0], "ADDR", &addr, cmd->reply) ||
      !parse_u64(cmd->args[1], "SIZE", &size, cmd->reply))
    return;
  /* QEMU's own answer for data shorter than "0x" plus a digit. */
  if (hex_len < 3) {
    g_string_assign(cmd->reply, "ERR invalid argument size");
    return;
  }
  if (!parse_range(cmd->args, FALSE, &addr, &size, cmd->reply))
    return;
  if (hex[0] != '0' || (hex[1] != 'x' && hex[1] != 'X')) {
    reply_fail(cmd->reply, "DATA must start with 0x");
    return;
  }
  ndigits = hex_len - 2;
  for (guint64 i = 0; i < ndigits; i++) {
    if (hex_value(hex[2 + i]) < 0) {
      reply_fail(cmd->reply, "DATA has a non-hex character at offset %" G_GUINT64_FORMAT, 2 + i);
      return;
    }
  }
  if (ndigits % 2 != 0) {
    reply_fail(cmd->reply, "DATA has an odd number of hex digits (%" G_GUINT64_FORMAT ")", ndigits);
    return;
  }
  if (ndigits / 2 > size) {
    reply_fail(cmd->reply, "DATA holds %" G_GUINT64_FORMAT " bytes, more than SIZE %" G_GUINT64_FORMAT,
               ndigits / 2, size);
    return;
  }
  /* Shorter data is zero-filled up to SIZE, as QEMU documents. */
  data = g_malloc0(size);
  for (guint64 i = 0; i < ndigits / 2; i++)
    data[i] = (guint8)(hex_value(hex[2 + 2 * i]) << 4 | hex_value(hex[3 + 2 * i]));
  arbor_address_space_write(arbor_machine_get_memory(cmd->self->machine), addr, data, size);
  g_string_assign(cmd->reply, "OK");
}

static void
cmd_b64write(QtestCommand *cmd)
{
  char *text = cmd->args[2];
  gsize text_len = strlen(text);
  guint8 *data;
  gsize data_len = 0;
  guint64 addr, size;

  if (!need_machine(cmd) || !parse_u64(cmd->args[0], "ADDR", &addr, cmd->reply) ||
      !parse_u64(cmd->args[1], "SIZE", &size, cmd->reply))
    return;
  if (text_len < 3) {
    g_string_assign(cmd->reply, "ERR invalid argument size");
    return;
  }
  if (!parse_range(cmd->args, FALSE, &addr, &size, cmd->reply))
    return;
  if (!base64_is_valid(text, text_len)) {
    reply_fail(cmd->reply, "B64_DATA is not valid base64");
    return;
  }
  /* Decoding in place is safe: the output is shorter than the input. */
  data = g_base64_decode_inplace(text, &data_len);
  if (data_len != size) {
    reply_fail(cmd->reply, "b64write: data length mismatch (told %" G_GUINT64_FORMAT ", found %" G_GSIZE_FORMAT ")",
               size, data_len);
    return;
  }
  arbor_address_space_write(arbor_machine_get_memory(cmd->self->machine), addr, data, size);
  g_string_assign(cmd->reply, "OK");
}

static void
cmd_memset(QtestCommand *cmd)
{
  g_autofree guint8 *data = NULL;
  guint64 addr, size, pattern;

  if (!need_machine(cmd) || !parse_range(cmd->args, TRUE, &addr, &size, cmd->reply) ||
      !parse_u64(cmd->args[2], "VALUE", &pattern, cmd->reply))
    return;
  /* A zero SIZE is allowed and does nothing (QEMU documents it). */
  if (size > 0) {
    data = g_malloc(size);
    memset(data, (int)(pattern & 0xff), size);
    arbor_address_space_write(arbor_machine_get_memory(cmd->self->machine), addr, data, size);
  }
  g_string_assign(cmd->reply, "OK");
}

static void
cmd_endianness(QtestCommand *cmd)
{
  g_string_assign(cmd->reply, "OK little");
}

static void
cmd_clock_step(QtestCommand *cmd)
{
  ArborClock *clock = arbor_machine_get_clock(cmd->self->machine);
  gint64 old_ns = arbor_clock_get_ns(clock);
  gint64 ns, new_ns;

  if (cmd->nargs == 1) {
    if (!parse_i64(cmd->args[0], "NS", &ns, cmd->reply))
      return;
  } else {
    gint64 deadline = arbor_clock_get_next_deadline(clock);

    if (deadline < 0) {
      reply_fail(cmd->reply, "cannot advance clock to the next deadline because there is no pending deadline");
      return;
    }
    ns = MAX(deadline - old_ns, 0);
  }
  if (ns > 0 && old_ns > G_MAXINT64 - ns) {
    reply_fail(cmd->reply, "NS %" G_GINT64_FORMAT " would overflow the clock", ns);
    return;
  }
  /* A zero step still runs the timers that are already due. */
  new_ns = ns >= 0 ? arbor_clock_step(clock, ns) : old_ns;
  if (new_ns > old_ns)
    g_string_printf(cmd->reply, "OK %" G_GINT64_FORMAT, new_ns);
  else
    reply_fail(cmd->reply, "could not advance time");
}

static void
cmd_clock_set(QtestCommand *cmd)
{
  ArborClock *clock = arbor_machine_get_clock(cmd->self->machine);
  gint64 ns, new_ns;

  if (!parse_i64(cmd->args[0], "NS", &ns, cmd->reply))
    return;
  /* The clock never goes back: an earlier NS leaves it where it is. */
  if (ns > arbor_clock_get_ns(clock))
    new_ns = arbor_clock_set(clock, ns);
  else
    new_ns = arbor_clock_get_ns(clock);
  g_string_printf(cmd->reply, "%s %" G_GINT64_FORMAT, new_ns == ns ? "OK" : "FAIL", new_ns);
}

/* The machine's interrupt lines are the inputs of its (virtual) I/O APIC,
 * so the QOM paths QEMU's PC tests use reach them too: the partial path
 * "ioapic", and the full ones of QEMU's pc (i440fx) and q35 machines. */
static gboolean
irq_path_is_ioapic(const char *path)
{
  return strcmp(path, "ioapic") == 0 || strcmp(path, "/machine/i440fx/ioapic") == 0 ||
         strcmp(path, "/machine/q35/ioapic") == 0;
}

static void
cmd_irq_intercept(QtestCommand *cmd)
{
  ArborQtestServer *self = cmd->self;
  gboolean outbound = strcmp(cmd->name, "irq_intercept_out") == 0;

  if (!need_machine(cmd))
    return;
  if (!irq_path_is_ioapic(cmd->args[0])) {
    reply_fail(cmd->reply, "Unknown device");
    return;
  }
  if (cmd->nargs == 2 && !outbound) {
    reply_fail(cmd->reply, "Interception of named in-GPIOs not yet supported");
    return;
  }
  if (self->intercepting) {
    /* Again on the same device: nothing to do (QEMU answers OK too). */
    g_string_assign(cmd->reply, "OK");
    return;
  }
  if (cmd->nargs == 2) {
    /* The I/O APIC has no named GPIO lists. */
    reply_fail(cmd->reply, "No intercepts installed");
    return;
  }

  /* Lines already high are reported at once, so the client's view starts
   * right (QEMU would report them only on their next change). */
  g_mutex_lock(&self->out_lock);
  self->intercepting = TRUE;
  for (guint gsi = 0; gsi < ARBOR_MACHINE_NUM_GSI; gsi++) {
    gboolean level = arbor_irq_get_level(arbor_machine_get_irq(self->machine, gsi));

    if (level && !self->irq_levels[gsi]) {
      self->irq_levels[gsi] = TRUE;
      qtest_send_irq_locked(self, gsi, TRUE);
    }
  }
  g_mutex_unlock(&self->out_lock);
  arbor_machine_set_irq_interceptor(self->machine, qtest_irq_intercept, self);
  g_string_assign(cmd->reply, "OK");
}

static void
cmd_set_irq_in(QtestCommand *cmd)
{
  char echo[QTEST_ECHO_MAX + 8];
  gint64 num, level;

  if (!need_machine(cmd))
    return;
  if (!irq_path_is_ioapic(cmd->args[0])) {
    reply_fail(cmd->reply, "Unknown device");
    return;
  }
  if (strcmp(cmd->args[1], "unnamed-gpio-in") != 0) {
    reply_fail(cmd->reply, "no GPIO list '%s' on ioapic (it has only unnamed-gpio-in)",
               echo_token(cmd->args[1], echo, sizeof(echo)));
    return;
  }
  if (!parse_i64(cmd->args[2], "NUM", &num, cmd->reply) || !parse_i64(cmd->args[3], "LEVEL", &level, cmd->reply))
    return;
  if (num < 0 || num >= ARBOR_MACHINE_NUM_GSI) {
    reply_fail(cmd->reply, "NUM %" G_GINT64_FORMAT " is not an interrupt line of ioapic (0..%d)", num,
               ARBOR_MACHINE_NUM_GSI - 1);
    return;
  }
  if (level < G_MININT || level > G_MAXINT) {
    reply_fail(cmd->reply, "LEVEL %" G_GINT64_FORMAT " does not fit in an int", level);
    return;
  }
  arbor_machine_set_irq(cmd->self->machine, (guint)num, level != 0);
  g_string_assign(cmd->reply, "OK");
}

/* module_load PREFIX NAME: arbor's modules are accelerators ("accel",
 * or QEMU's "accel-" spelling). Replies are QEMU's bare OK / FAIL. */
static void
cmd_module_load(QtestCommand *cmd)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborAccel) accel = NULL;

  if (strcmp(cmd->args[0], "accel") != 0 && strcmp(cmd->args[0], "accel-") != 0) {
    g_string_assign(cmd->reply, "FAIL");
    return;
  }
  accel = arbor_accel_new(cmd->args[1], &error);
  if (accel == NULL) {
    g_message("qtest: module_load %s %s: %s", cmd->args[0], cmd->args[1], error->message);
    g_string_assign(cmd->reply, "FAIL");
    return;
  }
  g_string_assign(cmd->reply, "OK");
}

typedef struct {
  const char *name;
  guint min_args, max_args;
  const char *usage;
  void (*run)(QtestCommand *cmd);
  gboolean virtual_clock_only; /* unknown unless the clock is virtual (qtest accel) */
} QtestCommandInfo;

static const QtestCommandInfo qtest_commands[] = {
  { "outb", 2, 2, "outb ADDR VALUE", cmd_out, FALSE },
  { "outw", 2, 2, "outw ADDR VALUE", cmd_out, FALSE },
  { "outl", 2, 2, "outl ADDR VALUE", cmd_out, FALSE },
  { "inb", 1, 1, "inb ADDR", cmd_in, FALSE },
  { "inw", 1, 1, "inw ADDR", cmd_in, FALSE },
  { "inl", 1, 1, "inl ADDR", cmd_in, FALSE },
  { "writeb", 2, 2, "writeb ADDR VALUE", cmd_write_sized, FALSE },
  { "writew", 2, 2, "writew ADDR VALUE", cmd_write_sized, FALSE },
  { "writel", 2, 2, "writel ADDR VALUE", cmd_write_sized, FALSE },
  { "writeq", 2, 2, "writeq ADDR VALUE", cmd_write_sized, FALSE },
  { "readb", 1, 1, "readb ADDR", cmd_read_sized, FALSE },
  { "readw", 1, 1, "readw ADDR", cmd_read_sized, FALSE },
  { "readl", 1, 1, "readl ADDR", cmd_read_sized, FALSE },
  { "readq", 1, 1, "readq ADDR", cmd_read_sized, FALSE },
  { "read", 2, 2, "read ADDR SIZE", cmd_read, FALSE },
  { "write", 3, 3, "write ADDR SIZE 0xDATA", cmd_write, FALSE },
  { "b64read", 2, 2, "b64read ADDR SIZE", cmd_b64read, FALSE },
  { "b64write", 3, 3, "b64write ADDR SIZE B64_DATA", cmd_b64write, FALSE },
  { "memset", 3, 3, "memset ADDR SIZE VALUE", cmd_memset, FALSE },
  { "endianness", 0, 0, "endianness", cmd_endianness, FALSE },
  { "clock_step", 0, 1, "clock_step [NS]", cmd_clock_step, TRUE },
  { "clock_set", 1, 1, "clock_set NS", cmd_clock_set, TRUE },
  { "irq_intercept_in", 1, 2, "irq_intercept_in QOM-PATH", cmd_irq_intercept, FALSE },
  { "irq_intercept_out", 1, 2, "irq_intercept_out QOM-PATH [NAME]", cmd_irq_intercept, FALSE },
  { "set_irq_in", 4, 4, "set_irq_in QOM-PATH NAME NUM LEVEL", cmd_set_irq_in, FALSE },
  { "module_load", 2, 2, "module_load PREFIX NAME", cmd_module_load, FALSE },
};

static gboolean
qtest_has_virtual_clock(ArborQtestServer *self)
{
  ArborClock *clock;

  if (self->machine == NULL)
    return FALSE;
  clock = arbor_machine_get_clock(self->machine);
  return clock != NULL && arbor_clock_get_kind(clock) == ARBOR_CLOCK_VIRTUAL;
}

static const QtestCommandInfo *
qtest_find_command(ArborQtestServer *self, const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS(qtest_commands); i++) {
    const QtestCommandInfo *info = &qtest_commands[i];

    if (strcmp(info->name, name) != 0)
      continue;
    if (info->virtual_clock_only && !qtest_has_virtual_clock(self))
      return NULL;
    return info;
  }
  return NULL;
}

/* ---- lines ------------------------------------------------------------- */

/**
 * DOC: the qtest protocol as arbor speaks it
 *
 * The client sends lines; arbor answers every line with exactly one reply
 * line, in order: "OK", "OK <value>", "FAIL <reason>" (or QEMU's one "ERR"
 * answer for write/b64write data shorter than three characters). Between a
 * command and its reply the server may send any number of "IRQ raise N" /
 * "IRQ lower N" lines when an intercepted interrupt line changes level,
 * always before the reply of the command that changed it.
 *
 * A line ends at '\n'; one '\r' just before it is dropped (CRLF clients).
 * The line is split on every single space, as QEMU does with
 * g_strsplit(line, " "): two spaces in a row make an empty word, which no
 * command accepts as a number, and a leading space makes the command word
 * empty ("FAIL Unknown command ''"). Numbers are C integers with an
 * optional 0x (hex) or 0 (octal) prefix, parsed like strtoull(word, &end, 0)
 * and required to use up the whole word.
 *
 * Where QEMU would abort the whole emulator (g_assert) arbor replies
 * "FAIL <reason>" and goes on: missing words, words left over, a malformed
 * or out-of-range number, an empty line, a port above 0xffff, a zero SIZE
 * for read, a SIZE above 16 MiB, a range that wraps past 2^64, DATA that is
 * not "0x" followed by an even number of hex digits or that is longer than
 * SIZE, base64 that is malformed or whose length differs from SIZE, a line
 * longer than the bound (the rest of it is skipped up to its '\n', then one
 * FAIL), control characters or NUL bytes in a line. A client that goes away
 * in the middle of a line takes only that partial line with it.
 *
 * The commands and their replies are listed in qtest_commands[] and in
 * docs/qtest.md.
 */
static void
qtest_log_received(ArborQtestServer *self, const char *line, gsize len)
{
  if (self->log == NULL || !self->opened)
    return;
  /* QEMU writes the words back, each after a space: for a line that is
   * " " + the line. Control bytes are escaped so the log stays text. */
  fprintf(self->log, "[R +%.06f]", self->timer != NULL ? g_timer_elapsed(self->timer, NULL) : 0.0);
  if (len > 0) {
    fputc(' ', self->log);
    for (gsize i = 0; i < len; i++) {
      guchar c = (guchar)line[i];

      if (c < 0x20 || c == 0x7f)
        fprintf(self->log, "\\x%02x", c);
      else
        fputc(c, self->log);
    }
  }
  fputc('\n', self->log);
}

static void
qtest_process_line(ArborQtestServer *self, char *line, gsize len)
{
  g_autoptr(GString) reply = g_string_new(NULL);
  g_auto(GStrv) words = NULL;
  const QtestCommandInfo *info;
  QtestCommand cmd;
  guint nwords;

  if (len > 0 && line[len - 1] == '\r')
    line[--len] = '\0';

  g_mutex_lock(&self->out_lock);
  qtest_log_received(self, line, len);
  g_mutex_unlock(&self->out_lock);

  for (gsize i = 0; i < len; i++) {
    guchar c = (guchar)line[i];

    if (c < 0x20 || c == 0x7f) {
      reply_fail(reply, "line contains %s 0x%02x at offset %" G_GSIZE_FORMAT,
                 c == 0 ? "a NUL byte" : "the control character", c, i);
      goto send;
    }
  }
  if (len == 0) {
    reply_fail(reply, "empty line");
    goto send;
  }

  words = g_strsplit(line, " ", 0);
  nwords = g_strv_length(words);
  info = qtest_find_command(self, words[0]);
  if (info == NULL) {
    g_string_printf(reply, "FAIL Unknown command '%s'", words[0]);
    goto send;
  }
  if (nwords - 1 < info->min_args) {
    reply_fail(reply, "too few arguments; usage: %s", info->usage);
    goto send;
  }
  if (nwords - 1 > info->max_args) {
    reply_fail(reply, "too many arguments; usage: %s", info->usage);
    goto send;
  }

  cmd = (QtestCommand){
    .self = self,
    .name = words[0],
    .args = words + 1,
    .nargs = nwords - 1,
    .reply = reply,
  };
  info->run(&cmd);

send:
  g_string_append_c(reply, '\n');
  qtest_send(self, reply);
}

static void
qtest_process_overlong(ArborQtestServer *self)
{
  g_autoptr(GString) reply = g_string_new(NULL);

  g_mutex_lock(&self->out_lock);
  if (self->log != NULL && self->opened) {
    qtest_log_time(self, "I", TRUE);
    fprintf(self->log, "skipped a line of %" G_GUINT64_FORMAT " bytes (longer than %u)\n", self->discarded,
            QTEST_MAX_LINE);
  }
  g_mutex_unlock(&self->out_lock);

  g_string_printf(reply, "FAIL line too long (%" G_GUINT64_FORMAT " bytes; at most %u)\n", self->discarded,
                  QTEST_MAX_LINE);
  qtest_send(self, reply);
  self->discarding = FALSE;
  self->discarded = 0;
}

void
arbor_qtest_server_feed(ArborQtestServer *self, const char *data, gsize len)
{
  guint session;

  g_return_if_fail(ARBOR_IS_QTEST_SERVER(self));
  g_return_if_fail(data != NULL || len == 0);

  /* A command's reply can find the client gone ("closed" is emitted from
   * inside the send): the rest of this chunk was that client's, and must
   * not become the start of the next client's first line. */
  session = self->session;
  while (len > 0 && self->session == session) {
    const char *newline = memchr(data, '\n', len);
    gsize piece = newline != NULL ? (gsize)(newline - data) : len;

    if (self->discarding) {
      self->discarded += piece;
    } else if (self->inbuf->len + piece > QTEST_MAX_LINE) {
      self->discarding = TRUE;
      self->discarded = self->inbuf->len + piece;
      g_string_truncate(self->inbuf, 0);
    } else {
      g_string_append_len(self->inbuf, data, piece);
    }

    if (newline == NULL)
      break;
    data += piece + 1;
    len -= piece + 1;

    if (self->discarding) {
      qtest_process_overlong(self);
    } else {
      /* Commands may feed nothing back, but keep the buffer ours. */
      g_autoptr(GString) line = g_steal_pointer(&self->inbuf);

      self->inbuf = g_string_new(NULL);
      qtest_process_line(self, line->str, line->len);
    }
  }
}

/* ---- connection -------------------------------------------------------- */

static void
qtest_client_opened(ArborQtestServer *self)
{
  g_mutex_lock(&self->out_lock);
  if (self->opened) {
    g_mutex_unlock(&self->out_lock);
    return;
  }
  self->opened = TRUE;
  memset(self->irq_levels, 0, sizeof(self->irq_levels));
  g_clear_pointer(&self->timer, g_timer_destroy);
  self->timer = g_timer_new();
  if (self->log != NULL) {
    qtest_log_time(self, "I", FALSE);
    fputs("OPENED\n", self->log);
  }
  g_mutex_unlock(&self->out_lock);
}

static void
qtest_client_closed(ArborQtestServer *self)
{
  g_mutex_lock(&self->out_lock);
  if (!self->opened) {
    g_mutex_unlock(&self->out_lock);
    return;
  }
  if (self->log != NULL) {
    qtest_log_time(self, "I", TRUE);
    fputs("CLOSED\n", self->log);
  }
  self->opened = FALSE;
  g_clear_pointer(&self->timer, g_timer_destroy);
  g_string_truncate(self->deferred, 0);
  g_mutex_unlock(&self->out_lock);

  /* A line cut short by the disconnect is dropped, not executed. */
  self->session++;
  g_string_truncate(self->inbuf, 0);
  self->discarding = FALSE;
  self->discarded = 0;
}

static void
on_chardev_received(ArborChardev *chr, GBytes *bytes, gpointer user_data)
{
  ArborQtestServer *self = user_data;
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);

  /* Bytes can arrive before "opened" is seen (stdio). */
  qtest_client_opened(self);
  arbor_qtest_server_feed(self, data, len);
}

static void
on_chardev_opened(ArborChardev *chr, gpointer user_data)
{
  qtest_client_opened(user_data);
}

static void
on_chardev_closed(ArborChardev *chr, gpointer user_data)
{
  ArborQtestServer *self = user_data;

  qtest_client_closed(self);
  /* A listening server waits for the next client. Otherwise the test (or
   * the stdin pipe) that drove this machine is gone: shut it down rather
   * than linger (QEMU keeps running until it is killed). */
  if (!self->server_mode && self->machine != NULL) {
    g_info("qtest: client went away; shutting the machine down");
    arbor_machine_request_shutdown(self->machine, 0);
  }
}

/* "unix:PATH,server=on,..." listens; so does QEMU's bare "server" flag. */
static gboolean
spec_is_server(const char *spec)
{
  g_auto(GStrv) options = g_strsplit(spec, ",", 0);

  for (guint i = 1; options[i] != NULL; i++) {
    if (strcmp(options[i], "server") == 0 || strcmp(options[i], "server=on") == 0 ||
        strcmp(options[i], "server=yes") == 0 || strcmp(options[i], "server=true") == 0)
      return TRUE;
  }
  return FALSE;
}

/* ---- object ------------------------------------------------------------ */

static void
arbor_qtest_server_dispose(GObject *object)
{
  ArborQtestServer *self = ARBOR_QTEST_SERVER(object);

  if (self->intercepting && self->machine != NULL) {
    arbor_machine_set_irq_interceptor(self->machine, NULL, NULL);
    self->intercepting = FALSE;
  }
  if (self->chr != NULL) {
    g_clear_signal_handler(&self->received_id, self->chr);
    g_clear_signal_handler(&self->opened_id, self->chr);
    g_clear_signal_handler(&self->closed_id, self->chr);
    arbor_chardev_flush(self->chr, QTEST_FLUSH_TIMEOUT_MS);
  }
  g_clear_object(&self->chr);
  g_clear_object(&self->machine);
  G_OBJECT_CLASS(arbor_qtest_server_parent_class)->dispose(object);
}

static void
arbor_qtest_server_finalize(GObject *object)
{
  ArborQtestServer *self = ARBOR_QTEST_SERVER(object);

  if (self->log != NULL)
    fclose(self->log);
  g_clear_pointer(&self->timer, g_timer_destroy);
  g_string_free(self->inbuf, TRUE);
  g_string_free(self->deferred, TRUE);
  g_mutex_clear(&self->out_lock);
  G_OBJECT_CLASS(arbor_qtest_server_parent_class)->finalize(object);
}

static void
arbor_qtest_server_class_init(ArborQtestServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->dispose = arbor_qtest_server_dispose;
  object_class->finalize = arbor_qtest_server_finalize;
}

static void
arbor_qtest_server_init(ArborQtestServer *self)
{
  g_mutex_init(&self->out_lock);
  self->inbuf = g_string_new(NULL);
  self->deferred = g_string_new(NULL);
}

ArborQtestServer *
arbor_qtest_server_new(ArborMachine *machine, const char *spec, const char *log_path, GError **error)
{
  g_autoptr(ArborQtestServer) self = NULL;

  g_return_val_if_fail(ARBOR_IS_MACHINE(machine), NULL);
  g_return_val_if_fail(spec != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  self = g_object_new(ARBOR_TYPE_QTEST_SERVER, NULL);
  self->machine = g_object_ref(machine);
  self->server_mode = spec_is_server(spec);

  if (log_path != NULL && strcmp(log_path, "none") != 0) {
    self->log = fopen(log_path, "w+");
    if (self->log == NULL) {
      int saved_errno = errno;

      g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_IO, "cannot open the qtest log '%s': %s", log_path,
                  g_strerror(saved_errno));
      return NULL;
    }
    /* Line by line, so a crash or a kill leaves a readable log. */
    setvbuf(self->log, NULL, _IOLBF, 0);
  }

  self->chr = arbor_chardev_new(spec, arbor_machine_get_context(machine), error);
  if (self->chr == NULL) {
    g_prefix_error(error, "qtest: ");
    return NULL;
  }
  self->received_id = g_signal_connect(self->chr, "received", G_CALLBACK(on_chardev_received), self);
  self->opened_id = g_signal_connect(self->chr, "opened", G_CALLBACK(on_chardev_opened), self);
  self->closed_id = g_signal_connect(self->chr, "closed", G_CALLBACK(on_chardev_closed), self);
  /* Connected already (stdio, a unix client socket): no "opened" will come. */
  if (arbor_chardev_is_connected(self->chr))
    qtest_client_opened(self);

  g_debug("qtest: serving on %s%s", spec, self->server_mode ? " (listening)" : "");
  return g_steal_pointer(&self);
}

ArborQtestServer *
arbor_qtest_server_new_in_process(ArborMachine *machine, ArborQtestOutputFunc func, gpointer opaque)
{
  ArborQtestServer *self;

  g_return_val_if_fail(machine == NULL || ARBOR_IS_MACHINE(machine), NULL);
  g_return_val_if_fail(func != NULL, NULL);

  self = g_object_new(ARBOR_TYPE_QTEST_SERVER, NULL);
  self->machine = machine != NULL ? g_object_ref(machine) : NULL;
  self->output_func = func;
  self->output_opaque = opaque;
  qtest_client_opened(self);
  return self;
}

guint
arbor_qtest_server_get_max_size(void)
{
  return QTEST_MAX_SIZE;
}

guint
arbor_qtest_server_get_max_line(void)
{
  return QTEST_MAX_LINE;
}
