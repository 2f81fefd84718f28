/* ArborQtestAccel: the "qtest" accelerator (no guest code, virtual clock). */
#pragma once

#include <arbor/accel.h>

G_BEGIN_DECLS

#define ARBOR_TYPE_QTEST_ACCEL (arbor_qtest_accel_get_type())
G_DECLARE_FINAL_TYPE(ArborQtestAccel, arbor_qtest_accel, ARBOR, QTEST_ACCEL, ArborAccel)

/* Registers the type in @module (G_DEFINE_DYNAMIC_TYPE). */
void arbor_qtest_accel_register(GTypeModule *module);

G_END_DECLS
