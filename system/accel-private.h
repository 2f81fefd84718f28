/* Internals of the accelerator registry and its module loader. */
#pragma once

#include <arbor/accel.h>

G_BEGIN_DECLS

/* ArborModule: one accel-NAME.so, a GTypeModule that stays in use once it
 * has loaded (its types may be instantiated at any time). */
#define ARBOR_TYPE_MODULE (arbor_module_get_type())
ARBOR_API G_DECLARE_FINAL_TYPE(ArborModule, arbor_module, ARBOR, MODULE, GTypeModule)

/* Loads (or reuses) the module at @path; the types it registers stay. */
ARBOR_API ArborModule *arbor_module_new(const char *path);
ARBOR_API gboolean arbor_module_ensure_loaded(ArborModule *module, GError **error);
ARBOR_API const char *arbor_module_get_path(ArborModule *module);

/* TRUE if @name is a valid accelerator name: [a-z0-9_-]+, at most 64 chars. */
ARBOR_API gboolean arbor_accel_name_is_valid(const char *name);

/* The directories searched for modules, in order. g_strfreev(). */
ARBOR_API char **arbor_accel_get_module_dirs(void);

/* Record of the machine init_machine ran for (unowned: the machine owns the accel). */
void arbor_accel_set_machine_internal(ArborAccel *accel, ArborMachine *machine);

G_END_DECLS
