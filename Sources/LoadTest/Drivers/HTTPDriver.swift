import ASF
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A plain HTTP player, as a download tool or ffplay http:// is: a GET with no WMSP in it, whose
/// body is the bare ASF stream (Header Object, Data Object start, fixed-size packets); an
/// on-demand file comes whole, at the network's speed, and a seek is a Range request for the
/// packets from a position on.
struct HTTPDriver: LoadDriver {
    func open(_ url: URL, session: LoadSession, group: EventLoopGroup) async throws -> LoadPlayback {
        let playback = HTTPPlayback(url: url, session: session, group: group)
        let layout: ASFStreamLayout
        do {
            try await playback.get(range: nil)
            layout = try await playback.layout.futureResult.get()
        } catch {
            playback.failed(error)
            throw error
        }
        session.update { $0.contentBitsPerSecond = layout.header.fileProperties.maximumBitrate }
        return playback
    }
}

/// Where an ASF stream's packets are: after its header, each `packetSize` long.
struct ASFStreamLayout: Sendable {
    var header: ASFHeader
    var dataStart: Int
    var packetSize: Int
    /// Nil for a live stream.
    var packetCount: Int?
}

final class HTTPPlayback: LoadPlayback, @unchecked Sendable {
    let url: URL
    let session: LoadSession
    let group: EventLoopGroup
    let layout: EventLoopPromise<ASFStreamLayout>
    private let knownLayout = NIOLockedValueBox<ASFStreamLayout?>(nil)
    private let endedPromise: EventLoopPromise<Void>
    private let connection = NIOLockedValueBox<(Channel, ASFStreamReader)?>(nil)

    init(url: URL, session: LoadSession, group: EventLoopGroup) {
        self.url = url
        self.session = session
        self.group = group
        let loop = group.next()
        layout = loop.makePromise()
        endedPromise = loop.makePromise()
    }

    var ended: EventLoopFuture<Void> { endedPromise.futureResult }

    var duration: Double? {
        guard let layout = knownLayout.withLockedValue({ $0 }), layout.packetCount != nil else { return nil }
        return Double(layout.header.fileProperties.durationMilliseconds) / 1000
    }

    func seek(to seconds: Double) async throws {
        let layout = try await layout.futureResult.get()
        guard let count = layout.packetCount, count > 0, let duration else { throw LoadFailure("not seekable") }
        let index = min(count - 1, Int(seconds / duration * Double(count)))
        try await get(range: (layout, index))
    }

    func switchStreams() async throws { throw LoadFailure("no stream switching over plain HTTP") }

    func close() async {
        let channel = connection.withLockedValue { c in
            defer { c = nil }
            return c?.0
        }
        try? await channel?.close()
        endedPromise.fail(LoadFailure("closed"))
    }

    /// A GET of the stream, or of its packets from `range.first` on, on a new connection that
    /// replaces the current one.
    func get(range: (layout: ASFStreamLayout, first: Int)?) async throws {
        let reader = ASFStreamReader(playback: self, resume: range)
        let host = url.host ?? "127.0.0.1", port = url.port ?? 80
        let server = try ServerAddress.resolve(host: host, port: port)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelOption(.recvAllocator, value: ReceiveBuffers.allocator)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(reader)
                }
            }
            .connect(to: server, from: ServerAddress.source(for: session, to: server)).get()
        session.update { $0.connected(at: .now()) }
        session.own(channel)
        if let (old, oldReader) = connection.withLockedValue({ c in defer { c = (channel, reader) }; return c }) {
            try? await old.eventLoop.submit { oldReader.replaced = true }.get()
            try? await old.close()
        }
        var headers = HTTPHeaders([("Host", "\(host):\(port)"), ("User-Agent", "asfcast-load"), ("Accept", "*/*"), ("Connection", "close")])
        if let (layout, first) = range { headers.add(name: "Range", value: "bytes=\(layout.dataStart + first * layout.packetSize)-") }
        let path = url.path.isEmpty ? "/" : url.path + (url.query.map { "?" + $0 } ?? "")
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
    }

    func received(_ found: ASFStreamLayout) {
        knownLayout.withLockedValue { $0 = found }
        layout.succeed(found)
    }

    func finished() { endedPromise.succeed() }

    func failed(_ failure: Error) {
        layout.fail(failure)
        endedPromise.fail(failure)
    }
}

/// The body of one GET: the header (unless the GET resumes at a packet), then packets.
final class ASFStreamReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    private let playback: HTTPPlayback
    private var layout: ASFStreamLayout?
    private var buffer = ByteBuffer()
    /// Packets still to come; nil for a live stream.
    private var remaining: Int?
    private var index: Int
    var replaced = false
    private var failure: LoadFailure?

    init(playback: HTTPPlayback, resume: (layout: ASFStreamLayout, first: Int)?) {
        self.playback = playback
        layout = resume?.layout
        index = resume?.first ?? 0
        remaining = resume.flatMap { r in r.layout.packetCount.map { $0 - r.first } }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            if head.status != .ok, head.status != .partialContent { fail(LoadFailure("HTTP \(head.status.code)"), context: context) }
        case var .body(bytes):
            guard failure == nil, !replaced else { return }
            buffer.writeBuffer(&bytes)
            do { try consume() } catch { fail(LoadFailure("malformed ASF stream"), context: context) }
        case .end:
            guard failure == nil, !replaced else { return }
            if remaining == 0 { playback.finished() } else { fail(LoadFailure("connection closed"), context: context) }
        }
    }

    private func consume() throws {
        if layout == nil {
            guard buffer.readableBytes >= 24, let size = buffer.getInteger(at: buffer.readerIndex + 16, endianness: .little, as: UInt64.self) else { return }
            guard size < 1 << 24 else { throw LoadFailure("header too large") }
            guard buffer.readableBytes >= Int(size) + DataObjectHeader.size else { return }
            let header = try ASFHeader(parsing: buffer)
            let data = try DataObjectHeader(parsing: buffer.getSlice(at: buffer.readerIndex + Int(size), length: DataObjectHeader.size)!, origin: Int(size))
            guard let packetSize = header.fileProperties.fixedPacketSize else { throw LoadFailure("no fixed packet size") }
            let live = header.fileProperties.flags.contains(.broadcast) || data.totalDataPackets == 0
            let found = ASFStreamLayout(header: header, dataStart: Int(size) + DataObjectHeader.size, packetSize: packetSize,
                                        packetCount: live ? nil : Int(data.totalDataPackets))
            layout = found
            remaining = found.packetCount
            buffer.moveReaderIndex(forwardBy: found.dataStart)
            playback.received(found)
        }
        guard let layout else { return }
        while remaining != 0, let packet = buffer.readSlice(length: layout.packetSize) {
            let sendTime = (try? DataPacket.sendTime(of: packet)) ?? 0
            playback.session.packet(sendTime: sendTime, sequence: UInt32(truncatingIfNeeded: index), bytes: packet.readableBytes)
            index += 1
            remaining = remaining.map { $0 - 1 }
        }
        if remaining == 0 { buffer.clear() } else { buffer.discardReadBytes() }
    }

    private func fail(_ failure: LoadFailure, context: ChannelHandlerContext) {
        self.failure = failure
        playback.failed(failure)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard !replaced, failure == nil else { return }
        if remaining == 0 { playback.finished() } else { playback.failed(LoadFailure("connection closed")) }
    }
}
