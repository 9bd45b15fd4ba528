// The anchor: a subscriber that does what busd must do at the least for
// every adapter message, and nothing else: hiredis reads the PSUBSCRIBEd
// message, msgpack-c unpacks its payload (arena cleared per message, as a
// long-running decoder must). Its CPU is measured from outside (/proc).
//
// Usage: sub <redis unix socket> <pattern> <messages> [latency file]
// With a latency file, the latency samples of pub.c (the data's room value
// holding 5 base-36 digits) are stamped (CLOCK_MONOTONIC, ns) as hiredis
// hands each message over, and written there as "seq ns" lines.
// Prints "ready" once Redis confirmed the PSUBSCRIBE, "done ..." after
// <messages> messages, then waits for a line (or end) on standard input
// before it exits, so that its CPU can still be read.
#define _GNU_SOURCE
#include <hiredis/hiredis.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sample.h"

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: sub <redis socket> <pattern> <messages>\n"); return 2; }
    long long wanted = atoll(argv[3]);
    redisContext *redis = redisConnectUnix(argv[1]);
    if (!redis || redis->err) { fprintf(stderr, "sub: connect: %s\n", redis ? redis->errstr : "?"); return 2; }
    redisReply *reply = redisCommand(redis, "PSUBSCRIBE %s", argv[2]);
    if (!reply || reply->type != REDIS_REPLY_ARRAY) { fprintf(stderr, "sub: PSUBSCRIBE failed\n"); return 2; }
    freeReplyObject(reply);
    printf("ready\n");
    fflush(stdout);

    const char *latency_path = argc > 4 ? argv[4] : NULL;
    long long *received_at = latency_path ? calloc((size_t)wanted + 1, sizeof *received_at) : NULL;
    msgpack_zone *zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
    long long received = 0, decoded = 0, elements = 0;
    while (received < wanted) {
        void *r = NULL;
        if (redisGetReply(redis, &r) != REDIS_OK || !r) { fprintf(stderr, "sub: read: %s\n", redis->errstr); return 3; }
        reply = r;
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 4 && reply->element[3]->type == REDIS_REPLY_STRING) {
            received++;
            if (received_at) {
                long long seq = sample_seq(reply->element[3]->str, reply->element[3]->len, "\xa4room\xa5", 6);
                if (seq >= 0 && seq <= wanted && received_at[seq] == 0) received_at[seq] = now_ns();
            }
            msgpack_object object;
            size_t offset = 0;
            msgpack_zone_clear(zone);
            if (msgpack_unpack(reply->element[3]->str, reply->element[3]->len, &offset, zone, &object) == MSGPACK_UNPACK_SUCCESS) {
                decoded++;
                if (object.type == MSGPACK_OBJECT_ARRAY) elements += object.via.array.size;
            }
        }
        freeReplyObject(reply);
    }
    if (latency_path) {
        FILE *f = fopen(latency_path, "w");
        if (!f) { perror("sub: latency file"); return 2; }
        for (long long k = 0; k <= wanted; k++)
            if (received_at[k]) fprintf(f, "%lld %lld\n", k, received_at[k]);
        fclose(f);
    }
    printf("done received=%lld decoded=%lld elements=%lld\n", received, decoded, elements);
    fflush(stdout);
    char line[16];
    if (fgets(line, sizeof line, stdin)) {}
    msgpack_zone_free(zone);
    redisFree(redis);
    return 0;
}
