/* Placeholder: filled in by its owner. */
#pragma once

#include <arbor/arbor-types.h>
