/* ArborModule: loads one accelerator plugin (accel-NAME.so) with GModule.
 *
 * GTypeModule semantics: the types a module registers point into its code,
 * so once a module has loaded it stays in use (and resident) for the life
 * of the process. */
#include "arbor-config.h"

#include <gmodule.h>

#include <arbor/accel.h>

#include "accel-private.h"

struct _ArborModule {
  GTypeModule parent_instance;

  char *path;            /* owned */
  GModule *library;      /* owned while loaded */
  ArborModuleLoadFunc load_func;
  ArborModuleLoadFunc unload_func;
  GError *load_error;    /* owned: why the last load failed */
  gboolean in_use;       /* the use count we keep once loaded */
};

G_DEFINE_FINAL_TYPE(ArborModule, arbor_module, G_TYPE_TYPE_MODULE)

static gboolean
arbor_module_fail(ArborModule *self, int code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean
arbor_module_fail(ArborModule *self, int code, const char *fmt, ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start(args, fmt);
  reason = g_strdup_vprintf(fmt, args);
  va_end(args);

  g_clear_error(&self->load_error);
  g_set_error(&self->load_error, ARBOR_ERROR, code, "cannot load module %s: %s", self->path, reason);
  if (self->library != NULL) {
    g_module_close(self->library);
    self->library = NULL;
  }
  return FALSE;
}

static gboolean
arbor_module_load(GTypeModule *type_module)
{
  ArborModule *self = ARBOR_MODULE(type_module);
  ArborModuleAbiFunc abi_func = NULL;
  gpointer sym = NULL;
  guint abi;

  if (!g_file_test(self->path, G_FILE_TEST_EXISTS))
    return arbor_module_fail(self, ARBOR_ERROR_NOT_FOUND, "no such file");

  self->library = g_module_open(self->path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (self->library == NULL)
    return arbor_module_fail(self, ARBOR_ERROR_MODULE, "%s", g_module_error());

  if (!g_module_symbol(self->library, "arbor_module_abi_version", &sym) || sym == NULL)
    return arbor_module_fail(self, ARBOR_ERROR_MODULE,
                             "it does not export arbor_module_abi_version() (not an arbor module?)");
  abi_func = (ArborModuleAbiFunc)sym;
  abi = abi_func();
  if (abi != ARBOR_MODULE_ABI_VERSION)
    return arbor_module_fail(self, ARBOR_ERROR_MODULE,
                             "it was built for module ABI %u, this arbor %s has ABI %u (rebuild the module)",
                             abi, ARBOR_VERSION, (guint)ARBOR_MODULE_ABI_VERSION);

  if (!g_module_symbol(self->library, "arbor_module_load", &sym) || sym == NULL)
    return arbor_module_fail(self, ARBOR_ERROR_MODULE, "it does not export arbor_module_load()");
  self->load_func = (ArborModuleLoadFunc)sym;
  if (!g_module_symbol(self->library, "arbor_module_unload", &sym) || sym == NULL)
    return arbor_module_fail(self, ARBOR_ERROR_MODULE, "it does not export arbor_module_unload()");
  self->unload_func = (ArborModuleLoadFunc)sym;

  g_clear_error(&self->load_error);
  self->load_func(type_module);
  g_debug("loaded module %s", self->path);
  return TRUE;
}

static void
arbor_module_unload(GTypeModule *type_module)
{
  ArborModule *self = ARBOR_MODULE(type_module);

  if (self->unload_func != NULL)
    self->unload_func(type_module);
  self->load_func = NULL;
  self->unload_func = NULL;
  g_clear_pointer(&self->library, g_module_close);
}

static void
arbor_module_finalize(GObject *object)
{
  ArborModule *self = ARBOR_MODULE(object);

  g_free(self->path);
  g_clear_error(&self->load_error);
  G_OBJECT_CLASS(arbor_module_parent_class)->finalize(object);
}

static void
arbor_module_class_init(ArborModuleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GTypeModuleClass *module_class = G_TYPE_MODULE_CLASS(klass);

  object_class->finalize = arbor_module_finalize;
  module_class->load = arbor_module_load;
  module_class->unload = arbor_module_unload;
}

static void
arbor_module_init(ArborModule *self)
{
}

ArborModule *
arbor_module_new(const char *path)
{
  ArborModule *self;

  g_return_val_if_fail(path != NULL, NULL);

  self = g_object_new(ARBOR_TYPE_MODULE, NULL);
  self->path = g_strdup(path);
  g_type_module_set_name(G_TYPE_MODULE(self), path);
  return self;
}

const char *
arbor_module_get_path(ArborModule *module)
{
  g_return_val_if_fail(ARBOR_IS_MODULE(module), NULL);
  return module->path;
}

gboolean
arbor_module_ensure_loaded(ArborModule *module, GError **error)
{
  g_return_val_if_fail(ARBOR_IS_MODULE(module), FALSE);

  if (module->in_use)
    return TRUE;
  if (!g_type_module_use(G_TYPE_MODULE(module))) {
    if (module->load_error != NULL)
      g_propagate_error(error, g_steal_pointer(&module->load_error));
    else
      g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_MODULE,
                  "cannot load module %s: a type it registers failed to load", module->path);
    return FALSE;
  }
  /* Kept in use for good: instances of its types may outlive any caller. */
  module->in_use = TRUE;
  g_module_make_resident(module->library);
  return TRUE;
}
