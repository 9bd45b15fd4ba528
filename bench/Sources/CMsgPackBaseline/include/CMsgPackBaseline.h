// The anchor of codec-bench: msgpack-c decoding a payload on its own, with
// nothing of socketbus around it (no bounds pre-scan, no Swift wrapper).
// Issue 2 quotes "msgpack-c alone decodes ~3 million messages/s here"; this
// measures that figure in the same run as the codec, so the codec is
// reported as a ratio to it.
#ifndef CMSGPACKBASELINE_H
#define CMSGPACKBASELINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A msgpack-c arena (msgpack_zone) reused across payloads, as MsgPackReader does.
void *msgpack_baseline_zone_new(void);
void msgpack_baseline_zone_free(void *zone);

/// Clears the arena and runs msgpack_unpack on one payload. Returns the
/// element count of the root object (so the work cannot be optimised away),
/// or -1 when msgpack-c refuses the payload.
int64_t msgpack_baseline_unpack(void *zone, const uint8_t *data, size_t size);

#ifdef __cplusplus
}
#endif

#endif
