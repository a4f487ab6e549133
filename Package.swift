// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "asfcast",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "asfcast", targets: ["asfcast"]),
        .library(name: "ASF", targets: ["ASF"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // The ASF container: objects, header, data packets, index, stream filter, file I/O. Pure Swift.
        .target(
            name: "ASF",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // libavformat/libavcodec/libavutil from Debian, through pkg-config.
        .systemLibrary(
            name: "CAVFormat",
            pkgConfig: "libavformat libavcodec libavutil",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev"])]
        ),
        // Remuxing other media into ASF, and libavformat's view of a file (the test oracle).
        .target(
            name: "MediaImport",
            dependencies: ["ASF", "CAVFormat", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .executableTarget(
            name: "asfcast",
            dependencies: [
                "ASF", "MediaImport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ASFTests",
            dependencies: ["ASF", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["asfcast"]
        ),
        .testTarget(
            name: "MediaImportTests",
            dependencies: ["ASF", "MediaImport", .product(name: "NIOCore", package: "swift-nio")]
        ),
    ]
)
