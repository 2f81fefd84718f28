/* isa-serial: a 16550A UART that behaves, register for register, like
 * QEMU 7.2's hw/char/serial.c as seen through port I/O:
 *
 *  - transmission is immediate (THRE/TEMT set again before the write
 *    returns), as QEMU does;
 *  - 16-byte RX/TX FIFOs, trigger levels 1/4/8/14, a character timeout
 *    interrupt 4 character times after the last RX activity, on the
 *    machine clock (so qtest's clock_step drives it);
 *  - IIR priorities: line status > timeout > RX data > THR empty > modem
 *    status; reading IIR while it reports THRE clears that interrupt,
 *    reading LSR clears the error bits, reading MSR the delta bits;
 *  - loopback: TX goes to RX and MSR mirrors MCR (no delta bits, as QEMU).
 *
 * Register ops run on vCPU threads (or the main thread for qtest); backend
 * input arrives on the main context; the device lock serializes them. No
 * op blocks: output goes to the chardev's bounded queue, input waits in a
 * buffer bounded by one backend read while the FIFO is full (the backend
 * is told to stop reading meanwhile).
 */
#include "serial.h"

#include <arbor/chardev.h>
#include <arbor/clock.h>
#include <arbor/irq.h>
#include <arbor/machine.h>
#include <arbor/memory-region.h>

#define UART_FIFO_LEN 16
#define UART_BAUDBASE 115200
#define NS_PER_SEC G_GINT64_CONSTANT(1000000000)

#define LCR_DLAB 0x80

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08

#define IIR_NO_INT 0x01
#define IIR_ID_MASK 0x06
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_CTI 0x0c
#define IIR_FIFO_ENABLED 0xc0

#define FCR_FE 0x01
#define FCR_RFR 0x02
#define FCR_XFR 0x04
#define FCR_STICKY 0xc9 /* trigger level, DMA mode, enable */

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_PE 0x04
#define LSR_FE 0x08
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_FIFO_ERR 0x80
#define LSR_INT_ANY (LSR_OE | LSR_PE | LSR_FE | LSR_BI)
#define LSR_ERRORS (LSR_INT_ANY | LSR_FIFO_ERR)

#define MSR_ANY_DELTA 0x0f
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

typedef struct {
  guint8 data[UART_FIFO_LEN];
  guint head, count;
} Fifo;

static inline void
fifo_reset(Fifo *f)
{
  f->head = f->count = 0;
}

static inline gboolean
fifo_full(const Fifo *f)
{
  return f->count == UART_FIFO_LEN;
}

static inline void
fifo_push(Fifo *f, guint8 v)
{
  f->data[(f->head + f->count) % UART_FIFO_LEN] = v;
  f->count++;
}

static inline guint8
fifo_pop(Fifo *f)
{
  guint8 v = f->data[f->head];
  f->head = (f->head + 1) % UART_FIFO_LEN;
  f->count--;
  return v;
}

/* The standard ISA COM ports for the "index" property. */
static const struct {
  guint16 iobase;
  guint8 irq;
} com_ports[] = {{0x3f8, 4}, {0x2f8, 3}, {0x3e8, 4}, {0x2e8, 3}};

struct _ArborSerial {
  ArborDevice parent_instance;

  /* Configuration (properties, before realize). */
  guint iobase;
  guint irq_num;
  guint index;
  gboolean iobase_set, irq_set;
  char *chardev_spec;    /* owned */
  ArborChardev *backend; /* owned ref: given or created at realize */

  /* Realized. */
  ArborMemoryRegion *io;     /* owned */
  ArborIrq *irq;             /* owned ref */
  ArborTimer *fifo_timeout;  /* owned */
  ArborClock *clock;         /* owned ref */
  gulong received_handler;

