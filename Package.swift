// swift-tools-version:6.0
// Causa: distributed causal statistics over logged recommendation data.
// Layers depend one way only; see docs/ARCHITECTURE.md.
import PackageDescription

let package = Package(
    name: "Causa",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "causa", targets: ["causa"]),
        .library(name: "Statistics", targets: ["Statistics"]),
        .library(name: "Tabular", targets: ["Tabular"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0")
    ],
    targets: [
        // C libraries from Debian, through pkg-config. Not API: only the wrappers above them import these.
        // libzmq's headers are in /usr/include; its pkg-config file adds krb5 include flags that SwiftPM rejects
        // with a warning, so the module map links it directly.
        .systemLibrary(
            name: "CZeroMQ",
            providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),

        // Thin, safe wrapper over libzmq: context, sockets, multipart messages, poller, options.
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"]),
        // Seeded random generators and stable hashes (xoshiro256**, SplitMix64, FNV-1a): one definition for every
        // layer that must give the same bits in every process. Foundation only.
        .target(name: "StableRandom"),
        // CSV reading with typed, positioned errors.
        .target(name: "Tabular"),
        // The encoder's elementwise kernels (GELU, softmax, LayerNorm) in C, built for AVX-512, AVX2 and baseline
        // x86-64 with run-time dispatch (SwiftPM compiles Swift for baseline x86-64 only). Not API.
        .target(name: "CEncoderKernels"),
        // WordPiece tokenizer, MiniLM sentence encoder (OpenBLAS sgemm), hashing encoder, safetensors, embedding cache.
        .target(
            name: "Encoders",
            dependencies: [
                "COpenBLAS", "CEncoderKernels", "StableRandom",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto")
            ]),
        // Formulas, design matrices, moment matrices, OLS, logit pieces, CV. No sockets, no files.
        .target(name: "Statistics", dependencies: ["COpenBLAS", "StableRandom"]),
        // Off-policy estimators, policy learning, constraints; re-exports StableRandom. No sockets, no job files.
        .target(name: "Causal", dependencies: ["Statistics", "StableRandom"]),
        // `causa simulate`: semi-synthetic logged recommendation data with known truth. Foundation only.
        .target(name: "Simulation", dependencies: ["StableRandom"]),
        // Job files, per-shard computation, the fit driver (round planning), reports. No sockets.
        .target(
            name: "Jobs",
            dependencies: [
                "Tabular", "Statistics", "Causal", "Encoders", "StableRandom",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Logging", package: "swift-log")
            ]),
        // The only layer that knows about sockets: wire schema, coordinator, worker, shard ownership, heartbeats.
        .target(
            name: "Cluster",
            dependencies: [
                "ZeroMQ", "Jobs", "Statistics", "Causal", "Tabular", "StableRandom",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log")
            ],
            exclude: ["causa.proto"]),
        .executableTarget(
            name: "causa",
            dependencies: [
                "Cluster", "Jobs", "Encoders", "Statistics", "Simulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log")
            ]),

        // Fixture paths, scratch folders, job-file writers and assertions shared by the test targets (imports XCTest;
        // linked into tests only).
        .target(name: "CausaTestSupport", dependencies: ["Statistics"], path: "Tests/CausaTestSupport"),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(name: "TabularTests", dependencies: ["Tabular"]),
        .testTarget(name: "StatisticsTests", dependencies: ["Statistics", "StableRandom", "CausaTestSupport"]),
        .testTarget(
            name: "CausalTests",
            dependencies: ["Causal", "Jobs", "Cluster", "Encoders", "Simulation", "Tabular", "CausaTestSupport"]),
        .testTarget(name: "EncodersTests", dependencies: ["Encoders", "CEncoderKernels", "CausaTestSupport"]),
        .testTarget(
            name: "JobsTests",
            dependencies: ["Jobs", "Statistics", "Tabular", "Simulation", "StableRandom", "CausaTestSupport"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Jobs", "CausaTestSupport"]),
        .testTarget(name: "CausaCLITests", dependencies: ["causa", "CausaTestSupport"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "StableRandom"])
    ],
    swiftLanguageModes: [.v5]
)
