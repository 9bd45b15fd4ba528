#ifndef SOCKETBUS_CMSGPACK_SHIM_H
#define SOCKETBUS_CMSGPACK_SHIM_H
/* Thin bridge to msgpack-c 4.0 (Debian libmsgpack-dev). Only the C API
 * (msgpack.h); the C++ headers that the Debian package also installs are
 * never included. */
#include <msgpack.h>

/* The packer's write callback, called with raw bytes: used for the few
 * non-canonical headers notepack 2 produces (ext 8 for short ArrayBuffers). */
static inline int CMsgPack_writeRaw(msgpack_packer *pk, const char *data, size_t len) {
    return pk->callback(pk->data, data, len);
}

#endif
