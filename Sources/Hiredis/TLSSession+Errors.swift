internal import COpenSSL
internal import Glibc

extension TLSSession {
    /// What a failed `SSL_connect`/`SSL_read`/`SSL_write` (result `rc`)
    /// means, as an error that says what failed.
    func failure(_ rc: Int32, during: String?) -> RedisError {
        let kind = SSL_get_error(ssl, rc)
        let code = errno
        let reasons = Self.drainErrors()
        let prefix = during.map { "\($0): " } ?? "TLS with \(peer): "
        if COpenSSL_certificate_was_requested(ssl) == 1 && kind != SSL_ERROR_WANT_READ && kind != SSL_ERROR_WANT_WRITE {
            // TLS 1.3: the refusal comes after the client's handshake, as an
            // alert or (when the alert is lost to a reset) as a closed connection.
            return RedisError(
                .tls,
                "\(prefix)the server requires a client certificate and none was given "
                    + "(ssl_certfile and ssl_keyfile in the URL, or redis.tls_cert_file and redis.tls_key_file)"
                    + (reasons.isEmpty ? "" : " (\(reasons))")
            )
        }
        switch kind {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            // SO_RCVTIMEO/SO_SNDTIMEO expired (the socket is blocking).
            return RedisError(.timeout, "\(prefix)timed out\(Self.hint(during))")
        case SSL_ERROR_ZERO_RETURN:
            return RedisError(.eof, "\(prefix)the server closed the TLS connection")
        case SSL_ERROR_SYSCALL where reasons.isEmpty:
            if code == 0 || code == ECONNRESET || code == EPIPE {
                return RedisError(.eof, "\(prefix)the server closed the connection\(Self.hint(during))")
            }
            if code == EAGAIN || code == ETIMEDOUT { return RedisError(.timeout, "\(prefix)timed out") }
            return RedisError(.io, "\(prefix)\(String(cString: strerror(code)))")
        default:
            return Self.classified(reasons, prefix: prefix, handshake: during != nil)
        }
    }

    /// OpenSSL's reasons turned into what an operator can act on.
    private static func classified(_ reasons: String, prefix: String, handshake: Bool) -> RedisError {
        if reasons.contains("unexpected eof") {
            return RedisError(.eof, "\(prefix)the server closed the connection without a TLS close (\(reasons))")
        }
        if reasons.contains("alert") {
            return RedisError(.tls, "\(prefix)the server refused the TLS connection: \(reasons)")
        }
        if handshake {
            return RedisError(.tls, "\(prefix)handshake failed: \(reasons)\(hint(prefix))")
        }
        return RedisError(.tls, "\(prefix)\(reasons.isEmpty ? "TLS error" : reasons)")
    }

    /// A server that answers a TLS hello with something else is most likely a plain-text port.
    private static func hint(_ during: String?) -> String {
        during == nil ? "" : " (is this a TLS port? a plain-text one takes redis://)"
    }

    /// Empties this thread's OpenSSL error queue into one line of reasons.
    @discardableResult
    static func drainErrors() -> String {
        var reasons: [String] = []
        while case let error = ERR_get_error(), error != 0 {
            if let reason = ERR_reason_error_string(error) {
                reasons.append(String(cString: reason))
            } else {
                var buffer = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(error, &buffer, buffer.count)
                reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
        var seen: Set<String> = []
        return reasons.filter { seen.insert($0).inserted }.joined(separator: "; ")
    }
}
