/* ArborVcpu: one vCPU, one thread, driven by commands (Run/Pause/Resume/Stop). */
#pragma once

#include <arbor/arbor-types.h>

G_BEGIN_DECLS

/* General registers, the x86-64 view (mirrors struct kvm_regs). */
typedef struct {
  guint64 rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
  guint64 r8, r9, r10, r11, r12, r13, r14, r15;
  guint64 rip, rflags;
} ArborRegs;

typedef struct {
  guint64 base;
  guint32 limit;
  guint16 selector;
  guint8 type, present, dpl, db, s, l, g, avl, unusable;
} ArborSegment;

typedef struct {
  guint64 base;
  guint16 limit;
} ArborDescriptorTable;

/* System registers (mirrors struct kvm_sregs, without the interrupt bitmap). */
typedef struct {
  ArborSegment cs, ds, es, fs, gs, ss, tr, ldt;
  ArborDescriptorTable gdt, idt;
  guint64 cr0, cr2, cr3, cr4, cr8, efer, apic_base;
} ArborSregs;

typedef enum {
  ARBOR_VCPU_STATE_CREATED, /* thread exists, paused, never run */
  ARBOR_VCPU_STATE_RUNNING,
  ARBOR_VCPU_STATE_PAUSED,
  ARBOR_VCPU_STATE_HALTED,  /* waiting in HLT for a kick (no in-kernel irqchip) */
  ARBOR_VCPU_STATE_EXITED,  /* the guest ended it (reason in arbor_vcpu_get_exit) */
  ARBOR_VCPU_STATE_STOPPED, /* stopped by command; thread gone */
  ARBOR_VCPU_STATE_ERROR,   /* setup or run failed; message in the event */
} ArborVcpuState;

/* What the "state-changed" signal reports. */
typedef enum {
  ARBOR_VCPU_EVENT_STARTED,
  ARBOR_VCPU_EVENT_PAUSED,
  ARBOR_VCPU_EVENT_RESUMED,
  ARBOR_VCPU_EVENT_STOPPED,
  ARBOR_VCPU_EVENT_EXITED,
  ARBOR_VCPU_EVENT_ERROR,
} ArborVcpuEvent;

typedef enum {
  ARBOR_VCPU_EXIT_NONE,
  ARBOR_VCPU_EXIT_HALT,           /* HLT and asked to end on it */
  ARBOR_VCPU_EXIT_SHUTDOWN,       /* triple fault */
  ARBOR_VCPU_EXIT_SYSTEM_EVENT,   /* data[0] = type (KVM_SYSTEM_EVENT_*) */
  ARBOR_VCPU_EXIT_INTERNAL_ERROR, /* suberror, data words */
  ARBOR_VCPU_EXIT_FAIL_ENTRY,     /* data[0] = hardware entry failure reason */
  ARBOR_VCPU_EXIT_UNKNOWN,        /* hw_reason = the accelerator's exit code */
  ARBOR_VCPU_EXIT_RUN_FAILED,     /* the run call itself failed; description has errno */
} ArborVcpuExitReason;

typedef struct {
  ArborVcpuExitReason reason;
  guint32 hw_reason; /* the accelerator's own exit code (KVM_EXIT_*) */
  guint32 suberror;
  guint32 ndata;
  guint64 data[16];
  char description[160]; /* human-readable one-liner */
} ArborVcpuExit;

/* Exit counters per reason, kept by the accelerator's run loop. */
typedef enum {
  ARBOR_VCPU_STAT_IO_IN,
  ARBOR_VCPU_STAT_IO_OUT,
  ARBOR_VCPU_STAT_MMIO_READ,
  ARBOR_VCPU_STAT_MMIO_WRITE,
  ARBOR_VCPU_STAT_HLT,
  ARBOR_VCPU_STAT_INTR,     /* interrupted by a kick / signal */
  ARBOR_VCPU_STAT_IRQ_WINDOW,
  ARBOR_VCPU_STAT_SHUTDOWN,
  ARBOR_VCPU_STAT_SYSTEM_EVENT,
  ARBOR_VCPU_STAT_INTERNAL_ERROR,
  ARBOR_VCPU_STAT_FAIL_ENTRY,
  ARBOR_VCPU_STAT_OTHER,
  ARBOR_VCPU_STAT_N,
} ArborVcpuStat;

