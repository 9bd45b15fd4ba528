import Alerting
import BusCore
import SocketIOCodec
import StatusHTTP

/// The three status endpoints:
///
/// - `/healthz`: 200 while the process serves requests at all (liveness).
/// - `/readyz`: 200 when Redis is reachable, the adapter subscription is
///   confirmed and the registry is written; 503 with the reasons otherwise.
/// - `/metrics`: the Prometheus text page (docs in README, Metrics).
enum StatusPages {
    /// `httpDrops` reads the status server's own counters (it exists after its handler).
    static func handler(
        member: ClusterMember,
        link: NodeLinkServer,
        alerter: OutageAlerter,
        trimmer: MallocTrimmer? = nil,
        httpDrops: @escaping @Sendable () -> StatusServer.DroppedConnections
    ) -> @Sendable (HTTPRequestHead) -> HTTPResponse {
        { head in
            switch head.path {
            case "/healthz":
                return .text(200, "ok")
            case "/readyz":
                let readiness = member.readiness
                if readiness.isReady { return .text(200, "ready") }
                var lines = ["not ready"] + readiness.reasons.map { "- \($0)" }
                if let ms = readiness.unreachableForMilliseconds { lines.append("redis unreachable for \(ms) ms") }
                return .text(503, lines.joined(separator: "\n"))
            case "/metrics":
                return HTTPResponse(
                    status: 200,
                    contentType: PrometheusText.contentType,
                    body: metrics(
                        member: member, link: link, alerter: alerter, trimmer: trimmer, httpDrops: httpDrops()
                    )
                )
            default:
                return .text(404, "not found: try /healthz, /readyz or /metrics")
            }
        }
    }

