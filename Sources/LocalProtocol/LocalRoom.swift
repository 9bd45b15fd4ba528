/// A room as version 2 of the local protocol carries it: socket.io keeps
/// `io.to(123)` and `io.to("123")` apart, and so does the wire.
///
/// `room = tag:u8 value`: tag 0x00 a UTF-8 string, tag 0x01 an f64be. Any
/// other tag, and a number that is not finite, make the frame malformed.
public enum LocalRoom: Sendable, Hashable {
    case name(String)
    case number(Double)

    static let nameTag: UInt8 = 0x00
    static let numberTag: UInt8 = 0x01
}

/// What an APPLY asks the node to do to its sockets chosen by rooms (`op`).
public enum ApplyOperation: UInt8, Sendable, Hashable, CaseIterable {
    /// socketsJoin: the chosen sockets join `targets`.
    case join = 1
    /// socketsLeave: the chosen sockets leave `targets`.
    case leave = 2
    /// disconnectSockets (`close` closes the underlying connection).
    case disconnect = 3
}
