#ifndef SOCKETBUS_CHIREDIS_SHIM_H
#define SOCKETBUS_CHIREDIS_SHIM_H
/* Thin bridge to hiredis 0.14 (Debian libhiredis-dev). Only what Swift cannot
 * import directly lives here: the variadic command functions are replaced by
 * their binary-safe Argv forms, and `void *` replies get their real type. */
#include <hiredis/hiredis.h>

static inline redisReply *CHiredis_commandArgv(redisContext *c, int argc, const char **argv, const size_t *argvlen) {
    return (redisReply *)redisCommandArgv(c, argc, argv, argvlen);
}

/* 0 on success; the reply (if any) is returned through `reply`. */
static inline int CHiredis_getReply(redisContext *c, redisReply **reply) {
    void *r = NULL;
    int rc = redisGetReply(c, &r);
    *reply = (redisReply *)r;
    return rc;
}

/* Next reply already in the reader's buffer, without reading the socket. */
static inline int CHiredis_getBufferedReply(redisContext *c, redisReply **reply) {
    void *r = NULL;
    int rc = redisGetReplyFromReader(c, &r);
    *reply = (redisReply *)r;
    return rc;
}

static inline const char *CHiredis_errstr(const redisContext *c) { return c->errstr; }
static inline int CHiredis_err(const redisContext *c) { return c->err; }
static inline int CHiredis_fd(const redisContext *c) { return c->fd; }

/* The output buffer (an sds string), for a transport other than hiredis's
 * own socket I/O (TLS): commands are formatted by hiredis, sent by the caller. */
static inline const char *CHiredis_output(const redisContext *c) { return c->obuf; }
static inline size_t CHiredis_outputLength(const redisContext *c) { return sdslen(c->obuf); }
/* After the whole buffer was sent; a large one is released, as hiredis does. */
static inline void CHiredis_clearOutput(redisContext *c) {
    if (sdsalloc(c->obuf) > 64 * 1024) {
        sds empty = sdsempty();
        if (empty == NULL) { sdsclear(c->obuf); return; }
        sdsfree(c->obuf);
        c->obuf = empty;
    } else {
        sdsclear(c->obuf);
    }
}

#endif
