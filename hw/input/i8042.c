/* i8042: the PS/2 controller as QEMU 7.2's pckbd presents it to a guest:
 * the status register and command port at 0x64, data at 0x60, the command
 * byte, self tests, the output port (A20, reset line), and behind it a PS/2
 * keyboard and mouse that answer their commands. No key is ever typed and
 * the mouse never moves, so the device queues only hold command replies.
 *
 * The controller has one byte of its own (replies to controller commands,
 * with priority) and the two device queues; the output buffer latches
 * whichever source had data when it was last empty, as QEMU does, so the
 * sequence of bytes and of IRQ 1/12 edges a guest (or qtest) sees is the
 * same. */
#include "i8042.h"

#include <arbor/irq.h>
#include <arbor/machine.h>
#include <arbor/memory-region.h>

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64

/* Status register bits. */
#define STAT_OBF 0x01
#define STAT_SELFTEST 0x04
#define STAT_CMD 0x08
#define STAT_UNLOCKED 0x10
#define STAT_MOUSE_OBF 0x20

/* Command byte ("mode") bits. */
#define MODE_KBD_INT 0x01
#define MODE_MOUSE_INT 0x02
#define MODE_DISABLE_KBD 0x10
#define MODE_DISABLE_MOUSE 0x20
#define MODE_KCC 0x40

/* Output port bits. */
#define OUT_RESET 0x01 /* 1 = running, 0 = reset */
#define OUT_A20 0x02
#define OUT_OBF 0x10
#define OUT_MOUSE_OBF 0x20
#define OUT_ONES 0xcc

/* Sources of output-buffer data ("pending" bits). The device bits equal
 * the mode's disable bits so a disabled interface masks its data. */
#define PENDING_CTRL_KBD 0x04
#define PENDING_CTRL_AUX 0x08
#define PENDING_KBD MODE_DISABLE_KBD
#define PENDING_AUX MODE_DISABLE_MOUSE

typedef enum {
  OBSRC_NONE,
  OBSRC_KBD,
  OBSRC_MOUSE,
  OBSRC_CTRL,
} OutputSource;

#define PS2_QUEUE_LEN 16

/* One PS/2 device's reply queue. */
typedef struct {
  guint8 data[PS2_QUEUE_LEN];
  guint head, count;
  guint8 last; /* returned when read empty */
  int write_cmd; /* command waiting for its argument, -1 if none */
} Ps2Queue;

static inline void
ps2_reset_queue(Ps2Queue *q)
{
  q->head = q->count = 0;
}

static inline gboolean
ps2_room(const Ps2Queue *q, guint n)
{
  return PS2_QUEUE_LEN - q->count >= n;
}

static inline void
ps2_push(Ps2Queue *q, guint8 b)
{
  q->data[(q->head + q->count) % PS2_QUEUE_LEN] = b;
  q->count++;
}

struct _ArborI8042 {
  ArborDevice parent_instance;

  ArborMemoryRegion *data_io; /* owned */
  ArborMemoryRegion *cmd_io;  /* owned */
  ArborIrq *kbd_irq;          /* owned ref; GSI 1 */
  ArborIrq *mouse_irq;        /* owned ref; GSI 12 */

  GMutex lock; /* protects everything below */
  guint8 status;
  guint8 mode;
  guint8 outport;
  guint8 pending;
  OutputSource obsrc;
  guint8 obdata;    /* last byte the guest read */
  guint8 cbdata;    /* the controller's own reply byte */
  guint8 write_cmd; /* controller command waiting for its data byte */

  Ps2Queue kbd;
  gboolean kbd_translate;
  guint8 kbd_scancode_set;
  gboolean kbd_scan_enabled;

  Ps2Queue mouse;
  guint8 mouse_status, mouse_resolution, mouse_sample_rate, mouse_type, mouse_detect;
  gboolean mouse_wrap;
};

G_DEFINE_FINAL_TYPE(ArborI8042, arbor_i8042, ARBOR_TYPE_DEVICE)

/* ---- controller (lock held) ---------------------------------------------- */

static inline guint8
i8042_pending(ArborI8042 *self)
{
  /* A disabled interface's data waits. */
  return self->pending & (~self->mode | ~(PENDING_KBD | PENDING_AUX));
}

