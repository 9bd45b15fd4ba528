#ifndef SOCKETBUS_BUILD_INFO_H
#define SOCKETBUS_BUILD_INFO_H

/// The git commit busd was built from (BUSD_BUILD_COMMIT at build time,
/// see Package.swift), or "unknown".
const char *socketbus_build_commit(void);

#endif
