import NIOCore
import NIOPosix
import Streaming

/// The client side of the MMS engine, for tests and `asfcast load`: messages on one TCP
/// connection, the server's reports in order, Pings answered, and Data packets (over TCP, or
/// on a UDP port of its own) handed to `data` on the channel's loop.
public final class MMSClient: @unchecked Sendable {
    public let channel: Channel
    private let inbound: Inbound
    /// The UDP socket Data packets arrive on, for a UDP funnel.
    public let udp: Channel?
    private var sequence: UInt16 = 0
    /// The nCubs of ReportFunnelInfo, for resend requests.
    public private(set) var clientID: UInt32?

    private init(channel: Channel, inbound: Inbound, udp: Channel?) {
        self.channel = channel
        self.inbound = inbound
        self.udp = udp
    }

    /// Connects; with `udp` set, Data packets come to a local UDP port instead (`funnelName`).
    /// Without `answerPings`, Pings are reported like any other message and left unanswered.
    public static func connect(host: String, port: Int, group: EventLoopGroup, udp: Bool = false, answerPings: Bool = true,
                               data: @escaping @Sendable (MMSData) -> Void = { _ in }) async throws -> MMSClient {
        try await connect(to: SocketAddress.makeAddressResolvingHost(host, port: port), group: group, udp: udp, answerPings: answerPings, data: data)
    }

