// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "asfcast",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "asfcast", targets: ["asfcast"]),
        .executable(name: "asfcast-fuzz", targets: ["AsfcastFuzz"]),
        .library(name: "ASF", targets: ["ASF"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // The ASF container: objects, header, data packets, index, stream filter, file I/O. Pure Swift.
        .target(
            name: "ASF",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "Atomics", package: "swift-atomics")]
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
            dependencies: [
                "ASF", "CAVFormat",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // Publishing points, media sources, the shared pacing scheduler, play sessions.
        .target(
            name: "Streaming",
            dependencies: [
                "ASF",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Windows Media HTTP Streaming (MS-WMSP): wire format, session state machine, NIO handler.
        .target(
            name: "WMSP",
            dependencies: [
                "ASF", "Streaming",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // RTSP with the Windows Media extensions (MS-RTSP, MS-SDP).
        .target(
            name: "RTSP",
            dependencies: [
                "ASF", "Streaming",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // MMS (MS-MMSP): TCP messages, data over TCP or UDP, resend requests.
        .target(
            name: "MMS",
            dependencies: [
                "ASF", "Streaming",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Push ingest (MS-WMHTTP) and the encoder client `asfcast push`.
        .target(
            name: "Push",
            dependencies: [
                "ASF", "Streaming",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Multicast (MS-MSB): the datagrams, the sender, the `.nsc` and `.asx` announcements,
        // and the tuner of `asfcast tune`.
        .target(
            name: "Multicast",
            dependencies: [
                "ASF", "Streaming",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `asfcast load`: many simulated players per process, with the engines' clients.
        .target(
            name: "LoadTest",
            dependencies: [
                "ASF", "WMSP", "RTSP", "MMS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            // Checking exclusive access at run time took a tenth of the tool's time at 10,000
            // sessions (a check per packet per access); tests build in debug and keep it.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // Every parser as a fuzz target: libFuzzer's with -DFUZZING (`make fuzz`), else a replayer
        // of the corpora and regressions (`make test`).
        .executableTarget(
            name: "AsfcastFuzz",
            dependencies: [
                "ASF", "Streaming", "WMSP", "RTSP", "MMS", "Push", "Multicast", "AsfcastServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The admin listener: Prometheus /metrics and the JSON API (openapi.yaml), on Hummingbird.
        .target(
            name: "Admin",
            dependencies: [
                "Streaming",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["openapi.yaml"]
        ),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // glibc's malloc_trim (FreedMemory).
        .systemLibrary(name: "CMalloc"),
        // Configuration, listeners and wiring of the engines.
        .target(
            name: "AsfcastServer",
            dependencies: [
                "ASF", "Streaming", "WMSP", "RTSP", "MMS", "Push", "Multicast", "MediaImport", "CSystemd", "CMalloc", "Admin",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "asfcast",
            dependencies: [
                "ASF", "MediaImport", "AsfcastServer", "Admin", "LoadTest", "Push", "Multicast", "WMSP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ASFTests",
            dependencies: ["ASF", "ServerTestSupport", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "StreamingTests",
            dependencies: [
                "ASF", "Streaming",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // The in-process server the engines' tests run against.
        .target(name: "ServerTestSupport", dependencies: ["AsfcastServer", "Streaming", .product(name: "Logging", package: "swift-log")],
                path: "Tests/ServerTestSupport"),
        .testTarget(
            name: "WMSPTests",
            dependencies: [
                "ASF", "WMSP", "AsfcastServer", "ServerTestSupport", "Streaming",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "RTSPTests",
            dependencies: [
                "ASF", "RTSP", "AsfcastServer", "ServerTestSupport", "Streaming",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "MMSTests",
            dependencies: [
                "ASF", "MMS", "AsfcastServer", "ServerTestSupport", "Streaming",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "LoadTestTests",
            dependencies: [
                "LoadTest", "ServerTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PushTests",
            dependencies: [
                "ASF", "Push", "Streaming",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "MulticastTests", dependencies: ["Multicast", "ASF", .product(name: "NIOCore", package: "swift-nio"),
                                                          .product(name: "NIOEmbedded", package: "swift-nio")]),
        .testTarget(name: "AsfcastServerTests", dependencies: ["AsfcastServer", "Streaming", "Multicast"]),
        .testTarget(
            name: "InteropTests",
            dependencies: ["asfcast", "ASF", "Streaming", "MMS", "Multicast", "ServerTestSupport", .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), .product(name: "Yams", package: "Yams")]
        ),
        .testTarget(
            name: "MediaImportTests",
            dependencies: ["ASF", "MediaImport", .product(name: "NIOCore", package: "swift-nio")]
        ),
    ]
)