  GMutex lock; /* protects everything below */
  guint16 divider;
  guint8 rbr, thr, tsr, ier, iir, fcr, lcr, mcr, lsr, msr, scr;
  guint recv_itl;
  gboolean thr_ipending;
  gboolean timeout_ipending;
  gboolean irq_level;
  gint64 char_transmit_time; /* ns per character at the current line settings */
  Fifo rx, tx;
  GByteArray *pending_in;    /* received, not yet in the FIFO (at most one backend read) */
  gboolean input_paused;
};

G_DEFINE_FINAL_TYPE(ArborSerial, arbor_serial, ARBOR_TYPE_DEVICE)

enum {
  PROP_0,
  PROP_IOBASE,
  PROP_IRQ,
  PROP_INDEX,
  PROP_CHARDEV,
  PROP_BACKEND,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

/* ---- state machine (lock held) ----------------------------------------- */

static void
serial_update_irq_locked(ArborSerial *s)
{
  guint8 id = IIR_NO_INT;

  if ((s->ier & IER_RLSI) && (s->lsr & LSR_INT_ANY))
    id = IIR_RLSI;
  else if ((s->ier & IER_RDI) && s->timeout_ipending)
    id = IIR_CTI;
  else if ((s->ier & IER_RDI) && (s->lsr & LSR_DR) && (!(s->fcr & FCR_FE) || s->rx.count >= s->recv_itl))
    id = IIR_RDI;
  else if ((s->ier & IER_THRI) && s->thr_ipending)
    id = IIR_THRI;
  else if ((s->ier & IER_MSI) && (s->msr & MSR_ANY_DELTA))
    id = IIR_MSI;

  s->iir = id | (s->iir & 0xf0);

  gboolean level = id != IIR_NO_INT;
  if (level != s->irq_level) {
    s->irq_level = level;
    /* Under the lock, so line changes keep the order of the accesses. */
    if (s->irq != NULL)
      arbor_irq_set(s->irq, level);
  }
}

static void
serial_update_parameters_locked(ArborSerial *s)
{
  if (s->divider == 0)
    return;

  int frame = 1; /* start bit */
  if (s->lcr & 0x08)
    frame++; /* parity */
  frame += (s->lcr & 0x04) ? 2 : 1; /* stop bits */
  frame += (s->lcr & 0x03) + 5;     /* data bits */
  gint64 speed = UART_BAUDBASE / s->divider;
  s->char_transmit_time = (NS_PER_SEC / speed) * frame;
}

static void
serial_arm_timeout_locked(ArborSerial *s)
{
  if (s->fifo_timeout != NULL)
    arbor_timer_mod(s->fifo_timeout, arbor_clock_get_ns(s->clock) + s->char_transmit_time * 4);
}

/* One received byte (backend or loopback). */
static void
serial_receive_byte_locked(ArborSerial *s, guint8 v)
{
  if (s->fcr & FCR_FE) {
    /* Overruns do not overwrite the FIFO. */
    if (!fifo_full(&s->rx))
      fifo_push(&s->rx, v);
    else
      s->lsr |= LSR_OE;
    s->lsr |= LSR_DR;
    serial_arm_timeout_locked(s);
  } else {
    if (s->lsr & LSR_DR)
      s->lsr |= LSR_OE;
    s->rbr = v;
    s->lsr |= LSR_DR;
  }
  serial_update_irq_locked(s);
}

static gboolean
serial_can_receive_locked(ArborSerial *s)
{
  if (s->fcr & FCR_FE)
    return !fifo_full(&s->rx);
  return !(s->lsr & LSR_DR);
}

/* Moves backend input waiting in pending_in into the receiver as far as
 * it has room, and tells the backend whether to keep reading. */
static void
serial_feed_input_locked(ArborSerial *s)
{
  guint taken = 0;

  while (taken < s->pending_in->len && serial_can_receive_locked(s))
    serial_receive_byte_locked(s, s->pending_in->data[taken++]);
  if (taken > 0)
    g_byte_array_remove_range(s->pending_in, 0, taken);

  gboolean pause = s->pending_in->len > 0;
  if (pause != s->input_paused && s->backend != NULL) {
    s->input_paused = pause;
    arbor_chardev_set_accept_input(s->backend, !pause);
  }
}

/* Sends everything the transmitter holds, at once (QEMU's timing). */
static void
serial_xmit_locked(ArborSerial *s)
{
  do {
    if (s->fcr & FCR_FE) {
      s->tsr = fifo_pop(&s->tx);
      if (s->tx.count == 0)
        s->lsr |= LSR_THRE;
    } else {
      s->tsr = s->thr;
      s->lsr |= LSR_THRE;
    }
    if ((s->lsr & LSR_THRE) && !s->thr_ipending) {
      s->thr_ipending = TRUE;
      serial_update_irq_locked(s);
    }

    if (s->mcr & MCR_LOOP)
      serial_receive_byte_locked(s, s->tsr);
    else if (s->backend != NULL)
      arbor_chardev_write(s->backend, &s->tsr, 1); /* never blocks; drops are counted by the chardev */
  } while (!(s->lsr & LSR_THRE));

  s->lsr |= LSR_TEMT;
}

static void
serial_reset_locked(ArborSerial *s)
{
  s->rbr = 0;
  s->thr = 0;
  s->tsr = 0;
  s->ier = 0;
  s->iir = IIR_NO_INT;
  s->fcr = 0;
  s->lcr = 0;
  s->lsr = LSR_TEMT | LSR_THRE;
  s->msr = MSR_DCD | MSR_DSR | MSR_CTS;
  s->divider = 0x0c; /* 9600 8N1 */
  s->mcr = MCR_OUT2;
  s->scr = 0;
  s->recv_itl = 1;
  s->char_transmit_time = (NS_PER_SEC / 9600) * 10;
  s->timeout_ipending = FALSE;
  s->thr_ipending = FALSE;
  fifo_reset(&s->rx);
  fifo_reset(&s->tx);
  if (s->fifo_timeout != NULL)
    arbor_timer_del(s->fifo_timeout);
  serial_update_irq_locked(s);
}

/* ---- register access --------------------------------------------------- */

static guint64
serial_read(gpointer opaque, guint64 addr, guint size)
{
  ArborSerial *s = opaque;
  guint8 ret = 0;

  g_mutex_lock(&s->lock);
  switch (addr & 7) {
  case 0:
    if (s->lcr & LCR_DLAB) {
      ret = s->divider & 0xff;
      break;
    }
    if (s->fcr & FCR_FE) {
      ret = s->rx.count == 0 ? 0 : fifo_pop(&s->rx);
      if (s->rx.count == 0)
        s->lsr &= ~(LSR_DR | LSR_BI);
      else
        serial_arm_timeout_locked(s);
      s->timeout_ipending = FALSE;
    } else {
      ret = s->rbr;
      s->lsr &= ~(LSR_DR | LSR_BI);
    }
    serial_update_irq_locked(s);
    if (!(s->mcr & MCR_LOOP))
      serial_feed_input_locked(s);
    break;
  case 1:
    ret = (s->lcr & LCR_DLAB) ? (s->divider >> 8) & 0xff : s->ier;
    break;
  case 2:
    ret = s->iir;
    if ((ret & IIR_ID_MASK) == IIR_THRI && !(ret & IIR_NO_INT)) {
      s->thr_ipending = FALSE;
      serial_update_irq_locked(s);
    }
    break;
  case 3:
    ret = s->lcr;
    break;
  case 4:
    ret = s->mcr;
    break;
  case 5:
    ret = s->lsr;
    if (s->lsr & LSR_ERRORS) {
      s->lsr &= ~LSR_ERRORS;
      serial_update_irq_locked(s);
    }
    break;
  case 6:
    if (s->mcr & MCR_LOOP) {
      /* The modem outputs loop back: OUT2->DCD, OUT1->RI, RTS->CTS, DTR->DSR. */
      ret = (s->mcr & (MCR_OUT1 | MCR_OUT2)) << 4;
      ret |= (s->mcr & MCR_RTS) << 3;
      ret |= (s->mcr & MCR_DTR) << 5;
    } else {
      ret = s->msr;
      if (s->msr & MSR_ANY_DELTA) {
        s->msr &= 0xf0;
        serial_update_irq_locked(s);
      }
    }
    break;
  case 7:
    ret = s->scr;
    break;
  default:
    g_assert_not_reached();
  }
  g_mutex_unlock(&s->lock);
  return ret;
}

static void
serial_write(gpointer opaque, guint64 addr, guint size, guint64 value)
{
  ArborSerial *s = opaque;
  guint8 val = (guint8) value;

  g_mutex_lock(&s->lock);
  switch (addr & 7) {
  case 0:
    if (s->lcr & LCR_DLAB) {
      s->divider = (s->divider & 0xff00) | val;
      serial_update_parameters_locked(s);
      break;
    }
    s->thr = val;
    if (s->fcr & FCR_FE) {
      /* A TX overrun overwrites the oldest byte. */
      if (fifo_full(&s->tx))
        fifo_pop(&s->tx);
      fifo_push(&s->tx, val);
    }
    s->thr_ipending = FALSE;
    s->lsr &= ~(LSR_THRE | LSR_TEMT);
    serial_update_irq_locked(s);
    serial_xmit_locked(s);
    break;
  case 1:
    if (s->lcr & LCR_DLAB) {
      s->divider = (s->divider & 0x00ff) | (guint16) (val << 8);
      serial_update_parameters_locked(s);
    } else {
      guint8 changed = (s->ier ^ val) & 0x0f;
      s->ier = val & 0x0f;
      /* Enabling THRI with THR empty raises it again (Windows relies on it). */
      if (changed & IER_THRI)
        s->thr_ipending = (s->ier & IER_THRI) && (s->lsr & LSR_THRE);
      if (changed)
        serial_update_irq_locked(s);
    }
    break;
  case 2: {
    /* Toggling the enable bit flushes both FIFOs. */
    if ((val ^ s->fcr) & FCR_FE)
      val |= FCR_XFR | FCR_RFR;
    if (val & FCR_RFR) {
      s->lsr &= ~(LSR_DR | LSR_BI);
      if (s->fifo_timeout != NULL)
        arbor_timer_del(s->fifo_timeout);
      s->timeout_ipending = FALSE;
      fifo_reset(&s->rx);
    }
    if (val & FCR_XFR) {
      s->lsr |= LSR_THRE;
      s->thr_ipending = TRUE;
      fifo_reset(&s->tx);
    }
    s->fcr = val & FCR_STICKY;
    if (s->fcr & FCR_FE) {
      static const guint itl[] = {1, 4, 8, 14};
      s->iir |= IIR_FIFO_ENABLED;
      s->recv_itl = itl[(s->fcr >> 6) & 3];
    } else {
      s->iir &= ~IIR_FIFO_ENABLED;
    }
    serial_update_irq_locked(s);
    /* More room now: take waiting input. */
    if (!(s->mcr & MCR_LOOP))
      serial_feed_input_locked(s);
    break;
  }
  case 3:
    s->lcr = val;
    serial_update_parameters_locked(s);
    break;
  case 4:
    s->mcr = val & 0x1f;
    break;
  case 5:
  case 6:
    /* LSR and MSR are read-only. */
    break;
  case 7:
    s->scr = val;
    break;
  default:
    g_assert_not_reached();
  }
  g_mutex_unlock(&s->lock);
}

static const ArborMemoryRegionOps serial_ops = {
  .read = serial_read,
  .write = serial_write,
  .endianness = ARBOR_ENDIAN_LITTLE,
  .impl = {.min_access_size = 1, .max_access_size = 1},
};

/* ---- timers and backend input ------------------------------------------ */

static void
serial_fifo_timeout(gpointer opaque)
{
  ArborSerial *s = opaque;

  g_mutex_lock(&s->lock);
  if (s->rx.count > 0) {
    s->timeout_ipending = TRUE;
    serial_update_irq_locked(s);
  }
  g_mutex_unlock(&s->lock);
}

static void
serial_received(ArborChardev *chr, GBytes *bytes, gpointer user_data)
{
  ArborSerial *s = user_data;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data(bytes, &len);

  g_mutex_lock(&s->lock);
  g_byte_array_append(s->pending_in, data, (guint) len);
  serial_feed_input_locked(s);
  g_mutex_unlock(&s->lock);
}

/* ---- device ------------------------------------------------------------ */

ArborChardev *
arbor_serial_get_chardev(ArborSerial *self)
{
  g_return_val_if_fail(ARBOR_IS_SERIAL(self), NULL);
  return self->backend;
}

static gboolean
serial_realize(ArborDevice *device, ArborMachine *machine, GError **error)
{
  ArborSerial *s = ARBOR_SERIAL(device);

  if (s->index >= G_N_ELEMENTS(com_ports) && (!s->iobase_set || !s->irq_set)) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID,
                "isa-serial: index %u has no standard port; give iobase and irq", s->index);
    return FALSE;
  }
  if (!s->iobase_set && s->index < G_N_ELEMENTS(com_ports))
    s->iobase = com_ports[s->index].iobase;
  if (!s->irq_set && s->index < G_N_ELEMENTS(com_ports))
    s->irq_num = com_ports[s->index].irq;
  if (s->iobase + 8 > 0x10000) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "isa-serial: iobase 0x%x passes the end of the I/O space",
                s->iobase);
    return FALSE;
  }
  if (s->irq_num >= ARBOR_MACHINE_NUM_GSI) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "isa-serial: irq %u is not a GSI (0..%u)", s->irq_num,
                ARBOR_MACHINE_NUM_GSI - 1);
    return FALSE;
  }

  if (s->backend == NULL && s->chardev_spec != NULL) {
    s->backend = arbor_chardev_new(s->chardev_spec, arbor_machine_get_context(machine), error);
    if (s->backend == NULL)
      return FALSE;
  }

  s->clock = g_object_ref(arbor_machine_get_clock(machine));
  s->fifo_timeout = arbor_timer_new(s->clock, serial_fifo_timeout, s);
  s->irq = arbor_irq_ref(arbor_machine_get_irq(machine, s->irq_num));

  g_mutex_lock(&s->lock);
  s->irq_level = arbor_irq_get_level(s->irq);
  serial_reset_locked(s);
  g_mutex_unlock(&s->lock);

  if (s->backend != NULL)
    s->received_handler = g_signal_connect(s->backend, "received", G_CALLBACK(serial_received), s);

  s->io = arbor_memory_region_new_io("serial", 8, &serial_ops, s);
  arbor_memory_region_set_owner(s->io, G_OBJECT(s));
  arbor_memory_region_add_subregion(arbor_machine_get_system_io(machine), s->iobase, s->io);
  return TRUE;
}

