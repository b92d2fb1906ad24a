// swift-tools-version: 6.1
import PackageDescription

// Dependencies point one way:
//   EncoderCLI -> {EncoderServer, FileEmbedding} -> SentenceEmbeddings -> {TransformerEncoder, Tokenization};  FileEmbedding -> CZlib (.gz inputs)
//   (EncoderServer is the only target importing a server framework: Hummingbird)
//   EncoderServer -> RequestDecoding -> StrictJSON (request bodies, framework-free so it fuzzes alone)
//   TransformerEncoder -> {Kernels, SafeTensors, StrictJSON};  Kernels -> {COpenBLAS, CSmallGemm, CPackedGemm (oneDNN), CElementwise}
// SafeTensors, Tokenization and StrictJSON are leaves that build and test without BLAS
// (Tokenization uses swift-collections' HeapModule).
let package = Package(
    name: "swift-sentence-encoder",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SentenceEmbeddings", targets: ["SentenceEmbeddings", "FileEmbedding"]),
        .executable(name: "encoder", targets: ["EncoderCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.60.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(name: "StrictJSON"),
        // An AVX2 GEMM for few rows that packs nothing (OpenBLAS re-packs the weights on every call).
        .target(name: "CSmallGemm"),
        // Linear layers on weights packed once at load, f32 and int8, on oneDNN's matmul (Debian's libdnnl-dev, installed by Scripts/bootstrap;
        // oneDNN runs on OpenMP, whose thread count the file sets to one per call).
        .target(name: "CPackedGemm", linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]),
        .target(name: "CElementwise"),
        .target(name: "Kernels", dependencies: ["COpenBLAS", "CSmallGemm", "CPackedGemm", "CElementwise"]),
        .target(name: "SafeTensors", dependencies: ["StrictJSON"]),
        // HeapModule: the merge queue of the BPE model.
        .target(name: "Tokenization", dependencies: ["StrictJSON", .product(name: "HeapModule", package: "swift-collections")]),
        .target(name: "TransformerEncoder", dependencies: ["Kernels", "SafeTensors", "StrictJSON"]),
        .target(name: "SentenceEmbeddings", dependencies: ["TransformerEncoder", "Tokenization", "SafeTensors", "StrictJSON"]),
        // Files in, embedding files out: streaming, resumable, sharded (the engine of `encoder run --input`).
        .target(name: "FileEmbedding", dependencies: ["SentenceEmbeddings", "Tokenization", "StrictJSON", "CZlib"]),
        // The embedding request bodies, decoded without a server framework (fuzzed on its own).
        .target(name: "RequestDecoding", dependencies: ["StrictJSON"]),
        // HTTP: the only target that imports a server framework.
        .target(
            name: "EncoderServer",
            dependencies: [
                "SentenceEmbeddings",
                "RequestDecoding",
                "Tokenization",
                "StrictJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "EncoderCLI",
            dependencies: [
                "SentenceEmbeddings",
                "FileEmbedding",
                "EncoderServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "Tokenization",
                "StrictJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer harnesses, one per target of Scripts/fuzz (built there with -DFUZZING and the
        // fuzzer and address sanitizers; a normal build makes replay tools that run files through them).
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzSafeTensors", dependencies: ["FuzzSupport", "SafeTensors"]),
        .executableTarget(name: "FuzzJSON", dependencies: ["FuzzSupport", "StrictJSON", "TransformerEncoder", "Tokenization", "SentenceEmbeddings"]),
        .executableTarget(name: "FuzzTokenizer", dependencies: ["FuzzSupport", "Tokenization"]),
        .executableTarget(name: "FuzzHTTP", dependencies: ["FuzzSupport", "RequestDecoding"]),
        // Shared by the test targets (a seeded generator); not part of any product.
        .target(name: "TestSupport", dependencies: ["SentenceEmbeddings"], path: "Tests/TestSupport"),
        .testTarget(name: "StrictJSONTests", dependencies: ["StrictJSON"]),
        .testTarget(name: "KernelsTests", dependencies: ["TestSupport", "Kernels"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["TestSupport", "SafeTensors"]),
        .testTarget(name: "TokenizationTests", dependencies: ["TestSupport", "Tokenization", "StrictJSON"], resources: [.copy("Goldens")]),
        .testTarget(name: "TransformerEncoderTests", dependencies: ["TestSupport", "TransformerEncoder"], resources: [.copy("Goldens")]),
        .testTarget(name: "SentenceEmbeddingsTests", dependencies: ["TestSupport", "SentenceEmbeddings", "TransformerEncoder", "Tokenization"],
                    exclude: ["Fixtures", "CrossEncoderFixtures", "SparseFixtures"], resources: [.copy("Goldens")]),
        .testTarget(name: "FileEmbeddingTests", dependencies: ["FileEmbedding", "SentenceEmbeddings", "TestSupport"]),
        .testTarget(name: "EncoderCLITests", dependencies: ["EncoderCLI", "SentenceEmbeddings", "SafeTensors", "TestSupport"]),
        .testTarget(
            name: "EncoderServerTests",
            dependencies: [
                "EncoderServer",
                "SentenceEmbeddings",
                "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
    ]
)
