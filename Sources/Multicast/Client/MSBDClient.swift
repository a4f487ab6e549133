import NIOCore
import NIOPosix

/// The client side of MSBD (MS-MSBD 3.2), as `asfcast tune msbd://host:port` plays a point:
/// REQ_CONNECT for the packets over the connection, the IND_STREAMINFO's header then each
/// IND_PACKET's ASF packet written out, pings answered, until IND_EOS or the duration.
public enum MSBDClient {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The packets written, whether the server ended the stream, and the wStreamId of the
    /// next stream when it moved to another header.
    public static func play(host: String, port: Int, duration: TimeAmount?,
                            output: @escaping @Sendable (ByteBuffer) throws -> Void) async throws -> (packets: Int, ended: Bool, nextStream: UInt16?) {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let done = loop.makePromise(of: (Int, Bool, UInt16?).self)
        let channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MSBDMessageDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MSBDClientHandler(duration: duration, output: output, done: done))
                }
            }
            .connect(host: host, port: port).get()
        defer { channel.close(promise: nil) }
        return try await done.futureResult.get()
    }
}

private final class MSBDClientHandler: ChannelInboundHandler {
    typealias InboundIn = MSBDMessage
    typealias OutboundOut = ByteBuffer

    private let duration: TimeAmount?
    private let output: (ByteBuffer) throws -> Void
    private let done: EventLoopPromise<(Int, Bool, UInt16?)>
    private var wroteHeader = false
    private var streamID: UInt16 = 0
    private var packets = 0
    private var finished = false

    init(duration: TimeAmount?, output: @escaping (ByteBuffer) throws -> Void, done: EventLoopPromise<(Int, Bool, UInt16?)>) {
        self.duration = duration
        self.output = output
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        var b = context.channel.allocator.buffer(capacity: 32)
        MSBDMessage.requestConnect(flags: 1, channel: "NetShow").write(to: &b)
        context.writeAndFlush(wrapOutboundOut(b), promise: nil)
        if let duration {
            context.eventLoop.assumeIsolated().scheduleTask(in: duration) { [weak self] in self?.finish(ended: false, context: context) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        do {
            switch unwrapInboundIn(data) {
            case let .responseConnect(hr, _, _) where hr != 0:
                fail("the server refused the connection (hr 0x\(String(hr, radix: 16)))", context: context)
            case let .streamInfo(info, _, hr) where hr == 0 && !wroteHeader:
                try output(MulticastTuner.outputHeader(ByteBuffer(bytes: info.header)))
                streamID = info.streamID
                wroteHeader = true
            case let .streamInfo(info, _, hr) where hr == 0 && info.streamID != streamID:
                // The next stream of a playlist or encoder (4.2): one ASF output cannot take its header.
                finish(ended: false, next: info.streamID, context: context)
            case let .packet(_, id, _) where id != streamID:
                break
            case let .packet(_, _, packet) where wroteHeader:
                try output(packet)
                packets += 1
            case .requestPing:
                var b = context.channel.allocator.buffer(capacity: 16)
                MSBDMessage.responsePing.write(to: &b)
                context.writeAndFlush(wrapOutboundOut(b), promise: nil)
            case .endOfStream:
                finish(ended: true, context: context)
            default:
                break
            }
        } catch {
            finish(ended: false, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard !finished else { return }
        wroteHeader ? finish(ended: false, context: context) : fail("the server closed the connection", context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail("\(error)", context: context)
    }

    private func finish(ended: Bool, next: UInt16? = nil, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        done.succeed((packets, ended, next))
        context.close(promise: nil)
    }

    private func fail(_ reason: String, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        done.fail(MSBDClient.Failure(description: reason))
        context.close(promise: nil)
    }
}
