import Foundation
import LocalProtocol
import Logging
import NamedThreads
import SocketIOCodec
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif
// In release builds (whole-module) Swift can take the C time structs
// (timespec, timeval) as declared by CHiredis, whose headers (with OpenSSL's
// since TLS) include them too; importing it keeps their members visible.
internal import CHiredis

/// One connector's connection: reads frames on its own thread and applies
/// them to the cluster member; `send` may be called from any thread.
final class NodeConnection: @unchecked Sendable {
    // @unchecked: `decoder` belongs to the reader thread;
    // `queued`, `charged` and `flushRequested` are guarded by `outgoing`;
    // `closed` and `ready` are atomic.
    let id: Int
    private let fd: Int32
    /// Held, not unowned: the connection's threads use the server (and its
    /// member) up to their last act, which removes the connection from the
    /// server's list and so ends this cycle.
    private let server: NodeLinkServer
    private var logger: Logger
    private var decoder = LocalFrameDecoder()
    private let ready = Atomic<Bool>(false)
    /// The version HELLO negotiated (0 before): written once, before `ready`.
    private let version = Atomic<UInt16>(0)
    private let closed = Atomic<Bool>(false)
    // What `outgoing` guards is @exclusivity(unchecked): the lock already
    // orders every access, and the run-time checks cost per delivery.
    /// Encoded frames waiting to be written, and the writer thread's wake-up.
    private let outgoing = NSCondition()
    @exclusivity(unchecked) private var queued = ByteBuffer()
    /// The bytes being written: the writer thread's or a direct flush's
    /// (whoever set `writing`; swapped with `queued` under the lock).
    @exclusivity(unchecked) private var sending = ByteBuffer()
    /// Where ``send(_:flush:)`` encodes a frame before queuing it.
    @exclusivity(unchecked) private var encoding: [UInt8] = []
    /// Bytes this connection holds of the server's queue budget (queued or
    /// being written), given back as they are written.
    @exclusivity(unchecked) private var charged = 0
    @exclusivity(unchecked) private var flushRequested = false
    /// The writer thread or a direct flush holds bytes it has not finished
    /// sending (guarded by `outgoing`); the other does not write meanwhile.
    @exclusivity(unchecked) private var writing = false
    private let writerDone = DispatchSemaphore(value: 0)
    /// The capacity of the writer's two buffers after its last write.
    private let keptBytes = Atomic<Int>(0)
    /// Reads begun and applied, for the router's fence (LinkReadFence.swift).
    private let readProgress = LinkReadProgress()
    /// The node asked for the registry's filter (CLUSTER_REQUEST kind 10).
    private let registryFilterAsked = Atomic<Bool>(false)
    /// Progress of the two threads, for the systemd watchdog.
    private let readerHeartbeat: Heartbeat
    private let writerHeartbeat: Heartbeat

    init(id: Int, fd: Int32, server: NodeLinkServer, logger: Logger) {
        readerHeartbeat = Heartbeat(name: "busd-read-\(id)")
        writerHeartbeat = Heartbeat(name: "busd-write-\(id)")
        self.id = id
        self.fd = fd
        self.server = server
        self.logger = logger
        self.logger[metadataKey: "node.connection"] = "\(id)"
    }

    /// This connection as the registry records the sockets it registered.
    private var owner: UInt32 {
        // 0 means no owner; ids start at 1 and would reach it only after 2^32 connections.
        let truncated = UInt32(truncatingIfNeeded: id)
        return truncated == 0 ? 1 : truncated
    }

    /// True once HELLO was answered.
    var isReady: Bool { ready.load(ordering: .acquiring) && !closed.load(ordering: .acquiring) }

    /// The protocol version of this session (0 before HELLO).
    var sessionVersion: UInt16 { version.load(ordering: .acquiring) }

