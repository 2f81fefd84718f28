/* ArborMachine: arbor's x86 machine. Owns the address spaces, RAM, the GSI
 * lines, the clock, the devices, the accelerator and the vCPU manager. */
#include "arbor-config.h"

#include <arbor/arbor.h>

/* RAM layout, as on a PC. */
#define LEGACY_HOLE_START 0xa0000ULL  /* VGA window: left to devices */
#define LEGACY_HOLE_END   0xc0000ULL
#define HIGH_MEMORY_START 0x100000ULL /* 1 MiB */
#define LOWMEM_LIMIT      0xe0000000ULL /* 3.5 GiB: the PCI hole starts here */
#define FOUR_GIB          0x100000000ULL

#define MIN_RAM_SIZE (1ULL << 20)
#define MAX_SMP      255

struct _ArborMachine {
  GObject parent_instance;

  guint64 ram_size;
  guint smp;
  GMainContext *context;          /* owned ref */

  ArborMemoryRegion *system_memory; /* owned: root container of memory */
  ArborMemoryRegion *system_io;     /* owned: root container of I/O */
  ArborAddressSpace *memory;        /* owned */
  ArborAddressSpace *io;            /* owned */
  ArborMemoryRegion *ram;           /* owned: the whole RAM block */

  ArborClock *clock;                /* owned */
  ArborAccel *accel;                /* owned, NULL until set_accel */
  ArborVcpuManager *vcpus;          /* owned, NULL until set_accel */
  GPtrArray *devices;               /* owned: ArborDevice refs, in add order */
  guint next_device_serial;

  ArborIrq *gsi[ARBOR_MACHINE_NUM_GSI]; /* owned */
  GMutex irq_lock;                  /* guards the interceptor pair */
  ArborIrqInterceptFunc irq_intercept;
  gpointer irq_intercept_opaque;

  gboolean started;                 /* vCPUs were sent Run once */
  gboolean running;
  gboolean shut_down;
};

G_DEFINE_FINAL_TYPE(ArborMachine, arbor_machine, G_TYPE_OBJECT)

enum {
  SIGNAL_SHUTDOWN_REQUESTED,
  SIGNAL_RESET_REQUESTED,
  SIGNAL_RESET,
  N_SIGNALS
};

static guint machine_signals[N_SIGNALS];

static void
arbor_machine_dispose(GObject *object)
{
  ArborMachine *self = ARBOR_MACHINE(object);

  arbor_machine_shutdown(self);
  g_clear_object(&self->vcpus);
  if (self->devices != NULL)
    g_ptr_array_set_size(self->devices, 0);
  g_clear_object(&self->accel);
  g_clear_object(&self->memory);
  g_clear_object(&self->io);
  g_clear_object(&self->ram);
  g_clear_object(&self->system_memory);
  g_clear_object(&self->system_io);
  g_clear_object(&self->clock);

  G_OBJECT_CLASS(arbor_machine_parent_class)->dispose(object);
}

static void
arbor_machine_finalize(GObject *object)
{
  ArborMachine *self = ARBOR_MACHINE(object);

  for (guint i = 0; i < ARBOR_MACHINE_NUM_GSI; i++)
    arbor_irq_unref(self->gsi[i]);
  g_clear_pointer(&self->devices, g_ptr_array_unref);
  g_clear_pointer(&self->context, g_main_context_unref);
  g_mutex_clear(&self->irq_lock);

  G_OBJECT_CLASS(arbor_machine_parent_class)->finalize(object);
}

