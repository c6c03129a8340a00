// swift-tools-version:6.1
import PackageDescription

// Lets the SHA-256 of model downloads use the x86 SHA instructions (the code checks the CPU at run time).
#if arch(x86_64)
    let inferenceSwiftSettings: [SwiftSetting] = [
        .unsafeFlags(["-Xcc", "-msha", "-Xcc", "-msse4.1"], .when(platforms: [.linux, .macOS]))
    ]
#else
    let inferenceSwiftSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "assist",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "assist", targets: ["assist"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "Inference", targets: ["Inference"]),
        .library(name: "Index", targets: ["Index"]),
        .library(name: "Assistant", targets: ["Assistant"]),
        .library(name: "Server", targets: ["Server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
    ],
    targets: [
        .target(
            name: "Ingest",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // Hot numeric kernels in C: Swift's SIMD types do not lower to the int8 dot-product (VNNI) or BF16
        // instructions the quantized matmuls and the embedder need; the C entry points pick the instruction
        // set at run time. Optimized even in debug builds so tests run fast.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Inference", dependencies: ["CKernels"], swiftSettings: inferenceSwiftSettings),
        // Int8 dot-product scan of the vector index, same reasoning: VNNI/AVX2 chosen at run time.
        .target(name: "IndexKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "Index",
            dependencies: ["Ingest", "Inference", "IndexKernels", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "Assistant",
            dependencies: ["Index", "Ingest", "Inference", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        .target(
            name: "Server",
            dependencies: [
                "Assistant", "Index", "Inference", "Ingest",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "MCP", package: "swift-sdk"),
            ]
        ),
        .executableTarget(
            name: "assist",
            dependencies: [
                "Assistant", "Index", "Ingest", "Inference", "Server",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Speed of the built-in engine, llama-bench style (for development; `assist bench` is the user-facing one).
        .executableTarget(name: "engine-bench", dependencies: ["Inference", "CKernels"], path: "Sources/EngineBench"),
        // Ingest and retrieval speed against Python's mailbox/email on generated data.
        .executableTarget(name: "index-bench", dependencies: ["Index", "Ingest", "Inference"], path: "Benchmarks/IndexBench"),
        .testTarget(name: "IngestTests", dependencies: ["Ingest"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference"]),
        .testTarget(
            name: "IndexTests",
            dependencies: ["Index", "Ingest", "Inference", "IndexKernels", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["Resources"]),
        .testTarget(name: "AssistantTests", dependencies: ["Assistant", "Index", "Ingest", "Inference"]),
        // Drives the built `assist` binary with hostile files, crashes, concurrency and a cut network.
        .testTarget(name: "CLITests", dependencies: ["Index", "Ingest"]),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "Assistant", "Index", "Ingest", "Inference", .product(name: "MCP", package: "swift-sdk"),
            ]
        ),
    ]
)
