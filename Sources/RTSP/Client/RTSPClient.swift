import NIOCore
import NIOPosix
import Streaming

/// The client side of the RTSP engine, for tests and `asfcast load`: requests with CSeq and
/// Session on one connection, their responses in order, and RTP/RTCP that arrives interleaved.
public final class RTSPClient: @unchecked Sendable {
    public let channel: Channel
    private let inbound: Inbound
    private var cseq = 0
    /// Set from the first response that carries a `Session`.
    public private(set) var session: String?

    private init(channel: Channel, inbound: Inbound) {
        self.channel = channel
        self.inbound = inbound
    }

    /// Connects; `interleaved` receives each `$` frame (channel, payload) on the channel's loop,
    /// and `answer` each of the server's own requests (EndOfStream, Announce), returning the
    /// status to reply with.
    public static func connect(host: String, port: Int, group: EventLoopGroup,
                               interleaved: @escaping @Sendable (UInt8, ByteBuffer) -> Void = { _, _ in },
                               answer: @escaping @Sendable (RTSPRequest) -> Int = { _ in 200 }) async throws -> RTSPClient {
        try await connect(to: SocketAddress.makeAddressResolvingHost(host, port: port), group: group, interleaved: interleaved, answer: answer)
    }

    /// Connects to an address already resolved (the load tester connects thousands of times),
    /// from `source` when given.
    public static func connect(to address: SocketAddress, from source: SocketAddress? = nil, group: EventLoopGroup,
                               interleaved: @escaping @Sendable (UInt8, ByteBuffer) -> Void = { _, _ in },
                               answer: @escaping @Sendable (RTSPRequest) -> Int = { _ in 200 }) async throws -> RTSPClient {
        let channel = try await ClientBootstrap(group: group).connect(to: address, from: source).get()
        let inbound = Inbound(interleaved: interleaved, answer: answer)
        try await channel.pipeline.addHandler(inbound).get()
        return RTSPClient(channel: channel, inbound: inbound)
    }

    /// Sends one request and waits for its response.
    public func request(_ method: String, _ uri: String, _ headers: [(String, String)] = [], body: String = "") async throws -> RTSPResponse {
        cseq += 1
        var text = "\(method) \(uri) RTSP/1.0\r\nCSeq: \(cseq)\r\nUser-Agent: asfcast\r\n"
        if let session, !headers.contains(where: { $0.0 == "Session" }) { text += "Session: \(session)\r\n" }
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !body.isEmpty { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + body
        let response = try await send(text)
        if session == nil, let named = response["Session"]?.split(separator: ";").first { session = String(named) }
        return response
    }

    /// Sends raw bytes and waits for the response they draw (for malformed-input tests).
    public func exchange(raw: String) async throws -> RTSPResponse {
        try await send(raw)
    }

    /// Writes `text` and waits for the next response. Its promise is always completed: by the
    /// response, by the write's failure, or by the connection's end (even one that came first).
    private func send(_ text: String) async throws -> RTSPResponse {
        let promise = channel.eventLoop.makePromise(of: RTSPResponse.self)
        let inbound = inbound
        channel.eventLoop.execute { inbound.wait(for: promise) }
        do {
            try await channel.writeAndFlush(ByteBuffer(string: text))
        } catch {
            channel.eventLoop.execute { inbound.give(up: promise, error) }
            throw error
        }
        return try await promise.futureResult.get()
    }

    /// RTCP (or anything) on an interleaved channel.
    public func send(interleaved channelNumber: UInt8, _ payload: ByteBuffer) async throws {
        var b = ByteBuffer(bytes: [0x24, channelNumber])
        b.writeInteger(UInt16(payload.readableBytes))
        var p = payload
        b.writeBuffer(&p)
        try await channel.writeAndFlush(b)
    }

    /// Completes when the server closes the connection.
    public var closed: EventLoopFuture<Void> { channel.closeFuture }

    public func close() async {
        try? await channel.close()
    }

    private final class Inbound: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private var waiting: [EventLoopPromise<RTSPResponse>] = []
        private var ended = false
        private var pending = ByteBuffer()
        private let parser = RTSPMessageParser()
        private let interleaved: @Sendable (UInt8, ByteBuffer) -> Void
        private let answer: @Sendable (RTSPRequest) -> Int

        init(interleaved: @escaping @Sendable (UInt8, ByteBuffer) -> Void, answer: @escaping @Sendable (RTSPRequest) -> Int) {
            self.interleaved = interleaved
            self.answer = answer
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            pending.writeBuffer(&bytes)
            do {
                while let message = try parser.parse(&pending) {
                    switch message {
                    case let .response(response):
                        if !waiting.isEmpty { waiting.removeFirst().succeed(response) }
                    case let .request(request):
                        var b = context.channel.allocator.buffer(capacity: 64)
                        let status = answer(request)
                        b.writeString("RTSP/1.0 \(status) \(status == 200 ? "OK" : "Refused")\r\nCSeq: \(request.cseq ?? "0")\r\n\r\n")
                        context.writeAndFlush(wrapOutboundOut(b), promise: nil)
                    case let .interleaved(channel, payload):
                        interleaved(channel, payload)
                    }
                }
                pending.discardReadBytes()
            } catch {
                context.close(promise: nil)
            }
        }

        func wait(for promise: EventLoopPromise<RTSPResponse>) {
            if ended { return promise.fail(ChannelError.eof) }
            waiting.append(promise)
        }

        func give(up promise: EventLoopPromise<RTSPResponse>, _ error: any Error) {
            guard let index = waiting.firstIndex(where: { $0.futureResult === promise.futureResult }) else { return }
            waiting.remove(at: index).fail(error)
        }

        func channelInactive(context: ChannelHandlerContext) {
            ended = true
            for promise in waiting { promise.fail(ChannelError.eof) }
            waiting = []
        }
    }
}

