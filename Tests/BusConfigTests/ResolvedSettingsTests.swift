import Alerting
import BusConfig
import BusOptions
import Foundation
import Testing

/// The layers: flags win over the environment, which wins over the file,
/// which wins over defaults; typed reads name the key and the layer.
@Suite("Settings layers")
struct ResolvedSettingsTests {
    static let file = try! ConfigFile(
        path: "busd.yaml",
        text: "redis:\n  url: redis://file:6379\n  timeout: 3s\nnode:\n  namespaces: [/a, /b]\nacks:\n  policy: all\n"
    )

    @Test func flagsBeatEnvironmentBeatFileBeatDefaults() throws {
        let settings = ResolvedSettings(
            flags: ["redis.url": ["redis://flag:6379"]],
            environment: ["SOCKETBUS_REDIS_URL": "redis://env:6379", "SOCKETBUS_REDIS_TIMEOUT": "4s"],
            file: Self.file
        )
        #expect(try settings.string("redis.url") == "redis://flag:6379")
        #expect(settings["redis.url"]?.source == .flag("redis"))
        #expect(try settings.duration("redis.timeout") == .seconds(4))
        #expect(settings["redis.timeout"]?.source == .environment("SOCKETBUS_REDIS_TIMEOUT"))
        #expect(try settings.string("acks.policy") == "all")
        #expect(settings["acks.policy"]?.source == .file(path: "busd.yaml", line: 7))
        #expect(try settings.duration("acks.timeout") == .seconds(30))
        #expect(settings["acks.timeout"]?.source == .defaultValue)
        #expect(settings["node.id"] == nil)
        #expect(!settings.isSet("acks.timeout") && settings.isSet("acks.policy"))
    }