static void
i8042_update_irq_lines(ArborI8042 *self)
{
  gboolean kbd = FALSE, mouse = FALSE;

  if (self->status & STAT_OBF) {
    if (self->status & STAT_MOUSE_OBF)
      mouse = (self->mode & MODE_MOUSE_INT) != 0;
    else
      kbd = (self->mode & MODE_KBD_INT) && !(self->mode & MODE_DISABLE_KBD);
  }
  /* Under the lock, so line changes keep the order of the accesses. */
  if (self->kbd_irq != NULL && arbor_irq_get_level(self->kbd_irq) != kbd)
    arbor_irq_set(self->kbd_irq, kbd);
  if (self->mouse_irq != NULL && arbor_irq_get_level(self->mouse_irq) != mouse)
    arbor_irq_set(self->mouse_irq, mouse);
}

static void
i8042_deassert(ArborI8042 *self)
{
  self->status &= ~(STAT_OBF | STAT_MOUSE_OBF);
  self->outport &= ~(OUT_OBF | OUT_MOUSE_OBF);
  i8042_update_irq_lines(self);
}

/* Latches the highest-priority pending source into the output buffer. */
static void
i8042_update_irq(ArborI8042 *self)
{
  guint8 pending = i8042_pending(self);

  self->status &= ~(STAT_OBF | STAT_MOUSE_OBF);
  self->outport &= ~(OUT_OBF | OUT_MOUSE_OBF);
  if (pending) {
    self->status |= STAT_OBF;
    self->outport |= OUT_OBF;
    if (pending & PENDING_CTRL_KBD) {
      self->obsrc = OBSRC_CTRL;
    } else if (pending & PENDING_CTRL_AUX) {
      self->status |= STAT_MOUSE_OBF;
      self->outport |= OUT_MOUSE_OBF;
      self->obsrc = OBSRC_CTRL;
    } else if (pending & PENDING_KBD) {
      self->obsrc = OBSRC_KBD;
    } else {
      self->status |= STAT_MOUSE_OBF;
      self->outport |= OUT_MOUSE_OBF;
      self->obsrc = OBSRC_MOUSE;
    }
  }
  i8042_update_irq_lines(self);
}

/* Only when the output buffer is free: a full one is refilled on read. */
static void
i8042_safe_update_irq(ArborI8042 *self)
{
  if (self->status & STAT_OBF)
    return;
  if (i8042_pending(self))
    i8042_update_irq(self);
}

static void
i8042_set_pending(ArborI8042 *self, guint8 bit, gboolean level)
{
  if (level)
    self->pending |= bit;
  else
    self->pending &= ~bit;
  i8042_safe_update_irq(self);
}

/* A reply from the controller itself (one byte, replaces an unread one). */
static void
i8042_ctrl_queue(ArborI8042 *self, guint8 b, gboolean aux)
{
  self->cbdata = b;
  self->pending &= ~(PENDING_CTRL_KBD | PENDING_CTRL_AUX);
  self->pending |= aux ? PENDING_CTRL_AUX : PENDING_CTRL_KBD;
  i8042_safe_update_irq(self);
}

static guint8
i8042_ctrl_dequeue(ArborI8042 *self)
{
  self->pending &= ~(PENDING_CTRL_KBD | PENDING_CTRL_AUX);
  if (i8042_pending(self))
    i8042_update_irq(self);
  return self->cbdata;
}

/* ---- PS/2 devices (lock held) -------------------------------------------- */

/* The device raised its line: data is waiting. */
static void
ps2_notify(ArborI8042 *self, Ps2Queue *q)
{
  i8042_set_pending(self, q == &self->kbd ? PENDING_KBD : PENDING_AUX, TRUE);
}

static void
ps2_queue_bytes(ArborI8042 *self, Ps2Queue *q, const guint8 *bytes, guint n)
{
  if (!ps2_room(q, n))
    return;
  for (guint i = 0; i < n; i++)
    ps2_push(q, bytes[i]);
  ps2_notify(self, q);
}

static guint8
ps2_read(ArborI8042 *self, Ps2Queue *q)
{
  guint8 bit = q == &self->kbd ? PENDING_KBD : PENDING_AUX;

  if (q->count == 0)
    return q->last;
  q->last = q->data[q->head];
  q->head = (q->head + 1) % PS2_QUEUE_LEN;
  q->count--;
  /* Reading lowers the device's line, and raises it again if more is left. */
  i8042_set_pending(self, bit, FALSE);
  if (q->count > 0)
    i8042_set_pending(self, bit, TRUE);
  return q->last;
}