/// A client's UDP port pair for one RTP session (RFC 3550 11): RTP on an even port, RTCP on
/// the next; every datagram goes to `receive` on the loop.
public final class RTPReceiverPorts: @unchecked Sendable {
    public let rtp: Channel
    public let rtcp: Channel

    public var rtpPort: Int { rtp.localAddress?.port ?? 0 }

    private init(rtp: Channel, rtcp: Channel) {
        self.rtp = rtp
        self.rtcp = rtcp
    }

    /// Binds a pair on `host`: the address the server sends to, its control connection's own.
    public static func bind(group: EventLoopGroup, host: String = "127.0.0.1", receive: @escaping @Sendable (_ isRTCP: Bool, ByteBuffer) -> Void) async throws -> RTPReceiverPorts {
        for _ in 0..<32 {
            let rtp = try await DatagramBootstrap(group: group)
                .channelInitializer { $0.pipeline.addHandler(Receiver { receive(false, $0) }) }
                .bind(host: host, port: 0).get()
            let port = rtp.localAddress?.port ?? 1
            if port % 2 == 0, let rtcp = try? await DatagramBootstrap(group: group)
                .channelInitializer({ $0.pipeline.addHandler(Receiver { receive(true, $0) }) })
                .bind(host: host, port: port + 1).get() {
                return RTPReceiverPorts(rtp: rtp, rtcp: rtcp)
            }
            try? await rtp.close()
        }
        throw IOError(errnoCode: EADDRINUSE, reason: "no free UDP port pair")
    }

    /// Sends an RTCP packet from the RTCP port.
    public func sendRTCP(_ packet: ByteBuffer, to address: SocketAddress) async throws {
        try await rtcp.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: packet))
    }

    public func close() async {
        try? await rtp.close()
        try? await rtcp.close()
    }

    private final class Receiver: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let receive: (ByteBuffer) -> Void
        init(_ receive: @escaping (ByteBuffer) -> Void) { self.receive = receive }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { receive(unwrapInboundIn(data).data) }
    }
}
