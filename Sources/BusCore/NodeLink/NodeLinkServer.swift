import Foundation
import LocalProtocol
public import Logging
import NamedThreads
import SocketIOCodec
import Synchronization

#if canImport(Glibc)
    public import Glibc
#endif

/// The Unix-domain socket the node's connector talks to (the local protocol,
/// docs/local-protocol.md). One thread accepts; each connection has a reader
/// thread; writes are serialized per connection.
///
/// A malformed frame gets an ERROR frame and closes that connection only; a
/// well-formed frame busd cannot use gets an ERROR frame and the connection
/// stays. When a connection ends, the sockets it registered are removed from
/// the registry: their node is gone.
///
/// Memory and threads are bounded as a whole: at most
/// `maximumConnections` connections (two threads each; more are refused
/// before any thread starts), a handshake time-out for connections that never
/// send HELLO, and one `queueBudget` for the bytes queued to all of them.
public final class NodeLinkServer: @unchecked Sendable {
    // @unchecked: `connections` is behind a Mutex; the listening descriptor is
    // set once in start() and closed once in stop().
    public struct Configuration: Sendable {
        public var path: String
        /// File mode of the socket (owner and group may connect by default).
        public var mode: mode_t = 0o660
        /// Connections served at once; more are refused with an ERROR frame.
        public var maximumConnections = 8
        /// How long a new connection may take to send HELLO.
        public var handshakeTimeout: Duration = .seconds(5)
        /// Bytes queued for the node over all connections; frames past it
        /// are dropped (`node_backlog`). At least one largest frame.
        public var queueBudget = 64 << 20

        public init(path: String) {
            self.path = path
        }
    }

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    let configuration: Configuration
    let member: ClusterMember
    let logger: Logger
    private var listener: Int32 = -1
    /// The live connections; a list rather than a dictionary because every
    /// delivery walks it and only connects and disconnects change it.
    let connections = Mutex<[NodeConnection]>([])
    private let nextId = Atomic<Int>(1)
    private let stopping = Atomic<Bool>(false)
    private let acceptFinished = DispatchSemaphore(value: 0)
    private let acceptClosed = Atomic<Bool>(false)
    /// Progress of the accept loop, for the systemd watchdog.
    private let acceptHeartbeat = Heartbeat(name: "busd-accept")
    let queueBudget: QueueBudget
    private let unframableLog = Mutex(LogThrottle(interval: .seconds(10)))
    let rejectedLog = Mutex(LogThrottle(interval: .seconds(10)))
    private let refusedLog = Mutex(LogThrottle(interval: .seconds(10)))

    public init(configuration: Configuration, member: ClusterMember, logger: Logger) {
        self.configuration = configuration
        self.member = member
        self.logger = logger
        queueBudget = QueueBudget(
            limit: max(configuration.queueBudget, LocalFrame.maximumLength + 4),
            smallestShare: LocalFrame.maximumLength + 4
        )
        member.linkReadFence.install { [weak self] in self?.hasAppliedEverythingWritten ?? true }
    }

    /// Every connection has applied every frame its node wrote before this
    /// call (the router's fence, ClusterMember+ChannelFilter.swift). A node
    /// sends its sockets and rooms after WELCOME, when its connection is in
    /// the list already.
    var hasAppliedEverythingWritten: Bool {
        // Under the lock, not on a copy of the list: asked once per read of
        // the subscriber, where the copy's retain and release showed.
        connections.withLock { $0.allSatisfy(\.hasAppliedEverythingWritten) }
    }

    public var connectionCount: Int { connections.withLock { $0.count } }
    let droppedFrames = Atomic<Int>(0)
    /// Frames dropped because the node stopped reading (its queue was full).
    public var droppedFrameCount: Int { droppedFrames.load(ordering: .relaxed) }
    let unrouted = Atomic<Int>(0)
    /// Commands for the node dropped because no node was connected (or, for
    /// a command of version 2, none that speaks version 2).
    public var droppedWithoutNodeCount: Int { unrouted.load(ordering: .relaxed) }
    let sentDeliveries = Atomic<Int>(0)
    /// DELIVER frames queued for a connected node.
    public var deliveredFrameCount: Int { sentDeliveries.load(ordering: .relaxed) }
    private let unframable = Atomic<Int>(0)
    /// Commands dropped because the local protocol cannot carry them (a room
    /// name over 65535 bytes, a frame over 16 MiB).
    public var unframableCount: Int { unframable.load(ordering: .relaxed) }
    let rejectedFrames = Atomic<Int>(0)
    /// Well-formed frames from the node whose content busd could not use
    /// (answered with ERROR `unusable content`; the connection stays).
    public var rejectedFrameCount: Int { rejectedFrames.load(ordering: .relaxed) }
    private let refusedOverLimit = Atomic<Int>(0)
    /// Connections refused because `maximumConnections` were open.
    public var refusedConnectionCount: Int { refusedOverLimit.load(ordering: .relaxed) }
    let handshakeTimeouts = Atomic<Int>(0)
    /// Connections closed because no HELLO came in time.
    public var handshakeTimeoutCount: Int { handshakeTimeouts.load(ordering: .relaxed) }
    let nodeWrites = Atomic<Int>(0)
    /// Writes to the node connections (a batch of frames each, or part of one).
    public var nodeWriteCount: Int { nodeWrites.load(ordering: .relaxed) }
    /// What the connections' writers keep allocated between writes.
    public var keptWriteBufferBytes: Int { connections.withLock { $0.reduce(0) { $0 + $1.keptWriteBufferBytes } } }
    /// Bytes queued for the node now, over all connections.
    public var queuedBytes: Int { queueBudget.usedBytes }
    /// The most bytes queued for the node at once since the last call.
    public func takeQueuedPeakBytes() -> Int { queueBudget.takePeakBytes() }
    /// The bound of ``queuedBytes``.
    public var queueBudgetBytes: Int { queueBudget.limit }

