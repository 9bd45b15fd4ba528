internal import COpenSSL
internal import Glibc

/// One TLS client session over a connected socket: owns its `SSL_CTX` and
/// `SSL`, and is the only reader and writer of the socket once created.
///
/// Blocking like the rest of ``RedisConnection``: the socket's
/// SO_RCVTIMEO/SO_SNDTIMEO bound every call, and a time-out surfaces as
/// OpenSSL's want-read/want-write, which is reported as ``RedisError/Code/timeout``.
final class TLSSession {
    private let context: OpaquePointer
    let ssl: OpaquePointer
    /// Where, for messages: `host:port`.
    let peer: String
    /// The name the certificate must carry, for messages.
    private var checkedName = ""

    /// Handshakes on `fd` (connected, blocking, time-outs set) within
    /// `timeout` and verifies the server as `settings` says; `host` is the
    /// name connected to.
    init(fd: Int32, host: String, peer: String, settings: RedisTLS, timeout: Duration) throws(RedisError) {
        self.peer = peer
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw RedisError(.tls, "TLS to \(peer): cannot create an SSL context: \(Self.drainErrors())")
        }
        do {
            try Self.configure(context, settings, peer: peer)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            throw RedisError(.tls, "TLS to \(peer): cannot create an SSL session: \(Self.drainErrors())")
        }
        self.context = context
        self.ssl = ssl
        // From here deinit frees both.
        let name = settings.serverName ?? host
        checkedName = name
        try expect(SSL_set_fd(ssl, fd) == 1, "cannot attach the socket")
        if Self.isIPAddress(name) {
            // Certificates name addresses in iPAddress entries; SNI carries no address (RFC 6066).
            if settings.verifyPeer {
                try expect(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1, "bad address '\(name)'")
            }
        } else {
            try expect(COpenSSL_set_sni(ssl, name) == 1, "cannot set the server name '\(name)'")
            if settings.verifyPeer {
                try expect(SSL_set1_host(ssl, name) == 1, "cannot set the host name to check '\(name)'")
            }
        }
        try handshake(fd: fd, timeout: timeout)
    }

    deinit {
        // No close_notify: the peer may be gone, and a write could block or fail.
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    private static func configure(_ context: OpaquePointer, _ settings: RedisTLS, peer: String) throws(RedisError) {
        func fail(_ what: String) -> RedisError {
            RedisError(.tls, "TLS to \(peer): \(what): \(drainErrors())")
        }
        // OpenSSL's reasons for a missing file are cryptic; the system's are not.
        for (what, path) in [("CA file", settings.caFile), ("client certificate", settings.certificateFile), ("client key", settings.keyFile)] {
            if let path, access(path, R_OK) != 0 {
                throw RedisError(.tls, "TLS to \(peer): cannot read the \(what) '\(path)': \(String(cString: strerror(errno)))")
            }
        }
        guard COpenSSL_set_min_tls12(context) == 1 else { throw fail("cannot require TLS 1.2") }
        COpenSSL_set_modes(context)
        if settings.verifyPeer {
            SSL_CTX_set_verify(context, COpenSSL_verify_peer(), nil)
            if let caFile = settings.caFile {
                guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                    throw fail("cannot read the CA file '\(caFile)'")
                }
            } else {
                guard SSL_CTX_set_default_verify_paths(context) == 1 else { throw fail("cannot load the system's CA store") }
            }
        } else {
            SSL_CTX_set_verify(context, COpenSSL_verify_none(), nil)
        }
        switch (settings.certificateFile, settings.keyFile) {
        case (nil, nil):
            COpenSSL_watch_certificate_requests(context)
        case (let certificate?, let key?):
            guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
                throw fail("cannot read the client certificate '\(certificate)'")
            }
            guard SSL_CTX_use_PrivateKey_file(context, key, COpenSSL_filetype_pem()) == 1 else {
                throw fail("cannot use the client key '\(key)' with the certificate '\(certificate)'")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw fail("the client key '\(key)' does not match the certificate '\(certificate)'")
            }
        case (_?, nil), (nil, _?):
            throw RedisError(.tls, "TLS to \(peer): a client certificate needs its key, and a key its certificate")
        }
    }

    /// Non-blocking, against one deadline: a server that sends a byte now
    /// and then cannot stretch the handshake past `timeout`.
    private func handshake(fd: Int32, timeout: Duration) throws(RedisError) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var rc: Int32 = 0
        while true {
            ERR_clear_error()
            rc = SSL_connect(ssl)
            if rc == 1 { return }
            let kind = SSL_get_error(ssl, rc)
            guard kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_WANT_WRITE else { break }
            let left = deadline - clock.now
            var pfd = pollfd(fd: fd, events: Int16(kind == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), revents: 0)
            let milliseconds = Int32(
                clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            if left <= .zero || (poll(&pfd, 1, max(1, milliseconds)) == 0 && clock.now >= deadline) {
                Self.drainErrors()
                throw RedisError(
                    .timeout,
                    "TLS handshake with \(peer): timed out after \(timeout) (is this a TLS port? a plain-text one takes redis://)"
                )
            }
        }
        let verify = SSL_get_verify_result(ssl)
        if verify != Int(X509_V_OK) {
            let reason = String(cString: X509_verify_cert_error_string(verify))
            Self.drainErrors()
            let detail = verify == Int(X509_V_ERR_HOSTNAME_MISMATCH) || verify == Int(X509_V_ERR_IP_ADDRESS_MISMATCH)
                ? " (the certificate does not name '\(checkedName)')" : ""
            throw RedisError(.tls, "TLS handshake with \(peer): certificate verify failed: \(reason)\(detail)")
        }
        throw failure(rc, during: "TLS handshake with \(peer)")
    }

    /// Reads what one TLS record holds (blocking up to the socket's time-out).
    func read(into buffer: UnsafeMutableRawPointer, count: Int) throws(RedisError) -> Int {
        ERR_clear_error()
        let n = SSL_read(ssl, buffer, Int32(clamping: count))
        if n > 0 { return Int(n) }
        throw failure(n, during: nil)
    }

    /// Writes all of `bytes` (blocking up to the socket's time-out per write).
    func write(_ bytes: UnsafeRawBufferPointer) throws(RedisError) {
        guard var next = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            ERR_clear_error()
            let n = SSL_write(ssl, next, Int32(clamping: min(left, 1 << 30)))
            guard n > 0 else { throw failure(n, during: nil) }
            left -= Int(n)
            next += Int(n)
        }
    }

    /// Decrypted bytes ready now: a read returns them without touching the socket.
    var decryptedPending: Int { Int(SSL_pending(ssl)) }

    /// Anything OpenSSL holds (decrypted or not): the socket may stay silent
    /// while a read would still return data, so poll only when this is false.
    var hasBuffered: Bool { SSL_has_pending(ssl) == 1 }

    private func expect(_ ok: Bool, _ what: String) throws(RedisError) {
        if !ok { throw RedisError(.tls, "TLS to \(peer): \(what): \(Self.drainErrors())") }
    }

    private static func isIPAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }
}
