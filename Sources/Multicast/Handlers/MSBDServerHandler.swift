import ASF
import Logging
import NIOCore
import Streaming

/// A point served over MSBD (MS-MSBD), as Windows Media Encoder served WMS 4.1: a client's
/// REQ_CONNECT is answered with RES_CONNECT and the stream's IND_STREAMINFO (its ASF header,
/// under the Format ID its `.nsc` gives it), then each packet as an IND_PACKET over the
/// connection, or none when the client takes them from the point's multicast group. When a
/// pushed point's encoder brings a header of other streams (a new broadcast), the client gets
/// its IND_STREAMINFO under a new wStreamId and its packets (4.2); at the end, IND_EOS and an
/// empty IND_STREAMINFO (3.1.5.3). A ping every 2 minutes; a client that does not answer within
/// 2 more is closed (3.1.6).
public final class MSBDServerHandler: ChannelInboundHandler, BroadcastSubscriber {
    public typealias InboundIn = MSBDMessage
    public typealias OutboundOut = ByteBuffer

    public struct Point: Sendable {
        public var name: String
        /// What plays there now; nil while a pushed point has no encoder.
        public var broadcast: @Sendable () -> BroadcastPoint?
        /// The point's IPv4 group, when it has one (MSBD knows no other family).
        public var group: (address: UInt32, port: UInt16)?

        public init(name: String, broadcast: @escaping @Sendable () -> BroadcastPoint?, group: (address: UInt32, port: UInt16)?) {
            self.name = name
            self.broadcast = broadcast
            self.group = group
        }
    }

    /// NS_E_... "the stream ended": the empty IND_STREAMINFO's hr (MULTICAST.md §5).
    static let endedHR: UInt32 = 0xC00D_0033
    /// E_FAIL: nothing to play (a pushed point without its encoder).
    static let nothingHR: UInt32 = 0x8000_4005
    static let pingInterval = TimeAmount.minutes(2)
    /// Batches in a row the client did not take before it is closed as too slow.
    static let slowBatches = 10

    private let point: Point
    private var logger: Logger
    private var session: MSBDSession
    private var context: ChannelHandlerContext?
    private var relay: BroadcastRelay?
    private var broadcast: BroadcastPoint?
    private var streamID: UInt16 = 0
    private var nextID: UInt32 = 0
    private var pingTask: Scheduled<Void>?
    private var awaitingPong = false
    private var unwritable = 0

    public var selection: Set<UInt8>? { nil }

    public init(point: Point, logger: Logger) {
        self.point = point
        self.logger = logger
        session = MSBDSession(hasGroup: point.group != nil)
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let remote = context.channel.remoteAddress { logger[metadataKey: "client"] = "\(remote)" }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        pingTask?.cancel()
        relay?.leave(self)
        relay = nil
        self.context = nil
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.notice("MSBD point \(point.name): \(error): connection closed")
        context.close(promise: nil)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch session.receive(unwrapInboundIn(data)) {
        case let .accept(overConnection):
            guard let broadcast = point.broadcast() else {
                logger.notice("MSBD point \(point.name): nothing plays there yet: refused")
                return refuse(hr: Self.nothingHR, context: context)
            }
            start(broadcast, overConnection: overConnection, context: context)
        case let .refuse(hr):
            logger.notice("MSBD point \(point.name): REQ_CONNECT refused (hr 0x\(String(hr, radix: 16)))")
            refuse(hr: hr, context: context)
        case .pingAnswered:
            awaitingPong = false
        case .sendStreamInfo:
            guard let broadcast = point.broadcast() else { return }
            send([.streamInfo(streamInfo(of: broadcast), response: true, hr: 0)], context: context)
        case let .close(reason):
            logger.notice("MSBD point \(point.name): \(reason): connection closed")
            context.close(promise: nil)
        }
    }

    private func refuse(hr: UInt32, context: ChannelHandlerContext) {
        var b = context.channel.allocator.buffer(capacity: 32)
        MSBDMessage.responseConnect(hr: hr, headerInNSC: false, group: nil).write(to: &b)
        context.writeAndFlush(wrapOutboundOut(b)).whenComplete { _ in context.close(promise: nil) }
    }

