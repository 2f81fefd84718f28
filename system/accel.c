/* ArborAccel: the abstract accelerator, and the registry of implementations
 * (built in or loaded from accel-NAME.so plugin modules). */
#include "arbor-config.h"

#include <string.h>

#include <arbor/accel.h>
#include <arbor/machine.h>

#include "accel-private.h"

typedef struct {
  ArborMachine *machine; /* unowned: the machine owns the accelerator */
  gboolean initialized;
} ArborAccelPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE(ArborAccel, arbor_accel, G_TYPE_OBJECT)

static void
arbor_accel_class_init(ArborAccelClass *klass)
{
}

static void
arbor_accel_init(ArborAccel *accel)
{
}

const char *
arbor_accel_get_name(ArborAccel *accel)
{
  g_return_val_if_fail(ARBOR_IS_ACCEL(accel), NULL);
  return ARBOR_ACCEL_GET_CLASS(accel)->name;
}

ArborMachine *
arbor_accel_get_machine(ArborAccel *accel)
{
  ArborAccelPrivate *priv = arbor_accel_get_instance_private(accel);

  g_return_val_if_fail(ARBOR_IS_ACCEL(accel), NULL);
  return priv->machine;
}

void
arbor_accel_set_machine_internal(ArborAccel *accel, ArborMachine *machine)
{
  ArborAccelPrivate *priv = arbor_accel_get_instance_private(accel);

  priv->machine = machine;
}

gboolean
arbor_accel_init_machine(ArborAccel *accel, ArborMachine *machine, GError **error)
{
  ArborAccelPrivate *priv = arbor_accel_get_instance_private(accel);
  ArborAccelClass *klass;

  g_return_val_if_fail(ARBOR_IS_ACCEL(accel), FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (priv->initialized) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_FAILED,
                "accelerator '%s' is already initialized for a machine", arbor_accel_get_name(accel));
    return FALSE;
  }
  klass = ARBOR_ACCEL_GET_CLASS(accel);
  priv->machine = machine;
  if (klass->init_machine != NULL && !klass->init_machine(accel, machine, error)) {
    priv->machine = NULL;
    return FALSE;
  }
  priv->initialized = TRUE;
  return TRUE;
}

void
arbor_accel_set_irq(ArborAccel *accel, guint gsi, gboolean level)
{
  ArborAccelClass *klass;

  g_return_if_fail(ARBOR_IS_ACCEL(accel));
  klass = ARBOR_ACCEL_GET_CLASS(accel);
  if (klass->set_irq != NULL)
    klass->set_irq(accel, gsi, level);
}

/* ---- registry ---------------------------------------------------------- */

typedef struct {
  GType type;
  char *name; /* owned */
  int priority;
} AccelEntry;

typedef struct {
  GMutex lock;       /* entries and modules */
  GMutex load_lock;  /* serializes module loading (taken before lock) */
  GHashTable *entries; /* name -> AccelEntry*, owned */
  GHashTable *modules; /* path -> ArborModule*, owned; never dropped */
} AccelRegistry;

static void
accel_entry_free(gpointer data)
{
  AccelEntry *entry = data;

  g_free(entry->name);
  g_free(entry);
}

static AccelRegistry *
accel_registry_get(void)
{
  static gsize initialized = 0;
  static AccelRegistry *registry = NULL; /* GOnce-initialized, lives forever */

  if (g_once_init_enter(&initialized)) {
    AccelRegistry *reg = g_new0(AccelRegistry, 1);

    g_mutex_init(&reg->lock);
    g_mutex_init(&reg->load_lock);
    reg->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, accel_entry_free);
    reg->modules = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
    registry = reg;
    g_once_init_leave(&initialized, 1);
  }
  return registry;
}

gboolean
arbor_accel_name_is_valid(const char *name)
{
  gsize len;

  if (name == NULL)
    return FALSE;
  len = strlen(name);
  if (len == 0 || len > 64)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = name[i];

    if (!g_ascii_islower(c) && !g_ascii_isdigit(c) && c != '_' && c != '-')
      return FALSE;
  }
  return TRUE;
}

