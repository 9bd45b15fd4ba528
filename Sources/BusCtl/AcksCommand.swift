import ArgumentParser
import BusCore
import Hiredis
import SocketIOCodec

#if canImport(Glibc)
    import Glibc
#endif

/// `busctl acks`: the delivery records of a message, or all of them live.
struct AcksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acks",
        abstract: "Show a message's delivery confirmations, or stream them with --follow.",
        discussion: """
            Records are kept in Redis for busd's --confirmation-ttl (1h by default). With a \
            message id, the stored records are printed first; --follow then keeps printing new \
            ones (of that message, or of every message without an id) until interrupted or \
            --count records were printed.

            Exit status without --follow: 0 records found, 2 none stored for that id, \
            \(RedisFailure.exitStatusHelp), 1 other error.
            """
    )

    @Argument(help: "The message id (the publisher's, or the payload digest).")
    var messageId: String?

    @Flag(name: .long, help: "Keep printing records as they are published.")
    var follow = false

    @Option(name: .long, help: "With --follow: exit after this many records.")
    var count: Int?

    @OptionGroup var options: RedisOptions

    func validate() throws {
        if messageId == nil && !follow {
            throw ValidationError("give a message id, or --follow to stream every message's records")
        }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
    }

    func run() throws {
        let lookup = try options.lookup()
        do {
            // Subscribe first, so nothing published between the two is lost.
            let feed =
                follow
                ? try DeliveryRecordFeed(connection: try options.connect(), keys: options.keys, messageId: messageId)
                : nil
            var printed = 0
            if let messageId {
                let stored = try lookup.deliveryRecords(messageId: messageId)
                if options.json && !follow {
                    print(JSONStringifier.string(.array(stored.map(\.jsValue))) ?? "[]")
                } else {
                    for record in stored { show(record) }
                }
                printed = stored.count
                if stored.isEmpty && !follow {
                    if !options.json { printError("no delivery records for message \(messageId)") }
                    throw ExitCode(2)
                }
            }
            guard let feed else { return }
            while count.map({ printed < $0 }) ?? true {
                guard let record = try feed.next(timeout: .seconds(3600)) else { continue }
                show(record)
                printed += 1
            }
        } catch let error as RedisError {
            throw options.failure("acks", error)
        }
    }

    private func show(_ record: DeliveryRecord) {
        if options.json {
            print(record.json)
            return
        }
        switch record {
        case .dispatched(let d):
            print(
                "\("dispatched".padding(12)) \(d.messageId)  node \(d.node)  \(d.sockets.count) socket(s): \(d.sockets.joined(separator: " "))"
            )
        case .confirmation(let c):
            print((follow && messageId == nil ? "\(c.messageId)  " : "") + ConfirmationText.line(c))
        }
        fflush(nil)  // a pipe reader sees each record at once
    }
}