    func start() {
        startThread(named: "busd-read-\(id)", heartbeat: readerHeartbeat) { [self] in readLoop() }
        startThread(named: "busd-write-\(id)", heartbeat: writerHeartbeat) { [self] in
            writeLoop()
            writerDone.signal()
        }
    }

    /// Queues an encoded frame; false when it was not queued. With
    /// `flush: false` it waits for ``flush()`` (or at most `batchWindow`
    /// once the writer looks): the router queues a whole take's worth of
    /// deliveries and flushes once, so a burst costs one write instead of
    /// one per frame. Past the server's queue budget (nodes that stopped
    /// reading) frames are dropped and counted.
    @discardableResult
    func send(encoded frame: [UInt8], flush: Bool = true) -> Bool {
        frame.withUnsafeBytes { send(frameBytes: $0, flush: flush, wakesWriter: true) }
    }

    /// As ``send(encoded:flush:)``, for a delivery's frame that the router
    /// wrote once for every connection (no array per delivery). A delivery
    /// does not wake the writer: the router flushes at the end of every take
    /// (AdapterSubscriber.swift), and a wake per take on the first frame
    /// cost a context switch each (the writer then waited for the flush).
    @discardableResult
    func send(frameBytes frame: UnsafeRawBufferPointer, flush: Bool, wakesWriter: Bool = false) -> Bool {
        outgoing.lock()
        defer { outgoing.unlock() }
        guard !closed.load(ordering: .acquiring) else { return false }
        guard server.queueBudget.take(frame.count, holding: charged) else {
            server.droppedFrames.add(1, ordering: .relaxed)
            return false
        }
        charged += frame.count
        let wasEmpty = queued.isEmpty
        queued.append(frame)
        if flush { flushRequested = true }
        if (wasEmpty && wakesWriter) || flush { outgoing.signal() }
        return true
    }

    /// As ``send(encoded:flush:)``, encoding `frame` first (into a buffer
    /// kept for the purpose); throws, queuing nothing, when the protocol
    /// cannot carry it.
    @discardableResult
    func send(_ frame: LocalFrame, flush: Bool) throws(LocalFrameEncodingError) -> Bool {
        outgoing.lock()
        defer { outgoing.unlock() }
        guard !closed.load(ordering: .acquiring) else { return false }
        encoding.removeAll(keepingCapacity: true)
        try frame.encode(into: &encoding)
        let size = encoding.count
        guard server.queueBudget.take(size, holding: charged) else {
            server.droppedFrames.add(1, ordering: .relaxed)
            return false
        }
        charged += size
        let wasEmpty = queued.isEmpty
        queued.append(encoding)
        if encoding.capacity > Self.keptBufferCapacity { encoding = [] }
        if flush { flushRequested = true }
        if wasEmpty || flush { outgoing.signal() }
        return true
    }

    /// This connection's own frames (WELCOME, PONG, ERROR): small, always
    /// encodable; one that is not is logged and skipped.
    private func send(_ frame: LocalFrame) {
        do {
            send(encoded: try frame.encoded)
        } catch {
            logger.error("cannot encode \(frame.name): \(error)")
        }
    }

    /// What the writer's buffers hold on to between writes (bounded by
    /// twice ``keptBufferCapacity``).
    var keptWriteBufferBytes: Int { keptBytes.load(ordering: .relaxed) }

    /// Frames queued or being written (a drain waits for none).
    var hasUnsentFrames: Bool {
        outgoing.lock()
        defer { outgoing.unlock() }
        return !closed.load(ordering: .acquiring) && (writing || !queued.isEmpty)
    }

