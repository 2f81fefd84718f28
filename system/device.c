/* ArborDevice: the base class of device models, the registry of device
 * types by -device name, and -device option parsing. */
#include <arbor/device.h>
#include <arbor/machine.h>

#include "device-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *id;              /* owned; NULL until set */
  ArborMachine *machine; /* not owned: the machine holds a ref on us while we are realized */
  gboolean realized;
} ArborDevicePrivate;

G_DEFINE_TYPE_WITH_PRIVATE(ArborDevice, arbor_device, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  N_PROPS
};

static GParamSpec *device_props[N_PROPS];

static void
arbor_device_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  ArborDevicePrivate *priv = arbor_device_get_instance_private(ARBOR_DEVICE(object));

  switch (prop_id) {
  case PROP_ID:
    g_value_set_string(value, priv->id);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
arbor_device_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  switch (prop_id) {
  case PROP_ID:
    arbor_device_set_id(ARBOR_DEVICE(object), g_value_get_string(value));
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
arbor_device_finalize(GObject *object)
{
  ArborDevicePrivate *priv = arbor_device_get_instance_private(ARBOR_DEVICE(object));

  g_free(priv->id);
  G_OBJECT_CLASS(arbor_device_parent_class)->finalize(object);
}

static void
arbor_device_class_init(ArborDeviceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->get_property = arbor_device_get_property;
  object_class->set_property = arbor_device_set_property;
  object_class->finalize = arbor_device_finalize;

  device_props[PROP_ID] = g_param_spec_string("id", "Id", "Name of the device in logs and the monitor", NULL,
                                              G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, device_props);
}

static void
arbor_device_init(ArborDevice *device)
{
}

gboolean
arbor_device_realize(ArborDevice *device, ArborMachine *machine, GError **error)
{
  g_return_val_if_fail(ARBOR_IS_DEVICE(device), FALSE);
  g_return_val_if_fail(ARBOR_IS_MACHINE(machine), FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  ArborDevicePrivate *priv = arbor_device_get_instance_private(device);
  ArborDeviceClass *klass = ARBOR_DEVICE_GET_CLASS(device);

  g_return_val_if_fail(!priv->realized, FALSE);

  /* Set before calling realize: it may ask for the machine (clock, IRQs). */
  priv->machine = machine;
  if (klass->realize != NULL && !klass->realize(device, machine, error)) {
    priv->machine = NULL;
    return FALSE;
  }
  priv->realized = TRUE;
  g_debug("device %s (%s) realized", priv->id != NULL ? priv->id : "?",
          klass->device_name != NULL ? klass->device_name : G_OBJECT_TYPE_NAME(device));
  return TRUE;
}

void
arbor_device_unrealize(ArborDevice *device)
{
  g_return_if_fail(ARBOR_IS_DEVICE(device));

  ArborDevicePrivate *priv = arbor_device_get_instance_private(device);
  ArborDeviceClass *klass = ARBOR_DEVICE_GET_CLASS(device);

  if (!priv->realized)
    return;
  if (klass->unrealize != NULL)
    klass->unrealize(device);
  priv->realized = FALSE;
  priv->machine = NULL;
}

void
arbor_device_reset(ArborDevice *device)
{
  g_return_if_fail(ARBOR_IS_DEVICE(device));

  ArborDeviceClass *klass = ARBOR_DEVICE_GET_CLASS(device);
  if (klass->reset != NULL)
    klass->reset(device);
}

gboolean
arbor_device_is_realized(ArborDevice *device)
{
  g_return_val_if_fail(ARBOR_IS_DEVICE(device), FALSE);
  ArborDevicePrivate *priv = arbor_device_get_instance_private(device);
  return priv->realized;
}

ArborMachine *
arbor_device_get_machine(ArborDevice *device)
{
  g_return_val_if_fail(ARBOR_IS_DEVICE(device), NULL);
  ArborDevicePrivate *priv = arbor_device_get_instance_private(device);
  return priv->machine;
}

const char *
arbor_device_get_id(ArborDevice *device)
{
  g_return_val_if_fail(ARBOR_IS_DEVICE(device), NULL);
  ArborDevicePrivate *priv = arbor_device_get_instance_private(device);
  return priv->id;
}

void
arbor_device_set_id(ArborDevice *device, const char *id)
{
  g_return_if_fail(ARBOR_IS_DEVICE(device));
  ArborDevicePrivate *priv = arbor_device_get_instance_private(device);

  if (g_strcmp0(priv->id, id) == 0)
    return;
  g_free(priv->id);
  priv->id = g_strdup(id);
  g_object_notify_by_pspec(G_OBJECT(device), device_props[PROP_ID]);
}

/* ---- registry ---------------------------------------------------------- */

typedef struct {
  GMutex lock;
  GHashTable *types; /* device name (owned by the class) -> GType; protected by lock */
} DeviceRegistry;

static gpointer
device_registry_init(gpointer data)
{
  DeviceRegistry *registry = g_new0(DeviceRegistry, 1);

  g_mutex_init(&registry->lock);
  registry->types = g_hash_table_new(g_str_hash, g_str_equal);
  return registry;
}

static DeviceRegistry *
device_registry_get(void)
{
  static GOnce once = G_ONCE_INIT;
  return g_once(&once, device_registry_init, NULL);
}

static gpointer
device_registry_add_builtins(gpointer data)
{
  arbor_hw_register_builtin_types();
  return NULL;
}

/* The built-in types register themselves the first time anyone looks. */
static DeviceRegistry *
device_registry_get_filled(void)
{
  static GOnce once = G_ONCE_INIT;
  g_once(&once, device_registry_add_builtins, NULL);
  return device_registry_get();
}

void
arbor_device_class_register(GType type)
{
  g_return_if_fail(g_type_is_a(type, ARBOR_TYPE_DEVICE));

  /* The class stays referenced: its name is the registry's key. */
  ArborDeviceClass *klass = g_type_class_ref(type);
  g_return_if_fail(klass->device_name != NULL);

  DeviceRegistry *registry = device_registry_get();
  g_mutex_lock(&registry->lock);
  GType old = GPOINTER_TO_SIZE(g_hash_table_lookup(registry->types, klass->device_name));
  if (old != 0 && old != type)
    g_warning("device name '%s' registered by %s and %s; keeping the latter", klass->device_name,
              g_type_name(old), g_type_name(type));
  g_hash_table_insert(registry->types, (gpointer) klass->device_name, GSIZE_TO_POINTER(type));
  g_mutex_unlock(&registry->lock);
}

GType
arbor_device_type_from_name(const char *device_name)
{
  g_return_val_if_fail(device_name != NULL, G_TYPE_INVALID);

  DeviceRegistry *registry = device_registry_get_filled();
  g_mutex_lock(&registry->lock);
  GType type = GPOINTER_TO_SIZE(g_hash_table_lookup(registry->types, device_name));
  g_mutex_unlock(&registry->lock);
  return type;
}

static int
compare_strings(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

char **
arbor_device_list_names(void)
{
  DeviceRegistry *registry = device_registry_get_filled();

  g_mutex_lock(&registry->lock);
  guint n = 0;
  char **names = (char **) g_hash_table_get_keys_as_array(registry->types, &n);
  GStrv copy = g_new0(char *, n + 1);
  for (guint i = 0; i < n; i++)
    copy[i] = g_strdup(names[i]);
  g_mutex_unlock(&registry->lock);
  g_free(names);

  qsort(copy, n, sizeof(char *), compare_strings);
  return copy;
}

/* ---- -device option strings -------------------------------------------- */

/* Splits at single commas; ",," is a literal comma (QEMU's escape). */
static GPtrArray *
split_options(const char *options)
{
  GPtrArray *tokens = g_ptr_array_new_with_free_func(g_free);
  GString *cur = g_string_new(NULL);

  for (const char *p = options; *p != '\0'; p++) {
    if (*p == ',') {
      if (p[1] == ',') {
        g_string_append_c(cur, ',');
        p++;
        continue;
      }
      g_ptr_array_add(tokens, g_string_free(cur, FALSE));
      cur = g_string_new(NULL);
      continue;
    }
    g_string_append_c(cur, *p);
  }
  g_ptr_array_add(tokens, g_string_free(cur, FALSE));
  return tokens;
}

static gboolean
parse_unsigned(const char *text, guint64 max, guint64 *out)
{
  if (*text == '\0' || *text == '-' || *text == '+' || g_ascii_isspace(*text))
    return FALSE;
  char *end = NULL;
  errno = 0;
  guint64 v = strtoull(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0' || v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
parse_signed(const char *text, gint64 min, gint64 max, gint64 *out)
{
  if (*text == '\0' || g_ascii_isspace(*text))
    return FALSE;
  char *end = NULL;
  errno = 0;
  gint64 v = strtoll(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
parse_boolean(const char *text, gboolean *out)
{
  static const char *const yes[] = {"on", "true", "yes"};
  static const char *const no[] = {"off", "false", "no"};

  for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
    if (strcmp(text, yes[i]) == 0) {
      *out = TRUE;
      return TRUE;
    }
    if (strcmp(text, no[i]) == 0) {
      *out = FALSE;
      return TRUE;
    }
  }
  return FALSE;
}

static char *
enum_nicks(GType type)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref(type);
  GString *s = g_string_new(NULL);

  for (guint i = 0; i < klass->n_values; i++)
    g_string_append_printf(s, "%s%s", i > 0 ? ", " : "", klass->values[i].value_nick);
  return g_string_free(s, FALSE);
}

/* Parses @text into @value (initialized to @pspec's type). On failure sets
 * @error naming the property and the type it expects. */
static gboolean
parse_property_value(const char *device_name, GParamSpec *pspec, const char *text, GValue *value, GError **error)
{
  GType type = G_PARAM_SPEC_VALUE_TYPE(pspec);
  const char *name = pspec->name;
  const char *expected = NULL;
  g_autofree char *expected_owned = NULL;
  g_autofree char *range = NULL;
  guint64 u = 0;
  gint64 s = 0;
  gboolean b = FALSE;

  switch (G_TYPE_FUNDAMENTAL(type)) {
  case G_TYPE_UINT: {
    GParamSpecUInt *p = G_PARAM_SPEC_UINT(pspec);
    if (parse_unsigned(text, p->maximum, &u) && u >= p->minimum) {
      g_value_set_uint(value, (guint) u);
      return TRUE;
    }
    range = g_strdup_printf(" in %u..%u", p->minimum, p->maximum);
    expected = "an unsigned integer";
    break;
  }
  case G_TYPE_UINT64: {
    GParamSpecUInt64 *p = G_PARAM_SPEC_UINT64(pspec);
    if (parse_unsigned(text, p->maximum, &u) && u >= p->minimum) {
      g_value_set_uint64(value, u);
      return TRUE;
    }
    range = g_strdup_printf(" in %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT, p->minimum, p->maximum);
    expected = "an unsigned integer";
    break;
  }
  case G_TYPE_ULONG: {
    GParamSpecULong *p = G_PARAM_SPEC_ULONG(pspec);
    if (parse_unsigned(text, p->maximum, &u) && u >= p->minimum) {
      g_value_set_ulong(value, (gulong) u);
      return TRUE;
    }
    range = g_strdup_printf(" in %lu..%lu", p->minimum, p->maximum);
    expected = "an unsigned integer";
    break;
  }
  case G_TYPE_UCHAR: {
    GParamSpecUChar *p = G_PARAM_SPEC_UCHAR(pspec);
    if (parse_unsigned(text, p->maximum, &u) && u >= p->minimum) {
      g_value_set_uchar(value, (guchar) u);
      return TRUE;
    }
    range = g_strdup_printf(" in %u..%u", p->minimum, p->maximum);
    expected = "an unsigned integer";
    break;
  }
  case G_TYPE_INT: {
    GParamSpecInt *p = G_PARAM_SPEC_INT(pspec);
    if (parse_signed(text, p->minimum, p->maximum, &s)) {
      g_value_set_int(value, (int) s);
      return TRUE;
    }
    range = g_strdup_printf(" in %d..%d", p->minimum, p->maximum);
    expected = "an integer";
    break;
  }
  case G_TYPE_INT64: {
    GParamSpecInt64 *p = G_PARAM_SPEC_INT64(pspec);
    if (parse_signed(text, p->minimum, p->maximum, &s)) {
      g_value_set_int64(value, s);
      return TRUE;
    }
    range = g_strdup_printf(" in %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, p->minimum, p->maximum);
    expected = "an integer";
    break;
  }
  case G_TYPE_LONG: {
    GParamSpecLong *p = G_PARAM_SPEC_LONG(pspec);
    if (parse_signed(text, p->minimum, p->maximum, &s)) {
      g_value_set_long(value, (glong) s);
      return TRUE;
    }
    range = g_strdup_printf(" in %ld..%ld", p->minimum, p->maximum);
    expected = "an integer";
    break;
  }
  case G_TYPE_CHAR: {
    GParamSpecChar *p = G_PARAM_SPEC_CHAR(pspec);
    if (parse_signed(text, p->minimum, p->maximum, &s)) {
      g_value_set_schar(value, (gint8) s);
      return TRUE;
    }
    range = g_strdup_printf(" in %d..%d", p->minimum, p->maximum);
    expected = "an integer";
    break;
  }
  case G_TYPE_BOOLEAN:
    if (parse_boolean(text, &b)) {
      g_value_set_boolean(value, b);
      return TRUE;
    }
    expected = "on/off (also true/false, yes/no)";
    break;
  case G_TYPE_STRING:
    g_value_set_string(value, text);
    return TRUE;
  case G_TYPE_ENUM: {
    g_autoptr(GEnumClass) klass = g_type_class_ref(type);
    GEnumValue *ev = g_enum_get_value_by_nick(klass, text);
    if (ev != NULL) {
      g_value_set_enum(value, ev->value);
      return TRUE;
    }
    g_autofree char *nicks = enum_nicks(type);
    expected_owned = g_strdup_printf("one of: %s", nicks);
    expected = expected_owned;
    break;
  }
  default:
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID,
                "%s: property '%s' (of type %s) cannot be set from an option string", device_name, name,
                g_type_name(type));
    return FALSE;
  }

  g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "%s: bad value '%s' for property '%s': expected %s%s",
              device_name, text, name, expected, range != NULL ? range : "");
  return FALSE;
}

static char *
device_names_joined(void)
{
  g_auto(GStrv) names = arbor_device_list_names();
  return g_strjoinv(", ", names);
}

ArborDevice *
arbor_device_new_from_options(const char *options, GError **error)
{
  g_return_val_if_fail(options != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  g_autoptr(GPtrArray) tokens = split_options(options);
  const char *device_name = g_ptr_array_index(tokens, 0);

  if (*device_name == '\0') {
    g_autofree char *names = device_names_joined();
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID,
                "-device '%s': missing device name (available devices: %s)", options, names);
    return NULL;
  }

  GType type = arbor_device_type_from_name(device_name);
  if (type == G_TYPE_INVALID) {
    g_autofree char *names = device_names_joined();
    g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_NOT_FOUND,
                "'%s' is not a valid device model name (available devices: %s)", device_name, names);
    return NULL;
  }

  g_autoptr(GTypeClass) klass = g_type_class_ref(type);
  guint n = tokens->len - 1;
  g_autofree const char **names = g_new0(const char *, n + 1);
  GValue *values = g_new0(GValue, n + 1);
  guint n_set = 0;
  gboolean ok = TRUE;

  for (guint i = 1; i <= n && ok; i++) {
    char *token = g_ptr_array_index(tokens, i);
    char *eq = strchr(token, '=');
    const char *text;

    if (eq != NULL) {
      *eq = '\0';
      text = eq + 1;
    } else {
      text = NULL; /* a bare key: "on" for booleans */
    }
    if (*token == '\0') {
      g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "%s: empty option in '%s'", device_name, options);
      ok = FALSE;
      break;
    }

    GParamSpec *pspec = g_object_class_find_property(G_OBJECT_CLASS(klass), token);
    if (pspec == NULL || !(pspec->flags & G_PARAM_WRITABLE)) {
      g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "%s: unknown property '%s'", device_name, token);
      ok = FALSE;
      break;
    }
    for (guint j = 0; j < n_set; j++) {
      if (strcmp(names[j], pspec->name) == 0) {
        g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "%s: property '%s' set more than once",
                    device_name, token);
        ok = FALSE;
        break;
      }
    }
    if (!ok)
      break;

    if (text == NULL) {
      if (G_PARAM_SPEC_VALUE_TYPE(pspec) != G_TYPE_BOOLEAN) {
        g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, "%s: property '%s' needs a value (%s=VALUE)",
                    device_name, token, token);
        ok = FALSE;
        break;
      }
      text = "on";
    }

    g_value_init(&values[n_set], G_PARAM_SPEC_VALUE_TYPE(pspec));
    names[n_set] = pspec->name;
    n_set++;
    if (!parse_property_value(device_name, pspec, text, &values[n_set - 1], error)) {
      ok = FALSE;
      break;
    }
  }

  ArborDevice *device = NULL;
  if (ok)
    device = ARBOR_DEVICE(g_object_new_with_properties(type, n_set, names, values));

  for (guint i = 0; i < n_set; i++)
    g_value_unset(&values[i]);
  g_free(values);
  return device;
}
