import Logging
import NIOCore
import NIOPosix

/// What the endpoint hands the RTCP packets of a client to.
public protocol RTCPReceiver: AnyObject {
    func receiveRTCP(_ packet: ByteBuffer)
}

/// The server's UDP side on one event loop: an RTP socket on an even port and the RTCP socket on
/// the next one (RFC 3550 11), shared by every UDP session of the loop: the sessions write their
/// datagrams here, and RTCP from a client goes to the session registered for its address.
/// Runs only on its loop; it crosses threads once, when the server hands it to the loop at start.
public final class RTPEndpoint: @unchecked Sendable {
    public let eventLoop: EventLoop
    private let rtp: Channel
    private let rtcp: Channel
    private var receivers: [SocketAddress: Registration] = [:]

    private final class Registration {
        weak var receiver: RTCPReceiver?
        init(_ receiver: RTCPReceiver) { self.receiver = receiver }
    }

    public var ports: (rtp: Int, rtcp: Int) { (rtp.localAddress?.port ?? 0, rtcp.localAddress?.port ?? 0) }

    private init(eventLoop: EventLoop, rtp: Channel, rtcp: Channel) {
        self.eventLoop = eventLoop
        self.rtp = rtp
        self.rtcp = rtcp
    }

    /// Binds the pair on `loop`: at `port` and `port + 1`, or with `port` 0 at the first free
    /// even/odd pair the system gives.
    public static func bind(host: String, port: Int, on loop: EventLoop, logger: Logger) throws -> RTPEndpoint {
        var attempts = port == 0 ? 32 : 1
        while true {
            attempts -= 1
            let rtp = try datagramBootstrap(loop).bind(host: host, port: port).wait()
            let rtpPort = rtp.localAddress?.port ?? 0
            if rtpPort % 2 == 0 || attempts == 0, let rtcp = try? datagramBootstrap(loop).bind(host: host, port: rtpPort + 1).wait() {
                let endpoint = RTPEndpoint(eventLoop: loop, rtp: rtp, rtcp: rtcp)
                try loop.submit { try rtcp.pipeline.syncOperations.addHandler(RTCPInbound(endpoint: endpoint, logger: logger)) }.wait()
                return endpoint
            }
            try? rtp.close().wait()
            if attempts <= 0 { throw IOError(errnoCode: EADDRINUSE, reason: "no free UDP port pair for RTP and RTCP") }
        }
    }

    private static func datagramBootstrap(_ loop: EventLoop) -> DatagramBootstrap {
        DatagramBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.so_sndbuf), value: 4 << 20)
    }

    /// RTCP from `address` goes to `receiver` while it lives.
    public func register(_ receiver: RTCPReceiver, for address: SocketAddress) {
        receivers[address] = Registration(receiver)
    }

    public func unregister(_ receiver: RTCPReceiver) {
        receivers = receivers.filter { $0.value.receiver != nil && $0.value.receiver !== receiver }
    }

    /// Queues one RTP datagram; `flush` sends the batch.
    public func sendRTP(_ datagram: ByteBuffer, to address: SocketAddress) {
        rtp.write(AddressedEnvelope(remoteAddress: address, data: datagram), promise: nil)
    }

    public func sendRTCP(_ packet: ByteBuffer, to address: SocketAddress) {
        rtcp.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: packet), promise: nil)
    }

    public func flush() { rtp.flush() }

    public func close() {
        rtp.close(promise: nil)
        rtcp.close(promise: nil)
    }

    fileprivate func dispatch(_ packet: ByteBuffer, from address: SocketAddress) -> Bool {
        guard let receiver = receivers[address]?.receiver else { return false }
        receiver.receiveRTCP(packet)
        return true
    }
}

/// RTCP arriving at the endpoint's RTCP port; packets from unknown addresses are dropped.
private final class RTCPInbound: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let endpoint: RTPEndpoint
    private let logger: Logger
    private var strangers = 0

    init(endpoint: RTPEndpoint, logger: Logger) {
        self.endpoint = endpoint
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        if !endpoint.dispatch(envelope.data, from: envelope.remoteAddress) {
            strangers += 1
            if strangers == 1 { logger.notice("RTCP from \(envelope.remoteAddress), which has no session: dropped") }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.info("RTCP socket error: \(error)")
    }
}
