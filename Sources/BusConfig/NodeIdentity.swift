/// The node id busd uses when none is configured: `<host>/<socket name>`,
/// e.g. `web1/busd` for `/run/socketbus/busd.sock` on host
/// `web1.example.com`. Stable across restarts (a restarted busd takes its
/// registry entries back instead of leaving them to expire) and distinct
/// for several busd on one host, which need distinct sockets anyway.
public enum NodeIdentity {
    public static func defaultId(hostName: String, socketPath: String) -> String {
        let host = hostName.split(separator: ".").first.map(String.init) ?? hostName
        var name = socketPath.split(separator: "/").last.map(String.init) ?? "busd"
        if name.hasSuffix(".sock") { name.removeLast(".sock".count) }
        return "\(host.isEmpty ? "localhost" : host)/\(name.isEmpty ? "busd" : name)"
    }
}