    @Test func listsFromEachLayer() {
        #expect(
            ResolvedSettings(flags: [:], environment: [:], file: Self.file).list("node.namespaces") == ["/a", "/b"]
        )
        let env = ResolvedSettings(flags: [:], environment: ["SOCKETBUS_NODE_NAMESPACES": "/x, /y,,"], file: Self.file)
        #expect(env.list("node.namespaces") == ["/x", "/y"])
        let flags = ResolvedSettings(flags: ["node.namespaces": ["/f"]], environment: [:], file: Self.file)
        #expect(flags.list("node.namespaces") == ["/f"])
        #expect(ResolvedSettings(flags: [:], environment: [:], file: nil).list("node.namespaces") == ["/"])
    }

    static let badValues: [([String: String], String)] = [
        (["SOCKETBUS_REDIS_TIMEOUT": "2x"], "SOCKETBUS_REDIS_TIMEOUT (redis.timeout): '2x' is not a duration"),
        (
            ["SOCKETBUS_OUTBOUND_BUFFER": "lots"],
            "SOCKETBUS_OUTBOUND_BUFFER (outbound.buffer): 'lots' is not a whole number"
        ),
        (
            ["SOCKETBUS_OUTBOUND_BUFFER": "0"],
            "SOCKETBUS_OUTBOUND_BUFFER (outbound.buffer): 0 is out of range 1...1000000"
        ),
        (
            ["SOCKETBUS_ALERTS_SMTP_INSECURE": "maybe"],
            "SOCKETBUS_ALERTS_SMTP_INSECURE (alerts.smtp.insecure): 'maybe' is not true or false"
        ),
    ]

    @Test(arguments: badValues)
    func typedReadsNameTheLayer(_ environment: [String: String], _ message: String) {
        let settings = ResolvedSettings(flags: [:], environment: environment, file: nil)
        do {
            _ = try settings.duration("redis.timeout")
            _ = try settings.integer("outbound.buffer", in: 1...1_000_000)
            _ = try settings.bool("alerts.smtp.insecure")
            Issue.record("no error for \(environment)")
        } catch {
            #expect(error.description.hasPrefix(message), "\(error)")
        }
    }

    @Test func aBadValueInTheFileNamesKeyAndLine() {
        let file = try! ConfigFile(path: "/etc/socketbus/busd.yaml", text: "drain:\n  deadline: soon\n")
        let settings = ResolvedSettings(flags: [:], environment: [:], file: file)
        #expect(throws: ConfigError.self) { try settings.duration("drain.deadline") }
        do {
            _ = try settings.duration("drain.deadline")
        } catch {
            #expect(
                error.description
                    == "drain.deadline (/etc/socketbus/busd.yaml line 2): 'soon' is not a duration like 250ms, 30s, 1m30s, 5m or 1h"
            )
        }
    }

    @Test func secretsComeFromTheirFileOrTheEnvironmentAndNeverShow() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID().uuidString)").path
        try Data("from-file-XYZZY\n".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let environment = ["SOCKETBUS_REDIS_PASSWORD": "from-env-XYZZY"]
        let fromEnv = ResolvedSettings(flags: [:], environment: environment, file: nil)
        #expect(try fromEnv.secret("redis.password")?.value == "from-env-XYZZY")
        let fromFile = ResolvedSettings(flags: ["redis.password_file": [path]], environment: environment, file: nil)
        #expect(try fromFile.secret("redis.password")?.value == "from-file-XYZZY")
        #expect(try ResolvedSettings(flags: [:], environment: [:], file: nil).secret("redis.password") == nil)
        let missing = ResolvedSettings(flags: ["redis.password_file": ["/nonexistent/pw"]], environment: [:], file: nil)
        do {
            _ = try missing.secret("redis.password")
            Issue.record("no error for a missing password file")
        } catch {
            #expect(
                error.description == "--redis-password-file: cannot read '/nonexistent/pw': No such file or directory"
            )
        }
    }

    @Test func unknownVariablesAreReported() {
        let settings = ResolvedSettings(
            flags: [:],
            environment: ["SOCKETBUS_REDIS_ULR": "x", "SOCKETBUS_CONFIG": "/etc/b.yaml", "PATH": "/bin"],
            file: nil
        )
        #expect(settings.unknownEnvironment == ["SOCKETBUS_REDIS_ULR"])
    }

    @Test func alertSettingsFromTheFile() throws {
        let file = try ConfigFile(
            path: "busd.yaml",
            text: """
                alerts:
                  grace: 30s
                  smtp: {url: 'smtp://mail:25', from: busd@example.com, to: [a@example.com, b@example.com], starttls: 'off'}
                  webhook: {urls: ['http://hooks/a'], retries: 0}
                """
        )
        let alerts = try ResolvedSettings(flags: ["alerts.grace": ["5s"]], environment: [:], file: file).alertSettings()
        #expect(alerts.grace == .seconds(5))
        #expect(alerts.smtp?.recipients == ["a@example.com", "b@example.com"])
        #expect(alerts.smtp?.startTLS == .off)
        #expect(alerts.webhooks.map(\.url) == ["http://hooks/a"])
        #expect(alerts.webhooks.first?.delivery.retries == 0)
    }

    @Test func catalogNamesAreUniqueAndVariablesFollowTheRule() {
        #expect(Set(SettingsCatalog.all.map(\.key)).count == SettingsCatalog.all.count)
        #expect(SettingsCatalog.byKey["alerts.smtp.password"]?.environmentVariable == "SOCKETBUS_ALERTS_SMTP_PASSWORD")
        for spec in SettingsCatalog.all where spec.isSecret {
            #expect(spec.flag == nil, "\(spec.key) is a secret with a flag")
            #expect(SettingsCatalog.byKey[spec.key + "_file"] != nil, "\(spec.key) has no _file setting")
        }
    }

    static let nodeIds: [(String, String, String)] = [
        ("web1.example.com", "/run/socketbus/busd.sock", "web1/busd"),
        ("web1", "/run/socketbus/busd-2.sock", "web1/busd-2"),
        ("api-7f9c-xk2p", "/var/run/app/bus", "api-7f9c-xk2p/bus"),
        ("", "/", "localhost/busd"),
    ]

    @Test(arguments: nodeIds)
    func defaultNodeIdIsHostAndSocketName(_ host: String, _ socket: String, _ expected: String) {
        #expect(NodeIdentity.defaultId(hostName: host, socketPath: socket) == expected)
    }
}
