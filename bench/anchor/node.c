// A minimal node for busd's local protocol (docs/local-protocol.md, v1, and
// local-protocol-v2.md, v2): it registers sockets, then reads and counts the
// DELIVER (v1) or DELIVER_TO_ROOMS (v2) frames busd writes. It stands in for
// a Socket.IO node so that busd's own CPU can be measured with the real
// binary, with nothing slower than busd on the other end of the link.
//
// Usage: node <busd socket> <protocol 1|2>
// Commands on standard input, one per line; each is answered on standard
// output once busd has taken the frames (a PING sent after them came back):
//   setup routed|roommiss|nsmiss   the bench socket S in "/" joined to roomA;
//                                  S without roomA; S disconnected. A socket
//                                  T in "/chat" stays connected throughout.
//   arm                            reset the counters; print "done ..." when
//                                  a frame for "/chat" (the sentinel) arrives
//   connect K                      register K more sockets in "/" (batches)
//   counts                         print the counters now
//   latency FILE                   write "seq ns" of every latency sample
//                                  received since "arm" (see pub.c) to FILE
//   quit
// A latency sample is a frame for "/" whose packet's data carries
// "room":"<5 base-36 digits>"; its time (CLOCK_MONOTONIC, ns) is taken when
// the read() that brought it returned.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sample.h"

enum {
    HELLO = 0x01, WELCOME = 0x02, ERROR_FRAME = 0x03, PING = 0x04, PONG = 0x05,
    SOCKET_CONNECT = 0x10, SOCKET_DISCONNECT = 0x11, SOCKET_JOIN = 0x12, SOCKET_LEAVE = 0x13,
    CLUSTER_REQUEST = 0x1B, NAMESPACE = 0x15, ROOMS_JOIN = 0x16, ROOMS_LEAVE = 0x17,
    DELIVER = 0x20, DELIVER_TO_ROOMS = 0x26,
};

static int link_fd = -1;
static int version = 2;

// Outgoing frames are built here and written at once (flush).
static uint8_t *out;
static size_t out_len, out_cap;

static void out_reserve(size_t more) {
    if (out_len + more <= out_cap) return;
    while (out_len + more > out_cap) out_cap = out_cap ? out_cap * 2 : 1 << 20;
    out = realloc(out, out_cap);
    if (!out) { perror("realloc"); exit(2); }
}
static void put_u8(uint8_t v) { out_reserve(1); out[out_len++] = v; }
static void put_u16(uint16_t v) { put_u8(v >> 8); put_u8(v & 0xff); }
static void put_u32(uint32_t v) { put_u16(v >> 16); put_u16(v & 0xffff); }
static void put_u64(uint64_t v) { put_u32(v >> 32); put_u32(v & 0xffffffffu); }
static void put_str(const char *s) {
    size_t n = strlen(s);
    put_u16((uint16_t)n);
    out_reserve(n);
    memcpy(out + out_len, s, n);
    out_len += n;
}
// Frames are started with a placeholder length, patched by frame_end.
static size_t frame_start_at;
static void frame_begin(uint8_t type) { frame_start_at = out_len; put_u32(0); put_u8(type); }
static void frame_end(void) {
    uint32_t len = (uint32_t)(out_len - frame_start_at - 4);
    out[frame_start_at] = len >> 24; out[frame_start_at + 1] = len >> 16;
    out[frame_start_at + 2] = len >> 8; out[frame_start_at + 3] = len;
}
static void flush_out(void) {
    size_t off = 0;
    while (off < out_len) {
        ssize_t n = write(link_fd, out + off, out_len - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) { struct pollfd p = {link_fd, POLLOUT, 0}; poll(&p, 1, 1000); continue; }
            perror("write to busd"); exit(2);
        }
        off += (size_t)n;
    }
    out_len = 0;
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// Latency samples since "arm": the receive time of each sequence number.
static long long *received_at;
static size_t received_cap;
static long long read_time;

