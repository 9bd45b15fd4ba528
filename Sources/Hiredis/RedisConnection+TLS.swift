internal import CHiredis

/// The TLS transport under hiredis: hiredis formats commands into its
/// output buffer and parses what its reader is fed; the bytes themselves go
/// through OpenSSL. hiredis's own I/O (`redisGetReply`, `redisBufferWrite`)
/// is never called on a TLS connection, so it never reads or writes the socket.
extension RedisConnection {
    func startTLS(_ settings: RedisTLS, _ context: UnsafeMutablePointer<redisContext>, timeout: Duration) throws(RedisError) {
        let host: String
        switch endpoint {
        case .tcp(let name, _): host = name
        case .unix:
            // A name to check is required: without one there is nothing to verify against.
            guard let serverName = settings.serverName else {
                close()
                throw RedisError(.tls, "TLS over a Unix socket (\(endpoint)) needs a server name to verify")
            }
            host = serverName
        }
        do {
            tls = try TLSSession(fd: CHiredis_fd(context), host: host, peer: endpoint.description, settings: settings, timeout: timeout)
        } catch {
            close()
            throw error
        }
    }

    /// Sends what hiredis queued in its output buffer, all of it.
    func flush(_ context: UnsafeMutablePointer<redisContext>, over tls: TLSSession) throws(RedisError) {
        let length = CHiredis_outputLength(context)
        guard length > 0, let output = CHiredis_output(context) else { return }
        try tls.write(UnsafeRawBufferPointer(start: output, count: length))
        CHiredis_clearOutput(context)
    }

    /// ``readReply()`` over TLS: flush, then feed the reader until it has a reply.
    func readReply(_ context: UnsafeMutablePointer<redisContext>, over tls: TLSSession) throws(RedisError) -> RedisReply {
        try flush(context, over: tls)
        while true {
            try feedInbox(context)
            var reply: UnsafeMutablePointer<redisReply>?
            if CHiredis_getBufferedReply(context, &reply) != 0 { throw Self.error(of: context, errno: 0) }
            if let reply {
                defer { freeReplyObject(reply) }
                return try Self.copy(reply)
            }
            try inbox.read(from: tls)
        }
    }
}