    static func metrics(
        member: ClusterMember,
        link: NodeLinkServer,
        alerter: OutageAlerter,
        trimmer: MallocTrimmer? = nil,
        httpDrops: StatusServer.DroppedConnections = .init()
    ) -> String {
        var page = PrometheusText()
        let statistics = member.statistics
        let acks = member.ackCounts
        let outbound = member.outbound
        let readiness = member.readiness
        page.add(
            "socketbus_info",
            .gauge,
            help: "This busd: node id, uid and version as labels.",
            labels: ["node": member.configuration.nodeId, "uid": member.uid, "version": member.configuration.version],
            value: 1
        )
        page.add(
            "socketbus_start_time_seconds",
            .gauge,
            help: "When this busd started, Unix time.",
            value: Double(member.startedAt) / 1000
        )
        page.add("socketbus_ready", .gauge, help: "1 when /readyz answers 200.", value: readiness.isReady ? 1 : 0)

        page.add(
            "socketbus_messages_received_total",
            .counter,
            help: "Adapter messages received from Redis.",
            value: statistics.received
        )
        page.add(
            "socketbus_messages_delivered_total",
            .counter,
            help: "Broadcasts queued for the node as DELIVER frames (one per message, whatever the socket count).",
            value: link.deliveredFrameCount
        )
        page.add(
            "socketbus_messages_dropped_total",
            .counter,
            help: "Messages dropped, by reason.",
            by: "reason",
            [
                "no_node": link.droppedWithoutNodeCount, "node_backlog": link.droppedFrameCount,
                "outbound_full": outbound.dropped, "unframable": link.unframableCount,
                "subscriber_backlog": member.subscriberBacklogDropped,
            ]
        )
        page.add(
            "socketbus_messages_ignored_total",
            .counter,
            help: "Messages not for this node, by reason (not errors).",
            by: "reason",
            [
                "own": statistics.ownDropped, "no_local_room": statistics.filteredBeforeDecode,
                "no_local_namespace": statistics.namespaceFilteredBeforeDecode,
                "other_request": statistics.responsesSkipped,
            ]
        )
        page.add(
            "socketbus_channel_filter_fenced_total",
            .counter,
            help: "Broadcasts with no local target in the registry, passed on because the node link had frames not yet applied.",
            value: statistics.keptByLinkFence
        )
        page.add(
            "socketbus_messages_malformed_total",
            .counter,
            help: "Adapter messages that did not decode (skipped).",
            value: statistics.malformed
        )
        page.add(
            "socketbus_requests_applied_total",
            .counter,
            help: "Emitter requests applied (join, leave, disconnect, serverSideEmit).",
            value: statistics.requestsApplied
        )
        let cluster = member.clusterStatistics
        for type in Self.requestTypes {
            page.add(
                "socketbus_cluster_requests_total",
                .counter,
                help: "Requests read from other servers and emitters, by type (as the adapter names it).",
                labels: ["type": type],
                value: cluster.requestsIn[type, default: 0]
            )
        }
        for kind in Self.issuedKinds {
            page.add(
                "socketbus_cluster_requests_issued_total",
                .counter,
                help: "The node's own cluster requests busd published, by kind.",
                labels: ["kind": kind],
                value: cluster.requestsOut[kind, default: 0]
            )
        }
        if let sharded = member.shardedStatistics {
            for type in ShardedMessageType.allCases.map({ $0.name.lowercased() }) {
                page.add(
                    "socketbus_sharded_messages_total",
                    .counter,
                    help: "Sharded-adapter (ClusterAdapter) messages read from other servers, by type.",
                    labels: ["type": type],
                    value: sharded.received[type, default: 0]
                )
            }
            page.add(
                "socketbus_sharded_malformed_total",
                .counter,
                help: "Messages on sharded channels that were no ClusterAdapter message a stock node could act on (skipped).",
                value: sharded.malformed
            )
            page.add(
                "socketbus_sharded_unpublishable_total",
                .counter,
                help: "Cluster messages without a sharded form, not published (none expected).",
                value: sharded.unpublishable
            )
            page.add(
                "socketbus_sharded_channels",
                .gauge,
                help: "Sharded channels busd is subscribed to (SSUBSCRIBE confirmed).",
                value: member.subscribedShardChannels.count
            )
            page.add(
                "socketbus_sharded_join_waits_total",
                .counter,
                help: "The node's joins that waited for Redis to confirm a new room channel's SSUBSCRIBE.",
                value: member.roomChannelWaitsStarted
            )
            page.add(
                "socketbus_sharded_join_waits_timed_out_total",
                .counter,
                help: "Of those, not confirmed within cluster.node_answer_timeout (the node was told).",
                value: member.roomChannelWaitsTimedOut
            )
        }
        for kind in ["fetch", "server_side_emit", "custom", "delivered"] {
            page.add(
                "socketbus_node_answers_missed_total",
                .counter,
                help:
                    "Cluster requests the node did not answer within cluster.node_answer_timeout (busd answered for it).",
                labels: ["kind": kind],
                value: cluster.answersMissed[kind, default: 0]
            )
        }

        page.add(
            "socketbus_ack_ids_injected_total",
            .counter,
            help: "Deliveries given an ack id.",
            value: acks.injected
        )
        page.add(
            "socketbus_confirmations_total",
            .counter,
            help: "Delivery confirmations written, by status.",
            by: "status",
            ["delivered": acks.delivered, "timeout": acks.timedOut, "disconnected": acks.disconnected]
        )
        page.add("socketbus_acks_pending", .gauge, help: "Sockets whose ack is awaited.", value: acks.pending)

        page.add("socketbus_registry_sockets", .gauge, help: "Sockets this node owns.", value: member.socketCount)
        page.add(
            "socketbus_registry_rewrites_total",
            .counter,
            help: "Full rewrites of this node's registry in Redis.",
            value: member.registryRewrites
        )
        page.add(
            "socketbus_redis_connected",
            .gauge,
            help: "1 when both Redis connections are up.",
            value: member.isRedisConnected ? 1 : 0
        )
        page.add(
            "socketbus_redis_reconnects_total",
            .counter,
            help: "Reconnections of the adapter subscription.",
            value: member.redisReconnects
        )
        page.add(
            "socketbus_redis_sentinel_switches_total",
            .counter,
            help: "Master switches announced by the sentinels (redis+sentinel:// only).",
            value: member.sentinelSwitches
        )
        page.add(
            "socketbus_redis_data_loss_total",
            .counter,
            help: "Times Redis closed the subscriber while it kept running (output buffer limit): messages lost.",
            value: member.redisDataLossCount
        )
        page.add(
            "socketbus_subscriber_backlog_bytes",
            .gauge,
            help: "Bytes read from Redis and not routed yet.",
            value: member.subscriberBacklogBytes
        )
        let redisCluster = ClusterStatistics.shared
        page.add(
            "socketbus_redis_cluster_redirects_total",
            .counter,
            help: "Redis Cluster redirections followed, by kind.",
            by: "kind",
            ["moved": redisCluster.moved, "ask": redisCluster.asked]
        )
        page.add(
            "socketbus_redis_cluster_retries_total",
            .counter,
            help: "Redis Cluster TRYAGAIN and CLUSTERDOWN answers waited out or given up on.",
            value: redisCluster.retries
        )
        page.add(
            "socketbus_redis_cluster_shard_resubscribes_total",
            .counter,
            help: "Sharded adapter channels subscribed again on another Redis Cluster master, by reason.",
            by: "reason",
            [
                "moved": redisCluster.shardResubscribes["moved", default: 0],
                "ended": redisCluster.shardResubscribes["ended", default: 0],
                "link_lost": redisCluster.shardResubscribes["link_lost", default: 0],
            ]
        )
        page.add(
            "socketbus_redis_cluster_topology_reads_total",
            .counter,
            help: "Redis Cluster slot tables (CLUSTER SLOTS) read.",
            value: redisCluster.topologyReads
        )
        page.add(
            "socketbus_redis_cluster_entries_skipped_total",
            .counter,
            help: "CLUSTER SLOTS entries dropped: a slot, port or host that cannot be used.",
            value: redisCluster.skippedEntries
        )
        page.add(
            "socketbus_redis_unreachable_seconds",
            .gauge,
            help: "How long the current outage has lasted; 0 when none.",
            value: Double(readiness.unreachableForMilliseconds ?? 0) / 1000
        )
        page.add(
            "socketbus_outbound_buffered",
            .gauge,
            help: "Commands for Redis waiting (node broadcasts, delivery records).",
            value: outbound.waiting
        )
        page.add("socketbus_outbound_buffer_limit", .gauge, help: "The bound of that buffer.", value: outbound.limit)
        page.add(
            "socketbus_outbound_published_total",
            .counter,
            help: "Commands Redis took.",
            value: outbound.published
        )
        page.add(
            "socketbus_outbound_replayed_total",
            .counter,
            help: "Commands published after waiting out an outage.",
            value: outbound.replayed
        )

        let sends = "socketbus_alert_sends_total"
        let sendsHelp = "Alert notifications per channel and result."
        for channel in alerter.counters {
            page.add(
                sends,
                .counter,
                help: sendsHelp,
                labels: ["channel": channel.channel, "result": "sent"],
                value: channel.sent
            )
            page.add(
                sends,
                .counter,
                help: sendsHelp,
                labels: ["channel": channel.channel, "result": "failed"],
                value: channel.failed
            )
            page.add(
                sends,
                .counter,
                help: sendsHelp,
                labels: ["channel": channel.channel, "result": "dropped"],
                value: channel.dropped
            )
        }
        page.add(
            "socketbus_local_connections",
            .gauge,
            help: "Connector connections on the Unix socket.",
            value: link.connectionCount
        )
        page.add(
            "socketbus_local_connections_refused_total",
            .counter,
            help: "Connector connections refused or closed early, by reason.",
            by: "reason",
            ["limit": link.refusedConnectionCount, "handshake_timeout": link.handshakeTimeoutCount]
        )
        page.add(
            "socketbus_local_frames_rejected_total",
            .counter,
            help: "Well-formed frames from the node whose content busd could not use (answered with ERROR 6).",
            value: link.rejectedFrameCount
        )
        page.add(
            "socketbus_local_queued_bytes",
            .gauge,
            help: "Bytes queued for the node, all connections.",
            value: link.queuedBytes
        )
        page.add(
            "socketbus_local_queue_budget_bytes",
            .gauge,
            help: "The bound of those bytes (socket.queue_budget).",
            value: link.queueBudgetBytes
        )
        page.add(
            "socketbus_http_connections_dropped_total",
            .counter,
            help: "Status endpoint connections closed without an answer, by reason.",
            by: "reason",
            [
                "deadline": httpDrops.timedOut, "evicted": httpDrops.evicted, "refused": httpDrops.refused,
                "accept_failed": httpDrops.acceptFailures,
            ]
        )
        addLatencyHistograms(to: &page)
        ProcessMetrics.read().add(to: &page)
        if let arenas = MallocTuning.arenaCount() {
            page.add(
                "socketbus_malloc_arenas",
                .gauge,
                help: "glibc malloc arenas in busd (at most 2 unless MALLOC_ARENA_MAX says otherwise).",
                value: arenas
            )
        }
        if let trimmer {
            page.add(
                "socketbus_malloc_trims_total",
                .counter,
                help: "malloc_trim calls after a backlog of 1 MiB or more (Redis backlog and node queues) drained.",
                value: trimmer.trimCount
            )
        }
        page.add(
            "socketbus_build_info",
            .gauge,
            help: "The build: version (as busd --version) and git commit (unknown: not stamped at build time).",
            labels: ["version": BuildInfo.version, "commit": BuildInfo.commit],
            value: 1
        )
        return page.text
    }

    /// The request types of `socketbus_cluster_requests_total` (modern, then socket.io-redis 5.x).
    static let requestTypes = [
        "SOCKETS", "ALL_ROOMS", "REMOTE_JOIN", "REMOTE_LEAVE", "REMOTE_DISCONNECT", "REMOTE_FETCH", "SERVER_SIDE_EMIT",
        "BROADCAST", "clients", "clientRooms", "allRooms", "remoteJoin", "remoteLeave", "remoteDisconnect",
        "customRequest", "unknown",
    ]

    static let issuedKinds = [
        "server_count", "fetch_sockets", "all_rooms", "sockets_join", "sockets_leave", "disconnect_sockets",
        "server_side_emit", "server_side_emit_with_ack", "broadcast_with_ack",
    ]
}
