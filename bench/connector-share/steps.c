// The connector-share bench's publisher: PUBLISH of one payload on one
// channel, in steps of 1 ms on a fixed schedule (step k at start + k ms),
// each step the messages due by then, pipelined and sent in one write. So the
// node sees what the plain driver's 1 ms timer gives it: a burst per step,
// not a trickle. (bench/anchor's pub sends whatever is due as soon as its
// last replies are back, which at 10k msg/s on an idle machine is one or
// two messages every 100-200 µs.)
//
// Usage: steps <redis unix socket> <channel> <payload hex> <messages> <rate>
#define _GNU_SOURCE
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t unhex(const char *hex, char *out) {
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) sscanf(hex + 2 * i, "%2hhx", (unsigned char *)&out[i]);
    return n;
}

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: steps <redis socket> <channel> <hex> <messages> <rate>\n"); return 2; }
    static char payload[65536];
    const char *channel = argv[2];
    size_t payload_len = unhex(argv[3], payload);
    long long total = atoll(argv[4]);
    double rate = atof(argv[5]);
    if (rate <= 0) { fprintf(stderr, "steps: rate must be > 0\n"); return 2; }
    redisContext *redis = redisConnectUnix(argv[1]);
    if (!redis || redis->err) { fprintf(stderr, "steps: connect: %s\n", redis ? redis->errstr : "?"); return 2; }
    struct timespec start, at;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long long sent = 0, steps = 0;
    for (long long k = 1; sent < total; k++) {
        long long ns = start.tv_nsec + k * 1000000LL;
        at.tv_sec = start.tv_sec + ns / 1000000000LL;
        at.tv_nsec = ns % 1000000000LL;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
        // Due by the clock (a late wake-up sends the steps it missed at once, as the plain driver does).
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double elapsed = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
        long long due = (long long)(elapsed * rate);
        if (due > total) due = total;
        long long n = due - sent;
        if (n <= 0) continue;
        for (long long i = 0; i < n; i++) redisAppendCommand(redis, "PUBLISH %s %b", channel, payload, payload_len);
        for (long long i = 0; i < n; i++) {
            void *r = NULL;
            if (redisGetReply(redis, &r) != REDIS_OK || !r) { fprintf(stderr, "steps: %s\n", redis->errstr); return 3; }
            freeReplyObject(r);
        }
        sent += n;
        steps++;
        // Late (a loaded machine): the next step is the next millisecond from now, not one already past.
        if ((long long)(elapsed * 1000) > k) k = (long long)(elapsed * 1000);
    }
    printf("published=%lld steps=%lld\n", sent, steps);
    redisFree(redis);
    return 0;
}
