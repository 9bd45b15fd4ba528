import BusConfig
import BusCore
import BusOptions
import Foundation
import Testing

/// `redis.sentinel_username` and `redis.sentinel_password(_file)`: the
/// sentinels' own credentials as settings, for a `redis+sentinel://` URL only.
@Suite("Sentinel settings")
struct SentinelSettingsTests {
    static let url = "redis+sentinel://s1,s2/mymaster"

    @Test func theSettingsGiveTheSentinelsTheirCredentials() throws {
        let settings = ResolvedSettings(
            flags: ["redis.url": [Self.url], "redis.sentinel_username": ["watch"]],
            environment: ["SOCKETBUS_REDIS_SENTINEL_PASSWORD": "s3cret", "SOCKETBUS_REDIS_PASSWORD": "m4ster"],
            file: nil
        )
        let redis = try settings.redisConfiguration()
        #expect(redis.sentinel?.username == "watch")
        #expect(redis.sentinel?.password == "s3cret")
        #expect(redis.password == "m4ster")
        #expect(!"\(redis)".contains("s3cret") && !"\(redis)".contains("m4ster"))
    }

    @Test func thePasswordFileIsRead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spw-\(UUID().uuidString)").path
        try "from-file\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let settings = ResolvedSettings(
            flags: ["redis.url": [Self.url], "redis.sentinel_password_file": [path]],
            environment: [:],
            file: nil
        )
        #expect(try settings.redisConfiguration().sentinel?.password == "from-file")
    }

    @Test(arguments: [
        // Named as the operator wrote it: the flag, the variable.
        (
            ["redis.url": ["redis://r:6379"], "redis.sentinel_username": ["u"]], [String: String](),
            "--redis-sentinel-username: redis.url is not a redis+sentinel:// URL"
        ),
        (
            ["redis.url": ["redis://r:6379"]], ["SOCKETBUS_REDIS_SENTINEL_PASSWORD": "p"],
            "SOCKETBUS_REDIS_SENTINEL_PASSWORD"
        ),
        (
            ["redis.url": [url + "?sentinel_password=a"]], ["SOCKETBUS_REDIS_SENTINEL_PASSWORD": "b"],
            "sentinel_password too"
        ),
        (["redis.url": [url], "redis.sentinel_username": ["u"]], [:], "needs a sentinel password"),
        (["redis.url": ["redis+sentinel://s1"]], [:], "--redis: sentinel URL: the master name is missing"),
    ])
    func aBadCombinationNamesTheKey(_ flags: [String: [String]], _ environment: [String: String], _ expected: String) {
        let settings = ResolvedSettings(flags: flags, environment: environment, file: nil)
        do {
            let redis = try settings.redisConfiguration()
            Issue.record("accepted: \(redis)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(!error.description.contains("=a") && !error.description.contains(": b"))
        }
    }

    @Test func aSentinelPasswordInTheConfigFileURLIsRefused() throws {
        let file = try ConfigFile(path: "busd.yaml", text: "redis:\n  url: \(Self.url)?sentinel_password=x\n")
        let settings = ResolvedSettings(flags: [:], environment: [:], file: file)
        #expect(throws: (any Error).self) { try settings.redisConfiguration() }
    }
}
