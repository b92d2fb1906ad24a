// swift-tools-version: 6.1
import PackageDescription

// Dependencies point one way:
//   EncoderCLI -> SentenceEmbeddings -> {Bert, Tokenization};  EncoderCLI -> CZlib (.gz inputs)
//   Bert -> {Kernels, SafeTensors, StrictJSON};  Kernels -> COpenBLAS
// SafeTensors, Tokenization and StrictJSON are leaves that build and test without BLAS.
let package = Package(
    name: "swift-sentence-encoder",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SentenceEmbeddings", targets: ["SentenceEmbeddings"]),
        .executable(name: "encoder", targets: ["EncoderCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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
        .target(name: "Kernels", dependencies: ["COpenBLAS"]),
        .target(name: "SafeTensors", dependencies: ["StrictJSON"]),
        .target(name: "Tokenization", dependencies: ["StrictJSON"]),
        .target(name: "Bert", dependencies: ["Kernels", "SafeTensors", "StrictJSON"]),
        .target(name: "SentenceEmbeddings", dependencies: ["Bert", "Tokenization", "SafeTensors", "StrictJSON"]),
        .executableTarget(
            name: "EncoderCLI",
            dependencies: [
                "SentenceEmbeddings",
                "Tokenization",
                "StrictJSON",
                "CZlib",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "StrictJSONTests", dependencies: ["StrictJSON"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization"], resources: [.copy("Goldens")]),
        .testTarget(name: "BertTests", dependencies: ["Bert"], resources: [.copy("Goldens")]),
        .testTarget(name: "SentenceEmbeddingsTests", dependencies: ["SentenceEmbeddings"], resources: [.copy("Goldens"), .copy("Fixtures")]),
        .testTarget(name: "EncoderCLITests", dependencies: ["EncoderCLI", "SafeTensors"]),
    ]
)