static void
arbor_machine_class_init(ArborMachineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->dispose = arbor_machine_dispose;
  object_class->finalize = arbor_machine_finalize;

  /* Emitted on the machine's context when a device (isa-debug-exit) or the
   * user asks to end the process with this exit code. */
  machine_signals[SIGNAL_SHUTDOWN_REQUESTED] =
    g_signal_new("shutdown-requested", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                 NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /* Emitted on the machine's context when the guest asks for a reset
   * (i8042 0xFE, port 0x92 bit 0). */
  machine_signals[SIGNAL_RESET_REQUESTED] =
    g_signal_new("reset-requested", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                 NULL, G_TYPE_NONE, 0);
  /* Emitted by arbor_machine_reset() after devices and vCPUs are reset, with
   * the vCPUs paused: loaders restore their images and entry state here. */
  machine_signals[SIGNAL_RESET] =
    g_signal_new("reset", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                 G_TYPE_NONE, 0);
}

static void
arbor_machine_init(ArborMachine *self)
{
  g_mutex_init(&self->irq_lock);
  self->devices = g_ptr_array_new_with_free_func(g_object_unref);
}

static void
machine_gsi_handler(gpointer opaque, guint gsi, gboolean level)
{
  ArborMachine *self = opaque;
  ArborIrqInterceptFunc intercept;
  gpointer intercept_opaque;

  g_mutex_lock(&self->irq_lock);
  intercept = self->irq_intercept;
  intercept_opaque = self->irq_intercept_opaque;
  g_mutex_unlock(&self->irq_lock);

  if (intercept != NULL)
    intercept(intercept_opaque, gsi, level);
  else if (self->accel != NULL)
    arbor_accel_set_irq(self->accel, gsi, level);
}

/* Maps [start, end) of the address space onto RAM at @ram_offset. */
static void
machine_map_ram(ArborMachine *self, const char *name, guint64 start, guint64 end, guint64 ram_offset)
{
  g_autoptr(ArborMemoryRegion) alias = NULL;

  if (end <= start)
    return;
  alias = arbor_memory_region_new_alias(name, self->ram, ram_offset, end - start);
  arbor_memory_region_add_subregion(self->system_memory, start, alias);
}

static gboolean
machine_build_ram(ArborMachine *self, GError **error)
{
  guint64 lowmem = MIN(self->ram_size, LOWMEM_LIMIT);

  self->ram = arbor_memory_region_new_ram("ram", self->ram_size, error);
  if (self->ram == NULL)
    return FALSE;

  arbor_address_space_begin(self->memory);
  /* Conventional memory up to the VGA window (the EBDA at 0x9fc00 is the
   * guest's business: Multiboot reports it reserved). */
  machine_map_ram(self, "ram-conventional", 0, MIN(lowmem, LEGACY_HOLE_START), 0);
  /* 0xa0000-0xbffff stays unassigned (no VGA); the option-ROM/BIOS area
   * 0xc0000-0xfffff is RAM, as zero-filled shadow RAM. */
  machine_map_ram(self, "ram-bios-area", LEGACY_HOLE_END, MIN(lowmem, HIGH_MEMORY_START),
                  LEGACY_HOLE_END);
  machine_map_ram(self, "ram-below-4g", HIGH_MEMORY_START, lowmem, HIGH_MEMORY_START);
  if (self->ram_size > LOWMEM_LIMIT)
    machine_map_ram(self, "ram-above-4g", FOUR_GIB, FOUR_GIB + (self->ram_size - LOWMEM_LIMIT),
                    LOWMEM_LIMIT);
  arbor_address_space_commit(self->memory);
  return TRUE;
}

ArborMachine *
arbor_machine_new(guint64 ram_size, guint smp, GMainContext *context, GError **error)
{
  g_autoptr(ArborMachine) self = NULL;

  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  if (ram_size < MIN_RAM_SIZE || ram_size % 4096 != 0) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID,
                "RAM size %" G_GUINT64_FORMAT " bytes is invalid: it must be a multiple of 4 KiB and at least 1 MiB",
                ram_size);
    return NULL;
  }
  /* The guest-physical space above 4 GiB is large, but keep the host sane. */
  if (ram_size > (1ULL << 40)) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID,
                "RAM size %" G_GUINT64_FORMAT " bytes is too large (at most 1 TiB)", ram_size);
    return NULL;
  }
  if (smp < 1 || smp > MAX_SMP) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID,
                "%u vCPUs requested: the machine supports 1 to %u", smp, MAX_SMP);
    return NULL;
  }

  self = g_object_new(ARBOR_TYPE_MACHINE, NULL);
  self->ram_size = ram_size;
  self->smp = smp;
  self->context = context != NULL ? g_main_context_ref(context) : g_main_context_ref_thread_default();

  self->system_memory = arbor_memory_region_new_container("system", ARBOR_MEMORY_SIZE_4G64);
  self->system_io = arbor_memory_region_new_container("io", 0x10000);
  self->memory = arbor_address_space_new("memory", self->system_memory, ARBOR_ADDRESS_SPACE_MEMORY);
  self->io = arbor_address_space_new("I/O", self->system_io, ARBOR_ADDRESS_SPACE_IO);
  self->clock = arbor_clock_new(ARBOR_CLOCK_MONOTONIC, self->context);

  for (guint i = 0; i < ARBOR_MACHINE_NUM_GSI; i++)
    self->gsi[i] = arbor_irq_new(machine_gsi_handler, self, i);

  if (!machine_build_ram(self, error))
    return NULL;

  g_debug("machine: %" G_GUINT64_FORMAT " MiB RAM, %u vCPU(s)", ram_size >> 20, smp);
  return g_steal_pointer(&self);
}

