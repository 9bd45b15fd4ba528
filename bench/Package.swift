// swift-tools-version:6.1
import PackageDescription

// Benchmarks for socketbus, kept in their own package so that the allocation
// counter (which replaces malloc for the whole process) never reaches the
// project's own executables and tests. Run with `make bench`.
//
let package = Package(
    name: "socketbus-bench",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "codec-bench", targets: ["CodecBench"]),
        .executable(name: "registry-bench", targets: ["RegistryBench"]),
        .executable(name: "delivery-bench", targets: ["DeliveryBench"]),
        .executable(name: "request-bench", targets: ["RequestBench"]),
        .executable(name: "cluster-bench", targets: ["ClusterBench"]),
        .executable(name: "subscriber-bench", targets: ["SubscriberBench"]),
    ],
    dependencies: [
        .package(name: "socketbus", path: "..")
    ],
    targets: [
        // Counts malloc/calloc/realloc/memalign calls; Linux (glibc) only.
        .target(name: "CAllocCounter"),
        // Progress lines on stderr ("started", "done in"), shared by every bench.
        .target(name: "BenchProgress"),
        // codec-bench's anchor: msgpack_unpack alone, in C (Debian libmsgpack-dev).
        .target(name: "CMsgPackBaseline", linkerSettings: [.linkedLibrary("msgpackc")]),
        .executableTarget(
            name: "CodecBench",
            dependencies: [
                "CAllocCounter",
                "BenchProgress",
                "CMsgPackBaseline",
                .product(name: "SocketIOCodec", package: "socketbus"),
                .product(name: "MsgPack", package: "socketbus"),
            ]
        ),
        // A throw-away redis-server, CPU clocks, percentiles.
        .target(name: "BenchSupport", dependencies: [.product(name: "Hiredis", package: "socketbus")]),
        .executableTarget(
            name: "RegistryBench",
            dependencies: [
                "BenchSupport",
                "BenchProgress",
                .product(name: "BusCore", package: "socketbus"),
                .product(name: "Hiredis", package: "socketbus"),
            ]
        ),
        .executableTarget(
            name: "DeliveryBench",
            dependencies: [
                "BenchSupport",
                "BenchProgress",
                .product(name: "BusCore", package: "socketbus"),
                .product(name: "Hiredis", package: "socketbus"),
                .product(name: "LocalProtocol", package: "socketbus"),
                .product(name: "SocketIOCodec", package: "socketbus"),
            ]
        ),
        .executableTarget(
            name: "RequestBench",
            dependencies: [
                "BenchSupport",
                "BenchProgress",
                .product(name: "BusCore", package: "socketbus"),
                .product(name: "Hiredis", package: "socketbus"),
                .product(name: "SocketIOCodec", package: "socketbus"),
            ]
        ),
        .executableTarget(
            name: "ClusterBench",
            dependencies: [
                "BenchSupport",
                "BenchProgress",
                .product(name: "BusCore", package: "socketbus"),
                .product(name: "Hiredis", package: "socketbus"),
                .product(name: "LocalProtocol", package: "socketbus"),
                .product(name: "SocketIOCodec", package: "socketbus"),
            ]
        ),
        // The subscriber's read path alone (RedisConnection's inbox) over a Unix socket, TCP and TLS.
        .executableTarget(
            name: "SubscriberBench",
            dependencies: [
                "BenchSupport",
                "BenchProgress",
                .product(name: "BusCore", package: "socketbus"),
                .product(name: "Hiredis", package: "socketbus"),
            ]
        ),
    ]
)
