/* i8042: the PS/2 controller as QEMU's pckbd presents it to a guest: the
 * status register and command port at 0x64, data at 0x60, the command
 * byte, self tests, the output port (A20, reset line) and a keyboard that
 * answers the usual probe commands. No keys are ever typed. */
#include "i8042.h"

#include <arbor/irq.h>
#include <arbor/machine.h>
#include <arbor/memory-region.h>

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64

/* Status register bits. */
#define STAT_OBF 0x01
#define STAT_SYSFLAG 0x04
#define STAT_CMD 0x08
#define STAT_UNLOCKED 0x10
#define STAT_AUX_OBF 0x20

/* Command byte ("mode") bits. */
#define MODE_KBD_INT 0x01
#define MODE_AUX_INT 0x02
#define MODE_DISABLE_KBD 0x10
#define MODE_DISABLE_AUX 0x20

/* Output port bits. */
#define OUT_RESET 0x01 /* active low */
#define OUT_A20 0x02

#define QUEUE_LEN 16

typedef struct {
  guint8 data;
  gboolean aux;
} QueuedByte;

struct _ArborI8042 {
  ArborDevice parent_instance;

  ArborMemoryRegion *data_io; /* owned */
  ArborMemoryRegion *cmd_io;  /* owned */
  ArborIrq *kbd_irq;          /* owned ref; GSI 1 */
  ArborIrq *aux_irq;          /* owned ref; GSI 12 */

  GMutex lock; /* protects everything below */
  guint8 status;
  guint8 mode;
  guint8 outport;
  guint8 write_cmd;    /* controller command waiting for its data byte, 0 if none */
  guint8 kbd_cmd;      /* keyboard command waiting for its argument, 0 if none */
  guint8 last_data;    /* what a read of an empty buffer returns */
  QueuedByte queue[QUEUE_LEN];
  guint q_head, q_len;
};

G_DEFINE_FINAL_TYPE(ArborI8042, arbor_i8042, ARBOR_TYPE_DEVICE)

/* Lock held. Sets the status bits and the IRQ lines from the queue. */
static void
i8042_update_locked(ArborI8042 *self)
{
  gboolean kbd = FALSE, aux = FALSE;

  self->status &= ~(STAT_OBF | STAT_AUX_OBF);
  if (self->q_len > 0) {
    self->status |= STAT_OBF;
    if (self->queue[self->q_head].aux) {
      self->status |= STAT_AUX_OBF;
      aux = (self->mode & MODE_AUX_INT) != 0;
    } else {
      kbd = (self->mode & MODE_KBD_INT) != 0;
    }
  }
  /* Set under the lock so that line changes keep the order of accesses. */
  if (self->kbd_irq != NULL && arbor_irq_get_level(self->kbd_irq) != kbd)
    arbor_irq_set(self->kbd_irq, kbd);
  if (self->aux_irq != NULL && arbor_irq_get_level(self->aux_irq) != aux)
    arbor_irq_set(self->aux_irq, aux);
}

static void
i8042_queue_locked(ArborI8042 *self, guint8 data, gboolean aux)
{
  if (self->q_len == QUEUE_LEN) {
    g_debug("i8042: output queue full, dropping 0x%02x", data);
    return;
  }
  self->queue[(self->q_head + self->q_len) % QUEUE_LEN] = (QueuedByte){data, aux};
  self->q_len++;
}

/* A byte for the keyboard (data port write with no pending controller command). */
static void
i8042_keyboard_write_locked(ArborI8042 *self, guint8 val)
{
  if (self->kbd_cmd != 0) {
    /* The argument of LEDs/typematic/scancode set. */
    self->kbd_cmd = 0;
    i8042_queue_locked(self, 0xfa, FALSE);
    return;
  }
  switch (val) {
  case 0xff: /* reset: ACK then self-test passed */
    i8042_queue_locked(self, 0xfa, FALSE);
    i8042_queue_locked(self, 0xaa, FALSE);
    break;
  case 0xf2: /* identify: MF2 keyboard */
    i8042_queue_locked(self, 0xfa, FALSE);
    i8042_queue_locked(self, 0xab, FALSE);
    i8042_queue_locked(self, 0x83, FALSE);
    break;
  case 0xee: /* echo */
    i8042_queue_locked(self, 0xee, FALSE);
    break;
  case 0xed: /* set LEDs */
  case 0xf3: /* typematic rate */
  case 0xf0: /* scancode set */
    self->kbd_cmd = val;
    i8042_queue_locked(self, 0xfa, FALSE);
    break;
  case 0xf4: /* enable scanning */
  case 0xf5: /* disable scanning */
  case 0xf6: /* set defaults */
    i8042_queue_locked(self, 0xfa, FALSE);
    break;
  default:
    g_debug("i8042: unknown keyboard command 0x%02x", val);
    i8042_queue_locked(self, 0xfe, FALSE); /* resend */
    break;
  }
}

static void
i8042_mouse_write_locked(ArborI8042 *self, guint8 val)
{
  i8042_queue_locked(self, 0xfa, TRUE);
  if (val == 0xff) {
    i8042_queue_locked(self, 0xaa, TRUE);
    i8042_queue_locked(self, 0x00, TRUE);
  } else if (val == 0xf2) {
    i8042_queue_locked(self, 0x00, TRUE);
  }
}

