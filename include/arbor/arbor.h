/* arbor: the umbrella header. */
#pragma once

#include <arbor/arbor-types.h>
#include <arbor/arbor-version.h>
#include <arbor/memory-region.h>
#include <arbor/memory-listener.h>
#include <arbor/address-space.h>
#include <arbor/irq.h>
#include <arbor/clock.h>
#include <arbor/chardev.h>
#include <arbor/device.h>
#include <arbor/vcpu.h>
#include <arbor/vcpu-manager.h>
#include <arbor/accel.h>
#include <arbor/machine.h>
#include <arbor/loader.h>
#include <arbor/monitor.h>
#include <arbor/qtest-server.h>