void
arbor_accel_register(GType type, const char *name, int priority)
{
  AccelRegistry *reg = accel_registry_get();
  AccelEntry *entry;

  g_return_if_fail(g_type_is_a(type, ARBOR_TYPE_ACCEL));
  g_return_if_fail(arbor_accel_name_is_valid(name));

  entry = g_new0(AccelEntry, 1);
  entry->type = type;
  entry->name = g_strdup(name);
  entry->priority = priority;

  g_mutex_lock(&reg->lock);
  g_hash_table_replace(reg->entries, entry->name, entry);
  g_mutex_unlock(&reg->lock);
  g_debug("accelerator '%s' registered (%s, priority %d)", name, g_type_name(type), priority);
}

static int
accel_name_compare(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

char **
arbor_accel_list_registered(void)
{
  AccelRegistry *reg = accel_registry_get();
  GPtrArray *names = g_ptr_array_new();
  GHashTableIter iter;
  gpointer key;

  g_mutex_lock(&reg->lock);
  g_hash_table_iter_init(&iter, reg->entries);
  while (g_hash_table_iter_next(&iter, &key, NULL))
    g_ptr_array_add(names, g_strdup(key));
  g_mutex_unlock(&reg->lock);

  g_ptr_array_sort(names, accel_name_compare);
  g_ptr_array_add(names, NULL);
  return (char **)g_ptr_array_free(names, FALSE);
}

/* Looks @name up; returns its type or G_TYPE_INVALID. @name NULL: the
 * highest priority entry. */
static GType
accel_registry_lookup(AccelRegistry *reg, const char *name)
{
  GType type = G_TYPE_INVALID;

  g_mutex_lock(&reg->lock);
  if (name != NULL) {
    AccelEntry *entry = g_hash_table_lookup(reg->entries, name);

    if (entry != NULL)
      type = entry->type;
  } else {
    GHashTableIter iter;
    gpointer value;
    int best = G_MININT;

    g_hash_table_iter_init(&iter, reg->entries);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
      AccelEntry *entry = value;

      if (type == G_TYPE_INVALID || entry->priority > best) {
        type = entry->type;
        best = entry->priority;
      }
    }
  }
  g_mutex_unlock(&reg->lock);
  return type;
}

const char *
arbor_accel_get_module_dir(void)
{
  const char *env = g_getenv("ARBOR_MODULE_DIR");

  if (env != NULL && *env != '\0')
    return env;
  if (g_file_test(ARBOR_BUILD_MODULE_DIR, G_FILE_TEST_IS_DIR) &&
      !g_file_test(ARBOR_MODULE_DIR, G_FILE_TEST_IS_DIR))
    return ARBOR_BUILD_MODULE_DIR;
  return ARBOR_MODULE_DIR;
}

char **
arbor_accel_get_module_dirs(void)
{
  const char *env = g_getenv("ARBOR_MODULE_DIR");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

  if (env != NULL && *env != '\0') {
    g_auto(GStrv) parts = g_strsplit(env, G_SEARCHPATH_SEPARATOR_S, -1);

    for (guint i = 0; parts[i] != NULL; i++) {
      if (*parts[i] != '\0')
        g_strv_builder_add(builder, parts[i]);
    }
    return g_strv_builder_end(builder);
  }
  /* Installed modules first; the build tree serves an uninstalled run. */
  g_strv_builder_add(builder, ARBOR_MODULE_DIR);
  if (g_file_test(ARBOR_BUILD_MODULE_DIR, G_FILE_TEST_IS_DIR))
    g_strv_builder_add(builder, ARBOR_BUILD_MODULE_DIR);
  return g_strv_builder_end(builder);
}

/* Finds accel-@name.so in the module directories. */
static char *
accel_find_module(const char *name, GError **error)
{
  g_auto(GStrv) dirs = arbor_accel_get_module_dirs();
  g_autofree char *file = g_strdup_printf("accel-%s.so", name);
  g_autofree char *tried = NULL;
  g_autofree char *first = NULL;

  for (guint i = 0; dirs[i] != NULL; i++) {
    g_autofree char *path = g_build_filename(dirs[i], file, NULL);

    if (g_file_test(path, G_FILE_TEST_EXISTS))
      return g_steal_pointer(&path);
    if (first == NULL)
      first = g_strdup(path);
  }
  tried = g_strjoinv(G_SEARCHPATH_SEPARATOR_S, dirs);
  g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_NOT_FOUND,
              "accelerator '%s' is not built in and its module %s does not exist (searched: %s; "
              "set ARBOR_MODULE_DIR to the directory holding accel-%s.so)",
              name, first != NULL ? first : file, tried, name);
  return NULL;
}