    private func streamInfo(of broadcast: BroadcastPoint) -> MSBDStreamInfo {
        let format = NSCFile.Format(streamingHeader: broadcast.streamingHeader)
        return MSBDStreamInfo(streamID: format.id, packetSize: UInt16(clamping: broadcast.packetSize),
                              bitRate: broadcast.header.fileProperties.maximumBitrate, header: format.header)
    }

    private func start(_ broadcast: BroadcastPoint, overConnection: Bool, context: ChannelHandlerContext) {
        let info = streamInfo(of: broadcast)
        streamID = info.streamID
        guard info.header.count <= MSBDStreamInfo.maximumField else {
            logger.notice("MSBD point \(point.name): a header of \(info.header.count) bytes, more than MSBD carries (\(MSBDStreamInfo.maximumField)): refused")
            return refuse(hr: Self.nothingHR, context: context)
        }
        logger.info("MSBD point \(point.name): streaming \(overConnection ? "over the connection" : "to the multicast group")")
        send([.responseConnect(hr: 0, headerInNSC: point.group != nil, group: overConnection ? nil : point.group),
              .streamInfo(info, response: false, hr: 0)], context: context)
        schedulePing(context: context)
        guard overConnection else { return }
        follow(broadcast, context: context)
    }

    /// Takes the packets of `broadcast` from here on.
    private func follow(_ broadcast: BroadcastPoint, context: ChannelHandlerContext) {
        self.broadcast = broadcast
        let relay = broadcast.relay(on: context.eventLoop)
        self.relay = relay
        receive(relay.join(self))
    }

    private func schedulePing(context: ChannelHandlerContext) {
        pingTask = context.eventLoop.assumeIsolated().scheduleTask(in: Self.pingInterval) { [weak self] in
            guard let self else { return }
            guard !awaitingPong else {
                logger.notice("MSBD point \(point.name): no answer to a ping within 2 minutes: connection closed")
                return context.close(promise: nil)
            }
            awaitingPong = true
            send([.requestPing], context: context)
            schedulePing(context: context)
        }
    }

    private func send(_ messages: [MSBDMessage], context: ChannelHandlerContext) {
        var b = context.channel.allocator.buffer(capacity: 64)
        for message in messages { message.write(to: &b) }
        context.writeAndFlush(wrapOutboundOut(b), promise: nil)
    }

    // MARK: BroadcastSubscriber

    public func receive(_ batch: BroadcastBatch) {
        guard let context, !batch.packets.isEmpty else { return }
        guard context.channel.isWritable || unwritable < Self.slowBatches else {
            logger.notice("MSBD point \(point.name): the client took nothing for \(Self.slowBatches) deliveries: connection closed")
            relay?.leave(self)
            relay = nil
            return context.close(promise: nil)
        }
        unwritable = context.channel.isWritable ? 0 : unwritable + 1
        // The packets as stored (with their padding: 2.2.10), one write per delivery.
        var b = context.channel.allocator.buffer(capacity: batch.packets.reduce(0) { $0 + $1.bytes.readableBytes + 24 })
        for packet in batch.packets {
            MSBDMessage.packet(id: nextID, streamID: streamID, data: packet.bytes).write(to: &b)
            nextID &+= 1
        }
        context.writeAndFlush(wrapOutboundOut(b), promise: nil)
    }

    public func broadcastEnded() {
        relay = nil
        guard let context else { return }
        // A new broadcast at the point: the next stream of 4.2.
        if let next = point.broadcast(), next !== broadcast {
            let info = streamInfo(of: next)
            streamID = info.streamID
            logger.info("MSBD point \(point.name): a new header: stream \(info.streamID)")
            send([.streamInfo(info, response: false, hr: 0)], context: context)
            return follow(next, context: context)
        }
        var b = context.channel.allocator.buffer(capacity: 64)
        MSBDMessage.endOfStream.write(to: &b)
        MSBDMessage.streamInfo(.empty, response: false, hr: Self.endedHR).write(to: &b)
        context.writeAndFlush(wrapOutboundOut(b)).whenComplete { _ in context.close(promise: nil) }
    }
}
