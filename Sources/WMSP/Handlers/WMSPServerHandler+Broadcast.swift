import ASF
import NIOCore
import NIOHTTP1
import Streaming

/// Broadcast points: every client gets the point's header, then the packets from the latest
/// clean point (Advanced Fast Start), then the live packets as the source produces them.
extension WMSPServerHandler: BroadcastSubscriber {
    /// The $M broadcast-id of a point's live source (2.2.3.6): a point has one source.
    static let broadcastID: UInt32 = 1

    func broadcast(_ point: BroadcastPoint, request: WMSPRequest, context: ChannelHandlerContext) {
        point.start()
        broadcastPoint = point
        startSeconds = 0
        switch request.kind {
        case .describe:
            describe(clientHeader(point.header, request).header.streamingHeaderOfUnknownSize, of: point.header, features: "broadcast", broadcastID: Self.broadcastID,
                     request: request, context: context)
            return
        case .play:
            guard let chosen = requestedSelection(request, header: point.header, context: context) else { return }
            selection = chosen
            guard admit(point: point.name, bitsPerSecond: point.header.fileProperties.maximumBitrate, context: context),
                  startStreaming(request, context: context) else { return }
            writeWMSPHead(contentType: "application/x-mms-framed", features: "broadcast", context: context)
            writeHeader(clientHeader(point.header, request).header.streamingHeaderOfUnknownSize, of: point.header, features: "broadcast", broadcastID: Self.broadcastID, context: context)
        case .download:
            guard admit(point: point.name, bitsPerSecond: point.header.fileProperties.maximumBitrate, context: context) else { return }
            // A plain HTTP client gets the bare ASF stream: header, then packets as they come.
            framed = false
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "video/x-ms-asf")
            headers.add(name: "Cache-Control", value: "no-cache")
            headers.add(name: "Connection", value: "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_0, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(point.streamingHeader))), promise: nil)
            playStarted = context.eventLoop.now
        default:
            return sendError(.badRequest, "not a content request", context: context)
        }
        // A live client may fall behind by the write buffer's high mark, then it is let go.
        try? context.channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: server.delivery.writeBufferMarks(bitsPerSecond: point.header.fileProperties.maximumBitrate))
        let relay = point.relay(on: context.eventLoop)
        self.relay = relay
        let burst = relay.join(self)
        receive(burst)
        logger.info("play broadcast \(point.name), joined with \(burst.packets.count) packets")
    }

    /// The batch in one write: its $D frames are built once for every session on this loop whose
    /// AFFlags sequence is at the same value (the only field that differs between them).
    public func receive(_ batch: BroadcastBatch) {
        guard let context else { return }
        guard context.channel.isWritable else {
            logger.notice("client too slow for the broadcast: disconnected")
            endPlayback()
            context.close(promise: nil)
            return
        }
        let (first, framed) = (sequence, framed)
        let bytes = batch.shared(for: WMSPServerHandler.self, variant: framed ? Int(first) : -1) { packets in
            Self.body(packets, firstSequence: framed ? first : nil, allocator: context.channel.allocator)
        }
        if framed { sequence &+= UInt8(truncatingIfNeeded: batch.packets.count) }
        packetsSent += batch.packets.count
        bytesSent += bytes.readableBytes
        presence?.reached(batch.packets.last?.sendTime)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
    }

    /// The encoder stopped: $E (2.2.3.5, reason 0) to a WMSP client, the end of the body to a
    /// plain HTTP one.
    public func broadcastEnded() {
        guard let context, relay != nil else { return }
        if framed {
            var end = context.channel.allocator.buffer(capacity: 8)
            Frame.writeNotification(type: Frame.endOfStream, reason: 0, to: &end)
            context.write(wrapOutboundOut(.body(.byteBuffer(end))), promise: nil)
        }
        logger.info("broadcast ended: \(packetsSent) packets, \(bytesSent) bytes")
        // The whole end: the player's place in the counts and limits, its access log line.
        endPlayback()
        if framed {
            finishDataResponse(context: context)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// The packets in one buffer: as $D frames (2.2.3.3) with AFFlags counting from
    /// `firstSequence`, or bare (nil, a plain HTTP client).
    static func body(_ packets: [StreamPacket], firstSequence: UInt8?, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: packets.reduce(0) { $0 + 12 + $1.bytes.readableBytes })
        for (i, packet) in packets.enumerated() {
            if let firstSequence {
                Frame.writeDataHeader(type: Frame.data, locationID: packet.locationID, incarnation: 0,
                                      afFlags: firstSequence &+ UInt8(truncatingIfNeeded: i), payloadLength: packet.bytes.readableBytes, to: &out)
            }
            var payload = packet.bytes
            out.writeBuffer(&payload)
        }
        return out
    }
}