gboolean
arbor_machine_set_accel(ArborMachine *self, ArborAccel *accel, GError **error)
{
  ArborAccelClass *klass;

  g_return_val_if_fail(ARBOR_IS_MACHINE(self), FALSE);
  g_return_val_if_fail(ARBOR_IS_ACCEL(accel), FALSE);
  g_return_val_if_fail(self->accel == NULL, FALSE);
  /* Devices take timers on the clock at realize: the clock must be final first. */
  g_return_val_if_fail(self->devices->len == 0, FALSE);

  klass = ARBOR_ACCEL_GET_CLASS(accel);
  if (klass->virtual_clock) {
    g_clear_object(&self->clock);
    self->clock = arbor_clock_new(ARBOR_CLOCK_VIRTUAL, self->context);
  }

  if (!arbor_accel_init_machine(accel, self, error))
    return FALSE;
  self->accel = g_object_ref(accel);

  self->vcpus = arbor_vcpu_manager_new(accel, self, self->smp, self->context, error);
  if (self->vcpus == NULL) {
    g_clear_object(&self->accel);
    return FALSE;
  }
  g_debug("machine: accelerator %s, %u vCPU thread(s) created paused", arbor_accel_get_name(accel),
          self->smp);
  return TRUE;
}

/* Escapes commas for a -device option value (QEMU's ",," rule). */
static char *
escape_option_value(const char *value)
{
  GString *out = g_string_new(NULL);

  for (const char *p = value; *p != '\0'; p++) {
    if (*p == ',')
      g_string_append_c(out, ',');
    g_string_append_c(out, *p);
  }
  return g_string_free(out, FALSE);
}

static gboolean
machine_add_device_from_options(ArborMachine *self, const char *options, GError **error)
{
  g_autoptr(ArborDevice) device = arbor_device_new_from_options(options, error);

  if (device == NULL)
    return FALSE;
  return arbor_machine_add_device(self, device, error);
}

gboolean
arbor_machine_add_default_devices(ArborMachine *self, const char *serial_spec, GError **error)
{
  g_autofree char *serial_options = NULL;

  g_return_val_if_fail(ARBOR_IS_MACHINE(self), FALSE);

  if (serial_spec != NULL) {
    g_autofree char *escaped = escape_option_value(serial_spec);
    serial_options = g_strdup_printf("isa-serial,iobase=0x3f8,irq=4,chardev=%s", escaped);
  } else {
    serial_options = g_strdup("isa-serial,iobase=0x3f8,irq=4");
  }

  return machine_add_device_from_options(self, serial_options, error) &&
         machine_add_device_from_options(self, "i8042", error) &&
         machine_add_device_from_options(self, "port92", error) &&
         machine_add_device_from_options(self, "legacy-stubs", error);
}

