// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The whole public API of Cairn, an embeddable, deterministic executor of
// customer journeys. Include this, link cairn::cairn.

#ifndef CAIRN_CAIRN_H_
#define CAIRN_CAIRN_H_

#include "cairn/engine.h"      // IWYU pragma: export
#include "cairn/event.h"       // IWYU pragma: export
#include "cairn/input.h"       // IWYU pragma: export
#include "cairn/hash.h"        // IWYU pragma: export
#include "cairn/journey.h"     // IWYU pragma: export
#include "cairn/journey_io.h"  // IWYU pragma: export
#include "cairn/options.h"     // IWYU pragma: export
#include "cairn/report.h"      // IWYU pragma: export
#include "cairn/sharded_engine.h"  // IWYU pragma: export
#include "cairn/sink.h"        // IWYU pragma: export
#include "cairn/status_macros.h"  // IWYU pragma: export
#include "cairn/value.h"       // IWYU pragma: export
#include "cairn/version.h"     // IWYU pragma: export

// The test harness is not included here: #include "cairn/testing/harness.h".

#endif  // CAIRN_CAIRN_H_
