/// Every setting of busd (and of `busctl alert-test`, which shares the
/// `alerts.*` ones), in the order the README documents them.
public enum SettingsCatalog {
    public static let all: [SettingSpec] = node + redis + local + http + alerts

    /// By key, for lookups.
    public static let byKey: [String: SettingSpec] = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    /// By flag name (without dashes).
    public static let byFlag: [String: SettingSpec] = Dictionary(
        uniqueKeysWithValues: all.compactMap { spec in spec.flag.map { ($0, spec) } }
    )

    static let node: [SettingSpec] = [
        SettingSpec(
            "node.id",
            flag: "node-id",
            help: "This node's id in the registry. Default: the host name and the socket file's name, "
                + "`<host>/<socket name without .sock>` (e.g. `web1/busd`): stable across restarts, "
                + "so a restarted busd takes its entries back."
        ),
        SettingSpec(
            "node.namespaces",
            flag: "namespace",
            kind: .list,
            default: "/",
            help: "Namespaces the node serves (more are added as its sockets connect)."
        ),
        SettingSpec(
            "log.level",
            flag: "log-level",
            default: "info",
            help: "trace, debug, info, notice, warning, error or critical."
        ),
        SettingSpec(
            "log.format",
            flag: "log-format",
            default: "text",
            help: "`text` (one line, values with spaces quoted) or `json` (one object per line, for Loki/ELK)."
        ),
    ]

    static let redis: [SettingSpec] = [
        SettingSpec(
            "redis.url",
            flag: "redis",
            default: "redis://127.0.0.1:6379",
            help: "`redis://[user@]host:port/db`, `rediss://...` (TLS), `redis://host1:port1,host2:port2` (Redis Cluster "
                + "seeds), `unix:///path?db=N` or `redis+sentinel://[user@]host[:port][,host2[:port2]]/<master-name>[/db]` "
                + "(sentinels on 26379 by default; `rediss+sentinel://` for TLS; see Redis Sentinel). A password here is "
                + "accepted but shows in `ps`; prefer `redis.password_file` or `SOCKETBUS_REDIS_PASSWORD`."
        ),
        SettingSpec(
            "redis.password",
            flag: nil,
            secret: true,
            help: "The Redis password (environment only)."
        ),
        SettingSpec(
            "redis.password_file",
            flag: "redis-password-file",
            help: "A file holding the Redis password (read at start; a trailing line break is ignored)."
        ),
    ] + redisTLS + [
        SettingSpec(
            "redis.sentinel_username",
            flag: "redis-sentinel-username",
            help: "With a `redis+sentinel://` URL: the user the sentinels' own ACL wants (the URL's user is "
                + "the master's). Needs a sentinel password."
        ),
        SettingSpec(
            "redis.sentinel_password",
            flag: nil,
            secret: true,
            help: "With a `redis+sentinel://` URL: the sentinels' own password (environment only)."
        ),
        SettingSpec(
            "redis.sentinel_password_file",
            flag: "redis-sentinel-password-file",
            help: "A file holding the sentinels' password (read at start; a trailing line break is ignored)."
        ),
        SettingSpec(
            "redis.timeout",
            flag: "redis-timeout",
            default: "2s",
            help: "Connect and command time-out; also how long an unanswered PING may wait."
        ),
        SettingSpec(
            "redis.retry_initial",
            flag: "redis-retry-initial",
            default: "50ms",
            help: "First delay before reconnecting; it doubles per failed attempt."
        ),
        SettingSpec(
            "redis.retry_max",
            flag: "redis-retry-max",
            default: "500ms",
            help: "Cap of the reconnection delay (each delay is drawn from its upper half: jitter)."
        ),
        SettingSpec(
            "redis.subscriber_backlog",
            flag: "subscriber-backlog",
            default: "67108864",
            help: "Bytes of adapter messages read from Redis and not yet routed (64 MiB). busd reads as fast "
                + "as Redis sends, so Redis never cuts it for falling behind; what does not fit is dropped "
                + "and counted (`socketbus_messages_dropped_total{reason=\"subscriber_backlog\"}`)."
        ),
        SettingSpec(
            "redis.adapter_key",
            flag: "adapter-key",
            default: "socket.io",
            help: "The Socket.IO Redis adapter's channel prefix (its `key` option; `channelPrefix` of the "
                + "sharded adapter)."
        ),
        SettingSpec(
            "redis.adapter",
            flag: "adapter",
            default: "classic",
            help: "Which adapter the cluster's stock nodes use: `classic` (`createAdapter`, PUBLISH/SUBSCRIBE) "
                + "or `sharded` (`createShardedAdapter` of @socket.io/redis-adapter 8.2+, SPUBLISH/SSUBSCRIBE, "
                + "Redis 7+)."
        ),
        SettingSpec(
            "redis.sharded_subscription_mode",
            flag: "sharded-subscription-mode",
            default: "dynamic",
            help: "With `redis.adapter: sharded`, the stock `subscriptionMode`: `static` (namespace channels "
                + "only), `dynamic` (also one channel per room that is not a socket id) or `dynamic-private` "
                + "(one per room). Must match the stock nodes'."
        ),
        SettingSpec(
            "redis.prefix",
            flag: "prefix",
            default: "socketbus",
            help: "Prefix of socketbus's own keys and channels in Redis."
        ),
        SettingSpec(
            "registry.liveness_ttl",
            flag: "liveness-ttl",
            default: "15s",
            help: "How long a silent node counts as alive; then another busd removes its entries."
        ),
        SettingSpec(
            "outbound.buffer",
            flag: "outbound-buffer",
            default: "100000",
            help: "Commands for Redis (node broadcasts, delivery records) kept while Redis is away."
        ),
        SettingSpec(
            "outbound.overflow",
            flag: "outbound-overflow",
            default: "drop-oldest",
            help: "When that buffer is full: `drop-oldest` or `drop-newest`."
        ),
    ]

