import ArgumentParser
import BusCore
import Hiredis
import SocketIOCodec

#if canImport(Glibc)
    import Glibc
#endif

/// `busctl emit`: publish an event the way the Redis emitter does, and
/// optionally wait for every target socket's delivery confirmation.
struct EmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emit",
        abstract: "Publish an event to a room or socket id in the Socket.IO Redis adapter format.",
        discussion: """
            Arguments after the event name are JSON values: busctl emit news '{"id":1}' 42 '"text"'.

            With --wait-ack the message asks socketbus for confirmations (opts.socketbus) and busctl \
            prints each socket's outcome as it arrives. busd is asked to time acks out a little \
            before --timeout (--timeout minus a fifth, at most 1s), so that a silent client is \
            reported as 'timeout' rather than missing.

            Targets on Socket.IO servers without busd (stock adapter) are found by asking every \
            server for the targets' socket ids (SOCKETS requests) when some server answers requests \
            (PUBSUB NUMSUB of the request channel), left out of \
            socketbus's broadcast, and sent the adapter's own acked broadcast (BROADCAST, type 7): \
            those servers report a client count and each client's ack value, without socket ids \
            ('stock count', 'stock ack' lines).

            Exit status with --wait-ack: 0 every target confirmed delivery (stock nodes: every \
            counted server reported and each of its clients acked); 2 some target timed out, \
            disconnected or did not answer in time, or a counted server did not report; 3 no node \
            had a target; \(RedisFailure.exitStatusHelp); 1 other error.
            """
    )

    @Argument(help: "The event name.")
    var event: String

    // `.allUnrecognized` so that a negative number (`-1`) is an argument.
    @Argument(parsing: .allUnrecognized, help: "Event arguments, each a JSON value.")
    var arguments: [String] = []

    // `.unconditional`: socket ids may start with '-'.
    @Option(
        name: .long,
        parsing: .unconditionalSingleValue,
        help: "A room or socket id to send to (repeatable; none = the whole namespace)."
    )
    var to: [String] = []

    @Option(name: .long, parsing: .unconditionalSingleValue, help: "A room or socket id to leave out (repeatable).")
    var except: [String] = []

    @Option(name: .long, help: "The namespace.")
    var nsp: String = "/"

    @Flag(name: .long, help: "Drop the message for clients whose connection is not writable.")
    var volatile = false

    @Option(
        name: .long,
        parsing: .unconditional,
        help: "The message id to report confirmations under (default: a random id with --wait-ack)."
    )
    var id: String?

    @Flag(name: .customLong("wait-ack"), help: "Ask for delivery confirmations and wait for them.")
    var waitAck = false

    @Option(name: .long, help: "How long to wait for confirmations (e.g. 10s, 500ms).")
    var timeout: String = "10s"

    @Option(name: .customLong("adapter-key"), help: "The Socket.IO adapter's channel prefix.")
    var adapterKey: String = AdapterChannel.defaultKey

    @OptionGroup var options: RedisOptions

    func validate() throws {
        if !nsp.hasPrefix("/") { throw ValidationError("--nsp '\(nsp)' must start with '/'") }
        do {
            if try DurationText.parse(timeout) < .milliseconds(10) {
                throw ValidationError("--timeout must be at least 10ms")
            }
        } catch let error as DurationText.ParseError {
            throw ValidationError("--timeout: \(error)")
        }
        _ = try parsedArguments()
    }

    func run() throws {
        let clock = ContinuousClock()
        let started = clock.now
        let wait = (try? DurationText.parse(timeout)) ?? .seconds(10)
        let messageId = id ?? (waitAck ? Self.randomId() : nil)
        let data = [JSValue.string(event)] + (try parsedArguments())

        let lookup = try options.lookup()
        // Subscribed before publishing, so no confirmation is missed.
        let feed: DeliveryRecordFeed?
        var knownSockets: [String] = []
        do {
            feed =
                waitAck
                ? try DeliveryRecordFeed(connection: try options.connect(), keys: options.keys, messageId: messageId)
                : nil
            if waitAck {
                for target in to where try lookup.findSocket(target) != nil { knownSockets.append(target) }
            }
        } catch {
            throw options.failure("emit", error)
        }
        let stockTargets = waitAck ? try findStockTargets(lookup, knownSockets: knownSockets, wait: wait) : nil
        let stockIds = stockTargets?.socketIds ?? []
        // What is left of --timeout after the target lookup.
        let left = max(wait - (clock.now - started), .milliseconds(10))

        var message = BroadcastMessage(
            uid: "emitter",
            data: data,
            namespace: nsp,
            rooms: to.map(Room.name),
            // Sockets on servers without busd get the adapter's acked broadcast instead.
            except: (except + stockIds.filter { !except.contains($0) }).map(Room.name),
            flags: volatile ? JSObject([("volatile", .bool(true))]) : JSObject()
        )
        if waitAck || messageId != nil {
            let margin = min(left / 5, .seconds(1))
            message.options["socketbus"] =
                DeliveryRequest(
                    messageId: messageId,
                    wantsAck: waitAck,
                    timeoutMilliseconds: waitAck ? UInt64((left - margin).milliseconds) : nil
                ).jsValue
        }
        // Only sockets on servers without busd targeted: busd nodes have nobody to deliver to.
        let socketbusPart = stockIds.isEmpty || to.isEmpty || !Set(to).isSubset(of: Set(stockIds))
        var stock: (feed: ResponseFeed, wait: StockAckWait)?
        if let stockTargets, !stockIds.isEmpty {
            stock = try publishStockBroadcast(stockTargets, data: data, wait: left, lookup: lookup)
            if !options.json {
                print(
                    "acked broadcast to \(stockIds.count) socket(s) on servers without busd published to "
                        + "\(AdapterChannel.request(key: adapterKey, namespace: nsp).name) (request id \(stock?.wait.requestId ?? "?"), "
                        + "\(stockTargets.servers) server(s) counted)"
                )
            }
        }
        if let lookup = stockTargets?.lookup, !lookup.isComplete {
            printError(
                "busctl emit: \(lookup.expected - lookup.answered) of \(lookup.expected) servers did not answer the target lookup in time: their sockets get the message without an ack request"
            )
        }
        if socketbusPart {
            try publishBroadcast(message, messageId: messageId, lookup: lookup)
        }
        guard let feed, let messageId else { return }
        let stockSet = Set(stockIds)
        let knownSet = Set(knownSockets)
        try awaitConfirmations(
            EmitWait(
                feed: feed,
                messageId: messageId,
                socketbus: socketbusPart
                    ? DeliveryWait(
                        knownSockets: knownSockets,
                        hasRoomTargets: to.isEmpty || to.contains { !knownSet.contains($0) && !stockSet.contains($0) }
                    ) : nil,
                stock: stock,
                lookupComplete: stockTargets?.lookup.isComplete ?? true
            ),
            deadline: clock.now + left
        )
    }

    /// Publishes socketbus's broadcast on the adapter's broadcast channel.
    private func publishBroadcast(
        _ message: BroadcastMessage,
        messageId: String?,
        lookup: RegistryLookup
    ) throws {
        let payload: [UInt8]
        do {
            payload = try message.encode()
        } catch {
            printError("busctl emit: cannot encode the message: \(error)")
            throw ExitCode(1)
        }
        let channel = message.channel(key: adapterKey).name
        let receivers: Int64
        do {
            let reply = try lookup.connection.command([Array("PUBLISH".utf8), Array(channel.utf8), payload])
            guard let count = reply.integer else {
                throw RedisError(.protocolError, "unexpected reply to PUBLISH: \(reply)")
            }
            receivers = count
        } catch {
            throw options.failure("emit: publish failed", error)
        }
        if !options.json {
            print(
                "published to \(channel) (\(receivers) subscriber\(receivers == 1 ? "" : "s"))\(messageId.map { ", message id \($0)" } ?? "")"
            )
        } else if !waitAck {
            print(
                JSONStringifier.string(
                    .object(JSObject([("channel", .string(channel)), ("receivers", .number(Double(receivers)))]))
                ) ?? "{}"
            )
        }
    }

    private func parsedArguments() throws -> [JSValue] {
        try arguments.enumerated().map { index, text in
            do {
                return try JSONParser().parse(Array(text.utf8))
            } catch {
                throw ValidationError("argument \(index + 1) is not a JSON value (\(error)); quote strings: '\"text\"'")
            }
        }
    }

    private static func randomId() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<8).map { _ in String(UInt8.random(in: 0...255, using: &generator), radix: 16) }
            .map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        return "busctl-\(hex)"
    }
}

/// One confirmation as a line of text.
enum ConfirmationText {
    static func line(_ c: DeliveryRecord.Confirmation) -> String {
        var text = "\(c.status.rawValue.padding(12)) \(c.socketId)  node \(c.node)  \(c.latencyMilliseconds) ms"
        if let arguments = c.arguments { text += "  args \(JSONStringifier.string(.array(arguments)) ?? "[]")" }
        return text
    }
}
