import ArgumentParser
import BusCore
import SocketIOCodec

#if canImport(Glibc)
    import Glibc
#endif

/// What `emit --wait-ack` waits for: busd nodes' delivery records (per
/// socket) and, when targets are on servers without busd, the adapter's
/// client counts and ack values for the acked broadcast.
struct EmitWait {
    var feed: DeliveryRecordFeed
    var messageId: String
    /// nil when socketbus's broadcast was not published (every target is on a server without busd).
    var socketbus: DeliveryWait?
    var stock: (feed: ResponseFeed, wait: StockAckWait)?
    /// Every counted server answered the target lookup.
    var lookupComplete: Bool

    /// A quiet period after publishing with no dispatch record means no busd
    /// node had a target (only consulted when the stock part has some).
    static let quietPeriod: Duration = .milliseconds(250)
}

extension EmitCommand {
    func awaitConfirmations(_ initial: EmitWait, deadline: ContinuousClock.Instant) throws {
        var wait = initial
        let clock = ContinuousClock()
        let publishedAt = clock.now
        func socketbusSettled(_ now: ContinuousClock.Instant) -> Bool {
            guard let state = wait.socketbus else { return true }
            if state.isComplete(at: now) { return true }
            return wait.stock != nil && state.expected.isEmpty && state.dispatchingNodes.isEmpty
                && now - publishedAt >= EmitWait.quietPeriod
        }
        while !(socketbusSettled(clock.now) && (wait.stock?.wait.isComplete ?? true)) {
            let left = deadline - clock.now
            guard left > .zero else { break }
            // Short polls: a quiet period may be running out, and two feeds share the time.
            let slice: Duration = wait.stock == nil ? .milliseconds(50) : .milliseconds(10)
            do {
                if wait.socketbus != nil, let record = try wait.feed.next(timeout: min(left, slice)) {
                    if options.json { print(record.json) }
                    if let confirmation = wait.socketbus?.take(record, at: clock.now), !options.json {
                        print(ConfirmationText.line(confirmation))
                    }
                }
                if let stockFeed = wait.stock?.feed, let response = try stockFeed.next(timeout: min(left, slice)),
                    let event = wait.stock?.wait.take(response.message)
                {
                    printStockEvent(event, requestId: wait.stock?.wait.requestId ?? "")
                }
            } catch {
                throw options.failure("emit: while waiting for confirmations", error)
            }
            fflush(nil)
        }
        try report(wait)
    }

    private func printStockEvent(_ event: StockAckWait.Event, requestId: String) {
        switch event {
        case .clientCount(let count):
            if options.json {
                print(
                    JSONStringifier.string(
                        .object(
                            JSObject([
                                ("type", .string("stockClientCount")), ("requestId", .string(requestId)),
                                ("clientCount", .number(Double(count))),
                            ])
                        )
                    ) ?? "{}"
                )
            } else if count > 0 {
                // Every server answers with its count; busd nodes (and stock nodes without a
                // target) say 0, which only the summary's server tally needs.
                print("\("stock count".padding(12)) \(count) client(s) on a server without busd (no socket ids)")
            }
        case .ack(let argument):
            let text = JSONStringifier.string(argument) ?? "undefined"
            if options.json {
                print(
                    JSONStringifier.string(
                        .object(
                            JSObject([
                                ("type", .string("stockAck")), ("requestId", .string(requestId)), ("arg", argument),
                            ])
                        )
                    ) ?? "{}"
                )
            } else {
                print("\("stock ack".padding(12)) \(Printable.text(text))  (a client on a server without busd)")
            }
        }
    }

    /// The summary, and the exit status.
    private func report(_ wait: EmitWait) throws {
        let state = wait.socketbus
        let stock = wait.stock?.wait
        let unsettled = state?.unsettled ?? []
        let delivered = state.map { s in s.outcomes.values.filter { $0.status == .delivered }.count } ?? 0
        let expected = state?.expected.count ?? 0
        if options.json {
            var object = JSObject([
                ("messageId", .string(wait.messageId)), ("expected", .number(Double(expected))),
                ("delivered", .number(Double(delivered))), ("unanswered", .array(unsettled.map(JSValue.string))),
            ])
            if let stock { object["stock"] = stock.jsValue }
            if !wait.lookupComplete { object["lookupComplete"] = .bool(false) }
            print(JSONStringifier.string(.object(object)) ?? "{}")
        } else {
            for socket in unsettled { print("no answer  \(socket)  (nothing within \(timeout))") }
            if state != nil && stock != nil && expected == 0 {
                print("socketbus nodes: no target on a busd node, message id \(wait.messageId)")
            } else if state != nil {
                print(
                    (stock == nil ? "" : "socketbus nodes: ")
                        + "\(delivered)/\(expected) delivered, message id \(wait.messageId)"
                )
            }
            if let stock { print(stock.summary) }
        }
        let stockHadTargets = (stock?.clients ?? 0) > 0
        // A server that did not answer the target lookup may hold targets: that is not "nobody".
        if expected == 0 && !stockHadTargets && !wait.lookupComplete { throw ExitCode(2) }
        if expected == 0 && !stockHadTargets {
            // Servers that never reported may have had targets: that is not "nobody".
            if let stock, !stock.isComplete {
                printError(
                    "busctl emit: no client was reached; \(stock.servers - stock.answeredServers) server(s) did not report"
                )
                throw ExitCode(2)
            }
            printError("busctl emit: no node had a target for this message")
            throw ExitCode(3)
        }
        let socketbusDone = state.map { $0.expected.isEmpty || $0.allDelivered } ?? true
        if !socketbusDone || !(stock?.isComplete ?? true) || !wait.lookupComplete { throw ExitCode(2) }
    }
}