static void
kbd_reset_device(ArborI8042 *self)
{
  self->kbd_scan_enabled = TRUE;
  self->kbd_scancode_set = 2;
  ps2_reset_queue(&self->kbd);
}

/* Keyboard replies replace whatever reply was not read yet. */
static void
kbd_reply(ArborI8042 *self, const guint8 *bytes, guint n)
{
  ps2_reset_queue(&self->kbd);
  for (guint i = 0; i < n; i++)
    ps2_push(&self->kbd, bytes[i]);
  ps2_notify(self, &self->kbd);
}

static void
kbd_reply1(ArborI8042 *self, guint8 b)
{
  kbd_reply(self, &b, 1);
}

static void
ps2_keyboard_write(ArborI8042 *self, guint8 val)
{
  Ps2Queue *q = &self->kbd;

  switch (q->write_cmd) {
  case 0xf0: /* scancode set: 0 asks, 1..3 set */
    q->write_cmd = -1;
    if (val == 0) {
      /* Translated, set 2 reads as 0x3f (QEMU's translation table). */
      static const guint8 translated[4] = {0xff, 0x43, 0x41, 0x3f};
      guint8 reply[2] = {0xfa, self->kbd_translate ? translated[self->kbd_scancode_set & 3]
                                                   : self->kbd_scancode_set};
      kbd_reply(self, reply, 2);
    } else if (val <= 3) {
      self->kbd_scancode_set = val;
      kbd_reply1(self, 0xfa);
    } else {
      kbd_reply1(self, 0xfe);
    }
    return;
  case 0xed: /* LEDs */
  case 0xf3: /* typematic rate */
  case 0xfc: /* make/break */
    q->write_cmd = -1;
    kbd_reply1(self, 0xfa);
    return;
  default:
    break;
  }

  switch (val) {
  case 0x00:
  case 0xfa:
    kbd_reply1(self, 0xfa);
    break;
  case 0xf2: { /* identify: MF2 */
    guint8 reply[3] = {0xfa, 0xab, self->kbd_translate ? 0x41 : 0x83};
    kbd_reply(self, reply, 3);
    break;
  }
  case 0xee: /* echo */
    kbd_reply1(self, 0xee);
    break;
  case 0xf4:
    self->kbd_scan_enabled = TRUE;
    kbd_reply1(self, 0xfa);
    break;
  case 0xf0:
  case 0xed:
  case 0xf3:
  case 0xfc:
    q->write_cmd = val;
    kbd_reply1(self, 0xfa);
    break;
  case 0xf5:
    kbd_reset_device(self);
    self->kbd_scan_enabled = FALSE;
    kbd_reply1(self, 0xfa);
    break;
  case 0xf6:
    kbd_reset_device(self);
    kbd_reply1(self, 0xfa);
    break;
  case 0xff: { /* reset: ACK, self test passed */
    guint8 reply[2] = {0xfa, 0xaa};
    kbd_reset_device(self);
    kbd_reply(self, reply, 2);
    break;
  }
  default: /* includes 0x05 */
    kbd_reply1(self, 0xfe); /* resend */
    break;
  }
}

