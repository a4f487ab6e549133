import Logging
import NIOCore

/// The first handler of every TCP connection (HTTP, RTSP, MMS): it takes the connection's place
/// in the `ConnectionLimiter` (closing it at once when over a limit), and until the server
/// first answers it enforces the request timeouts: the first request must be complete within
/// `headerTimeout` of the connection, and the client may not go silent for `idleTimeout` before
/// it is (nginx's client_header_timeout, 60 s by default). A client that trickles a request a
/// byte at a time, or connects and sends nothing, is closed. Once the server has answered,
/// each protocol's own session timeouts govern the connection.
public final class ConnectionGuard: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = Any
    public typealias OutboundOut = Any

    public struct Timeouts: Sendable {
        public var header: TimeAmount
        public var idle: TimeAmount

        public init(header: TimeAmount = .seconds(60), idle: TimeAmount = .seconds(60)) {
            self.header = header
            self.idle = idle
        }
    }

    private let limiter: ConnectionLimiter
    private let timeouts: Timeouts
    private var logger: Logger
    private var address: String?
    /// When the connection was accepted: the start of its players' time to first packet.
    public private(set) var connected = NIODeadline.now()
    private var lastRead = NIODeadline.now()
    private var timer: Scheduled<Void>?
    /// The server has written: the request timeouts are over.
    private var answered = false

    public init(limiter: ConnectionLimiter, timeouts: Timeouts, logger: Logger) {
        self.limiter = limiter
        self.timeouts = timeouts
        self.logger = logger
    }

    public func channelActive(context: ChannelHandlerContext) {
        let remote = context.channel.remoteAddress
        let key = remote?.ipAddress ?? "local"
        logger[metadataKey: "client"] = "\(remote.map { "\($0)" } ?? "?")"
        if let (refusal, first) = limiter.open(from: key, now: context.eventLoop.now) {
            // Logged once per run of refusals, not per connection of a flood.
            if first { logger.notice("connections refused: \(refusal)") }
            context.close(promise: nil)
            return
        }
        address = key
        connected = context.eventLoop.now
        lastRead = connected
        arm(context: context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if let address { limiter.close(from: address) }
        address = nil
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !answered { lastRead = context.eventLoop.now }
        context.fireChannelRead(data)
    }

    /// Sent down the pipeline by a handler that took a request whose answer comes only at its
    /// end (a PushStart, whose body is the stream): the request timeouts are over.
    public struct RequestAccepted: Sendable {
        public init() {}
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        endTimeouts()
        context.write(data, promise: promise)
    }

    public func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is RequestAccepted else { return context.triggerUserOutboundEvent(event, promise: promise) }
        endTimeouts()
        promise?.succeed()
    }

    private func endTimeouts() {
        guard !answered else { return }
        answered = true
        timer?.cancel()
        timer = nil
    }

    /// Wakes at the earlier of the two deadlines; a read since then moves the idle one.
    private func arm(context: ChannelHandlerContext) {
        let header = connected + timeouts.header
        let idle = lastRead + timeouts.idle
        timer = context.eventLoop.scheduleTask(deadline: min(header, idle)) { [weak self] in
            guard let self, !answered, address != nil else { return }
            let now = context.eventLoop.now
            let reason: String
            if now >= header {
                reason = "no complete request within \(timeouts.header.nanoseconds / 1_000_000) ms of connecting"
            } else if now >= lastRead + timeouts.idle {
                reason = "silent for \(timeouts.idle.nanoseconds / 1_000_000) ms before a complete request"
            } else {
                return arm(context: context)
            }
            logger.debug("closed: \(reason)")
            if let count = limiter.timedOut(now: now) { logger.notice("closed \(count) connection(s) by the request timeouts, the last: \(reason)") }
            context.close(promise: nil)
        }
    }
}
