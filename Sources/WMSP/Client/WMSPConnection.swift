import NIOCore
import NIOHTTP1
import NIOPosix

/// One kept-open connection to a WMSP server, for pipelined mode (MS-WMSP 1.3): requests are
/// written as they come and the response parts are read in order, as they arrive.
public final class WMSPConnection: Sendable {
    public enum Part: Sendable {
        case head(HTTPResponseHead)
        case frame(ReceivedFrame)
        /// The end of one response (the zero-length chunk of a chunked one).
        case end
    }

    public let channel: Channel
    public let parts: AsyncThrowingStream<Part, Error>

    public static func connect(group: EventLoopGroup, host: String, port: Int) async throws -> WMSPConnection {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Part.self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(PartReader(continuation: continuation))
                }
            }
            .connect(host: host, port: port).get()
        return WMSPConnection(channel: channel, parts: stream)
    }

    private init(channel: Channel, parts: AsyncThrowingStream<Part, Error>) {
        self.channel = channel
        self.parts = parts
    }

    /// Sends a request with an NSPlayer User-Agent and these Pragma values.
    public func send(_ method: HTTPMethod = .GET, _ path: String, pragmas: [String], version: HTTPVersion = .http1_1) async throws {
        var headers = HTTPHeaders([("Host", "asfcast"), ("User-Agent", "NSPlayer/12.0.7601.17514"), ("Connection", "Keep-Alive")])
        for pragma in pragmas { headers.add(name: "Pragma", value: pragma) }
        if method == .POST { headers.add(name: "Content-Length", value: "0") }
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: version, method: method, uri: path, headers: headers)), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
    }

    public func close() async throws {
        try await channel.close().get()
    }
}

/// Turns response parts into `WMSPConnection.Part`s, splitting bodies into frames.
private final class PartReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    let continuation: AsyncThrowingStream<WMSPConnection.Part, Error>.Continuation
    private var parser = FrameParser()

    init(continuation: AsyncThrowingStream<WMSPConnection.Part, Error>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            parser = FrameParser()
            continuation.yield(.head(head))
        case let .body(bytes):
            parser.append(bytes)
            do {
                while let frame = try parser.next() { continuation.yield(.frame(frame)) }
            } catch {
                continuation.finish(throwing: error)
            }
        case .end:
            continuation.yield(.end)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }
}
