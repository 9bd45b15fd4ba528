// See include/CMsgPackBaseline.h.
#include "CMsgPackBaseline.h"

#include <msgpack.h>

void *msgpack_baseline_zone_new(void) {
    return msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
}

void msgpack_baseline_zone_free(void *zone) {
    msgpack_zone_free((msgpack_zone *)zone);
}

int64_t msgpack_baseline_unpack(void *zone, const uint8_t *data, size_t size) {
    msgpack_zone *z = (msgpack_zone *)zone;
    msgpack_object object;
    size_t offset = 0;
    // Cleared before each payload, as a long-running decoder must (the
    // arena would grow otherwise), and as MsgPackReader does.
    msgpack_zone_clear(z);
    if (msgpack_unpack((const char *)data, size, &offset, z, &object) != MSGPACK_UNPACK_SUCCESS) {
        return -1;
    }
    switch (object.type) {
    case MSGPACK_OBJECT_ARRAY: return object.via.array.size;
    case MSGPACK_OBJECT_MAP: return object.via.map.size;
    default: return 0;
    }
}
