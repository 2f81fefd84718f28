/* Internals of ArborQtestServer shared with its tests and fuzzers. */
#pragma once

#include <arbor/qtest-server.h>

G_BEGIN_DECLS

/* Largest SIZE one read/write/b64read/b64write/memset accepts. */
ARBOR_API guint arbor_qtest_server_get_max_size(void);
/* Longest line accepted (a "write" of the largest SIZE fits). */
ARBOR_API guint arbor_qtest_server_get_max_line(void);

G_END_DECLS