// The sequence number in a frame's packet ("room":"00a1z"), or -1.
static void record_sample(const uint8_t *body, size_t len) {
    static const char key[] = "\"room\":\"";
    long long seq = sample_seq(body, len, key, sizeof key - 1);
    if (seq < 0) return;
    if ((size_t)seq >= received_cap) {
        size_t cap = received_cap ? received_cap : 1 << 16;
        while (cap <= (size_t)seq) cap *= 2;
        received_at = realloc(received_at, cap * sizeof *received_at);
        if (!received_at) { perror("realloc"); exit(2); }
        memset(received_at + received_cap, 0, (cap - received_cap) * sizeof *received_at);
        received_cap = cap;
    }
    if (received_at[seq] == 0) received_at[seq] = read_time;
}

static void write_samples(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) { perror("node: latency file"); exit(2); }
    for (size_t k = 0; k < received_cap; k++)
        if (received_at[k]) fprintf(f, "%zu %lld\n", k, received_at[k]);
    fclose(f);
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_connect(const char *nsp, const char *sid) {
    frame_begin(SOCKET_CONNECT); put_str(nsp); put_str(sid); put_u64(now_ms()); frame_end();
    if (version == 2) {  // the real connector joins each socket to its own id room
        frame_begin(ROOMS_JOIN); put_str(nsp); put_str(sid); put_u32(1); put_u8(0); put_str(sid); frame_end();
    }
}
static void send_room(int join, const char *nsp, const char *sid, const char *room) {
    if (version == 2) {
        frame_begin(join ? ROOMS_JOIN : ROOMS_LEAVE); put_str(nsp); put_str(sid); put_u32(1); put_u8(0); put_str(room);
    } else {
        frame_begin(join ? SOCKET_JOIN : SOCKET_LEAVE); put_str(nsp); put_str(sid); put_u32(1); put_str(room);
    }
    frame_end();
}
static void send_disconnect(const char *nsp, const char *sid) {
    frame_begin(SOCKET_DISCONNECT); put_str(nsp); put_str(sid); put_str("bench"); frame_end();
}

// What the node has registered (for its own room check on DELIVER_TO_ROOMS).
static const char *S = "AnchorBenchSocketS01";
static const char *T = "AnchorBenchSocketT01";
static int s_connected, s_in_room_a;

// A command waits for the PONG of this token before it answers.
static uint64_t ping_token, awaited_token;
static char pending_reply[128];

static void sync_then_reply(const char *reply) {
    awaited_token = ++ping_token;
    frame_begin(PING); put_u64(awaited_token); frame_end();
    flush_out();
    snprintf(pending_reply, sizeof pending_reply, "%s", reply);
}

// Counters since the last "arm".
static uint64_t frames, delivers, targets, filtered, other_frames;
static int armed;
static uint64_t sockets_registered;

typedef struct { const uint8_t *p, *end; int bad; } cursor;
static uint8_t rd_u8(cursor *c) { if (c->end - c->p < 1) { c->bad = 1; return 0; } return *c->p++; }
static uint32_t rd_u16(cursor *c) { uint32_t a = rd_u8(c); return (a << 8) | rd_u8(c); }
static uint32_t rd_u32(cursor *c) { uint32_t a = rd_u16(c); return (a << 16) | rd_u16(c); }
static void rd_skip(cursor *c, size_t n) { if ((size_t)(c->end - c->p) < n) { c->bad = 1; c->p = c->end; } else c->p += n; }
// A string as (pointer, length) into the frame.
static const uint8_t *rd_str(cursor *c, uint32_t *len) {
    *len = rd_u16(c);
    const uint8_t *s = c->p;
    rd_skip(c, *len);
    return s;
}
static int str_is(const uint8_t *s, uint32_t len, const char *lit) { return len == strlen(lit) && memcmp(s, lit, len) == 0; }

static void report_done(void) {
    printf("done frames=%llu delivers=%llu targets=%llu filtered=%llu other=%llu\n",
        (unsigned long long)frames, (unsigned long long)delivers, (unsigned long long)targets,
        (unsigned long long)filtered, (unsigned long long)other_frames);
    fflush(stdout);
}

