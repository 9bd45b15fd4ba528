import Foundation
import BusConfig
import Testing

/// The YAML file: nesting flattens to dotted keys, and every mistake an
/// operator makes is an error naming the key and the line.
@Suite("Config file")
struct ConfigFileTests {
    @Test func nestedAndDottedKeysFlatten() throws {
        let file = try ConfigFile(
            path: "busd.yaml",
            text: """
                # comments are fine
                node:
                  id: web-1
                  namespaces: [/, /chat]
                redis.url: redis://10.0.0.5:6379/2
                alerts:
                  smtp:
                    to:
                      - ops@example.com
                      - oncall@example.com
                    insecure: no
                acks: {policy: all}
                """
        )
        #expect(file.entries["node.id"]?.values == ["web-1"] && file.entries["node.id"]?.line == 3)
        #expect(file.entries["node.namespaces"]?.values == ["/", "/chat"])
        #expect(file.entries["redis.url"]?.values == ["redis://10.0.0.5:6379/2"])
        #expect(file.entries["alerts.smtp.to"]?.values == ["ops@example.com", "oncall@example.com"])
        // Scalars stay text: `no` is typed by the setting, not by YAML.
        #expect(file.entries["alerts.smtp.insecure"]?.values == ["no"])
        #expect(file.entries["acks.policy"]?.values == ["all"])
        #expect(file.entries.count == 6)
    }

    @Test func anEmptyFileAndNullValuesSetNothing() throws {
        #expect(try ConfigFile(path: "a.yaml", text: "").entries.isEmpty)
        #expect(try ConfigFile(path: "a.yaml", text: "# nothing yet\n").entries.isEmpty)
        #expect(try ConfigFile(path: "a.yaml", text: "node:\n  id:\nredis:\n  url: ~\n").entries.isEmpty)
        // Quoted, an empty string is a value.
        #expect(try ConfigFile(path: "a.yaml", text: "node:\n  id: ''\n").entries["node.id"]?.values == [""])
    }

    static let mistakes: [(String, String)] = [
        (
            "redis:\n  url: redis://x\n  timout: 2s\n",
            "redis.timout (busd.yaml line 3): is not a setting (did you mean redis.timeout?)"
        ),
        ("colour: blue\n", "colour (busd.yaml line 1): is not a setting"),
        ("redis: redis://x\n", "redis (busd.yaml line 1): is a section: give its settings under it (e.g. redis.url)"),
        (
            "redis:\n  password: hunter2\n",
            "redis.password (busd.yaml line 2): secrets are not read from the config file"
        ),
        ("node:\n  id: [a, b]\n", "node.id (busd.yaml line 2): takes one value, not a list"),
        ("node:\n  id: {x: 1}\n", "node.id (busd.yaml line 2): takes a value, not a mapping"),
        ("node:\n  id: a\nnode.id: b\n", "node.id (busd.yaml line 3): is set twice"),
        ("- a\n- b\n", "config (busd.yaml line 1): must be a mapping of settings"),
        ("redis: {url: [x\n", "config (busd.yaml line 2): is not valid YAML: while parsing a flow sequence (line 1)"),
        ("node:\n  namespaces: [[/a]]\n", "node.namespaces (busd.yaml line 2): list items must be plain values"),
    ]

    @Test(arguments: mistakes)
    func mistakesNameTheKeyAndLine(_ text: String, _ message: String) {
        do {
            _ = try ConfigFile(path: "busd.yaml", text: text)
            Issue.record("no error for \(text.debugDescription)")
        } catch {
            #expect(error.description.hasPrefix(message), "\(error)")
        }
    }

    @Test func aMissingFileSaysWhy() {
        #expect(throws: ConfigError.self) { try ConfigFile(path: "/nonexistent/busd.yaml") }
        do {
            _ = try ConfigFile(path: "/nonexistent/busd.yaml")
        } catch {
            #expect(error.description == "config (/nonexistent/busd.yaml): cannot be read (No such file or directory)")
        }
    }

    @Test func theExampleInDeployIsValidAndCoversEveryFileSetting() throws {
        let path = #filePath.replacingOccurrences(
            of: "Tests/BusConfigTests/ConfigFileTests.swift",
            with: "deploy/busd.yaml"
        )
        let file = try ConfigFile(path: path)
        #expect(file.entries["redis.url"] != nil)
        // Every setting that may be in a file appears in the example, set or commented out.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for spec in SettingsCatalog.all where spec.allowedInFile {
            let leaf = String(spec.key.split(separator: ".").last!)
            #expect(text.contains("\(leaf):"), "deploy/busd.yaml does not mention \(spec.key)")
        }
    }

    /// Every mistake of the file is kept, and the good entries beside them.
    @Test func keepingProblemsListsEveryMistakeAndKeepsTheRest() throws {
        let text = "redis:\n  timout: 2s\n  password: x\nnode:\n  id: web-1\n  nope: 1\nacks: [a]\n"
        let file = try ConfigFile(path: "b.yaml", text: text, keepingProblems: true)
        #expect(
            file.problems.map(\.description) == [
                "redis.timout (b.yaml line 2): is not a setting (did you mean redis.timeout?)",
                "redis.password (b.yaml line 3): secrets are not read from the config file: use redis.password_file or SOCKETBUS_REDIS_PASSWORD",
                "node.nope (b.yaml line 6): is not a setting",
                "acks (b.yaml line 7): is a section: give its settings under it (e.g. acks.policy)",
            ]
        )
        #expect(file.entries["node.id"]?.values == ["web-1"])
        // Without keepingProblems, the first one is thrown.
        #expect(throws: ConfigError.self) { try ConfigFile(path: "b.yaml", text: text) }
    }
}
