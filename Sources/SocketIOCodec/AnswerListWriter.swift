/// The list of a large answer (socket ids, rooms, sockets) written straight
/// into its bytes, from what the registry holds: no String, JSValue or array
/// per element. Commas are its business; the callers only hand elements over.
public struct AnswerListWriter {
    var output: [UInt8]
    private var first = true

    init(output: [UInt8]) {
        self.output = output
    }

    /// Room for `bytes` more (a large answer's estimate: no regrowth and copy).
    public mutating func reserve(_ bytes: Int) {
        output.reserveCapacity(output.count + bytes)
    }

    private mutating func comma() {
        if !first { output.append(UInt8(ascii: ",")) }
        first = false
    }

    /// A string element given as UTF-8 bytes (valid UTF-8).
    public mutating func append(utf8 bytes: UnsafeRawBufferPointer) {
        comma()
        Self.appendQuoted(bytes, to: &output)
    }

    /// A room: a name quoted, a number as a number.
    public mutating func append(_ room: Room) {
        comma()
        ResponseEncoding.appendRoom(room, to: &output)
    }

    /// A socket only the registry knows, as ``ResponseEncoding/registrySocket(id:rooms:)``
    /// writes it: `{"id","handshake":{},"rooms":[…]}`; with `ownIdFirst` the
    /// id is written as the first room (socket.io's own room) before `rooms`.
    public mutating func appendSocket(id: UnsafeRawBufferPointer, ownIdFirst: Bool, rooms: [Room]) {
        rooms.withUnsafeBufferPointer { appendSocket(id: id, ownIdFirst: ownIdFirst, rooms: $0) }
    }

    /// As ``appendSocket(id:ownIdFirst:rooms:)-([Room])`` with the rooms
    /// read in place (the registry's own storage: no array retained per socket).
    public mutating func appendSocket(id: UnsafeRawBufferPointer, ownIdFirst: Bool, rooms: UnsafeBufferPointer<Room>) {
        comma()
        output.append(contentsOf: #"{"id":"#.utf8)
        Self.appendQuoted(id, to: &output)
        output.append(contentsOf: #","handshake":{},"rooms":["#.utf8)
        var firstRoom = true
        if ownIdFirst {
            Self.appendQuoted(id, to: &output)
            firstRoom = false
        }
        for index in rooms.indices {
            if !firstRoom { output.append(UInt8(ascii: ",")) }
            firstRoom = false
            ResponseEncoding.appendRoom(rooms[index], to: &output)
        }
        output.append(contentsOf: "]}".utf8)
    }

    private static func appendQuoted(_ bytes: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        bytes.withMemoryRebound(to: UInt8.self) { JSONQuoting.appendQuoted($0.span, to: &output) }
    }
}

extension ResponseEncoding {
    /// `{"requestId":…,"<key>":[…]}` with the list written by `body`.
    static func answer(requestId: String, key: String, _ body: (inout AnswerListWriter) -> Void) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(4096)
        output.append(contentsOf: #"{"requestId":"#.utf8)
        JSONQuoting.appendQuoted(requestId, to: &output)
        output.append(contentsOf: #",""#.utf8)
        output.append(contentsOf: key.utf8)
        output.append(contentsOf: #"":["#.utf8)
        var writer = AnswerListWriter(output: output)
        output = []
        body(&writer)
        writer.output.append(contentsOf: "]}".utf8)
        return writer.output
    }

    /// ALL_ROOMS reply written by `body` (see ``allRooms(requestId:rooms:)``).
    public static func allRooms(requestId: String, _ body: (inout AnswerListWriter) -> Void) -> [UInt8] {
        answer(requestId: requestId, key: "rooms", body)
    }

    /// REMOTE_FETCH reply of registry sockets written by `body` with
    /// ``AnswerListWriter/appendSocket(id:ownIdFirst:rooms:)``.
    public static func fetchedSockets(requestId: String, _ body: (inout AnswerListWriter) -> Void) -> [UInt8] {
        answer(requestId: requestId, key: "sockets", body)
    }

    static func appendRoom(_ room: Room, to output: inout [UInt8]) {
        switch room {
        case .name(let name):
            // In place when the string is native UTF-8 (always, for a name
            // the registry decoded): the String version copies it first.
            let done: Void? = name.utf8.withContiguousStorageIfAvailable {
                JSONQuoting.appendQuoted($0.span, to: &output)
            }
            if done == nil { JSONQuoting.appendQuoted(name, to: &output) }
        case .number(let number): JSNumberFormatter.appendJSON(number, to: &output)
        }
    }
}