    /// Connects to an address already resolved (the load tester connects thousands of times),
    /// from `source` when given.
    public static func connect(to address: SocketAddress, from source: SocketAddress? = nil, group: EventLoopGroup, udp: Bool = false, answerPings: Bool = true,
                               data: @escaping @Sendable (MMSData) -> Void = { _ in }) async throws -> MMSClient {
        let inbound = Inbound(data: data, answerPings: answerPings)
        let channel = try await ClientBootstrap(group: group).connect(to: address, from: source).get()
        try await channel.pipeline.addHandler(inbound).get()
        var datagrams: Channel?
        if udp {
            // A Data packet is as long as an ASF packet: past NIO's default 2 KiB datagram buffer.
            datagrams = try await DatagramBootstrap(group: channel.eventLoop)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 1 << 16))
                .channelInitializer { $0.pipeline.addHandler(DatagramInbound(inbound: inbound)) }
                .bind(host: channel.localAddress?.ipAddress ?? "127.0.0.1", port: 0).get()
        }
        return MMSClient(channel: channel, inbound: inbound, udp: datagrams)
    }

    /// What the ConnectFunnel names: this connection, or the UDP port.
    public var funnelName: String {
        let local = udp?.localAddress ?? channel.localAddress
        return "\\\\\(local?.ipAddress ?? "127.0.0.1")\\\(udp == nil ? "TCP" : "UDP")\\\(local?.port ?? 0)"
    }

    /// Sends a message without waiting.
    public func send(_ message: ClientMessage) async throws {
        try await send(raw: message.message.bytes(sequence: sequence))
        sequence &+= 1
    }

    /// Sends bytes as they are (for malformed-input tests).
    public func send(raw: ByteBuffer) async throws {
        try await channel.writeAndFlush(raw)
    }

    /// Sends a message and waits for the server's next report.
    public func request(_ message: ClientMessage) async throws -> ServerMessage {
        let next = self.next()
        try await send(message)
        return try await next.get()
    }

    /// The server's next report (Pings, when answered, are not counted).
    public func next() -> EventLoopFuture<ServerMessage> {
        let promise = channel.eventLoop.makePromise(of: ServerMessage.self)
        let inbound = inbound
        channel.eventLoop.execute { inbound.wait(promise) }
        return promise.futureResult
    }

    /// Connect, the funnel and OpenFile, then ReadBlock: the report and the header received.
    public func open(_ path: String) async throws -> (report: ServerMessage.ReportOpenFile, header: ByteBuffer) {
        _ = try await request(.connect(playIncarnation: 0xF0F0_F0EF, subscriberName: "NSPlayer/7.0.0.1956; {3300AD50-2C39-46C0-AE0A-39E9A3D2B5D4}; Host: 127.0.0.1"))
        if case let .reportFunnelInfo(id) = try await request(.funnelInfo(playIncarnation: 0xF0F0_F0EF)) { clientID = id }
        guard case .reportConnectedFunnel = try await request(.connectFunnel(funnelName: funnelName)) else { throw Refused(what: "funnel") }
        guard case let .reportOpenFile(report) = try await request(.openFile(playIncarnation: 1, fileName: path, token: ByteBuffer())),
              report.hr == 0 else { throw Refused(what: "OpenFile \(path)") }
        let header = expectHeader(playIncarnation: 2)
        guard case let .reportReadBlock(hr, _) = try await request(.readBlock(openFileID: report.openFileID, playIncarnation: 2)),
              hr == 0 else { throw Refused(what: "ReadBlock") }
        return (report, try await header.get())
    }

    /// The next ASF header the server sends in Data packets of `playIncarnation`: the
    /// ReadBlock's, or 0xFF after a StreamChange over TCP (3.2.4.2). Call before it can arrive.
    public func expectHeader(playIncarnation: UInt8) -> EventLoopFuture<ByteBuffer> {
        let header = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let inbound = inbound
        channel.eventLoop.execute { inbound.expect(header, playIncarnation: playIncarnation) }
        return header.futureResult
    }

    /// Asks for Data packets again by sequence number (2.2.5), from the UDP port.
    public func requestResend(_ request: ResendRequest, to address: SocketAddress) async throws {
        guard let udp else { return }
        var b = ByteBuffer()
        request.write(to: &b)
        try await udp.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: b))
    }

    /// Completes when the server closes the connection.
    public var closed: EventLoopFuture<Void> { channel.closeFuture }

    public func close() async {
        try? await channel.close()
        try? await udp?.close()
    }

    public struct Refused: Error, CustomStringConvertible {
        public var what: String
        public var description: String { "\(what) refused" }
    }

    /// The server's byte stream: messages (bytes 4-7 are 0xB00BFACE) and Data packets.
    private final class Inbound: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private var pending = ByteBuffer()
        private let parser = MMSMessageParser(maximumLength: 1 << 16)
        private var reports: [ServerMessage] = []
        private var waiting: [EventLoopPromise<ServerMessage>] = []
        private var header: (promise: EventLoopPromise<ByteBuffer>, playIncarnation: UInt8, bytes: ByteBuffer)?
        private var ended = false
        private let data: @Sendable (MMSData) -> Void
        private let answerPings: Bool

        init(data: @escaping @Sendable (MMSData) -> Void, answerPings: Bool) {
            self.data = data
            self.answerPings = answerPings
        }

        /// Every promise is completed: by a report, or by the connection's end (even one that came first).
        func wait(_ promise: EventLoopPromise<ServerMessage>) {
            if !reports.isEmpty { return promise.succeed(reports.removeFirst()) }
            if ended { return promise.fail(ChannelError.eof) }
            waiting.append(promise)
        }

        func expect(_ promise: EventLoopPromise<ByteBuffer>, playIncarnation: UInt8) {
            if ended { return promise.fail(ChannelError.eof) }
            header?.promise.fail(ChannelError.alreadyClosed)
            header = (promise, playIncarnation, ByteBuffer())
        }

        func channelRead(context: ChannelHandlerContext, data bytes: NIOAny) {
            var b = unwrapInboundIn(bytes)
            pending.writeBuffer(&b)
            do {
                while pending.readableBytes >= 8 {
                    if pending.getInteger(at: pending.readerIndex + 4, endianness: .little, as: UInt32.self) == MMSMessage.sessionID {
                        guard let message = try parser.parse(&pending) else { break }
                        let report = try ServerMessage(message)
                        if case .ping = report, answerPings {
                            context.writeAndFlush(wrapOutboundOut(ClientMessage.pong.message.bytes()), promise: nil)
                        } else if waiting.isEmpty {
                            reports.append(report)
                        } else {
                            waiting.removeFirst().succeed(report)
                        }
                    } else {
                        guard let packet = try MMSData.parse(&pending) else { break }
                        deliver(packet)
                    }
                }
                pending.discardReadBytes()
            } catch {
                context.close(promise: nil)
            }
        }

        /// Header pieces complete `header`; the rest goes to `data`.
        func deliver(_ packet: MMSData) {
            if case (let promise, let incarnation, var bytes)? = header, packet.playIncarnation == incarnation {
                var payload = packet.payload
                bytes.writeBuffer(&payload)
                if packet.flags == MMSData.lastHeaderPiece {
                    header = nil
                    promise.succeed(bytes)
                } else {
                    header = (promise, incarnation, bytes)
                }
            } else {
                data(packet)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            ended = true
            for promise in waiting { promise.fail(ChannelError.eof) }
            waiting = []
            header?.promise.fail(ChannelError.eof)
            header = nil
        }
    }

    /// Data packets over UDP, on the connection's loop: delivered as if they came over TCP.
    private final class DatagramInbound: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        private let inbound: Inbound
        init(inbound: Inbound) { self.inbound = inbound }
        func channelRead(context: ChannelHandlerContext, data bytes: NIOAny) {
            var b = unwrapInboundIn(bytes).data
            if let packet = try? MMSData.parse(&b) { inbound.deliver(packet) }
        }
    }
}