    /// Sends what is queued now. With nothing queued it does nothing (a
    /// request left standing would send the next batch's first frame
    /// alone). When the writer thread is idle the caller writes itself,
    /// without blocking (MSG_DONTWAIT): in steady traffic the router's
    /// flush is one send(2) and no wake-up of the writer (two context
    /// switches a take before). What the socket does not take now goes to
    /// the writer thread, which may block on a node that stopped reading:
    /// a slow node never holds up the router or the other connections.
    func flush() {
        outgoing.lock()
        guard !queued.isEmpty else {
            outgoing.unlock()
            return
        }
        if writing || closed.load(ordering: .acquiring) {
            // The writer takes it after its current write (or at the close).
            flushRequested = true
            outgoing.signal()
            outgoing.unlock()
            return
        }
        swap(&sending, &queued)
        flushRequested = false
        writing = true
        outgoing.unlock()
        let outcome = write(sending, blocking: false)
        outgoing.lock()
        var written = sending.count
        switch outcome {
        case .all:
            break
        case .part(let taken):
            // The rest goes first, before frames queued meanwhile.
            written = taken
            sending.removeFirst(taken)
            if queued.isEmpty {
                swap(&sending, &queued)  // the usual case: nothing came meanwhile
            } else {
                queued.prepend(sending)
            }
            flushRequested = true
        case .failed(let taken):
            // The connection is shut down: what was not written is dropped
            // (its budget comes back at the close, with `charged`).
            written = taken
        }
        finishWrite(written)
        // The writer waits while `writing`: frames left (or a close) are its now.
        if !queued.isEmpty || closed.load(ordering: .acquiring) { outgoing.signal() }
        outgoing.unlock()
        server.queueBudget.give(written)
    }

    /// After a write (lock held): `written` bytes leave the budget and
    /// the sending buffer is emptied, or freed when a burst grew it.
    private func finishWrite(_ written: Int) {
        writing = false
        charged -= written
        sending.removeAll(keepingCapacity: sending.capacity <= Self.keptBufferCapacity)
        keptBytes.store(sending.capacity + queued.capacity, ordering: .relaxed)
    }

    /// How long queued frames wait for a flush at most.
    static let batchWindow: TimeInterval = 0.002

    /// Either write buffer grown past this is released after use rather
    /// than kept: a burst (a node that fell behind) does not hold its
    /// memory for the life of the connection. 256 KiB holds thousands of
    /// deliveries, far more than one read from Redis produces.
    static let keptBufferCapacity = 256 << 10

    private func writeLoop() {
        while true {
            writerHeartbeat.beat()
            outgoing.lock()
            guard takeFramesToWrite() else {
                outgoing.unlock()
                return
            }
            outgoing.unlock()
            // A node that stops reading blocks send(2) as long as it likes:
            // that is the node's doing (its queue budget bounds the cost), not a hang of busd.
            writerHeartbeat.beat(quietFor: .seconds(86_400 * 365))
            let written = sending.count
            let delivered: Bool
            if case .failed = write(sending, blocking: true) { delivered = false } else { delivered = true }
            outgoing.lock()
            finishWrite(written)
            outgoing.unlock()
            server.queueBudget.give(written)
            guard delivered else { return }
        }
    }

    /// Waits (lock held) until there are frames to write and nobody is
    /// writing, then moves them to `sending` and sets `writing`; false once
    /// the connection is closed and nothing is left. Frames queued without
    /// a flush wait for it (the rest of their batch) at most batchWindow; a
    /// spurious wake-up does not end the wait.
    private func takeFramesToWrite() -> Bool {
        var unflushedUntil: Date?
        while true {
            let isClosed = closed.load(ordering: .acquiring)
            if writing || queued.isEmpty {
                if isClosed && !writing { return false }
                unflushedUntil = nil
                // An idle writer wakes every second to show it is alive; a
                // direct flush signals when it leaves frames behind.
                if !outgoing.wait(until: Date(timeIntervalSinceNow: 1)) {
                    // Not under the lock: a test may park the thread in its beat.
                    outgoing.unlock()
                    writerHeartbeat.beat()
                    outgoing.lock()
                }
                continue
            }
            if flushRequested || isClosed { break }
            let deadline = unflushedUntil ?? Date(timeIntervalSinceNow: Self.batchWindow)
            unflushedUntil = deadline
            if Date() >= deadline { break }
            // Whatever ends the wait, the loop looks again: a direct flush
            // may have taken the queue meanwhile and be writing it (taking
            // it here too wrote its frames twice).
            _ = outgoing.wait(until: deadline)
        }
        flushRequested = false
        swap(&sending, &queued)
        writing = true
        return true
    }

