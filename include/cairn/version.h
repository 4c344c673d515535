// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Cairn's version. The macros are the version of the headers a program was
// compiled against; cairn::Version() is the version of the library it links,
// so a host that loads Cairn from an installed prefix can log both and see a
// mismatch. Versions follow semantic versioning: snapshots, stable hashes
// and the cairn.v1 schema stay compatible within a major version.
//
// This file is the one place the version is written: CMakeLists.txt reads
// the three numbers below for project(VERSION), and so for the installed
// package's cairnConfigVersion.cmake and `cairn --version`.
//
// Thread-safety: constants.

#ifndef CAIRN_VERSION_H_
#define CAIRN_VERSION_H_

// The major version: incompatible changes increment it.
#define CAIRN_VERSION_MAJOR 0
// The minor version: compatible additions increment it.
#define CAIRN_VERSION_MINOR 1
// The patch version: compatible fixes increment it.
#define CAIRN_VERSION_PATCH 0

// Internal: makes a string literal of the expanded argument.
#define CAIRN_VERSION_STR_INTERNAL(x) #x
#define CAIRN_VERSION_XSTR_INTERNAL(x) CAIRN_VERSION_STR_INTERNAL(x)

// "MAJOR.MINOR.PATCH", e.g. "0.1.0".
#define CAIRN_VERSION_STRING                       \
  CAIRN_VERSION_XSTR_INTERNAL(CAIRN_VERSION_MAJOR) \
  "." CAIRN_VERSION_XSTR_INTERNAL(CAIRN_VERSION_MINOR) "." CAIRN_VERSION_XSTR_INTERNAL(CAIRN_VERSION_PATCH)

// One number that orders versions, for preprocessor comparisons:
// MAJOR * 10000 + MINOR * 100 + PATCH (0.1.0 is 100).
#define CAIRN_VERSION (CAIRN_VERSION_MAJOR * 10000 + CAIRN_VERSION_MINOR * 100 + CAIRN_VERSION_PATCH)

namespace cairn {

// The version of the linked library, "MAJOR.MINOR.PATCH"; equal to
// CAIRN_VERSION_STRING when headers and library come from the same build.
const char* Version();

}  // namespace cairn

#endif  // CAIRN_VERSION_H_
