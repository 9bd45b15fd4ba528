#ifndef SOCKETBUS_COPENSSL_SHIM_H
#define SOCKETBUS_COPENSSL_SHIM_H
/* Thin bridge to OpenSSL 3 (Debian libssl-dev), for TLS to Redis under
 * hiredis. Only what Swift cannot import lives here: OpenSSL's macros
 * (SSL_ctrl calls) become typed functions. */
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

static inline int COpenSSL_set_sni(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline int COpenSSL_set_min_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

/* Blocking and whole writes; a post-handshake message (TLS 1.3 session
 * tickets) is handled inside SSL_read; read-ahead takes several records per
 * read system call (the subscriber's stream). */
static inline void COpenSSL_set_modes(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
    SSL_CTX_set_read_ahead(ctx, 1);
}

/* Notes on the session that the server asked for a client certificate and
 * none was configured (OpenSSL calls this only then), so a refusal can say so. */
static inline int COpenSSL_note_certificate_request(SSL *ssl, X509 **x509, EVP_PKEY **pkey) {
    (void)x509;
    (void)pkey;
    SSL_set_ex_data(ssl, 0, (void *)1);
    return 0;
}
static inline void COpenSSL_watch_certificate_requests(SSL_CTX *ctx) {
    SSL_CTX_set_client_cert_cb(ctx, COpenSSL_note_certificate_request);
}
static inline int COpenSSL_certificate_was_requested(const SSL *ssl) { return SSL_get_ex_data(ssl, 0) != NULL; }

static inline int COpenSSL_verify_peer(void) { return SSL_VERIFY_PEER; }
static inline int COpenSSL_verify_none(void) { return SSL_VERIFY_NONE; }
static inline int COpenSSL_filetype_pem(void) { return SSL_FILETYPE_PEM; }

#endif