static void handle_frame(uint8_t type, const uint8_t *body, size_t len) {
    cursor c = {body, body + len, 0};
    frames++;
    switch (type) {
    case WELCOME: break;
    case ERROR_FRAME: {
        uint32_t code = rd_u16(&c), n;
        const uint8_t *m = rd_str(&c, &n);
        fprintf(stderr, "node: ERROR %u from busd: %.*s\n", code, (int)n, (const char *)m);
        if (code != 6) exit(3);
        break;
    }
    case PING: {
        uint64_t hi = rd_u32(&c), lo = rd_u32(&c);
        frame_begin(PONG); put_u64((hi << 32) | lo); frame_end(); flush_out();
        break;
    }
    case PONG: {
        uint64_t hi = rd_u32(&c), lo = rd_u32(&c);
        if (((hi << 32) | lo) == awaited_token && pending_reply[0]) {
            printf("%s\n", pending_reply); fflush(stdout);
            pending_reply[0] = 0;
        }
        break;
    }
    case DELIVER: {  // ack_id flags namespace socket_ids packet attachments
        rd_skip(&c, 9);
        uint32_t nl; const uint8_t *nsp = rd_str(&c, &nl);
        uint32_t count = rd_u32(&c);
        if (c.bad) { fprintf(stderr, "node: short DELIVER\n"); exit(3); }
        if (str_is(nsp, nl, "/chat")) { if (armed) { armed = 0; report_done(); } break; }
        delivers++;
        targets += count;
        record_sample(body, len);
        break;
    }
    case DELIVER_TO_ROOMS: {  // ack_id flags namespace rooms except packet attachments
        rd_skip(&c, 9);
        uint32_t nl; const uint8_t *nsp = rd_str(&c, &nl);
        if (str_is(nsp, nl, "/chat")) { if (armed) { armed = 0; report_done(); } break; }
        delivers++;
        // The node's own choice, as the connector makes it: is S in one of the rooms?
        uint32_t rooms = rd_u32(&c);
        int hit = rooms == 0 && s_connected && str_is(nsp, nl, "/");
        for (uint32_t i = 0; i < rooms && !c.bad; i++) {
            if (rd_u8(&c) == 0) {
                uint32_t rl; const uint8_t *r = rd_str(&c, &rl);
                if (s_connected && str_is(nsp, nl, "/") && ((s_in_room_a && str_is(r, rl, "roomA")) || str_is(r, rl, S))) hit = 1;
            } else {
                rd_skip(&c, 8);
            }
        }
        if (c.bad) { fprintf(stderr, "node: short DELIVER_TO_ROOMS\n"); exit(3); }
        if (hit) { targets++; record_sample(body, len); } else filtered++;
        break;
    }
    default: other_frames++; break;
    }
}

static uint8_t *in;
static size_t in_len, in_cap = 4 << 20;

static void read_link(void) {
    if (in_len == in_cap) { in_cap *= 2; in = realloc(in, in_cap); }
    ssize_t n = read(link_fd, in + in_len, in_cap - in_len);
    if (n == 0) { fprintf(stderr, "node: busd closed the link\n"); exit(3); }
    if (n < 0) { if (errno == EINTR || errno == EAGAIN) return; perror("read from busd"); exit(3); }
    in_len += (size_t)n;
    read_time = now_ns();
    size_t off = 0;
    while (in_len - off >= 5) {
        uint32_t len = ((uint32_t)in[off] << 24) | ((uint32_t)in[off + 1] << 16) | ((uint32_t)in[off + 2] << 8) | in[off + 3];
        if (len < 1 || len > (16u << 20)) { fprintf(stderr, "node: bad frame length %u\n", len); exit(3); }
        if (in_len - off - 4 < len) {
            if (len + 4 > in_cap) { in_cap = (size_t)(len + 4) * 2; in = realloc(in, in_cap); }
            break;
        }
        handle_frame(in[off + 4], in + off + 5, len - 1);
        off += 4 + len;
    }
    memmove(in, in + off, in_len - off);
    in_len -= off;
}

