import NIOCore
import NIOHTTP1
import NIOPosix

/// The client side of MS-WMSP in non-pipelined mode: each request on its own connection, read
/// until the server closes. Used by tests and by the load tester.
public struct WMSPClient: Sendable {
    public struct Response: Sendable {
        public var head: HTTPResponseHead
        public var frames: [ReceivedFrame]
        /// The body, for responses that are not framed (errors, plain HTTP).
        public var body: ByteBuffer
    }

    public let group: EventLoopGroup
    public let host: String
    public let port: Int
    public var userAgent = "NSPlayer/12.0.7601.17514"

    public init(group: EventLoopGroup, host: String, port: Int) {
        self.group = group
        self.host = host
        self.port = port
    }

    /// Describe (2.2.2.1): the response carries the ASF header in $H frames.
    public func describe(_ path: String, headers: [(String, String)] = []) async throws -> Response {
        try await request(path, pragmas: ["no-cache,rate=1.000000,stream-time=0,stream-offset=0:0,request-context=1,max-duration=0"], headers: headers)
    }

    /// Play (2.2.2.6) of `streams` (nil: all of `available`), from `streamTime` milliseconds.
    public func play(_ path: String, streams: Set<UInt16>? = nil, available: [UInt16], streamTime: UInt64 = 0) async throws -> Response {
        try await request(path, pragmas: [
            "no-cache,rate=1.000000,stream-time=\(streamTime),stream-offset=0:0,request-context=2,max-duration=0",
            "xPlayStrm=1", "xClientGUID={3300AD50-2C39-46c0-AE0A-70BCC4CE2E4E}",
        ] + StreamSwitchEntry.pragmas(selecting: streams, of: available))
    }

    public func request(_ path: String, pragmas: [String], method: HTTPMethod = .GET, headers extra: [(String, String)] = [],
                        body: ByteBuffer? = nil) async throws -> Response {
        let collector = ResponseCollector(promise: group.next().makePromise())
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(collector)
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            // No connection: the response's promise is not left unfulfilled.
            collector.promise.fail(error)
            throw error
        }
        var headers = HTTPHeaders([("Host", "\(host):\(port)"), ("User-Agent", userAgent), ("Accept", "*/*")])
        for pragma in pragmas { headers.add(name: "Pragma", value: pragma) }
        for (name, value) in extra { headers.add(name: name, value: value) }
        headers.add(name: "Connection", value: "Close")
        if method == .POST { headers.add(name: "Content-Length", value: "\(body?.readableBytes ?? 0)") }
        let head = HTTPRequestHead(version: .http1_0, method: method, uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        return try await collector.promise.futureResult.get()
    }
}

/// Gathers one response until the connection closes.
private final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    let promise: EventLoopPromise<WMSPClient.Response>
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    init(promise: EventLoopPromise<WMSPClient.Response>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(h): head = h
        case var .body(b): body.writeBuffer(&b)
        case .end: break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard let head else {
            promise.fail(ChannelError.eof)
            return
        }
        let framed = head.headers["Content-Type"].first.map { $0 == "application/x-mms-framed" || $0 == "application/vnd.ms.wms-hdr.asfv1" } ?? false
        var frames = [ReceivedFrame]()
        if framed {
            var parser = FrameParser()
            parser.append(body)
            do {
                while let frame = try parser.next() { frames.append(frame) }
            } catch {
                promise.fail(error)
                return
            }
        }
        promise.succeed(.init(head: head, frames: frames, body: framed ? ByteBuffer() : body))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
