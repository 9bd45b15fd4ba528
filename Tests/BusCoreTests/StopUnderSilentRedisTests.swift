import BusCore
import Foundation
import Hiredis
import Logging
import Synchronization
import Testing
import TestSupport

/// A member's threads must not outlive it. Its mirror thread used to be
/// waited for 5 s at most: with Redis silent and a longer Redis time-out,
/// `stop()` returned while the thread still waited for a reply, the member
/// was freed, and the reply's time-out then ran the member's callbacks from
/// that thread (a read of a freed member: a crash).
@Suite("stopping a member whose Redis does not answer", .serialized)
struct StopUnderSilentRedisTests {
    @Test func stopWaitsForTheMirrorAndNoCallbackComesAfterIt() throws {
        let server = try RedisTestServer()
        defer { server.thaw() }
        let stopped = Atomic<Bool>(false)
        let lateCallbacks = Atomic<Int>(0)
        // Longer than the old 5 s limit of the mirror's stop.
        let redisTimeout = Duration.seconds(7)
        weak var released: ClusterMember?
        var stopReturned = ContinuousClock.now
        var frozenAt = ContinuousClock.now
        do {
            var configuration = ClusterMember.Configuration(
                redis: try RedisConfiguration(url: server.url),
                nodeId: "silent"
            )
            configuration.redisTimeout = redisTimeout
            // The subscriber idles: only the mirror meets the silence.
            configuration.pingInterval = .seconds(60)
            configuration.pingTimeout = .seconds(60)
            // Nor does the mirror have anything of its own to do meanwhile.
            configuration.livenessTTL = .seconds(180)
            configuration.cleanupInterval = .seconds(60)
            var logger = Logger(label: "test.silent")
            logger.logLevel = .critical
            let member = ClusterMember(
                configuration: configuration,
                logger: logger,
                onAvailability: { _ in if stopped.load(ordering: .acquiring) { lateCallbacks.add(1, ordering: .relaxed) } },
                onFailure: { _ in if stopped.load(ordering: .acquiring) { lateCallbacks.add(1, ordering: .relaxed) } }
            ) { _ in }
            member.start()
            #expect(eventually { member.isRedisConnected && member.pendingRegistryWrites == 0 })

            server.freeze()
            frozenAt = .now
            member.socketConnected("written-to-a-silent-redis", namespace: "/")
            // The mirror has taken the change and waits for Redis's reply.
            #expect(eventually { member.pendingRegistryWrites == 0 })
            member.stop(leave: false)
            stopReturned = .now
            stopped.store(true, ordering: .releasing)
            released = member
        }
        #expect(released == nil, "the member is freed once its owner lets it go")
        // The mirror's write, sent after the freeze, ended (timed out) before stop returned.
        let waited = stopReturned - frozenAt
        #expect(waited >= redisTimeout - .milliseconds(300), "stop returned \(waited) after the freeze")
        // Still silent past the write's time-out: a thread that outlived stop
        // would now fail that write and call the member back.
        let pastTimeOut = frozenAt + redisTimeout + .milliseconds(700)
        if ContinuousClock.now < pastTimeOut { Thread.sleep(forTimeInterval: (pastTimeOut - ContinuousClock.now).seconds) }
        server.thaw()
        Thread.sleep(forTimeInterval: 0.5)
        #expect(lateCallbacks.load(ordering: .relaxed) == 0)
    }
}