gboolean
arbor_machine_add_device(ArborMachine *self, ArborDevice *device, GError **error)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), FALSE);
  g_return_val_if_fail(ARBOR_IS_DEVICE(device), FALSE);

  if (arbor_device_get_id(device) == NULL) {
    const char *name = ARBOR_DEVICE_GET_CLASS(device)->device_name;
    g_autofree char *id = g_strdup_printf("%s%u", name != NULL ? name : "device", self->next_device_serial++);
    arbor_device_set_id(device, id);
  } else if (arbor_machine_find_device(self, arbor_device_get_id(device)) != NULL) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "duplicate device id '%s'",
                arbor_device_get_id(device));
    return FALSE;
  }

  if (!arbor_device_realize(device, self, error))
    return FALSE;
  g_ptr_array_add(self->devices, g_object_ref(device));
  g_debug("machine: added device %s", arbor_device_get_id(device));
  return TRUE;
}

ArborDevice *
arbor_machine_find_device(ArborMachine *self, const char *id)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), NULL);
  g_return_val_if_fail(id != NULL, NULL);

  for (guint i = 0; i < self->devices->len; i++) {
    ArborDevice *device = g_ptr_array_index(self->devices, i);
    if (g_strcmp0(arbor_device_get_id(device), id) == 0)
      return device;
  }
  return NULL;
}

GPtrArray *
arbor_machine_get_devices(ArborMachine *self)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), NULL);
  return self->devices;
}

ArborAddressSpace *
arbor_machine_get_memory(ArborMachine *self)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), NULL);
  return self->memory;
}

ArborAddressSpace *
arbor_machine_get_io(ArborMachine *self)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), NULL);
  return self->io;
}

ArborMemoryRegion *
arbor_machine_get_system_memory(ArborMachine *self)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), NULL);
  return self->system_memory;
}

ArborMemoryRegion *
arbor_machine_get_system_io(ArborMachine *self)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), NULL);
  return self->system_io;
}

guint64
arbor_machine_get_ram_size(ArborMachine *self)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), 0);
  return self->ram_size;
}

guint
arbor_machine_get_smp(ArborMachine *self)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), 0);
  return self->smp;
}

ArborClock *
arbor_machine_get_clock(ArborMachine *self)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), NULL);
  return self->clock;
}

ArborAccel *
arbor_machine_get_accel(ArborMachine *self)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), NULL);
  return self->accel;
}

ArborVcpuManager *
arbor_machine_get_vcpu_manager(ArborMachine *self)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), NULL);
  return self->vcpus;
}

GMainContext *
arbor_machine_get_context(ArborMachine *self)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), NULL);
  return self->context;
}

ArborIrq *
arbor_machine_get_irq(ArborMachine *self, guint gsi)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), NULL);
  g_return_val_if_fail(gsi < ARBOR_MACHINE_NUM_GSI, NULL);
  return self->gsi[gsi];
}

void
arbor_machine_set_irq(ArborMachine *self, guint gsi, gboolean level)
{
  g_return_if_fail(ARBOR_IS_MACHINE(self));
  g_return_if_fail(gsi < ARBOR_MACHINE_NUM_GSI);
  arbor_irq_set(self->gsi[gsi], level);
}

void
arbor_machine_set_irq_interceptor(ArborMachine *self, ArborIrqInterceptFunc func, gpointer opaque)
{
  g_return_if_fail(ARBOR_IS_MACHINE(self));

  g_mutex_lock(&self->irq_lock);
  self->irq_intercept = func;
  self->irq_intercept_opaque = opaque;
  g_mutex_unlock(&self->irq_lock);
}

typedef struct {
  ArborMachine *machine; /* owned ref */
  guint signal_id;
  int exit_code;
} MachineRequest;

static gboolean
machine_emit_request(gpointer data)
{
  MachineRequest *request = data;

  if (request->signal_id == machine_signals[SIGNAL_SHUTDOWN_REQUESTED])
    g_signal_emit(request->machine, request->signal_id, 0, request->exit_code);
  else
    g_signal_emit(request->machine, request->signal_id, 0);
  return G_SOURCE_REMOVE;
}

static void
machine_request_free(gpointer data)
{
  MachineRequest *request = data;

  g_object_unref(request->machine);
  g_free(request);
}