static void
serial_unrealize(ArborDevice *device)
{
  ArborSerial *s = ARBOR_SERIAL(device);

  if (s->io != NULL) {
    ArborMemoryRegion *container = arbor_memory_region_get_container(s->io);
    if (container != NULL)
      arbor_memory_region_del_subregion(container, s->io);
    g_clear_object(&s->io);
  }
  if (s->backend != NULL) {
    g_clear_signal_handler(&s->received_handler, s->backend);
    /* Whatever the guest wrote reaches the backend before we let go. */
    arbor_chardev_flush(s->backend, 1000);
  }
  g_mutex_lock(&s->lock);
  g_clear_pointer(&s->fifo_timeout, arbor_timer_free);
  g_clear_pointer(&s->irq, arbor_irq_unref);
  g_mutex_unlock(&s->lock);
  g_clear_object(&s->clock);
}

static void
serial_reset(ArborDevice *device)
{
  ArborSerial *s = ARBOR_SERIAL(device);

  g_mutex_lock(&s->lock);
  serial_reset_locked(s);
  g_mutex_unlock(&s->lock);
}

static void
serial_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  ArborSerial *s = ARBOR_SERIAL(object);

  switch (prop_id) {
  case PROP_IOBASE:
    g_value_set_uint(value, s->iobase);
    break;
  case PROP_IRQ:
    g_value_set_uint(value, s->irq_num);
    break;
  case PROP_INDEX:
    g_value_set_uint(value, s->index);
    break;
  case PROP_CHARDEV:
    g_value_set_string(value, s->backend != NULL ? arbor_chardev_get_spec(s->backend) : s->chardev_spec);
    break;
  case PROP_BACKEND:
    g_value_set_object(value, s->backend);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
serial_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  ArborSerial *s = ARBOR_SERIAL(object);

  g_return_if_fail(!arbor_device_is_realized(ARBOR_DEVICE(s)));
  switch (prop_id) {
  case PROP_IOBASE:
    s->iobase = g_value_get_uint(value);
    s->iobase_set = TRUE;
    break;
  case PROP_IRQ:
    s->irq_num = g_value_get_uint(value);
    s->irq_set = TRUE;
    break;
  case PROP_INDEX:
    s->index = g_value_get_uint(value);
    break;
  case PROP_CHARDEV:
    g_free(s->chardev_spec);
    s->chardev_spec = g_value_dup_string(value);
    break;
  case PROP_BACKEND:
    g_clear_object(&s->backend);
    s->backend = g_value_dup_object(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
serial_dispose(GObject *object)
{
  ArborSerial *s = ARBOR_SERIAL(object);

  if (s->backend != NULL)
    g_clear_signal_handler(&s->received_handler, s->backend);
  g_clear_object(&s->backend);
  g_clear_object(&s->io);
  g_clear_pointer(&s->fifo_timeout, arbor_timer_free);
  g_clear_pointer(&s->irq, arbor_irq_unref);
  g_clear_object(&s->clock);
  G_OBJECT_CLASS(arbor_serial_parent_class)->dispose(object);
}

static void
serial_finalize(GObject *object)
{
  ArborSerial *s = ARBOR_SERIAL(object);

  g_free(s->chardev_spec);
  g_byte_array_unref(s->pending_in);
  g_mutex_clear(&s->lock);
  G_OBJECT_CLASS(arbor_serial_parent_class)->finalize(object);
}

static void
arbor_serial_class_init(ArborSerialClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  ArborDeviceClass *device_class = ARBOR_DEVICE_CLASS(klass);

  object_class->get_property = serial_get_property;
  object_class->set_property = serial_set_property;
  object_class->dispose = serial_dispose;
  object_class->finalize = serial_finalize;
  device_class->device_name = "isa-serial";
  device_class->description = "16550A UART (COM1 at 0x3f8, IRQ 4 by default)";
  device_class->realize = serial_realize;
  device_class->unrealize = serial_unrealize;
  device_class->reset = serial_reset;

  props[PROP_IOBASE] = g_param_spec_uint("iobase", "I/O base", "First of the 8 ports (default from index)", 0,
                                         0xfff8, 0x3f8, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  props[PROP_IRQ] = g_param_spec_uint("irq", "IRQ", "GSI of the interrupt line (default from index)", 0,
                                      ARBOR_MACHINE_NUM_GSI - 1, 4, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  props[PROP_INDEX] = g_param_spec_uint("index", "Index", "COM port number - 1 (0..3 pick the standard ports)",
                                        0, 255, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  props[PROP_CHARDEV] = g_param_spec_string("chardev", "Chardev", "Backend spec (stdio, null, file:PATH, unix:...)",
                                            NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  props[PROP_BACKEND] = g_param_spec_object("backend", "Backend", "An already open backend", ARBOR_TYPE_CHARDEV,
                                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
arbor_serial_init(ArborSerial *s)
{
  g_mutex_init(&s->lock);
  s->iobase = 0x3f8;
  s->irq_num = 4;
  s->pending_in = g_byte_array_new();
  serial_reset_locked(s);
}
