/* Helpers for the end-to-end tests: run the arbor binary, find the guests. */
#pragma once

#include <gio/gio.h>

typedef struct {
  int status; /* exit code, or 128 + signal */
  char *out;  /* owned */
  char *err;  /* owned */
} E2eResult;

void e2e_result_free(E2eResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(E2eResult, e2e_result_free)

/* The arbor binary ($ARBOR_BINARY). */
const char *e2e_arbor_binary(void);
/* A guest built in tests/guests/e2e ($ARBOR_E2E_GUEST_DIR/NAME). */
char *e2e_guest_path(const char *file);
/* Runs arbor with @args (NULL-terminated), feeding @input (may be NULL:
 * stdin is empty), and waits for it to end. */
E2eResult *e2e_run(const char *const *args, const char *input);
/* FALSE (and g_test_skip) when /dev/kvm is missing; a permission problem
 * is a failure, not a skip. */
gboolean e2e_require_kvm(void);
/* A fresh temporary directory, removed by e2e_tmpdir_remove. */
char *e2e_tmpdir(void);
void e2e_tmpdir_remove(const char *dir);
