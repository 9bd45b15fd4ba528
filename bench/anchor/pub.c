// The publisher of every case: PUBLISH of one payload on one channel, N
// times, pipelined in batches (replies read per batch), then optionally one
// sentinel message. With --rate it paces itself to that many messages per
// second (in 1 ms steps) instead of going as fast as Redis takes them.
//
// With --latency-every N, every Nth message is a same-length variant: the 5
// bytes at --latency-at (the room value "roomA" in the packet's data) hold
// the sample's sequence number in base 36 ("00000", "00001", ...). The time
// just before the write that carries it to Redis (CLOCK_MONOTONIC, ns) is
// written to --latency-out as "seq ns" lines; the receivers (node.c, sub.c)
// stamp the same clock when the sample reaches them.
//
// Usage: pub <redis unix socket> <channel> <payload hex> <messages>
//            [--sentinel <channel> <payload hex>] [--rate R] [--batch B]
//            [--latency-every N --latency-at OFFSET --latency-out FILE]
#define _GNU_SOURCE
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sample.h"

static size_t unhex(const char *hex, char *out) {
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) sscanf(hex + 2 * i, "%2hhx", (unsigned char *)&out[i]);
    return n;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void read_replies(redisContext *redis, long long n) {
    for (long long i = 0; i < n; i++) {
        void *r = NULL;
        if (redisGetReply(redis, &r) != REDIS_OK || !r) { fprintf(stderr, "pub: %s\n", redis->errstr); exit(3); }
        if (((redisReply *)r)->type == REDIS_REPLY_ERROR) { fprintf(stderr, "pub: %s\n", ((redisReply *)r)->str); exit(3); }
        freeReplyObject(r);
    }
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: pub <redis socket> <channel> <hex> <messages> [--sentinel CH HEX] [--rate R] [--batch B]\n"); return 2; }
    const char *channel = argv[2];
    char payload[65536], sentinel[65536];
    size_t payload_len = unhex(argv[3], payload), sentinel_len = 0;
    long long total = atoll(argv[4]), batch = 500;
    double rate = 0;
    const char *sentinel_channel = NULL;
    long long every = 0, at = -1;
    const char *latency_out = NULL;
    for (int i = 5; i < argc; i++) {
        if (!strcmp(argv[i], "--sentinel") && i + 2 < argc) { sentinel_channel = argv[i + 1]; sentinel_len = unhex(argv[i + 2], sentinel); i += 2; }
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc) rate = atof(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--latency-every") && i + 1 < argc) every = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--latency-at") && i + 1 < argc) at = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--latency-out") && i + 1 < argc) latency_out = argv[++i];
        else { fprintf(stderr, "pub: unknown argument %s\n", argv[i]); return 2; }
    }
    const long long max_samples = 36LL * 36 * 36 * 36 * 36;
    long long *sent_at = NULL, samples = 0, pending_from = 0;
    char variant[65536];
    if (every > 0) {
        if (at < 0 || at + 5 > (long long)payload_len || !latency_out) { fprintf(stderr, "pub: --latency-every needs --latency-at within the payload and --latency-out\n"); return 2; }
        long long wanted = total / every + 1;
        if (wanted > max_samples) { fprintf(stderr, "pub: more than 36^5 samples\n"); return 2; }
        sent_at = calloc((size_t)wanted, sizeof *sent_at);
        memcpy(variant, payload, payload_len);
    }
    redisContext *redis = redisConnectUnix(argv[1]);
    if (!redis || redis->err) { fprintf(stderr, "pub: connect: %s\n", redis ? redis->errstr : "?"); return 2; }
    double start = now();
    long long sent = 0;
    while (sent < total) {
        long long n = batch;
        if (rate > 0) {
            // Pace: as many as are due by now, at most one batch at a time.
            double due = (now() - start) * rate;
            if (due <= sent) {
                struct timespec pause = {0, 1000000};
                nanosleep(&pause, NULL);
                continue;
            }
            if ((long long)due - sent < n) n = (long long)due - sent;
            if (n < 1) n = 1;
        }
        if (n > total - sent) n = total - sent;
        pending_from = samples;
        for (long long i = 0; i < n; i++) {
            if (every > 0 && (sent + i) % every == 0) {
                sample_write(variant + at, samples++);
                redisAppendCommand(redis, "PUBLISH %s %b", channel, variant, payload_len);
            } else {
                redisAppendCommand(redis, "PUBLISH %s %b", channel, payload, payload_len);
            }
        }
        if (samples > pending_from) {
            // The samples of this batch leave with its write: stamp, then write it all.
            long long t = now_ns();
            for (long long k = pending_from; k < samples; k++) sent_at[k] = t;
            int done = 0;
            while (!done) {
                if (redisBufferWrite(redis, &done) != REDIS_OK) { fprintf(stderr, "pub: write: %s\n", redis->errstr); exit(3); }
            }
        }
        read_replies(redis, n);
        sent += n;
    }
    if (sentinel_channel) {
        redisAppendCommand(redis, "PUBLISH %s %b", sentinel_channel, sentinel, sentinel_len);
        read_replies(redis, 1);
    }
    double elapsed = now() - start;
    if (every > 0) {
        FILE *f = fopen(latency_out, "w");
        if (!f) { perror("pub: --latency-out"); return 2; }
        for (long long k = 0; k < samples; k++) fprintf(f, "%lld %lld\n", k, sent_at[k]);
        fclose(f);
        free(sent_at);
    }
    printf("published=%lld seconds=%.3f rate=%.0f\n", sent, elapsed, sent / elapsed);
    redisFree(redis);
    return 0;
}
