import Foundation
import Hiredis
import Testing
import TestSupport

/// busctl's help and usage errors, and what `nodes` shows of a node.
@Suite("busctl usage and node records", .serialized)
struct BusctlUsageTests {
    /// Help text is wrapped once, by the parser: a short line followed by
    /// more of the same paragraph is a line break of ours wrapped again.
    @Test(arguments: ["emit", "acks", "find-socket", "nodes", "status", "inspect"])
    func helpIsWrappedOnce(_ command: String) throws {
        let help = try InspectCommandTests.run([command, "--help"]).stdout
        let lines = help.components(separatedBy: "\n").prefix { !$0.hasPrefix("USAGE:") }
        for (line, next) in zip(lines, lines.dropFirst()) where !line.isEmpty && !next.isEmpty {
            #expect(line.count >= 30, "\(command): '\(line)' then '\(next)'")
        }
    }

    /// The order status names is the order busd reads settings in:
    /// the environment before the config file.
    @Test func statusHelpGivesTheEnvironmentBeforeTheFile() throws {
        let help = try InspectCommandTests.run(["status", "--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
        let environment = try #require(help.range(of: "SOCKETBUS_HTTP_LISTEN"))
        let file = try #require(help.range(of: "http.listen of the config file"))
        #expect(environment.lowerBound < file.lowerBound, "\(help)")
    }

    @Test func findSocketUsageShowsOneId() throws {
        let help = try InspectCommandTests.run(["find-socket", "--help"]).stdout
        #expect(help.contains("busctl find-socket <socket-id>"), "\(help)")
        #expect(!help.contains("[<socket-id> ...]"), "\(help)")
    }

    @Test func badHexIsAClearErrorOfInspect() throws {
        let result = try InspectCommandTests.run(["inspect", "--hex", "zz"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--hex: character 1 ('z') is not a hex digit"), "\(result.stderr)")
        #expect(
            result.stderr.contains("busctl inspect") && !result.stderr.contains("busctl <subcommand>"),
            "\(result.stderr)"
        )
    }

    @Test func nodesShowTheSocketIOProcessBesideBusd() throws {
        let busd = try DeliveryCommandTests.RunningBusd(extraArguments: ["--http", "off"])  // its node says pid 1
        var node: [String: Any] = [:]
        #expect(
            eventually {
                guard let result = try? InspectCommandTests.run(["nodes", "--json", "--redis", busd.server.url]),
                    let nodes = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]],
                    let first = nodes.first, first["nodePid"] != nil
                else { return false }
                node = first
                return true
            }
        )
        #expect(node["nodePid"] as? Int == 1)
        #expect(node["pid"] as? Int == Int(busd.process.processIdentifier))
        // The nodes table comes first; the servers NUMSUB counts follow after a blank line.
        let table = try InspectCommandTests.run(["nodes", "--redis", busd.server.url]).stdout.components(
            separatedBy: "\n\n"
        )[0]
        let rows = table.split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        }
        #expect(rows.first?.contains("BUSD") == true, "\(table)")
        #expect(rows.count == 2 && rows[1][3] == "1" && rows[1][4] == "\(busd.process.processIdentifier)", "\(table)")
    }

    /// Records of a busd that did not write the node's pid (or wrote
    /// numbers out of range) still read.
    @Test func olderAndOddRecordsStillRead() throws {
        let server = try RedisTestServer()
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        _ = try redis.command([
            "SET", "socketbus:node:old-node",
            #"{"id":"old-node","host":"h1","pid":4321,"version":"0.1.0","startedAt":1,"sockets":2,"uid":"abcdef"}"#,
        ])
        _ = try redis.command([
            "SET", "socketbus:node:odd-node",
            #"{"id":"odd-node","host":"h2","pid":1e300,"nodePid":-0.5,"version":"0.1.0","startedAt":1e400,"sockets":3,"uid":"x"}"#,
        ])
        _ = try redis.command(["SADD", "socketbus:nodes", "old-node", "odd-node"])
        let result = try InspectCommandTests.run(["nodes", "--redis", server.url])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = result.stdout.components(separatedBy: "\n\n")[0].split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        }
        #expect(rows.count == 3, "\(result.stdout)")
        #expect(rows.contains { $0.first == "old-node" && $0[3] == "-" && $0[4] == "4321" }, "\(result.stdout)")
        #expect(rows.contains { $0.first == "odd-node" && $0[3] == "-" && $0[4] == "0" }, "\(result.stdout)")
    }
}