static void
ps2_mouse_write(ArborI8042 *self, guint8 val)
{
  Ps2Queue *q = &self->mouse;
  const guint8 ack = 0xfa;

  if (q->write_cmd == 0xf3) { /* sample rate; also the IntelliMouse knock */
    self->mouse_sample_rate = val;
    switch (self->mouse_detect) {
    case 0:
      if (val == 200)
        self->mouse_detect = 1;
      break;
    case 1:
      self->mouse_detect = val == 100 ? 2 : val == 200 ? 3 : 0;
      break;
    case 2:
      if (val == 80)
        self->mouse_type = 3;
      self->mouse_detect = 0;
      break;
    default:
      if (val == 80)
        self->mouse_type = 4;
      self->mouse_detect = 0;
      break;
    }
    ps2_queue_bytes(self, q, &ack, 1);
    q->write_cmd = -1;
    return;
  }
  if (q->write_cmd == 0xe8) { /* resolution */
    self->mouse_resolution = val;
    ps2_queue_bytes(self, q, &ack, 1);
    q->write_cmd = -1;
    return;
  }

  if (self->mouse_wrap) {
    if (val == 0xec) {
      self->mouse_wrap = FALSE;
      ps2_queue_bytes(self, q, &ack, 1);
      return;
    }
    if (val != 0xff) {
      ps2_queue_bytes(self, q, &val, 1);
      return;
    }
  }
  switch (val) {
  case 0xe6:
    self->mouse_status &= ~0x10;
    ps2_queue_bytes(self, q, &ack, 1);
    break;
  case 0xe7:
    self->mouse_status |= 0x10;
    ps2_queue_bytes(self, q, &ack, 1);
    break;
  case 0xea:
    self->mouse_status &= ~0x40;
    ps2_queue_bytes(self, q, &ack, 1);
    break;
  case 0xee:
    self->mouse_wrap = TRUE;
    ps2_queue_bytes(self, q, &ack, 1);
    break;
  case 0xf0:
    self->mouse_status |= 0x40;
    ps2_queue_bytes(self, q, &ack, 1);
    break;
  case 0xf2: {
    guint8 reply[2] = {ack, self->mouse_type};
    ps2_queue_bytes(self, q, reply, 2);
    break;
  }
  case 0xe8:
  case 0xf3:
    q->write_cmd = val;
    ps2_queue_bytes(self, q, &ack, 1);
    break;
  case 0xe9: {
    guint8 reply[4] = {ack, self->mouse_status, self->mouse_resolution, self->mouse_sample_rate};
    ps2_queue_bytes(self, q, reply, 4);
    break;
  }
  case 0xeb: { /* poll: ACK and a packet with no movement */
    guint8 packet[4] = {0x08, 0x00, 0x00, 0x00};
    ps2_queue_bytes(self, q, &ack, 1);
    ps2_queue_bytes(self, q, packet, self->mouse_type ? 4 : 3);
    break;
  }
  case 0xf4:
    self->mouse_status |= 0x20;
    ps2_queue_bytes(self, q, &ack, 1);
    break;
  case 0xf5:
    self->mouse_status &= ~0x20;
    ps2_queue_bytes(self, q, &ack, 1);
    break;
  case 0xf6:
    self->mouse_sample_rate = 100;
    self->mouse_resolution = 2;
    self->mouse_status = 0;
    ps2_queue_bytes(self, q, &ack, 1);
    break;
  case 0xff: {
    self->mouse_sample_rate = 100;
    self->mouse_resolution = 2;
    self->mouse_status = 0;
    self->mouse_type = 0;
    ps2_reset_queue(q);
    guint8 reply[3] = {ack, 0xaa, self->mouse_type};
    ps2_queue_bytes(self, q, reply, 3);
    break;
  }
  default:
    g_debug("i8042: unknown mouse command 0x%02x", val);
    break;
  }
}

/* ---- register access ----------------------------------------------------- */

/* Lock held. Returns TRUE when the guest asked for a reset. */
static gboolean
i8042_write_outport(ArborI8042 *self, guint8 val)
{
  if ((self->outport ^ val) & OUT_A20)
    g_debug("i8042: A20 %s", (val & OUT_A20) ? "on" : "off");
  self->outport = val;
  return !(val & OUT_RESET);
}

static void
i8042_request_reset(ArborI8042 *self, const char *why)
{
  ArborMachine *machine = arbor_device_get_machine(ARBOR_DEVICE(self));

  g_debug("i8042: %s: reset", why);
  if (machine != NULL)
    arbor_machine_request_reset(machine);
}

static guint64
i8042_data_read(gpointer opaque, guint64 addr, guint size)
{
  ArborI8042 *self = opaque;

  g_mutex_lock(&self->lock);
  if (self->status & STAT_OBF) {
    i8042_deassert(self);
    switch (self->obsrc) {
    case OBSRC_KBD:
      self->obdata = ps2_read(self, &self->kbd);
      break;
    case OBSRC_MOUSE:
      self->obdata = ps2_read(self, &self->mouse);
      break;
    case OBSRC_CTRL:
      self->obdata = i8042_ctrl_dequeue(self);
      break;
    case OBSRC_NONE:
      break;
    }
  }
  guint8 v = self->obdata;
  g_mutex_unlock(&self->lock);
  return v;
}

