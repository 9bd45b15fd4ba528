// swift-tools-version:6.1
import PackageDescription

/// The git commit busd reports (`busd --version`, `socketbus_build_info`):
/// BUSD_BUILD_COMMIT in the build's environment (the Makefile sets it), kept
/// to the characters of a commit id or a tag; otherwise "unknown".
let buildCommit: String = {
    let given = Context.environment["BUSD_BUILD_COMMIT"] ?? ""
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
    guard !given.isEmpty, given.count <= 64, given.allSatisfy({ allowed.contains($0) }) else { return "unknown" }
    return given
}()

// socketbus: a sidecar for Socket.IO clusters (see docs/ and README.md).
//
// Layout: thin C modules (CHiredis, COpenSSL, CMsgPack, CCurl) that only make the Debian
// libraries importable; one Swift wrapper per C library (Hiredis, MsgPack, Curl)
// that owns every C pointer; a pure codec (SocketIOCodec) with no I/O; and
// the two executables.
let package = Package(
    name: "socketbus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "busd", targets: ["Busd"]),
        .executable(name: "busctl", targets: ["BusCtl"]),
        .library(name: "SocketIOCodec", targets: ["SocketIOCodec"]),
        .library(name: "MsgPack", targets: ["MsgPack"]),
        .library(name: "Hiredis", targets: ["Hiredis"]),
        .library(name: "BusCore", targets: ["BusCore"]),
        .library(name: "LocalProtocol", targets: ["LocalProtocol"]),
        .library(name: "Alerting", targets: ["Alerting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // The config file is YAML (busd.yaml): read with Yams, typed by BusConfig.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // TLS to Redis (rediss://): hiredis 0.14 has none, so socketbus runs
        // hiredis's codec over its own OpenSSL transport (Sources/Hiredis/TLS*).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CMsgPack",
            pkgConfig: "msgpack",
            providers: [.apt(["libmsgpack-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "Curl", dependencies: ["CCurl"]),
        // One C function returning the commit: a new commit recompiles one file and relinks busd.
        // glibc's mallopt options (macros Swift does not import): busd's malloc arenas.
        .target(name: "CMallocTuning"),
        .target(name: "CBuildInfo", cSettings: [.define("BUSD_BUILD_COMMIT", to: "\"\(buildCommit)\"")]),
        // `250ms`, `30s`, `5m`, `1h`: the one duration grammar of flags, files and the environment.
        .target(name: "Durations"),
        // busd's settings: the catalog, the YAML file, the layers (flags > env > file > defaults).
        .target(name: "BusConfig", dependencies: ["Durations", "Yams"]),
        // The loopback HTTP server of /healthz, /readyz and /metrics, and the Prometheus text format.
        .target(name: "StatusHTTP", dependencies: ["NamedThreads"]),
        // Threads named in the kernel too (busd-subscriber, alert-smtp, ...).
        .target(name: "NamedThreads"),
        // Outage alerts: the state machine, email and webhook channels (over libcurl).
        .target(
            name: "Alerting",
            dependencies: ["Curl", "NamedThreads", "Durations", .product(name: "Logging", package: "swift-log")]
        ),
        // Command-line option groups shared by busd and busctl.
        .target(
            name: "BusOptions",
            dependencies: ["Alerting", "BusConfig", "BusCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(name: "MsgPack", dependencies: ["CMsgPack"]),
        .target(name: "Hiredis", dependencies: ["CHiredis", "COpenSSL"]),
        .target(name: "SocketIOCodec", dependencies: ["MsgPack"]),
        .target(name: "LocalProtocol"),
        // The adapter's request protocol as pure state machines (no I/O): requests in, actions out.
        .target(name: "ClusterRequests", dependencies: ["SocketIOCodec"]),
        .target(
            name: "BusCore",
            dependencies: [
                "SocketIOCodec",
                "ClusterRequests",
                "LocalProtocol",
                "Hiredis",
                "NamedThreads",
                "Durations",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "BusCtl",
            dependencies: [
                "SocketIOCodec",
                "Alerting",
                "BusOptions",
                "BusConfig",
                "StatusHTTP",
                "BusCore",
                "Hiredis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "Busd",
            dependencies: [
                "SocketIOCodec",
                "Alerting",
                "BusOptions",
                "BusConfig",
                "StatusHTTP",
                "BusCore",
                "Hiredis",
                "CBuildInfo",
                "CMallocTuning",
                "NamedThreads",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "MsgPackTests", dependencies: ["MsgPack"]),
        .testTarget(name: "DurationsTests", dependencies: ["Durations"]),
        .target(name: "TestSupport", dependencies: ["LocalProtocol", "Hiredis"], path: "Tests/TestSupport"),
        .testTarget(name: "HiredisTests", dependencies: ["Hiredis", "TestSupport"]),
        .testTarget(
            name: "SocketIOCodecTests",
            dependencies: ["SocketIOCodec", "MsgPack", "TestSupport"],
            // node/ holds the generators of the Node.js-made fixtures.
            exclude: ["node"],
            resources: [.copy("Fixtures")]
        ),
        // Runs the built busctl binary; depending on the target makes SwiftPM build it first.
        .testTarget(
            name: "BusCtlTests", dependencies: ["BusCtl", "Busd", "BusCore", "Hiredis", "SocketIOCodec", "TestSupport"]),
        // Real servers: Tests/Sinks/*.py (aiosmtpd, an HTTP listener), outside every target.
        .testTarget(
            name: "AlertingTests",
            dependencies: [
                "Alerting",
                "Curl",
                "BusOptions",
                "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "ClusterRequestsTests", dependencies: ["ClusterRequests", "SocketIOCodec"]),
        .testTarget(name: "LocalProtocolTests", dependencies: ["LocalProtocol", "TestSupport"]),
        .testTarget(name: "BusConfigTests", dependencies: ["BusConfig", "BusOptions", "BusCore", "Alerting"]),
        .testTarget(name: "StatusHTTPTests", dependencies: ["StatusHTTP"]),
        .testTarget(
            name: "BusCoreTests",
            dependencies: ["BusCore", "TestSupport", "Hiredis", "SocketIOCodec", "LocalProtocol"]
        ),
    ]
)

for target in package.targets where target.type != .system && target.name != "CBuildInfo" && target.name != "CMallocTuning" {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    target.swiftSettings = settings
}