ARBOR_API const char *arbor_vcpu_stat_name(ArborVcpuStat stat);
ARBOR_API const char *arbor_vcpu_state_name(ArborVcpuState state);
ARBOR_API const char *arbor_vcpu_exit_reason_name(ArborVcpuExitReason reason);

#define ARBOR_TYPE_VCPU (arbor_vcpu_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborVcpu, arbor_vcpu, ARBOR, VCPU, GObject)

/* Created by ArborVcpuManager; the thread ("vcpu-N") starts paused. */
ARBOR_API guint arbor_vcpu_get_index(ArborVcpu *vcpu);
ARBOR_API ArborVcpuState arbor_vcpu_get_state(ArborVcpu *vcpu);
ARBOR_API ArborAccel *arbor_vcpu_get_accel(ArborVcpu *vcpu);
ARBOR_API ArborMachine *arbor_vcpu_get_machine(ArborVcpu *vcpu);
/* Copy of the exit that ended the vCPU (reason NONE while it has not). */
ARBOR_API void arbor_vcpu_get_exit(ArborVcpu *vcpu, ArborVcpuExit *exit);

/* Synchronous commands: each returns when the vCPU has reached the state
 * (or FALSE + error if it cannot: it has exited or failed). Never spin. */
ARBOR_API gboolean arbor_vcpu_run(ArborVcpu *vcpu, GError **error);    /* created -> running */
ARBOR_API gboolean arbor_vcpu_pause(ArborVcpu *vcpu, GError **error);  /* -> paused */
ARBOR_API gboolean arbor_vcpu_resume(ArborVcpu *vcpu, GError **error); /* paused -> running */
ARBOR_API void arbor_vcpu_stop(ArborVcpu *vcpu);                       /* -> stopped, thread joined */

/* Asynchronous halves, for acting on many vCPUs at once. */
ARBOR_API void arbor_vcpu_request_pause(ArborVcpu *vcpu);
ARBOR_API void arbor_vcpu_request_resume(ArborVcpu *vcpu);
ARBOR_API void arbor_vcpu_request_stop(ArborVcpu *vcpu);
/* Waits until the vCPU is in one of the states in @mask (1 << state). */
ARBOR_API ArborVcpuState arbor_vcpu_wait_state(ArborVcpu *vcpu, guint mask);
/* Wakes a HALTED vCPU (an interrupt arrived) without changing its command. */
ARBOR_API void arbor_vcpu_kick(ArborVcpu *vcpu);

/* Registers: only while not running, or on the vCPU's own thread. */
ARBOR_API gboolean arbor_vcpu_get_regs(ArborVcpu *vcpu, ArborRegs *regs, GError **error);
ARBOR_API gboolean arbor_vcpu_set_regs(ArborVcpu *vcpu, const ArborRegs *regs, GError **error);
ARBOR_API gboolean arbor_vcpu_get_sregs(ArborVcpu *vcpu, ArborSregs *sregs, GError **error);
ARBOR_API gboolean arbor_vcpu_set_sregs(ArborVcpu *vcpu, const ArborSregs *sregs, GError **error);
ARBOR_API gboolean arbor_vcpu_reset(ArborVcpu *vcpu, GError **error);

ARBOR_API guint64 arbor_vcpu_get_stat(ArborVcpu *vcpu, ArborVcpuStat stat);

/* For accelerators (on the vCPU thread): per-vCPU state and counters. */
ARBOR_API void arbor_vcpu_set_accel_data(ArborVcpu *vcpu, gpointer data);
ARBOR_API gpointer arbor_vcpu_get_accel_data(ArborVcpu *vcpu);
ARBOR_API void arbor_vcpu_count_exit(ArborVcpu *vcpu, ArborVcpuStat stat);

/* Signal "state-changed" (ArborVcpuEvent event, const char *message),
 * emitted on the main context the manager was created with; message is the
 * exit description or error text, NULL otherwise. */

G_END_DECLS