static void
i8042_data_write(gpointer opaque, guint64 addr, guint size, guint64 value)
{
  ArborI8042 *self = opaque;
  guint8 val = (guint8) value;
  gboolean reset = FALSE;

  g_mutex_lock(&self->lock);
  switch (self->write_cmd) {
  case 0:
    ps2_keyboard_write(self, val);
    /* Talking to the keyboard re-enables its interface. */
    self->mode &= ~MODE_DISABLE_KBD;
    i8042_safe_update_irq(self);
    break;
  case 0x60:
    self->mode = val;
    self->kbd_translate = (val & MODE_KCC) != 0;
    i8042_update_irq_lines(self);
    i8042_safe_update_irq(self);
    break;
  case 0xd1:
    reset = i8042_write_outport(self, val);
    break;
  case 0xd2:
    i8042_ctrl_queue(self, val, FALSE);
    break;
  case 0xd3:
    i8042_ctrl_queue(self, val, TRUE);
    break;
  case 0xd4:
    ps2_mouse_write(self, val);
    self->mode &= ~MODE_DISABLE_MOUSE;
    i8042_safe_update_irq(self);
    break;
  default:
    break;
  }
  self->write_cmd = 0;
  g_mutex_unlock(&self->lock);

  if (reset)
    i8042_request_reset(self, "output port bit 0 low");
}

static guint64
i8042_status_read(gpointer opaque, guint64 addr, guint size)
{
  ArborI8042 *self = opaque;

  g_mutex_lock(&self->lock);
  guint8 v = self->status;
  g_mutex_unlock(&self->lock);
  return v;
}

static void
i8042_command_write(gpointer opaque, guint64 addr, guint size, guint64 value)
{
  ArborI8042 *self = opaque;
  guint8 val = (guint8) value;
  gboolean reset = FALSE;

  /* 0xf0..0xff pulse output port bits 3..0 low where the command has 0s;
   * only bit 0 (the reset line) means anything. */
  if ((val & 0xf0) == 0xf0)
    val = (val & 1) ? 0xff : 0xfe;

  g_mutex_lock(&self->lock);
  switch (val) {
  case 0x20: /* read command byte */
    i8042_ctrl_queue(self, self->mode, FALSE);
    break;
  case 0x60:
  case 0xd1:
  case 0xd2:
  case 0xd3:
  case 0xd4:
    self->write_cmd = val;
    break;
  case 0xa7:
    self->mode |= MODE_DISABLE_MOUSE;
    break;
  case 0xa8:
    self->mode &= ~MODE_DISABLE_MOUSE;
    i8042_safe_update_irq(self);
    break;
  case 0xa9: /* mouse interface test: OK */
  case 0xab: /* keyboard interface test: OK */
    i8042_ctrl_queue(self, 0x00, FALSE);
    break;
  case 0xaa: /* controller self test */
    self->status |= STAT_SELFTEST;
    i8042_ctrl_queue(self, 0x55, FALSE);
    break;
  case 0xad:
    self->mode |= MODE_DISABLE_KBD;
    break;
  case 0xae:
    self->mode &= ~MODE_DISABLE_KBD;
    i8042_safe_update_irq(self);
    break;
  case 0xc0: /* read input port */
    i8042_ctrl_queue(self, 0x80, FALSE);
    break;
  case 0xd0: /* read output port */
    i8042_ctrl_queue(self, self->outport, FALSE);
    break;
  case 0xdd:
    self->outport &= ~OUT_A20;
    break;
  case 0xdf:
    self->outport |= OUT_A20;
    break;
  case 0xfe:
    reset = TRUE;
    break;
  case 0xff:
    break;
  default:
    g_debug("i8042: unsupported controller command 0x%02x", val);
    break;
  }
  g_mutex_unlock(&self->lock);

  if (reset)
    i8042_request_reset(self, "reset line pulsed");
}

static const ArborMemoryRegionOps i8042_data_ops = {
  .read = i8042_data_read,
  .write = i8042_data_write,
  .endianness = ARBOR_ENDIAN_LITTLE,
  .impl = {.min_access_size = 1, .max_access_size = 1},
};

static const ArborMemoryRegionOps i8042_cmd_ops = {
  .read = i8042_status_read,
  .write = i8042_command_write,
  .endianness = ARBOR_ENDIAN_LITTLE,
  .impl = {.min_access_size = 1, .max_access_size = 1},
};

gboolean
arbor_i8042_get_a20(ArborI8042 *self)
{
  g_return_val_if_fail(ARBOR_IS_I8042(self), FALSE);

  g_mutex_lock(&self->lock);
  gboolean a20 = (self->outport & OUT_A20) != 0;
  g_mutex_unlock(&self->lock);
  return a20;
}