/* Requests come from vCPU threads inside a device op: never emit there,
 * always hop to the machine's context. */
static void
machine_post_request(ArborMachine *self, guint signal_id, int exit_code)
{
  MachineRequest *request = g_new0(MachineRequest, 1);
  GSource *source = g_idle_source_new();

  request->machine = g_object_ref(self);
  request->signal_id = signal_id;
  request->exit_code = exit_code;
  g_source_set_priority(source, G_PRIORITY_HIGH);
  g_source_set_callback(source, machine_emit_request, request, machine_request_free);
  g_source_set_static_name(source, "arbor-machine-request");
  g_source_attach(source, self->context);
  g_source_unref(source);
}

void
arbor_machine_request_shutdown(ArborMachine *self, int exit_code)
{
  g_return_if_fail(ARBOR_IS_MACHINE(self));
  g_debug("machine: shutdown requested with exit code %d", exit_code);
  machine_post_request(self, machine_signals[SIGNAL_SHUTDOWN_REQUESTED], exit_code);
}

void
arbor_machine_request_reset(ArborMachine *self)
{
  g_return_if_fail(ARBOR_IS_MACHINE(self));
  g_debug("machine: reset requested");
  machine_post_request(self, machine_signals[SIGNAL_RESET_REQUESTED], 0);
}

gboolean
arbor_machine_reset(ArborMachine *self, GError **error)
{
  gboolean was_running;

  g_return_val_if_fail(ARBOR_IS_MACHINE(self), FALSE);

  was_running = self->running;
  if (was_running)
    arbor_machine_pause(self);

  for (guint i = 0; i < self->devices->len; i++)
    arbor_device_reset(g_ptr_array_index(self->devices, i));

  if (self->vcpus != NULL) {
    for (guint i = 0; i < arbor_vcpu_manager_get_count(self->vcpus); i++) {
      ArborVcpu *vcpu = arbor_vcpu_manager_get_vcpu(self->vcpus, i);
      ArborVcpuState state = arbor_vcpu_get_state(vcpu);

      /* A vCPU the guest ended (triple fault) comes back paused from its
       * reset; one that was stopped or failed is gone. */
      if (state == ARBOR_VCPU_STATE_STOPPED || state == ARBOR_VCPU_STATE_ERROR)
        continue;
      if (!arbor_vcpu_reset(vcpu, error))
        return FALSE;
    }
  }

  g_info("machine: system reset");
  g_signal_emit(self, machine_signals[SIGNAL_RESET], 0);

  if (was_running)
    arbor_machine_run(self);
  return TRUE;
}

void
arbor_machine_run(ArborMachine *self)
{
  g_return_if_fail(ARBOR_IS_MACHINE(self));

  if (self->shut_down || self->running)
    return;
  if (self->vcpus != NULL) {
    if (!self->started)
      arbor_vcpu_manager_run_all(self->vcpus);
    else
      arbor_vcpu_manager_resume_all(self->vcpus);
  }
  self->started = TRUE;
  self->running = TRUE;
}

void
arbor_machine_pause(ArborMachine *self)
{
  g_return_if_fail(ARBOR_IS_MACHINE(self));

  if (!self->running)
    return;
  if (self->vcpus != NULL)
    arbor_vcpu_manager_pause_all(self->vcpus);
  self->running = FALSE;
}

gboolean
arbor_machine_is_running(ArborMachine *self)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(self), FALSE);
  return self->running;
}

void
arbor_machine_shutdown(ArborMachine *self)
{
  g_return_if_fail(ARBOR_IS_MACHINE(self));

  if (self->shut_down)
    return;
  self->shut_down = TRUE;
  self->running = FALSE;

  if (self->vcpus != NULL)
    arbor_vcpu_manager_stop_all(self->vcpus);
  /* Reverse order: devices added later may depend on earlier ones. Devices
   * flush their backends when unrealized, so no guest output is lost. */
  for (guint i = self->devices->len; i > 0; i--)
    arbor_device_unrealize(g_ptr_array_index(self->devices, i - 1));
}
