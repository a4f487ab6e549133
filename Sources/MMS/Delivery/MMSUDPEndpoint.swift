import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// What the endpoint hands a client's resend requests to, on the session's own loop.
public protocol ResendTarget: AnyObject {
    /// A resend request that came from `sender`.
    func resend(_ request: ResendRequest, from sender: SocketAddress)
}

/// The server's UDP socket for MMS (MS-MMSP 3.2.5.11.1): bound to the same port number as the
/// TCP listener, because that is where clients send RequestPacketListResend (2.2.5); UDP
/// sessions on every loop send their Data packets from it. Requests reach the session that
/// the client ID (nCubs) names, on its loop.
public final class MMSUDPEndpoint: Sendable {
    private let channel: Channel
    private let sessions = NIOLockedValueBox<[UInt32: Registration]>([:])

    private struct Registration: @unchecked Sendable {
        weak var target: ResendTarget?
        let loop: EventLoop
    }

    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: Channel) {
        self.channel = channel
    }

    public static func bind(host: String, port: Int, group: EventLoopGroup, logger: Logger) throws -> MMSUDPEndpoint {
        let channel = try DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.so_sndbuf), value: 4 << 20)
            .bind(host: host, port: port).wait()
        let endpoint = MMSUDPEndpoint(channel: channel)
        try channel.eventLoop.submit { try channel.pipeline.syncOperations.addHandler(ResendInbound(endpoint: endpoint, logger: logger)) }.wait()
        return endpoint
    }

    /// Resend requests with `clientID` go to `target` (on `loop`) while it lives.
    public func register(_ target: ResendTarget, clientID: UInt32, on loop: EventLoop) {
        sessions.withLockedValue { $0[clientID] = Registration(target: target, loop: loop) }
    }

    public func unregister(clientID: UInt32) {
        _ = sessions.withLockedValue { $0.removeValue(forKey: clientID) }
    }

    /// Sends Data packets, each a datagram, in one flush; from another loop, in one hop.
    public func send(_ datagrams: [ByteBuffer], to address: SocketAddress) {
        let channel = channel
        channel.eventLoop.execute {
            for d in datagrams { channel.write(AddressedEnvelope(remoteAddress: address, data: d), promise: nil) }
            channel.flush()
        }
    }

    public func close() {
        channel.close(promise: nil)
    }

    fileprivate func dispatch(_ request: ResendRequest, from sender: SocketAddress) -> Bool {
        guard let registration = sessions.withLockedValue({ $0[request.clientID] }) else { return false }
        let target = UncheckedTarget(target: registration.target)
        registration.loop.execute { target.target?.resend(request, from: sender) }
        return true
    }

    private struct UncheckedTarget: @unchecked Sendable {
        weak var target: ResendTarget?
    }
}

/// RequestPacketListResend datagrams; anything else, or for no session, is dropped and logged once.
private final class ResendInbound: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let endpoint: MMSUDPEndpoint
    private let logger: Logger
    private var dropped = 0

    init(endpoint: MMSUDPEndpoint, logger: Logger) {
        self.endpoint = endpoint
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let accepted: Bool
        do {
            accepted = endpoint.dispatch(try ResendRequest(parsing: envelope.data), from: envelope.remoteAddress)
        } catch {
            accepted = false
        }
        if !accepted {
            dropped += 1
            if dropped == 1 { logger.notice("MMS UDP datagram from \(envelope.remoteAddress) is not a resend request of a session: dropped") }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.info("MMS UDP socket error: \(error)")
    }
}