static void
i8042_reset_locked(ArborI8042 *self)
{
  self->mode = MODE_KBD_INT | MODE_MOUSE_INT;
  self->status = STAT_CMD | STAT_UNLOCKED;
  self->outport = OUT_RESET | OUT_A20 | OUT_ONES;
  self->pending = 0;
  self->write_cmd = 0;

  kbd_reset_device(self);
  self->kbd.write_cmd = -1;
  self->kbd_translate = FALSE;
  ps2_reset_queue(&self->mouse);
  self->mouse.write_cmd = -1;
  self->mouse_status = self->mouse_resolution = self->mouse_sample_rate = 0;
  self->mouse_type = self->mouse_detect = 0;
  self->mouse_wrap = FALSE;

  i8042_deassert(self);
}

static void
i8042_reset(ArborDevice *device)
{
  ArborI8042 *self = ARBOR_I8042(device);

  g_mutex_lock(&self->lock);
  i8042_reset_locked(self);
  g_mutex_unlock(&self->lock);
}

static gboolean
i8042_realize(ArborDevice *device, ArborMachine *machine, GError **error)
{
  ArborI8042 *self = ARBOR_I8042(device);
  ArborMemoryRegion *system_io = arbor_machine_get_system_io(machine);

  self->kbd_irq = arbor_irq_ref(arbor_machine_get_irq(machine, 1));
  self->mouse_irq = arbor_irq_ref(arbor_machine_get_irq(machine, 12));
  self->data_io = arbor_memory_region_new_io("i8042-data", 1, &i8042_data_ops, self);
  self->cmd_io = arbor_memory_region_new_io("i8042-cmd", 1, &i8042_cmd_ops, self);
  arbor_memory_region_set_owner(self->data_io, G_OBJECT(self));
  arbor_memory_region_set_owner(self->cmd_io, G_OBJECT(self));
  arbor_memory_region_add_subregion(system_io, I8042_DATA_PORT, self->data_io);
  arbor_memory_region_add_subregion(system_io, I8042_CMD_PORT, self->cmd_io);
  i8042_reset(device);
  return TRUE;
}

static void
i8042_unrealize(ArborDevice *device)
{
  ArborI8042 *self = ARBOR_I8042(device);
  ArborMemoryRegion *regions[] = {self->data_io, self->cmd_io};

  for (guint i = 0; i < G_N_ELEMENTS(regions); i++) {
    ArborMemoryRegion *container = regions[i] != NULL ? arbor_memory_region_get_container(regions[i]) : NULL;
    if (container != NULL)
      arbor_memory_region_del_subregion(container, regions[i]);
  }
  g_clear_object(&self->data_io);
  g_clear_object(&self->cmd_io);
  g_mutex_lock(&self->lock);
  g_clear_pointer(&self->kbd_irq, arbor_irq_unref);
  g_clear_pointer(&self->mouse_irq, arbor_irq_unref);
  g_mutex_unlock(&self->lock);
}

static void
i8042_dispose(GObject *object)
{
  ArborI8042 *self = ARBOR_I8042(object);

  g_clear_object(&self->data_io);
  g_clear_object(&self->cmd_io);
  g_clear_pointer(&self->kbd_irq, arbor_irq_unref);
  g_clear_pointer(&self->mouse_irq, arbor_irq_unref);
  G_OBJECT_CLASS(arbor_i8042_parent_class)->dispose(object);
}

static void
i8042_finalize(GObject *object)
{
  g_mutex_clear(&ARBOR_I8042(object)->lock);
  G_OBJECT_CLASS(arbor_i8042_parent_class)->finalize(object);
}

static void
arbor_i8042_class_init(ArborI8042Class *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  ArborDeviceClass *device_class = ARBOR_DEVICE_CLASS(klass);

  object_class->dispose = i8042_dispose;
  object_class->finalize = i8042_finalize;
  device_class->device_name = "i8042";
  device_class->description = "PS/2 keyboard controller at 0x60/0x64 (IRQ 1 and 12)";
  device_class->realize = i8042_realize;
  device_class->unrealize = i8042_unrealize;
  device_class->reset = i8042_reset;
}

static void
arbor_i8042_init(ArborI8042 *self)
{
  g_mutex_init(&self->lock);
  i8042_reset_locked(self);
}
