/* ArborMachine: the x86 machine (RAM, address spaces, IRQ lines, clock,
 * devices, accelerator, vCPUs). */
#pragma once

#include <arbor/arbor-types.h>
#include <arbor/address-space.h>

G_BEGIN_DECLS

#define ARBOR_MACHINE_NUM_GSI 24

#define ARBOR_TYPE_MACHINE (arbor_machine_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborMachine, arbor_machine, ARBOR, MACHINE, GObject)

/**
 * arbor_machine_new:
 * @ram_size: bytes of RAM (a multiple of 4 KiB, at least 1 MiB). RAM sits
 *   from 0, with the legacy VGA/BIOS hole at 0xa0000-0xfffff left to
 *   devices, and whatever passes 3.5 GiB moved above 4 GiB (PCI hole).
 * @smp: number of vCPUs (1..255); created by arbor_machine_set_accel().
 * @context: the main context (signals, chardevs, timers). NULL: default.
 *
 * Builds the memory and I/O address spaces, RAM and the 24 GSI lines. No
 * accelerator and no device yet.
 */
ARBOR_API ArborMachine *arbor_machine_new(guint64 ram_size, guint smp, GMainContext *context, GError **error);

/* Takes a ref; picks the clock (virtual for qtest), runs init_machine and
 * creates the paused vCPU threads. Call once, before adding devices. */
ARBOR_API gboolean arbor_machine_set_accel(ArborMachine *machine, ArborAccel *accel, GError **error);

/* COM1 (0x3f8, IRQ 4, on @serial_spec unless NULL), i8042, port 0x92 and
 * the legacy port stubs. */
ARBOR_API gboolean arbor_machine_add_default_devices(ArborMachine *machine, const char *serial_spec, GError **error);
/* Realizes @device on the machine and keeps a ref; assigns an id if unset. */
ARBOR_API gboolean arbor_machine_add_device(ArborMachine *machine, ArborDevice *device, GError **error);
ARBOR_API ArborDevice *arbor_machine_find_device(ArborMachine *machine, const char *id);
/* The devices in the order they were added (owned by the machine). */
ARBOR_API GPtrArray *arbor_machine_get_devices(ArborMachine *machine);

ARBOR_API ArborAddressSpace *arbor_machine_get_memory(ArborMachine *machine);
ARBOR_API ArborAddressSpace *arbor_machine_get_io(ArborMachine *machine);
ARBOR_API ArborMemoryRegion *arbor_machine_get_system_memory(ArborMachine *machine); /* root of memory */
ARBOR_API ArborMemoryRegion *arbor_machine_get_system_io(ArborMachine *machine);     /* root of I/O */
ARBOR_API guint64 arbor_machine_get_ram_size(ArborMachine *machine);
ARBOR_API guint arbor_machine_get_smp(ArborMachine *machine);
ARBOR_API ArborClock *arbor_machine_get_clock(ArborMachine *machine);
ARBOR_API ArborAccel *arbor_machine_get_accel(ArborMachine *machine);
ARBOR_API ArborVcpuManager *arbor_machine_get_vcpu_manager(ArborMachine *machine);
ARBOR_API GMainContext *arbor_machine_get_context(ArborMachine *machine);

/* Interrupt lines (GSI 0..23): devices keep the ArborIrq; setting it goes
 * to the interceptor when one is set (qtest), else to the accelerator. */
ARBOR_API ArborIrq *arbor_machine_get_irq(ArborMachine *machine, guint gsi);
ARBOR_API void arbor_machine_set_irq(ArborMachine *machine, guint gsi, gboolean level);
typedef void (*ArborIrqInterceptFunc)(gpointer opaque, guint gsi, gboolean level);
ARBOR_API void arbor_machine_set_irq_interceptor(ArborMachine *machine, ArborIrqInterceptFunc func, gpointer opaque);

/* Requests from any thread (devices on vCPU threads), handled on the main
 * context: "shutdown-requested" (int exit_code) and "reset-requested" ()
 * signals are emitted there; the emulator decides (quit, reset, -no-reboot). */
ARBOR_API void arbor_machine_request_shutdown(ArborMachine *machine, int exit_code);
ARBOR_API void arbor_machine_request_reset(ArborMachine *machine);

/* Main thread: pause vCPUs, reset devices and vCPUs, emit "reset" (loaders
 * restore their images and entry state there), resume if it was running. */
ARBOR_API gboolean arbor_machine_reset(ArborMachine *machine, GError **error);

/* Start/stop guest execution (monitor cont/stop, -S). */
ARBOR_API void arbor_machine_run(ArborMachine *machine);
ARBOR_API void arbor_machine_pause(ArborMachine *machine);
ARBOR_API gboolean arbor_machine_is_running(ArborMachine *machine);
/* Stops vCPU threads and flushes backends; idempotent. */
ARBOR_API void arbor_machine_shutdown(ArborMachine *machine);

G_END_DECLS
