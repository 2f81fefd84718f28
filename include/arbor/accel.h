/* ArborAccel: the abstract accelerator ("kvm", "qtest"), loaded as a plugin module. */
#pragma once

#include <arbor/arbor-types.h>
#include <arbor/arbor-version.h>
#include <arbor/vcpu.h>

G_BEGIN_DECLS

#define ARBOR_TYPE_ACCEL (arbor_accel_get_type())
ARBOR_API G_DECLARE_DERIVABLE_TYPE(ArborAccel, arbor_accel, ARBOR, ACCEL, GObject)

typedef enum {
  ARBOR_VCPU_RUN_INTERRUPTED, /* kicked (or immediate exit): look at commands, then call run again */
  ARBOR_VCPU_RUN_HALTED,      /* the guest halted and only a kick can wake it (no in-kernel irqchip) */
  ARBOR_VCPU_RUN_EXITED,      /* the vCPU cannot go on: reason in *exit */
} ArborVcpuRunResult;

/**
 * ArborAccelClass:
 * @name: the registry name ("kvm"); also what -accel takes.
 * @virtual_clock: TRUE when the machine clock must be virtual (qtest).
 * @init_machine: create the VM for @machine (RAM slots through a memory
 *   listener, irqchip...). Runs once, main thread. A backend that cannot
 *   work on this host fails here with a GError saying what to do.
 * @vcpu_init: per-vCPU setup, called ON the vCPU's thread before it reports
 *   started (so thread-directed signals and per-thread state work).
 * @vcpu_destroy: on the vCPU's thread as it ends.
 * @vcpu_run: run guest code until a kick, a halt or an exit that ends the
 *   vCPU. I/O and MMIO exits are dispatched inside (the fast path). Before
 *   returning INTERRUPTED, any pending I/O completion has been finished so
 *   the vCPU can park between instructions.
 * @vcpu_kick: make a running (or about to run) @vcpu_run return
 *   INTERRUPTED promptly. Any thread; never blocks; must not lose a kick
 *   that races with entry into the guest.
 * @vcpu_kick_clear: on the vCPU thread, with the command lock held, after
 *   the generic loop has seen a kick: re-arm for the next one.
 * @vcpu_get_regs etc.: only on a vCPU that is not running (paused, created
 *   or exited), or from its own thread.
 * @vcpu_reset: put the vCPU in its power-on state (x86 reset vector).
 * @set_irq: drive the interrupt controller input @gsi.
 */
struct _ArborAccelClass {
  GObjectClass parent_class;

  const char *name;
  gboolean virtual_clock;

  gboolean (*init_machine)(ArborAccel *accel, ArborMachine *machine, GError **error);

  gboolean (*vcpu_init)(ArborAccel *accel, ArborVcpu *vcpu, GError **error);
  void (*vcpu_destroy)(ArborAccel *accel, ArborVcpu *vcpu);
  ArborVcpuRunResult (*vcpu_run)(ArborAccel *accel, ArborVcpu *vcpu, ArborVcpuExit *exit);
  void (*vcpu_kick)(ArborAccel *accel, ArborVcpu *vcpu);
  void (*vcpu_kick_clear)(ArborAccel *accel, ArborVcpu *vcpu);

  gboolean (*vcpu_get_regs)(ArborAccel *accel, ArborVcpu *vcpu, ArborRegs *regs, GError **error);
  gboolean (*vcpu_set_regs)(ArborAccel *accel, ArborVcpu *vcpu, const ArborRegs *regs, GError **error);
  gboolean (*vcpu_get_sregs)(ArborAccel *accel, ArborVcpu *vcpu, ArborSregs *sregs, GError **error);
  gboolean (*vcpu_set_sregs)(ArborAccel *accel, ArborVcpu *vcpu, const ArborSregs *sregs, GError **error);
  gboolean (*vcpu_reset)(ArborAccel *accel, ArborVcpu *vcpu, GError **error);

  void (*set_irq)(ArborAccel *accel, guint gsi, gboolean level);

  gpointer padding[12];
};

ARBOR_API const char *arbor_accel_get_name(ArborAccel *accel);
ARBOR_API ArborMachine *arbor_accel_get_machine(ArborAccel *accel);
ARBOR_API gboolean arbor_accel_init_machine(ArborAccel *accel, ArborMachine *machine, GError **error);
ARBOR_API void arbor_accel_set_irq(ArborAccel *accel, guint gsi, gboolean level);

/* Registry. Implementations register by name with a priority (higher wins
 * when no name is asked for). Thread-safe. */
ARBOR_API void arbor_accel_register(GType type, const char *name, int priority);
/* Creates the accelerator @name (NULL: the highest-priority one that
 * exists). A name that is not registered loads the module accel-NAME.so
 * from the module directory ($ARBOR_MODULE_DIR, else the build tree when
 * run uninstalled, else the install dir). Missing module, failed load,
 * wrong ABI: a GError naming the file and the reason. */
ARBOR_API ArborAccel *arbor_accel_new(const char *name, GError **error);
/* Names currently registered (built in or loaded), sorted. g_strfreev(). */
ARBOR_API char **arbor_accel_list_registered(void);
ARBOR_API const char *arbor_accel_get_module_dir(void);

/* What a module exports (G_MODULE_EXPORT), GIO-style:
 *   guint arbor_module_abi_version(void);       returns ARBOR_MODULE_ABI_VERSION
 *   void  arbor_module_load(GTypeModule *module);   registers types, calls arbor_accel_register()
 *   void  arbor_module_unload(GTypeModule *module);
 */
typedef guint (*ArborModuleAbiFunc)(void);
typedef void (*ArborModuleLoadFunc)(GTypeModule *module);

G_END_DECLS
