import Foundation
public import Hiredis

extension RedisSentinel {
    /// A logged-in connection to one sentinel (its own credentials, no SELECT).
    public func connect(to sentinel: Address, timeout: Duration) throws(RedisError) -> RedisConnection {
        let connection: RedisConnection
        do {
            connection = try RedisConnection(endpoint: sentinel.endpoint, timeout: timeout, tls: tls)
        } catch {
            throw error.during("sentinel \(sentinel)")
        }
        if let password {
            do {
                _ = try connection.command(username.map { ["AUTH", $0, password] } ?? ["AUTH", password])
            } catch {
                connection.close()
                throw error.during(
                    "AUTH at sentinel \(sentinel) (redis.sentinel_password or the URL's sentinel_password)"
                )
            }
        }
        return connection
    }

    /// Where `sentinel` says the master is; nil when it watches no master of that name.
    public func masterAddress(from connection: RedisConnection) throws(RedisError) -> Address? {
        let reply = try connection.command(["SENTINEL", "get-master-addr-by-name", masterName])
        guard case .array(let parts) = reply, parts.count == 2, let host = parts[0].string,
            let portText = parts[1].string, let port = Int(portText), (1...65535).contains(port)
        else {
            if reply == .null { return nil }
            throw RedisError(.protocolError, "SENTINEL get-master-addr-by-name: unexpected reply \(reply)")
        }
        return Address(host: host, port: port)
    }
}

extension RedisError {
    /// A write refused by a replica: the master busd talks to was demoted.
    public var isReadOnlyReplica: Bool { replyPrefix == "READONLY" }
}

extension RedisSentinel {
    /// What one sentinel says of the master: where, and the configuration
    /// epoch of that answer (a fail-over raises it; a sentinel that has not
    /// heard of the last one yet answers with an older epoch).
    struct Answer {
        var master: Address
        var epoch: Int64
        var sentinel: Address
    }

    /// `SENTINEL MASTER <name>` (address and epoch); a sentinel whose ACL
    /// allows only `get-master-addr-by-name` is asked that (epoch 0). Nil
    /// when it watches no master of that name.
    func answer(from connection: RedisConnection, sentinel: Address) throws(RedisError) -> Answer? {
        let reply: RedisReply
        do {
            reply = try connection.command(["SENTINEL", "MASTER", masterName])
        } catch  where error.code == .reply && !error.isAuthenticationFailure {
            if error.message.contains("No such master") { return nil }
            return try masterAddress(from: connection).map { Answer(master: $0, epoch: 0, sentinel: sentinel) }
        }
        var fields: [String: String] = [:]
        let items = reply.array ?? []
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if let key = items[index].string, let value = items[index + 1].string { fields[key] = value }
        }
        guard let host = fields["ip"], let port = fields["port"].flatMap({ Int($0) }), (1...65535).contains(port) else {
            throw RedisError(.protocolError, "SENTINEL MASTER \(masterName): no ip and port in \(reply)")
        }
        let epoch = fields["config-epoch"].flatMap { Int64($0) } ?? 0
        return Answer(master: Address(host: host, port: port), epoch: epoch, sentinel: sentinel)
    }
}