/* Lock held. Returns TRUE when the guest asked for a reset. */
static gboolean
i8042_write_outport_locked(ArborI8042 *self, guint8 val)
{
  if ((self->outport ^ val) & OUT_A20)
    g_debug("i8042: A20 %s", (val & OUT_A20) ? "on" : "off");
  self->outport = val;
  return !(val & OUT_RESET);
}

static guint64
i8042_data_read(gpointer opaque, guint64 addr, guint size)
{
  ArborI8042 *self = opaque;

  g_mutex_lock(&self->lock);
  if (self->q_len > 0) {
    self->last_data = self->queue[self->q_head].data;
    self->q_head = (self->q_head + 1) % QUEUE_LEN;
    self->q_len--;
    i8042_update_locked(self);
  }
  guint8 v = self->last_data;
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
  guint8 cmd = self->write_cmd;
  self->write_cmd = 0;
  switch (cmd) {
  case 0:
    i8042_keyboard_write_locked(self, val);
    break;
  case 0x60: /* write command byte */
    self->mode = val;
    break;
  case 0xd1: /* write output port */
    reset = i8042_write_outport_locked(self, val);
    break;
  case 0xd2: /* write keyboard output buffer */
    i8042_queue_locked(self, val, FALSE);
    break;
  case 0xd3: /* write aux output buffer */
    i8042_queue_locked(self, val, TRUE);
    break;
  case 0xd4: /* write to the mouse */
    i8042_mouse_write_locked(self, val);
    break;
  default:
    break;
  }
  i8042_update_locked(self);
  g_mutex_unlock(&self->lock);

  if (reset) {
    ArborMachine *machine = arbor_device_get_machine(ARBOR_DEVICE(self));
    g_debug("i8042: reset through the output port");
    if (machine != NULL)
      arbor_machine_request_reset(machine);
  }
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

  /* Pulse commands 0xf0..0xfe: an even value pulses the reset line. */
  if (val >= 0xf0 && !(val & 1))
    val = 0xfe;

  g_mutex_lock(&self->lock);
  switch (val) {
  case 0x20: /* read command byte */
    i8042_queue_locked(self, self->mode, FALSE);
    break;
  case 0x60:
  case 0xd1:
  case 0xd2:
  case 0xd3:
  case 0xd4:
    self->write_cmd = val;
    break;
  case 0xa7:
    self->mode |= MODE_DISABLE_AUX;
    break;
  case 0xa8:
    self->mode &= ~MODE_DISABLE_AUX;
    break;
  case 0xa9: /* mouse interface test: OK */
    i8042_queue_locked(self, 0x00, FALSE);
    break;
  case 0xaa: /* controller self test */
    self->status |= STAT_SYSFLAG;
    i8042_queue_locked(self, 0x55, FALSE);
    break;
  case 0xab: /* keyboard interface test: OK */
    i8042_queue_locked(self, 0x00, FALSE);
    break;
  case 0xad:
    self->mode |= MODE_DISABLE_KBD;
    break;
  case 0xae:
    self->mode &= ~MODE_DISABLE_KBD;
    break;
  case 0xc0: /* read input port */
    i8042_queue_locked(self, 0x80, FALSE);
    break;
  case 0xd0: /* read output port */
    i8042_queue_locked(self, self->outport, FALSE);
    break;
  case 0xdd:
    i8042_write_outport_locked(self, self->outport & ~OUT_A20);
    break;
  case 0xdf:
    i8042_write_outport_locked(self, self->outport | OUT_A20);
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
  i8042_update_locked(self);
  g_mutex_unlock(&self->lock);

  if (reset) {
    ArborMachine *machine = arbor_device_get_machine(ARBOR_DEVICE(self));
    g_debug("i8042: reset line pulsed");
    if (machine != NULL)
      arbor_machine_request_reset(machine);
  }
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
i8042_reset(ArborDevice *device)
{
  ArborI8042 *self = ARBOR_I8042(device);

  g_mutex_lock(&self->lock);
  self->status = STAT_CMD | STAT_UNLOCKED;
  self->mode = MODE_KBD_INT | MODE_AUX_INT;
  self->outport = 0xcf; /* reset inactive, A20 on, unused bits high */
  self->write_cmd = 0;
  self->kbd_cmd = 0;
  self->q_head = self->q_len = 0;
  i8042_update_locked(self);
  g_mutex_unlock(&self->lock);
}

static gboolean
i8042_realize(ArborDevice *device, ArborMachine *machine, GError **error)
{
  ArborI8042 *self = ARBOR_I8042(device);
  ArborMemoryRegion *system_io = arbor_machine_get_system_io(machine);

  self->kbd_irq = arbor_irq_ref(arbor_machine_get_irq(machine, 1));
  self->aux_irq = arbor_irq_ref(arbor_machine_get_irq(machine, 12));
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
  g_clear_pointer(&self->aux_irq, arbor_irq_unref);
  g_mutex_unlock(&self->lock);
}

static void
i8042_dispose(GObject *object)
{
  ArborI8042 *self = ARBOR_I8042(object);

  g_clear_object(&self->data_io);
  g_clear_object(&self->cmd_io);
  g_clear_pointer(&self->kbd_irq, arbor_irq_unref);
  g_clear_pointer(&self->aux_irq, arbor_irq_unref);
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
  self->status = STAT_CMD | STAT_UNLOCKED;
  self->mode = MODE_KBD_INT | MODE_AUX_INT;
  self->outport = 0xcf;
}
