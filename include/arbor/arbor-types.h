/* arbor: shared forward declarations, export macro and error domain. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Every public function carries ARBOR_API: libarbor is built with hidden
 * visibility, so only what is marked here is seen by the emulator, the
 * accelerator modules and out-of-tree device models. */
#define ARBOR_API __attribute__((visibility("default"))) extern

typedef struct _ArborMemoryRegion ArborMemoryRegion;
typedef struct _ArborAddressSpace ArborAddressSpace;
typedef struct _ArborAccel ArborAccel;
typedef struct _ArborVcpu ArborVcpu;
typedef struct _ArborVcpuManager ArborVcpuManager;
typedef struct _ArborMachine ArborMachine;
typedef struct _ArborDevice ArborDevice;
typedef struct _ArborChardev ArborChardev;
typedef struct _ArborClock ArborClock;
typedef struct _ArborTimer ArborTimer;
typedef struct _ArborIrq ArborIrq;

/**
 * ArborError:
 * Errors from libarbor that are not specific to one component's domain.
 */
typedef enum {
  ARBOR_ERROR_FAILED,        /* generic failure */
  ARBOR_ERROR_INVALID,       /* bad input from outside (option, file, line) */
  ARBOR_ERROR_NOT_FOUND,     /* a named thing (accelerator, device, file) is missing */
  ARBOR_ERROR_NOT_SUPPORTED, /* the host cannot do it (no /dev/kvm, missing capability) */
  ARBOR_ERROR_MODULE,        /* a plugin module failed to load or has the wrong version */
  ARBOR_ERROR_IO,            /* a system call failed */
} ArborError;

#define ARBOR_ERROR (arbor_error_quark())
ARBOR_API GQuark arbor_error_quark(void);

ARBOR_API const char *arbor_version_string(void);

G_END_DECLS
