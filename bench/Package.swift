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
    ],
    dependencies: [
        .package(name: "socketbus", path: "..")
    ],
    targets: [
        // Counts malloc/calloc/realloc/memalign calls; Linux (glibc) only.
        .target(name: "CAllocCounter"),
        .executableTarget(
            name: "CodecBench",
            dependencies: [
                "CAllocCounter",
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
                .product(name: "BusCore", package: "socketbus"),
                .product(name: "Hiredis", package: "socketbus"),
            ]
        ),
        .executableTarget(
            name: "DeliveryBench",
            dependencies: [
                "BenchSupport",
                .product(name: "BusCore", package: "socketbus"),
                .product(name: "Hiredis", package: "socketbus"),
                .product(name: "LocalProtocol", package: "socketbus"),
                .product(name: "SocketIOCodec", package: "socketbus"),
            ]
        ),
    ]
)