extension RedisConfiguration {
    /// Asks every sentinel for the master, tries the answers newest epoch
    /// first (with the master's credentials and database) and checks that
    /// `ROLE` says master: during a fail-over a sentinel may still name the
    /// old one, which may not know yet that it was replaced. Stale answers
    /// are retried until `timeout`; no sentinel answering, or none knowing
    /// the master's name, is an error saying so.
    func connectToMaster(through sentinel: RedisSentinel, timeout: Duration) throws(RedisError) -> RedisConnection {
        let deadline = ContinuousClock.now + timeout
        var attempt = SentinelAttempt()
        while true {
            var answers: [RedisSentinel.Answer] = []
            for address in sentinel.sentinels {
                do throws(RedisError) {
                    let connection = try sentinel.connect(to: address, timeout: timeout)
                    defer { connection.close() }
                    do {
                        if let answer = try sentinel.answer(from: connection, sentinel: address) {
                            answers.append(answer)
                        } else {
                            attempt.unknownName(at: address)
                        }
                    } catch {
                        throw error.during("SENTINEL MASTER at sentinel \(address)")
                    }
                } catch {
                    attempt.sentinelFailed(address, error)
                }
            }
            var tried: Set<RedisSentinel.Address> = []
            // Newest epoch first; among equals, the order of the URL.
            for answer in answers.enumerated().sorted(by: {
                ($0.element.epoch, -$0.offset) > ($1.element.epoch, -$1.offset)
            })
            .map(\.element) where tried.insert(answer.master).inserted {
                let master = answer.master
                let connection: RedisConnection
                do {
                    connection = try connect(to: master.endpoint, timeout: timeout)
                } catch  where error.isAuthenticationFailure {
                    throw error  // the master's credentials: no other sentinel changes that
                } catch {
                    attempt.masterFailed(master, from: answer.sentinel, error)
                    continue
                }
                do {
                    let role = try connection.command(["ROLE"]).array?.first?.string
                    if role == "master" { return connection }
                    attempt.notMaster(master, role: role ?? "?", from: answer.sentinel)
                } catch {
                    attempt.masterFailed(master, from: answer.sentinel, error)
                }
                connection.close()
            }
            // Only a fail-over under way is worth waiting for within the time-out.
            guard attempt.sawStaleMaster, ContinuousClock.now + .milliseconds(100) < deadline else {
                throw attempt.error(masterName: sentinel.masterName)
            }
            Thread.sleep(forTimeInterval: 0.1)
            attempt.nextRound()
        }
    }
}

/// What the sentinels said in one ``RedisConfiguration/connectToMaster(through:timeout:)``,
/// turned into one error that names what to fix first.
struct SentinelAttempt {
    private var authFailure: RedisError?
    private var unreachable: [String] = []
    /// Sentinels whose TLS failed (certificate, name, handshake): a setting
    /// to fix, not an outage to wait out.
    private var tlsFailures: [String] = []
    private var unknown: [String] = []
    private var stale: [String] = []
    private var masterDown: RedisError?
    private(set) var sawStaleMaster = false

    mutating func sentinelFailed(_ address: RedisSentinel.Address, _ error: RedisError) {
        if error.isAuthenticationFailure {
            authFailure = authFailure ?? error
        } else if error.code == .tls {
            tlsFailures.append("sentinel \(address): \(error.message)")
        } else {
            unreachable.append("\(address): \(error.message)")
        }
    }

    mutating func unknownName(at address: RedisSentinel.Address) { unknown.append("\(address)") }

    mutating func masterFailed(
        _ master: RedisSentinel.Address,
        from address: RedisSentinel.Address,
        _ error: RedisError
    ) {
        masterDown = error.during("master \(master) named by sentinel \(address)")
    }

    mutating func notMaster(_ master: RedisSentinel.Address, role: String, from address: RedisSentinel.Address) {
        sawStaleMaster = true
        stale.append("\(master) (from \(address)) says ROLE \(role)")
    }

    mutating func nextRound() {
        unreachable = []
        tlsFailures = []
        unknown = []
        stale = []
    }

    /// Refused credentials first (an operator must act), then a master that
    /// is down or not yet promoted, then sentinels failing TLS, then an
    /// unknown name, then silence.
    func error(masterName: String) -> RedisError {
        if let authFailure { return authFailure }
        if !stale.isEmpty {
            return RedisError(
                .io,
                "master '\(masterName)': a fail-over is under way: \(stale.joined(separator: "; "))"
            )
        }
        if let masterDown { return masterDown }
        if unknown.isEmpty, !tlsFailures.isEmpty {
            // Kept a TLS error so that busd refuses to start (78) rather than retry.
            return RedisError(
                .tls,
                "TLS to the sentinels failed: \(tlsFailures.joined(separator: "; "))"
                    + (unreachable.isEmpty ? "" : "; no answer from \(unreachable.joined(separator: "; "))")
            )
        }
        if !unknown.isEmpty {
            return RedisError(
                .other,
                "no sentinel knows a master named '\(masterName)' (asked \(unknown.joined(separator: ", ")))"
                    + (unreachable.isEmpty ? "" : "; no answer from \(unreachable.joined(separator: "; "))")
            )
        }
        return RedisError(.io, "no sentinel answered: \(unreachable.joined(separator: "; "))")
    }
}