    /// Binds the socket (replacing a stale socket file, never another busd's
    /// live one or a regular file) and starts accepting.
    public func start() throws {
        try bind()
        // The router hands its deliveries straight to this link from now on.
        member.attachDeliveryLink(self)
        startThread(named: "busd-accept", heartbeat: acceptHeartbeat) { [self] in
            acceptLoop()
            acceptFinished.signal()
        }
        logger.info(
            "node link listening",
            metadata: ["socket": "\(configuration.path)", "mode": "\(String(configuration.mode, radix: 8))"]
        )
    }

    /// The first half of ``start()``: takes the socket path (or throws when
    /// another busd holds it) without accepting yet, so busd can refuse to
    /// start before it writes anything to Redis. Idempotent.
    public func bind() throws {
        guard listener < 0 else { return }
        let path = configuration.path
        guard path.utf8.count < 108 else {
            throw StartError(description: "socket path '\(path)' is longer than 107 bytes")
        }
        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else {
                throw StartError(description: "'\(path)' exists and is not a socket; not replacing it")
            }
            if Self.somebodyListens(path) {
                throw StartError(description: "another process already listens on '\(path)'")
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartError(description: "socket(): errno \(errno)") }
        var address = Self.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw StartError(description: "bind '\(path)': \(String(cString: strerror(code)))")
        }
        chmod(path, configuration.mode)
        guard listen(fd, 16) == 0 else {
            close(fd)
            throw StartError(description: "listen '\(path)': errno \(errno)")
        }
        listener = fd
    }

    /// Stops accepting, closes every connection, removes the socket file,
    /// and returns once every connection has ended (its sockets gone from
    /// the registry): their threads use the member, which the caller may
    /// stop or free next. Shut down, a connection ends within its writer's
    /// 2 s; a warning is logged every 5 s before that.
    public func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        member.detachDeliveryLink(self)
        stopAccepting()
        for connection in connections.withLock({ $0 }) { connection.close() }
        let started = ContinuousClock.now
        var warnAt = started + .seconds(5)
        while connectionCount > 0 {
            Thread.sleep(forTimeInterval: 0.005)
            if ContinuousClock.now >= warnAt {
                logger.warning(
                    "still waiting for node connections to end",
                    metadata: ["connections": "\(connectionCount)", "waited": "\(ContinuousClock.now - started)"]
                )
                warnAt = ContinuousClock.now + .seconds(5)
            }
        }
    }

    /// Sends a command to the connected node(s); with `flush: false` it
    /// waits for ``flush()`` (or a couple of milliseconds) to be written
    /// together with the commands after it.
    ///
    /// A command the protocol cannot carry is dropped and counted
    /// (`unframable`); one the node's queues have no room for is counted as
    /// `node_backlog`; only a DELIVER some connection queued counts as delivered.
    public func send(_ command: NodeCommand, flush: Bool = true) {
        // A version 1 connector would call a version 2 frame malformed.
        let needsVersion2 = command.needsVersion2
        func eligible(_ connection: NodeConnection) -> Bool {
            connection.isReady && (!needsVersion2 || connection.sessionVersion >= 2)
        }
        // The list itself (no copy): this runs once per delivery.
        let all = connections.withLock { $0 }
        // Connections are kept in the order they came: the last is the newest.
        let newest = command.isForOneSession ? all.last(where: eligible) : nil
        guard newest != nil || all.contains(where: eligible) else {
            unrouted.add(1, ordering: .relaxed)
            return
        }
        func isTarget(_ connection: NodeConnection) -> Bool {
            if let newest { return connection === newest }
            return eligible(connection)
        }
        // Encoded into each connection's queue in place; a frame the protocol
        // cannot carry as one (the same for every connection) takes the path
        // that splits it, or is dropped.
        let frame = CommandFraming.frame(for: command)
        var queued = false
        for connection in all where isTarget(connection) {
            do {
                if try connection.send(frame, flush: flush) { queued = true }
            } catch {
                queued = sendSplit(command, to: all.filter(isTarget), flush: flush)
                break
            }
        }
        switch command {
        case .deliver, .deliverToRooms:
            if queued { sentDeliveries.add(1, ordering: .relaxed) }
        default:
            break
        }
    }

    /// A command as several frames (socket ids split), or dropped and
    /// counted as `unframable` when even that cannot carry it.
    private func sendSplit(_ command: NodeCommand, to targets: [NodeConnection], flush: Bool) -> Bool {
        let frames: [[UInt8]]
        do {
            frames = try CommandFraming.encodedFrames(for: command)
        } catch {
            unframable.add(1, ordering: .relaxed)
            if let left = unframableLog.withLock({ $0.admit() }) {
                logger.warning(
                    "dropped a command the local protocol cannot carry",
                    metadata: [
                        "frame": "\(CommandFraming.frame(for: command).name)", "error": "\(error)",
                        "dropped.since.last.log": "\(left)",
                    ]
                )
            }
            return false
        }
        var queued = false
        for connection in targets {
            for bytes in frames where connection.send(encoded: bytes, flush: flush) { queued = true }
        }
        return queued
    }

    /// Drain: no new node connections; those open stay, to be flushed.
    public func stopAccepting() {
        guard listener >= 0, !acceptClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        _ = acceptFinished.wait(timeout: .now() + 2)
        close(listener)
        unlink(configuration.path)
    }

    /// Drain: waits until every frame queued for the node was written, or
    /// `timeout`; returns whether it was.
    public func waitUntilWritten(timeout: Duration) -> Bool {
        flush()
        let deadline = ContinuousClock.now + timeout
        while connections.withLock({ $0.contains { $0.hasUnsentFrames } }) {
            if ContinuousClock.now >= deadline { return false }
            usleep(2_000)
        }
        return true
    }

    public func flush() {
        for connection in connections.withLock({ $0 }) { connection.flush() }
    }

    private func acceptLoop() {
        while !acceptClosed.load(ordering: .acquiring) {
            acceptHeartbeat.beat()
            // Waits at most a second at a time: an idle accept loop still beats.
            var waiting = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let polled = poll(&waiting, 1, 1000)
            if polled == 0 || (polled < 0 && errno == EINTR) { continue }
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                if acceptClosed.load(ordering: .acquiring) { return }
                logger.warning("accept failed: errno \(errno)")
                usleep(50_000)
                continue
            }
            // Only this thread adds connections: the count cannot grow between
            // the check and the append.
            guard connectionCount < configuration.maximumConnections else {
                refuse(fd)
                continue
            }
            let id = nextId.add(1, ordering: .relaxed).oldValue
            let connection = NodeConnection(id: id, fd: fd, server: self, logger: logger)
            connections.withLock { $0.append(connection) }
            connection.start()
        }
    }

    /// Over the connection limit: one ERROR frame, written without waiting
    /// (a fresh socket's buffer holds it), and close; no thread is started.
    private func refuse(_ fd: Int32) {
        refusedOverLimit.add(1, ordering: .relaxed)
        let error = LocalProtocolError(
            .tooManyConnections,
            "busd serves at most \(configuration.maximumConnections) node connections"
        )
        if let bytes = try? error.frame.encoded {
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
        }
        Glibc.close(fd)
        if let left = refusedLog.withLock({ $0.admit() }) {
            logger.warning(
                "refused a node connection: too many open",
                metadata: ["limit": "\(configuration.maximumConnections)", "refused.since.last.log": "\(left)"]
            )
        }
    }

    func connectionEnded(_ id: Int) {
        connections.withLock { connections in
            connections.removeAll { $0.id == id }
            updateNodeSession(connections)
        }
    }

    /// After a HELLO was answered: the member learns the session's version.
    func sessionStarted() {
        connections.withLock { updateNodeSession($0) }
    }

    /// Tells the member the version of the live session (the highest, when a
    /// connector reconnected before its old connection ended), or that there
    /// is none. Called under the connections' lock, so the last call sees
    /// the last change.
    private func updateNodeSession(_ connections: [NodeConnection]) {
        let ready = connections.filter(\.isReady)
        let version2 = ready.filter { $0.sessionVersion >= 2 }
        member.channelRule.registryFilterForVersion2.store(
            !version2.isEmpty && version2.allSatisfy(\.asksRegistryFilter),
            ordering: .releasing
        )
        if let version = ready.map(\.sessionVersion).max() {
            member.nodeSessionStarted(version: version)
        } else {
            member.nodeSessionEnded()
        }
    }

    private static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        return address
    }

    private static func somebodyListens(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var address = address(path)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return rc == 0
    }
}

/// Hands a cluster member's commands to the node link, which is created after
/// the member (the member takes its command callback at init).
public final class NodeCommandRelay: Sendable {
    private let target = Mutex<NodeLinkServer?>(nil)

    public init() {}

    public func connect(to server: NodeLinkServer) { target.withLock { $0 = server } }

    /// Queues a command; ``flush()`` sends what was queued.
    public func forward(_ command: NodeCommand) { target.withLock { $0 }?.send(command, flush: false) }

    public func flush() { target.withLock { $0 }?.flush() }
}
