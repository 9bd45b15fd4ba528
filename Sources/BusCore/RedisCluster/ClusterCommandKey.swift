/// Which argument of a command is the key its slot is taken from.
///
/// busd and busctl send a known set of commands: most name their key first;
/// `EVAL`/`EVALSHA` name it after the key count. Commands without a key
/// (PUBLISH, PUBSUB, INFO, PING, a script with no keys) may go to any node.
enum ClusterCommandKey {
    static func slot(of command: [[UInt8]]) -> Int? {
        key(of: command).map(ClusterKeySlot.slot(of:))
    }

    static func key(of command: [[UInt8]]) -> [UInt8]? {
        guard let first = command.first else { return nil }
        let name = String(decoding: first.prefix(16), as: UTF8.self).uppercased()
        switch name {
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            guard command.count > 3, let count = Int(String(decoding: command[2].prefix(20), as: UTF8.self)),
                count > 0
            else { return nil }
            return command[3]
        case "PUBLISH", "PUBSUB", "INFO", "PING", "CLUSTER", "ECHO", "SUBSCRIBE", "PSUBSCRIBE", "SCRIPT",
            "CLIENT", "COMMAND", "DBSIZE", "TIME", "ASKING":
            return nil
        default:
            return command.count > 1 ? command[1] : nil
        }
    }
}
