/* Test helpers shared by tests/kvm and bench/: an accelerator whose vCPUs
 * spin on the host CPU (no KVM), and a device that counts accesses. */
#pragma once

#include <arbor/arbor.h>

G_BEGIN_DECLS

/* SpinAccel: vcpu_run spins in a tight loop. Each iteration is one "guest
 * access": it writes rax + 1 (size 4) to port @port_base + 4 * index of the
 * I/O address space (the machine's, or the one given with
 * spin_accel_set_io()) and then increments rax. A kick sets a flag that
 * the loop checks before each iteration, so an access is never cut in two:
 * rax always equals the number of completed accesses. */
#define SPIN_TYPE_ACCEL (spin_accel_get_type())
G_DECLARE_FINAL_TYPE(SpinAccel, spin_accel, SPIN, ACCEL, ArborAccel)

SpinAccel *spin_accel_new(void);
/* Without a machine: the I/O space to dispatch to (a ref is taken). */
void spin_accel_set_io(SpinAccel *self, ArborAddressSpace *io, guint16 port_base);
/* vcpu_run returns HALTED once, after @n accesses (0: never). */
void spin_accel_set_halt_after(SpinAccel *self, guint64 n);
/* vcpu_run returns EXITED (reason SHUTDOWN) after @n accesses (0: never). */
void spin_accel_set_exit_after(SpinAccel *self, guint64 n);
/* vcpu_init fails for vCPU @index (-1: none). */
void spin_accel_set_fail_init(SpinAccel *self, int index);
/* Number of vcpu_run calls for vCPU @index so far (relaxed). */
guint64 spin_accel_get_run_calls(SpinAccel *self, guint index);

/* CountDevice: @nports 32-bit ports, each expecting 1, 2, 3... in order.
 * One writer per port (a vCPU); writes take no lock, so vCPUs on different
 * ports never contend. */
typedef struct _CountDevice CountDevice;

CountDevice *count_device_new(guint nports);
void count_device_free(CountDevice *dev);
ArborMemoryRegion *count_device_get_region(CountDevice *dev);
guint64 count_device_get_count(CountDevice *dev, guint port);
guint64 count_device_get_last(CountDevice *dev, guint port);
/* Writes whose value was not last + 1 (lost or repeated accesses). */
guint64 count_device_get_errors(CountDevice *dev, guint port);
/* Blocks until port @port has seen at least @count writes. */
void count_device_wait_count(CountDevice *dev, guint port, guint64 count);

/* A standalone I/O address space with @dev at @port_base (for spin tests
 * without a machine). */
ArborAddressSpace *count_device_new_io_space(CountDevice *dev, guint16 port_base);

G_END_DECLS