    /// TLS to Redis: used with a `rediss://` URL (an error with any other).
    static let redisTLS: [SettingSpec] = [
        SettingSpec(
            "redis.tls_ca_file",
            flag: "redis-tls-ca-file",
            help: "PEM file of the CAs that sign Redis's certificate (URL: `ssl_ca_certs`). Default: the system's store."
        ),
        SettingSpec(
            "redis.tls_cert_file",
            flag: "redis-tls-cert-file",
            help: "PEM client certificate for Redis servers that require one (mutual TLS; URL: `ssl_certfile`)."
        ),
        SettingSpec(
            "redis.tls_key_file",
            flag: "redis-tls-key-file",
            help: "PEM key of `redis.tls_cert_file` (URL: `ssl_keyfile`)."
        ),
        SettingSpec(
            "redis.tls_server_name",
            flag: "redis-tls-server-name",
            help: "Name sent as SNI and checked in Redis's certificate (URL: `ssl_server_hostname`). "
                + "Default: the host connected to."
        ),
        SettingSpec(
            "redis.tls_verify",
            flag: "redis-tls-verify",
            help: "`required` (the default: the chain and the host name are checked) or `none` "
                + "(URL: `ssl_cert_reqs`)."
        ),
    ]

    static let local: [SettingSpec] = [
        SettingSpec(
            "socket.path",
            flag: "socket",
            default: "/run/socketbus/busd.sock",
            help: "The Unix socket the node's connector connects to."
        ),
        SettingSpec(
            "socket.mode",
            flag: "socket-mode",
            default: "0660",
            help: "File mode of that socket, octal."
        ),
        SettingSpec(
            "socket.max_connections",
            flag: "socket-max-connections",
            default: "8",
            help: "Connector connections served at once (a node has one or a few); more are refused "
                + "with an ERROR frame before any thread is started for them."
        ),
        SettingSpec(
            "socket.handshake_timeout",
            flag: "socket-handshake-timeout",
            default: "5s",
            help: "How long a new connection may take to send HELLO before it is closed."
        ),
        SettingSpec(
            "socket.queue_budget",
            flag: "socket-queue-budget",
            default: "64",
            help: "MiB queued for the node over all its connections (at least 17: one largest frame), each "
                + "connection holding at most an equal share of it (so one that stops reading cannot starve the "
                + "others); frames past it are dropped and counted (`node_backlog`)."
        ),
        SettingSpec(
            "acks.policy",
            flag: "ack-policy",
            default: "requested",
            help: "Which broadcasts get an ack id: `all`, `requested` or `none`."
        ),
        SettingSpec(
            "acks.timeout",
            flag: "ack-timeout",
            default: "30s",
            help: "Longest wait for a client's ack; publishers may ask for less."
        ),
        SettingSpec(
            "cluster.node_answer_timeout",
            flag: "node-answer-timeout",
            default: "2s",
            help: "Longest wait for the node's answer to a cluster request; busd then answers for it."
        ),
        SettingSpec(
            "acks.retention",
            flag: "confirmation-ttl",
            default: "1h",
            help: "How long delivery records stay in Redis."
        ),
        SettingSpec(
            "drain.deadline",
            flag: "drain-deadline",
            default: "10s",
            help: "On SIGTERM/SIGINT: the longest busd takes to flush and leave before it exits."
        ),
    ]