static void setup(const char *state) {
    if (strcmp(state, "nsmiss") != 0 && !s_connected) { send_connect("/", S); s_connected = 1; }
    if (strcmp(state, "routed") == 0 && !s_in_room_a) { send_room(1, "/", S, "roomA"); s_in_room_a = 1; }
    if (strcmp(state, "roommiss") == 0 && s_in_room_a) { send_room(0, "/", S, "roomA"); s_in_room_a = 0; }
    if (strcmp(state, "nsmiss") == 0 && s_connected) { send_disconnect("/", S); s_connected = 0; s_in_room_a = 0; }
    sync_then_reply("ok");
}

// Socket ids of 20 characters, as socket.io's base64id makes them.
static void connect_many(uint64_t k) {
    char sid[32];
    for (uint64_t i = 0; i < k; i++) {
        snprintf(sid, sizeof sid, "m%019llu", (unsigned long long)(sockets_registered + i));
        send_connect("/", sid);
        if (out_len > (1 << 20)) flush_out();
    }
    sockets_registered += k;
    char reply[64];
    snprintf(reply, sizeof reply, "ok %llu", (unsigned long long)sockets_registered);
    sync_then_reply(reply);
}

static void handle_command(char *line) {
    line[strcspn(line, "\r\n")] = 0;
    if (strncmp(line, "setup ", 6) == 0) setup(line + 6);
    else if (strcmp(line, "arm") == 0) {
        frames = delivers = targets = filtered = other_frames = 0;
        if (received_at) memset(received_at, 0, received_cap * sizeof *received_at);
        armed = 1;
        printf("armed\n"); fflush(stdout);
    } else if (strncmp(line, "connect ", 8) == 0) connect_many(strtoull(line + 8, NULL, 10));
    else if (strcmp(line, "counts") == 0) {
        printf("counts frames=%llu delivers=%llu targets=%llu filtered=%llu other=%llu\n",
            (unsigned long long)frames, (unsigned long long)delivers, (unsigned long long)targets,
            (unsigned long long)filtered, (unsigned long long)other_frames);
        fflush(stdout);
    } else if (strncmp(line, "latency ", 8) == 0) {
        write_samples(line + 8);
        printf("latency written\n"); fflush(stdout);
    } else if (strcmp(line, "quit") == 0) exit(0);
    else { fprintf(stderr, "node: unknown command %s\n", line); exit(2); }
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: node <busd socket> <1|2> [filter]\n"); return 2; }
    version = atoi(argv[2]);
    in = malloc(in_cap);
    link_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
    if (connect(link_fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect to busd"); return 2; }

    frame_begin(HELLO); put_u16((uint16_t)version); put_str("anchor-bench"); put_u32((uint32_t)getpid()); frame_end();
    if (version == 2) {
        frame_begin(NAMESPACE); put_str("/"); frame_end();
        frame_begin(NAMESPACE); put_str("/chat"); frame_end();
        // As the Node.js connector does: busd may drop what no socket here can get.
        if (argc > 3 && strcmp(argv[3], "filter") == 0) {
            frame_begin(CLUSTER_REQUEST);
            put_u32(1); put_u8(10); put_str("/"); put_u32(0); put_u32(0);  // request, kind 10, namespace, timeout, empty body
            frame_end();
        }
    }
    send_connect("/chat", T);  // the sentinel's target, in every state
    sync_then_reply("ready");

    char line[256];
    size_t line_len = 0;
    for (;;) {
        struct pollfd p[2] = {{link_fd, POLLIN, 0}, {0, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; perror("poll"); return 2; }
        if (p[0].revents) read_link();
        if (p[1].revents) {
            ssize_t n = read(0, line + line_len, sizeof line - 1 - line_len);
            if (n <= 0) return 0;
            line_len += (size_t)n;
            line[line_len] = 0;
            char *nl;
            while ((nl = strchr(line, '\n'))) {
                *nl = 0;
                handle_command(line);
                size_t rest = line_len - (size_t)(nl + 1 - line);
                memmove(line, nl + 1, rest);
                line_len = rest;
                line[line_len] = 0;
            }
        }
    }
}
