// swift-tools-version:6.1
import PackageDescription

// Coverage-guided fuzz targets (libFuzzer) for what busd reads from Redis and
// from its node's socket. Kept out of the root package: every module here is
// built with `-sanitize=fuzzer,address` (scripts/fuzz.sh passes it), which must
// never reach busd, busctl or the test suites. One executable per target; its
// main.swift hands its test function to libFuzzer's LLVMFuzzerRunDriver
// (SwiftPM renames an executable's main, so libFuzzer's own cannot be used).
let package = Package(
    name: "socketbus-fuzz",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fuzz-codec", targets: ["FuzzCodec"]),
        .executable(name: "fuzz-local-frame", targets: ["FuzzLocalFrame"]),
        .executable(name: "fuzz-route", targets: ["FuzzRoute"]),
    ],
    dependencies: [
        .package(name: "socketbus", path: "..")
    ],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver, which each target's main calls.
        .target(name: "CFuzzDriver"),
        // Adapter payloads on a chosen channel kind: every decoder, then re-encoded.
        .executableTarget(
            name: "FuzzCodec",
            dependencies: [
                "CFuzzDriver",
                .product(name: "SocketIOCodec", package: "socketbus"),
                .product(name: "MsgPack", package: "socketbus"),
            ]
        ),
        // Node-socket byte streams in arbitrary chunks; every frame re-encoded.
        .executableTarget(
            name: "FuzzLocalFrame",
            dependencies: ["CFuzzDriver", .product(name: "LocalProtocol", package: "socketbus")]
        ),
        // busd's routing of a channel + payload pair, commands framed for the node.
        .executableTarget(
            name: "FuzzRoute",
            dependencies: [
                "CFuzzDriver",
                .product(name: "BusCore", package: "socketbus"),
                .product(name: "LocalProtocol", package: "socketbus"),
                .product(name: "SocketIOCodec", package: "socketbus"),
            ]
        ),
    ]
)
