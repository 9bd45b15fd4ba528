#include "socketbus_build_info.h"

// Package.swift defines BUSD_BUILD_COMMIT for this one file, so a new commit
// recompiles it and relinks busd, nothing more.
#ifndef BUSD_BUILD_COMMIT
#define BUSD_BUILD_COMMIT "unknown"
#endif

const char *socketbus_build_commit(void) { return BUSD_BUILD_COMMIT; }
