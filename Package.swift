// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "assist",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "assist", targets: ["assist"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "Inference", targets: ["Inference"]),
        .library(name: "Index", targets: ["Index"]),
        .library(name: "Assistant", targets: ["Assistant"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(
            name: "Ingest",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // Hot numeric kernels in C: Swift's SIMD types do not lower to the int8 dot-product instructions
        // (vpdpbusd/vpmaddubsw) the quantized matmuls need. Optimized even in debug builds so tests run fast.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "Inference",
            dependencies: ["CKernels"],
            // Lets the SHA-256 of model downloads use the x86 SHA instructions (checked for at run time).
            swiftSettings: [.unsafeFlags(["-Xcc", "-msha", "-Xcc", "-msse4.1"], .when(platforms: [.linux]))]
        ),
        .target(
            name: "Index",
            dependencies: ["Ingest", "Inference", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(name: "Assistant", dependencies: ["Index", "Ingest", "Inference"]),
        .executableTarget(
            name: "assist",
            dependencies: [
                "Assistant", "Index", "Ingest", "Inference",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Speed of the built-in engine, llama-bench style (for development; `assist bench` is the user-facing one).
        .executableTarget(name: "engine-bench", dependencies: ["Inference", "CKernels"], path: "Sources/EngineBench"),
        .testTarget(name: "IngestTests", dependencies: ["Ingest"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference"]),
        .testTarget(name: "IndexTests", dependencies: ["Index", "Ingest", "Inference"]),
        .testTarget(name: "AssistantTests", dependencies: ["Assistant", "Index", "Ingest", "Inference"]),
    ]
)
