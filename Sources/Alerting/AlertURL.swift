import Foundation

/// The parts of a URL alerts care about, parsed by hand: Foundation's URL
/// accepts too much (spaces, missing hosts) to validate an operator's flag,
/// and its behaviour differs between platforms.
///
/// Shape: `scheme://[user[:password]@]host[:port][/rest]`, host possibly an
/// IPv6 literal in brackets.
struct AlertURL: Equatable {
    var scheme: String
    var userinfo: String?
    var host: String
    var port: Int?
    var rest: String

    init?(_ text: String) {
        guard let separator = text.range(of: "://") else { return nil }
        scheme = text[..<separator.lowerBound].lowercased()
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+.-".contains($0) }) else {
            return nil
        }
        let afterScheme = text[separator.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { "/?#".contains($0) }) ?? afterScheme.endIndex
        var authority = afterScheme[..<authorityEnd]
        rest = String(afterScheme[authorityEnd...])
        if let at = authority.lastIndex(of: "@") {
            userinfo = String(authority[..<at])
            authority = authority[authority.index(after: at)...]
        }
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[...close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
        }
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else { return nil }
            self.port = port
        }
        guard !host.isEmpty, !text.contains(where: { $0.isWhitespace || $0.isNewline }) else { return nil }
    }

    /// `scheme://host:port`: where a channel delivers, safe to log. The path
    /// is left out too: some webhook URLs (Slack's, for one) carry their
    /// secret in it.
    var origin: String { "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")" }

    /// `text` with the password of its user info removed; text that is not a
    /// URL (a Unix socket path) is returned as it is.
    static func withoutPassword(_ text: String) -> String {
        guard let separator = text.range(of: "://") else { return text }
        let afterScheme = text[separator.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { "/?#".contains($0) }) ?? afterScheme.endIndex
        guard let at = afterScheme[..<authorityEnd].lastIndex(of: "@") else { return text }
        let userinfo = afterScheme[..<at]
        let user = userinfo.firstIndex(of: ":").map { userinfo[..<$0] } ?? userinfo
        let kept = user.isEmpty ? "" : "\(user)@"
        return String(text[..<separator.upperBound]) + kept + afterScheme[afterScheme.index(after: at)...]
    }
}
