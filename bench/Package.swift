// swift-tools-version:6.1
import PackageDescription

// Benchmarks for socketbus, kept in their own package so that the allocation
// counter (which replaces malloc for the whole process) never reaches the
// project's own executables and tests. Run with `make bench`.
//
// TO ENABLE THE CODEC CASES: uncomment the two lines marked "socketbus" below
// (the package dependency and the SocketIOCodec product). They are commented
// out only because the root package's SocketIOCodec did not build yet when this
// package was set up; the placeholder cases import nothing from it.
let package = Package(
    name: "socketbus-bench",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "codec-bench", targets: ["CodecBench"])
    ],
    dependencies: [
        // .package(name: "socketbus", path: ".."),  // socketbus
    ],
    targets: [
        // Counts malloc/calloc/realloc/memalign calls; Linux (glibc) only.
        .target(name: "CAllocCounter"),
        .executableTarget(
            name: "CodecBench",
            dependencies: [
                "CAllocCounter",
                // .product(name: "SocketIOCodec", package: "socketbus"),  // socketbus
            ]
        ),
    ]
)
