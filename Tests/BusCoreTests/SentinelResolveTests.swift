import BusCore
import Foundation
import Hiredis
import Testing
import TestSupport

/// `RedisConfiguration.connect(timeout:)` with a `redis+sentinel://` URL,
/// against real sentinels: the master found and checked, and a clear error
/// for each way it cannot be.
@Suite("Sentinel master resolution", .serialized)
struct SentinelResolveTests {
    static func port(of connection: RedisConnection) throws -> Int? {
        let info = try connection.command(["INFO", "server"]).string ?? ""
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("tcp_port:") }
        return line.flatMap { Int($0.dropFirst("tcp_port:".count)) }
    }

    @Test func connectAsksTheSentinelsAndReachesTheMaster() throws {
        let cluster = try SentinelTestCluster()
        // The first sentinel is down: the next one is asked.
        let dead = try FreePort.find()
        let redis = try RedisConfiguration(
            url: "redis+sentinel://127.0.0.1:\(dead),\(cluster.sentinelHosts)/mymaster/2"
        )
        let connection = try redis.connect(timeout: .seconds(1))
        #expect(try Self.port(of: connection) == cluster.master.port)
        #expect(try connection.command(["ROLE"]).array?.first?.string == "master")
        // The database of the URL is selected on the master.
        _ = try connection.command(["SET", "k", "v"])
        let direct = try RedisConnection(endpoint: .unix(path: cluster.master.socketPath))
        _ = try direct.command(["SELECT", "2"])
        #expect(try direct.command(["GET", "k"]).string == "v")
    }

    @Test func noSentinelAnsweringIsAnErrorNamingEach() throws {
        let ports = try (0..<2).map { _ in try FreePort.find() }
        let redis = try RedisConfiguration(url: "redis+sentinel://127.0.0.1:\(ports[0]),127.0.0.1:\(ports[1])/mymaster")
        let started = ContinuousClock.now
        #expect {
            _ = try redis.connect(timeout: .milliseconds(500))
        } throws: { error in
            let text = "\(error)"
            return text.contains("no sentinel answered") && text.contains("127.0.0.1:\(ports[0])")
                && text.contains("127.0.0.1:\(ports[1])")
        }
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test func aMasterNameNoSentinelKnowsIsAnError() throws {
        let cluster = try SentinelTestCluster()
        let redis = try RedisConfiguration(url: "redis+sentinel://\(cluster.sentinelHosts)/nosuchmaster")
        #expect {
            _ = try redis.connect(timeout: .milliseconds(500))
        } throws: { error in
            "\(error)".contains("no sentinel knows a master named 'nosuchmaster'")
        }
    }

    @Test func sentinelsRefusingTheirCredentialsIsAnAuthenticationError() throws {
        let cluster = try SentinelTestCluster(sentinelPassword: "right-one")
        for query in ["?sentinel_password=wrong-one", ""] {
            let redis = try RedisConfiguration(url: cluster.url + query)
            #expect {
                _ = try redis.connect(timeout: .milliseconds(500))
            } throws: { error in
                guard let error = error as? RedisError else { return false }
                return error.isAuthenticationFailure && error.context?.contains("at sentinel") == true
                    && !"\(error)".contains("wrong-one")
            }
        }
        let good = try RedisConfiguration(url: cluster.url + "?sentinel_password=right-one")
        #expect(try Self.port(of: try good.connect(timeout: .seconds(1))) == cluster.master.port)
    }

    /// A sentinel naming a server that is not a master (a stale answer
    /// during a fail-over) does not get busd connected to a replica.
    @Test func aSentinelNamingAReplicaIsNotTakenForTheMaster() throws {
        let cluster = try SentinelTestCluster()
        let sentinel = try cluster.sentinel(0)
        _ = try sentinel.command(["SENTINEL", "REMOVE", "mymaster"])
        _ = try sentinel.command(["SENTINEL", "MONITOR", "mymaster", "127.0.0.1", "\(cluster.replica.port)", "2"])
        let redis = try RedisConfiguration(url: "redis+sentinel://127.0.0.1:\(cluster.sentinelPorts[0])/mymaster")
        #expect {
            _ = try redis.connect(timeout: .milliseconds(400))
        } throws: { error in
            "\(error)".contains("a fail-over is under way") && "\(error)".contains("ROLE slave")
        }
        // Asked in turn, a sentinel with the right answer wins.
        let both = try RedisConfiguration(
            url: "redis+sentinel://127.0.0.1:\(cluster.sentinelPorts[0]),127.0.0.1:\(cluster.sentinelPorts[1])/mymaster"
        )
        #expect(try Self.port(of: try both.connect(timeout: .seconds(1))) == cluster.master.port)
    }
}