static gboolean
accel_load_module_locked(AccelRegistry *reg, const char *name, GError **error)
{
  g_autofree char *path = accel_find_module(name, error);
  ArborModule *module;
  gboolean ok;

  if (path == NULL)
    return FALSE;

  /* One module object per file, kept for the life of the process: its
   * types may be registered even if loading failed half way. */
  g_mutex_lock(&reg->lock);
  module = g_hash_table_lookup(reg->modules, path);
  if (module == NULL) {
    module = arbor_module_new(path);
    g_hash_table_insert(reg->modules, g_strdup(path), module);
  }
  g_object_ref(module);
  g_mutex_unlock(&reg->lock);

  /* Outside the registry lock: the module's load calls arbor_accel_register(). */
  ok = arbor_module_ensure_loaded(module, error);
  g_object_unref(module);
  if (!ok)
    return FALSE;

  if (accel_registry_lookup(reg, name) == G_TYPE_INVALID) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_MODULE,
                "module %s loaded but did not register the accelerator '%s'", path, name);
    return FALSE;
  }
  return TRUE;
}

static gboolean
accel_load_module(AccelRegistry *reg, const char *name, GError **error)
{
  gboolean ok;

  g_mutex_lock(&reg->load_lock);
  /* Another thread may have loaded it meanwhile. */
  ok = accel_registry_lookup(reg, name) != G_TYPE_INVALID || accel_load_module_locked(reg, name, error);
  g_mutex_unlock(&reg->load_lock);
  return ok;
}

/* With no name asked for and nothing registered: load every module there is. */
static void
accel_load_all_modules(AccelRegistry *reg)
{
  g_auto(GStrv) dirs = arbor_accel_get_module_dirs();

  for (guint i = 0; dirs[i] != NULL; i++) {
    g_autoptr(GDir) dir = g_dir_open(dirs[i], 0, NULL);
    const char *entry;

    if (dir == NULL)
      continue;
    while ((entry = g_dir_read_name(dir)) != NULL) {
      g_autofree char *name = NULL;
      g_autoptr(GError) local_error = NULL;

      if (!g_str_has_prefix(entry, "accel-") || !g_str_has_suffix(entry, ".so"))
        continue;
      name = g_strndup(entry + strlen("accel-"), strlen(entry) - strlen("accel-") - strlen(".so"));
      if (!arbor_accel_name_is_valid(name) || accel_registry_lookup(reg, name) != G_TYPE_INVALID)
        continue;
      if (!accel_load_module(reg, name, &local_error))
        g_info("skipping module: %s", local_error->message);
    }
  }
}

ArborAccel *
arbor_accel_new(const char *name, GError **error)
{
  AccelRegistry *reg = accel_registry_get();
  GType type;

  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  if (name != NULL && !arbor_accel_name_is_valid(name)) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID,
                "invalid accelerator name '%s' (expected lower-case letters, digits, '_' or '-')", name);
    return NULL;
  }

  if (name != NULL) {
    type = accel_registry_lookup(reg, name);
    if (type == G_TYPE_INVALID) {
      if (!accel_load_module(reg, name, error))
        return NULL;
      type = accel_registry_lookup(reg, name);
    }
  } else {
    /* A module not loaded yet may outrank everything registered. */
    accel_load_all_modules(reg);
    type = accel_registry_lookup(reg, NULL);
    if (type == G_TYPE_INVALID) {
      g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_NOT_FOUND,
                  "no accelerator is registered and no module was found in %s",
                  arbor_accel_get_module_dir());
      return NULL;
    }
  }
  if (G_TYPE_IS_ABSTRACT(type)) {
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_MODULE,
                "accelerator '%s' was registered with the abstract type %s", name, g_type_name(type));
    return NULL;
  }
  return g_object_new(type, NULL);
}