    private enum WriteOutcome {
        case all
        case part(Int)
        case failed(Int)
    }

    /// Sends `buffer` to the node: all of it (`blocking`, the writer
    /// thread, which may wait on a node that stopped reading), or what the
    /// socket takes now (a direct flush, MSG_DONTWAIT). A failure shuts the
    /// connection down.
    private func write(_ buffer: ByteBuffer, blocking: Bool) -> WriteOutcome {
        server.nodeWrites.add(1, ordering: .relaxed)
        let bytes = buffer.bytes
        guard let base = bytes.baseAddress else { return .all }
        // MSG_NOSIGNAL: a node that went away is an error here, not SIGPIPE.
        let flags = Int32(blocking ? MSG_NOSIGNAL : MSG_NOSIGNAL | MSG_DONTWAIT)
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.send(fd, base + offset, bytes.count - offset, flags)
            if n < 0 {
                if errno == EINTR { continue }
                if !blocking && (errno == EAGAIN || errno == EWOULDBLOCK) { return .part(offset) }
                logger.notice("write to the node failed (errno \(errno)): closing the connection")
                shutdown(fd, Int32(SHUT_RDWR))
                return .failed(offset)
            }
            offset += n
        }
        return .all
    }

    /// True when every byte the node wrote before this call has been read
    /// and its frames applied: nothing unread on the socket, then every read
    /// begun applied (in that order; see ClusterMember+ChannelFilter.swift).
    /// A closed connection's frames no longer matter: its sockets are removed.
    var hasAppliedEverythingWritten: Bool {
        if closed.load(ordering: .acquiring) { return true }
        guard LinkReadProgress.unreadBytes(fd: fd) == 0 else { return false }
        return readProgress.isSettled
    }

    /// Whether this session's node asked for the registry's filter
    /// (ClusterMember+ChannelFilter.swift).
    var asksRegistryFilter: Bool { registryFilterAsked.load(ordering: .acquiring) }

    /// CLUSTER_REQUEST kind 10 (reader thread): from now on the router may
    /// drop by the registry for this node, once every ready session asked.
    func asksForRegistryFilter() {
        registryFilterAsked.store(true, ordering: .releasing)
        server.sessionStarted()
    }

    /// Ends the connection; the reader thread cleans up.
    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    private func readLoop() {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let handshakeDeadline = ContinuousClock.now + server.configuration.handshakeTimeout
        var waitingForHello = true
        var chunkWasFull = false
        reading: while true {
            readerHeartbeat.beat()
            // A read waits for the node at most a second (SO_RCVTIMEO): an
            // idle reader still beats, without a poll(2) per read.
            if waitingForHello {
                if ready.load(ordering: .acquiring) {
                    waitingForHello = false
                    setReceiveTimeout(.seconds(1))
                } else if !setReceiveTimeout(min(.seconds(1), handshakeDeadline - .now)) {
                    handshakeTimedOut()
                    break
                }
            }
            // Waits for bytes without taking them (MSG_PEEK), so that the
            // read that takes them is counted as begun before it does
            // (LinkReadFence.swift); after a full chunk more are likely there.
            if !chunkWasFull {
                var probe: UInt8 = 0
                let waited = recv(fd, &probe, 1, Int32(MSG_PEEK))
                if waited < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
                    // A second without bytes; the handshake deadline is checked at the top.
                    continue
                }
                if waited <= 0 { break }
            }
            let readNumber = readProgress.begin()
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
                readProgress.finish(readNumber)
                chunkWasFull = false
                continue
            }
            if n <= 0 { break }
            chunkWasFull = n == chunk.count
            decoder.append(chunk[0..<n])
            while true {
                let frame: LocalFrame
                do {
                    guard let next = try decoder.next() else { break }
                    frame = next
                } catch {
                    closeOnProtocolError(error)
                    break reading
                }
                do {
                    try handle(frame)
                } catch  where !error.closesConnection {
                    reject(error)
                } catch {
                    closeOnProtocolError(error)
                    break reading
                }
            }
            readProgress.finish(readNumber)
        }
        finish()
    }

    private func closeOnProtocolError(_ error: LocalProtocolError) {
        logger.warning("closing the node connection: \(error)")
        send(error.frame)
    }

    /// A frame busd cannot use: answered, counted, skipped; the link stays.
    private func reject(_ error: LocalProtocolError) {
        server.rejectedFrames.add(1, ordering: .relaxed)
        if let left = server.rejectedLog.withLock({ $0.admit() }) {
            logger.warning("skipped a frame from the node: \(error)", metadata: ["skipped.since.last.log": "\(left)"])
        }
        send(error.frame)
    }

    private func handshakeTimedOut() {
        server.handshakeTimeouts.add(1, ordering: .relaxed)
        let timeout = server.configuration.handshakeTimeout
        logger.notice("closing a node connection that sent no HELLO within \(timeout)")
        send(LocalProtocolError(.handshakeTimeout, "no HELLO within \(timeout)").frame)
    }

    /// SO_RCVTIMEO: nil for none; false when `timeout` has already passed.
    @discardableResult
    private func setReceiveTimeout(_ timeout: Duration?) -> Bool {
        var value = timeval()
        if let timeout {
            guard timeout > .zero else { return false }
            let (seconds, attoseconds) = timeout.components
            value.tv_sec = Int(clamping: seconds)
            // At least 1 µs: a zero timeval would mean "no time-out".
            value.tv_usec = max(1, Int(attoseconds / 1_000_000_000_000))
        }
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        return true
    }

    private func finish() {
        // Let the writer send what is queued (an ERROR frame, say) first.
        outgoing.lock()
        closed.store(true, ordering: .releasing)
        outgoing.broadcast()
        outgoing.unlock()
        if writerDone.wait(timeout: .now() + 2) == .timedOut {
            // The node stopped reading: unblock the writer.
            shutdown(fd, Int32(SHUT_RDWR))
            writerDone.wait()
        }
        // A write that failed ends the writer before the close, so the
        // router's direct flush may be writing now: wait it out (it never
        // blocks) before the fd is closed, whose number a new node may get
        // at once, and before the budget is counted back (its bytes twice).
        outgoing.lock()
        while writing { _ = outgoing.wait(until: Date(timeIntervalSinceNow: 0.01)) }
        outgoing.unlock()
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
        // What the writer did not write goes back to the shared budget.
        outgoing.lock()
        let unwritten = charged
        charged = 0
        queued.removeAll(keepingCapacity: false)
        outgoing.unlock()
        server.queueBudget.give(unwritten)
        if ready.load(ordering: .acquiring) { server.queueBudget.leave() }
        // The node is gone, and so are its sockets.
        // (The registry records which connection registered each socket:
        // a set of ids here would cost about 90 bytes a socket.)
        let removed = server.member.socketsDisconnected(ownedBy: owner)
        if removed > 0 {
            logger.notice("node connection closed: its sockets were removed", metadata: ["sockets": "\(removed)"])
        }
        server.connectionEnded(id)
    }

    private func handle(_ frame: LocalFrame) throws(LocalProtocolError) {
        guard ready.load(ordering: .acquiring) else {
            guard case .hello(let version, let node, let pid) = frame else {
                throw LocalProtocolError(.unexpectedFrame, "\(frame.name) before HELLO")
            }
            // busd speaks every version from 1 to its own: it answers the one asked.
            guard version >= 1 && version <= LocalFrame.version else {
                throw LocalProtocolError(
                    .unsupportedVersion,
                    "busd speaks versions 1 to \(LocalFrame.version), HELLO asked for \(version)"
                )
            }
            logger[metadataKey: "node.name"] = "\(node)"
            logger.info("node connected", metadata: ["pid": "\(pid)", "protocol.version": "\(version)"])
            self.version.store(version, ordering: .releasing)
            server.member.nodeProcessConnected(pid: Int(pid))
            server.queueBudget.join()
            ready.store(true, ordering: .releasing)
            server.sessionStarted()
            send(
                .welcome(
                    version: version,
                    uid: server.member.uid,
                    nodeId: server.member.configuration.nodeId,
                    ackIdBase: AckIdRange.base,
                    ackTimeoutMilliseconds: UInt32(clamping: server.member.configuration.ackTimeout.milliseconds)
                )
            )
            return
        }
        guard frame.minimumVersion <= sessionVersion else {
            throw LocalProtocolError(
                .unexpectedFrame,
                "\(frame.name) is a frame of version \(frame.minimumVersion), this session speaks \(sessionVersion)"
            )
        }
        let member = server.member
        switch frame {
        case .hello:
            throw LocalProtocolError(.unexpectedFrame, "a second HELLO")
        case .ping(let token):
            send(.pong(token: token))
        case .pong, .error:
            break
        case .socketConnect(let namespace, let socketId, let connectedAt):
            guard member.socketConnected(socketId, namespace: namespace, at: Int64(clamping: connectedAt), owner: owner)
            else {
                throw LocalProtocolError(
                    .unusableContent,
                    "SOCKET_CONNECT: busd tracks sockets in at most 65,536 namespaces at once"
                )
            }
        case .socketDisconnect(_, let socketId, _):
            member.socketDisconnected(socketId)
        case .socketJoin(_, let socketId, let rooms):
            member.socketJoined(socketId, rooms: rooms)
        case .socketLeave(_, let socketId, let rooms):
            member.socketLeft(socketId, rooms: rooms)
        case .broadcast(let namespace, let flags, let rooms, let except, let packet, let attachments):
            let flagObject = Self.flagObject(flags)
            do {
                let decoded = try PacketDecoder.decode(packet, attachments: attachments)
                try member.publishBroadcast(
                    namespace: namespace,
                    packet: decoded,
                    rooms: rooms,
                    except: except,
                    flags: flagObject
                )
            } catch {
                // A custom parser (msgpack, say) on the node: this broadcast
                // cannot be published, the node's other frames still can.
                throw LocalProtocolError(.unusableContent, "BROADCAST packet: \(error)")
            }
        case .acked(let ackId, let socketId, let status, let arguments):
            var values: [JSValue] = []
            if status == .delivered {
                guard case .array(let array)? = try? JSONParser().parse(arguments) else {
                    throw LocalProtocolError(.unusableContent, "ACKED arguments are not a JSON array")
                }
                values = array
            }
            member.acknowledged(ackId: ackId, socketId: socketId, status: status, arguments: values)
        case .namespace, .roomsJoin, .roomsLeave, .roomsBroadcast, .delivered, .answer, .clusterRequest,
            .broadcastWithAck:
            try handleVersion2(frame, member: member)
        case .welcome, .deliver, .socketsJoin, .socketsLeave, .socketsDisconnect, .serverSideEmit, .deliverToRooms,
            .apply, .question, .clusterReply, .ackCount, .ackArgument:
            throw LocalProtocolError(.unexpectedFrame, "\(frame.name) goes from busd to the node, not back")
        }
    }

    /// The flags of a broadcast as the adapter's options carry them.
    static func flagObject(_ flags: DeliveryFlags) -> JSObject {
        var object = JSObject()
        if flags.volatile { object["volatile"] = .bool(true) }
        if let compress = flags.compress { object["compress"] = .bool(compress) }
        return object
    }
}
