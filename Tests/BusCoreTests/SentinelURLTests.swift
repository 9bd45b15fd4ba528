import BusCore
import Hiredis
import Testing

/// `redis+sentinel://` URLs: what each good form gives, and the error each
/// bad one names.
@Suite("Sentinel URLs")
struct SentinelURLTests {
    struct Good: Sendable, CustomStringConvertible {
        var url: String
        var sentinels: [String]
        var master: String
        var database = 0
        var username: String? = nil
        var password: String? = nil
        var sentinelUsername: String? = nil
        var sentinelPassword: String? = nil
        var description: String { url }
    }

    static let good: [Good] = [
        Good(url: "redis+sentinel://10.0.0.1/mymaster", sentinels: ["10.0.0.1:26379"], master: "mymaster"),
        Good(
            url: "redis+sentinel://s1:26380,s2,s3:5000/cache/3",
            sentinels: ["s1:26380", "s2:26379", "s3:5000"],
            master: "cache",
            database: 3
        ),
        Good(
            url: "redis+sentinel://app:p%40ss@s1,s2/mymaster/1",
            sentinels: ["s1:26379", "s2:26379"],
            master: "mymaster",
            database: 1,
            username: "app",
            password: "p@ss"
        ),
        Good(
            url: "redis+sentinel://:secret@[::1]:26390,[fe80::2]/m/",
            sentinels: ["[::1]:26390", "[fe80::2]:26379"],
            master: "m",
            password: "secret"
        ),
        Good(
            url: "redis+sentinel://s1/mymaster?sentinel_username=watch&sentinel_password=s%26p",
            sentinels: ["s1:26379"],
            master: "mymaster",
            sentinelUsername: "watch",
            sentinelPassword: "s&p"
        ),
        Good(
            url: "redis+sentinel://s1/my%20master?sentinel_password=x",
            sentinels: ["s1:26379"],
            master: "my master",
            sentinelPassword: "x"
        ),
    ]

    @Test(arguments: good)
    func aGoodURLGivesItsParts(_ form: Good) throws {
        let configuration = try RedisConfiguration(url: form.url)
        let sentinel = try #require(configuration.sentinel)
        #expect(sentinel.sentinels.map(\.description) == form.sentinels)
        #expect(sentinel.masterName == form.master)
        #expect(configuration.database == form.database)
        #expect(configuration.username == form.username)
        #expect(configuration.password == form.password)
        #expect(sentinel.username == form.sentinelUsername)
        #expect(sentinel.password == form.sentinelPassword)
        #expect(sentinel.tls == nil)
        #expect(configuration.tls == nil)
        // No password of either kind is ever printed.
        for secret in [form.password, form.sentinelPassword].compactMap({ $0 }) {
            #expect(!configuration.description.contains(secret), "\(configuration)")
        }
        #expect(configuration.description.hasPrefix("redis+sentinel://"))
    }

    @Test func theDescriptionShowsTheSentinelsMasterAndDatabaseButNoPassword() throws {
        let configuration = try RedisConfiguration(
            url: "redis+sentinel://app:hunter2@s1,s2:26380/mymaster/2?sentinel_username=w&sentinel_password=topsecret"
        )
        #expect(
            configuration.description
                == "redis+sentinel://app:***@s1:26379,s2:26380/mymaster/2?sentinel_username=w&sentinel_password=***"
        )
    }

    /// Each bad form, and what its error must name.
    @Test(arguments: [
        ("redis+sentinel://s1", "master name is missing"),
        ("redis+sentinel://s1/", "master name is missing"),
        ("redis+sentinel:///mymaster", "sentinel 1 has no host"),
        ("redis+sentinel://s1,,s3/mymaster", "sentinel 2 has no host"),
        ("redis+sentinel://s1:0/mymaster", "sentinel 1: port '0'"),
        ("redis+sentinel://s1,s2:http/mymaster", "sentinel 2: port 'http'"),
        ("redis+sentinel://[::1/mymaster", "unterminated IPv6"),
        ("redis+sentinel://s1/mymaster/x", "db 'x' is not a number"),
        ("redis+sentinel://s1/mymaster/-1", "db '-1' is not a number"),
        ("redis+sentinel://s1/mymaster/0/extra", "unexpected path after the db"),
        ("redis+sentinel://s1/mymaster?sentinel_pass=x", "unknown parameter 'sentinel_pass'"),
        ("redis+sentinel://s1/mymaster?sentinel_password=", "sentinel_password is empty"),
        ("redis+sentinel://s1/mymaster?sentinel_username=u", "sentinel_username needs a sentinel_password"),
        ("redis+sentinel://s1/mymaster?ssl_ca_certs=/ca.pem", "ssl_ca_certs needs rediss+sentinel://"),
        ("rediss+sentinel://s1/mymaster?ssl_cert_reqs=maybe", "ssl_cert_reqs must be required or none"),
        ("sentinel://s1/mymaster", "must start with redis://, rediss://, redis+sentinel://"),
    ])
    func aBadURLIsRefusedNamingWhatIsWrong(_ url: String, _ expected: String) {
        do {
            let configuration = try RedisConfiguration(url: url)
            Issue.record("accepted: \(configuration)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test func aRefusedURLNeverShowsItsPasswords() {
        do {
            _ = try RedisConfiguration(url: "redis+sentinel://u:hunter2@s1/m?sentinel_password=topsecret&bogus=1")
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("unknown parameter 'bogus'"))
            #expect(!error.description.contains("hunter2") && !error.description.contains("topsecret"))
        }
    }

    @Test func plainURLsHaveNoSentinel() throws {
        #expect(try RedisConfiguration(url: "redis://127.0.0.1:6379/0").sentinel == nil)
        #expect(try RedisConfiguration(url: "unix:///tmp/r.sock").sentinel == nil)
    }

    @Test func theTLSFormSetsTLSForSentinelsAndMasterAlike() throws {
        let configuration = try RedisConfiguration(
            url: "rediss+sentinel://s1,s2:26380/mymaster/2?sentinel_password=pw&ssl_ca_certs=/etc/ca.pem&ssl_cert_reqs=required"
        )
        let sentinel = try #require(configuration.sentinel)
        let tls = try #require(sentinel.tls)
        #expect(tls.caFile == "/etc/ca.pem")
        #expect(configuration.tls == tls)
        #expect(sentinel.password == "pw")
        #expect(configuration.database == 2)
        #expect(configuration.description.hasPrefix("rediss+sentinel://"))
    }

    @Test func tlsSeedsKeepTheirOptions() throws {
        let configuration = try RedisConfiguration(url: "rediss://h1:7000,h2:7001?ssl_ca_certs=/etc/ca.pem")
        #expect(configuration.seedEndpoints.map(\.description) == ["h1:7000", "h2:7001"])
        #expect(configuration.tls?.caFile == "/etc/ca.pem")
        #expect(configuration.description.hasPrefix("rediss://h1:7000,h2:7001/"))
    }
}