    static let http: [SettingSpec] = [
        SettingSpec(
            "http.listen",
            flag: "http",
            default: "127.0.0.1:9477",
            help: "`host:port` of `/healthz`, `/readyz` and `/metrics`; `off` turns them off. "
                + "Loopback by default: nothing is served on public interfaces unless asked."
        )
    ]

    static let alerts: [SettingSpec] = [
        SettingSpec(
            "alerts.grace",
            flag: "alert-grace",
            default: "10s",
            help: "How long Redis must stay unreachable before the first alert."
        ),
        SettingSpec(
            "alerts.repeat",
            flag: "alert-repeat",
            default: "1h",
            help: "How often the alert repeats while the outage lasts; `0` for never."
        ),
        SettingSpec(
            "alerts.role",
            flag: "alert-role",
            default: "elected",
            help: "Which busd sends: `elected` (the first `alerts.senders` node ids), `always` or `never`."
        ),
        SettingSpec(
            "alerts.senders",
            flag: "alert-senders",
            default: "1",
            help: "With role `elected`: how many nodes of the cluster send alerts."
        ),
        SettingSpec(
            "alerts.smtp.url",
            flag: "smtp-url",
            help: "Mail server: `smtp://host:port` (STARTTLS per `alerts.smtp.starttls`) or `smtps://host:port`."
        ),
        SettingSpec(
            "alerts.smtp.starttls",
            flag: "smtp-starttls",
            default: "try",
            help: "STARTTLS on `smtp://` URLs: `off`, `try` or `require`."
        ),
        SettingSpec("alerts.smtp.user", flag: "smtp-user", help: "SMTP AUTH user name."),
        SettingSpec(
            "alerts.smtp.password",
            flag: nil,
            secret: true,
            help: "The SMTP password (environment only)."
        ),
        SettingSpec(
            "alerts.smtp.password_file",
            flag: "smtp-password-file",
            help: "A file holding the SMTP password."
        ),
        SettingSpec("alerts.smtp.from", flag: "smtp-from", help: "Sender address, e.g. `busd@example.com`."),
        SettingSpec("alerts.smtp.to", flag: "smtp-to", kind: .list, help: "Recipient addresses."),
        SettingSpec(
            "alerts.smtp.ca_file",
            flag: "smtp-ca-file",
            help: "PEM file of the CA(s) to trust for the mail server."
        ),
        SettingSpec(
            "alerts.smtp.insecure",
            flag: "smtp-insecure",
            kind: .boolean,
            default: "false",
            help: "Do not verify the mail server's certificate (tests, self-signed servers)."
        ),
        SettingSpec(
            "alerts.smtp.timeout",
            flag: "smtp-timeout",
            default: "10s",
            help: "Time-out of one SMTP attempt."
        ),
        SettingSpec(
            "alerts.smtp.retries",
            flag: "smtp-retries",
            default: "2",
            help: "SMTP retries after a failed attempt (0-10)."
        ),
        SettingSpec(
            "alerts.webhook.urls",
            flag: "webhook-url",
            kind: .list,
            help: "URLs the alert is POSTed to as JSON."
        ),
        SettingSpec(
            "alerts.webhook.token",
            flag: nil,
            secret: true,
            help: "A bearer token for the webhooks (environment only)."
        ),
        SettingSpec(
            "alerts.webhook.token_file",
            flag: "webhook-token-file",
            help: "A file holding a bearer token for the webhooks."
        ),
        SettingSpec(
            "alerts.webhook.timeout",
            flag: "webhook-timeout",
            default: "5s",
            help: "Time-out of one webhook attempt."
        ),
        SettingSpec(
            "alerts.webhook.retries",
            flag: "webhook-retries",
            default: "2",
            help: "Webhook retries after a failed attempt (0-10)."
        ),
        SettingSpec(
            "alerts.webhook.ca_file",
            flag: "webhook-ca-file",
            help: "PEM file of the CA(s) to trust for https webhooks."
        ),
        SettingSpec(
            "alerts.webhook.insecure",
            flag: "webhook-insecure",
            kind: .boolean,
            default: "false",
            help: "Do not verify the webhooks' certificates."
        ),
    ]
}
