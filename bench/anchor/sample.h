// Latency samples shared by pub.c, sub.c and node.c: every Nth published
// message carries its sequence number as 5 lowercase base-36 digits in the
// value of the data's "room" key, a same-length copy of the capture.
#ifndef ANCHOR_SAMPLE_H
#define ANCHOR_SAMPLE_H
#include <stddef.h>
#include <string.h>  // memmem: the including file defines _GNU_SOURCE first

enum { SAMPLE_DIGITS = 5 };

// Writes `seq` as the 5 digits at `at` (the receivers' parse below).
static inline void sample_write(char *at, long long seq) {
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (int i = SAMPLE_DIGITS - 1; i >= 0; i--) { at[i] = digits[seq % 36]; seq /= 36; }
}

// The sequence number in the digits that follow `key` in `body`, or -1 when
// the key is absent or not followed by 5 base-36 digits. The key is the
// encoding's own: msgpack's "\xa4room\xa5" on Redis, JSON's "\"room\":\"" in
// a DELIVER frame's packet.
static inline long long sample_seq(const void *body, size_t len, const char *key, size_t key_len) {
    const unsigned char *p = memmem(body, len, key, key_len);
    if (!p || (size_t)((const unsigned char *)body + len - p) < key_len + SAMPLE_DIGITS) return -1;
    p += key_len;
    long long seq = 0;
    for (int i = 0; i < SAMPLE_DIGITS; i++) {
        int d = p[i] >= '0' && p[i] <= '9' ? p[i] - '0' : p[i] >= 'a' && p[i] <= 'z' ? p[i] - 'a' + 10 : -1;
        if (d < 0) return -1;
        seq = seq * 36 + d;
    }
    return seq;
}

#endif
