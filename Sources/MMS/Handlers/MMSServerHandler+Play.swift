import ASF
import NIOCore
import Streaming

extension MMSServerHandler: PacedSession, BroadcastSubscriber, ResendTarget {
    /// StartPlaying (3.2.5.11): from the position asked for when ready (a locationId, an
    /// asfOffset or a time), or on from where it is while streaming. On demand the loop's
    /// scheduler paces the packets; a broadcast joins its relay at the latest key frame.
    func startPlaying(_ request: ClientMessage.StartPlaying) {
        guard let context, let content else { return }
        let incarnation = UInt8(truncatingIfNeeded: request.playIncarnation)
        func refuse(_ hr: UInt32) {
            _ = machine.endOfStream()
            send(.reportStartedPlaying(hr: hr, playIncarnation: request.playIncarnation, openFileID: Self.openFileID))
        }
        if admission == nil {
            do {
                admission = try server.admission.admit(point: content.pointName, bitsPerSecond: UInt64(content.header.fileProperties.maximumBitrate))
            } catch {
                logger.notice("StartPlaying refused: \(error)")
                return refuse(ServerMessage.HResult.tooManySessions)
            }
        }
        playIncarnation = incarnation
        playNumber &+= 1
        let now = context.eventLoop.now
        if udpTarget == nil {
            // A client may fall behind by the write buffer's high mark (the slow-client rule).
            try? context.channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark,
                                                         value: server.delivery.writeBufferMarks(bitsPerSecond: content.header.fileProperties.maximumBitrate))
        }
        if let (session, read) = held {
            // The StartPlaying after a StreamChange goes on with the new entry (3.1.4.4).
            held = nil
            playback = session
            send(.reportStartedPlaying(hr: 0, playIncarnation: request.playIncarnation, openFileID: Self.openFileID))
            writeData(read)
            scheduler.schedule(self, at: now)
            return
        }
        switch content {
        case let .onDemand(onDemand, _):
            if playback == nil {
                let start = Self.start(of: request, packetSize: onDemand.first.packetSize, dataOffset: onDemand.first.dataOffset)
                do {
                    let source: any PacketSource
                    (source, _, startSeconds) = try onDemand.play(from: onDemand.isSeekable ? start : nil)
                    // Fast Start over TCP, where the client's reading paces the burst; over UDP real time.
                    let pacing = server.delivery.pacing(prerollMilliseconds: content.header.fileProperties.preroll, overTCP: udpTarget == nil)
                    playback = PlaySession(source: source, selection: selection, pacing: pacing, start: now)
                } catch {
                    logger.error("cannot play \(path): \(error)")
                    return refuse(ServerMessage.HResult.unexpected)
                }
                logger.info("play \(path) from \(start.map { "\($0)" } ?? "the start") over \(udpTarget == nil ? "TCP" : "UDP")")
            }
            send(.reportStartedPlaying(hr: 0, playIncarnation: request.playIncarnation, openFileID: Self.openFileID))
            playStarted = playStarted ?? now
            scheduler.schedule(self, at: now)
        case let .broadcast(point):
            send(.reportStartedPlaying(hr: 0, playIncarnation: request.playIncarnation, openFileID: Self.openFileID))
            playStarted = playStarted ?? now
            guard relay == nil else { return }
            let relay = point.relay(on: context.eventLoop)
            self.relay = relay
            let burst = relay.join(self)
            receive(burst)
            logger.info("play broadcast \(point.name) over \(udpTarget == nil ? "TCP" : "UDP"), joined with \(burst.packets.count) packets")
        }
    }

    /// Where a StartPlaying starts (2.2.4.25): a locationId (packet number; VLC sends one with
    /// position 0.0), else an asfOffset counted from the file's start, else the position in
    /// seconds; 0 and 0xFFFFFFFF stand for "not given". Nil: the beginning.
    static func start(of request: ClientMessage.StartPlaying, packetSize: Int, dataOffset: Int) -> StartPosition? {
        if request.locationID != 0, request.locationID != .max {
            return .byteOffset(UInt64(request.locationID) * UInt64(packetSize))
        }
        if request.asfOffset != 0, request.asfOffset != .max, Int(request.asfOffset) > dataOffset {
            return .byteOffset(UInt64(Int(request.asfOffset) - dataOffset))
        }
        if request.position > 0, request.position < Double(UInt32.max) {
            return .time(milliseconds: UInt64(request.position * 1000))
        }
        return nil
    }

    /// Stops the data; the file stays open.
    func stopSending() {
        if playback != nil { scheduler.cancel(self) }
        playback = nil
        relay?.leave(self)
        relay = nil
        socketWait.end()
    }

    /// The connection's end: the data, its place in the limits, the UDP registration, and the
    /// access log line.
    func endSession() {
        stopSending()
        admission?.release()
        admission = nil
        server.udp?.unregister(clientID: clientID)
        guard let started = playStarted, let context else { return }
        playStarted = nil
        // The subscriber name is `NSPlayer/7.0.0.1956; {GUID}; Host: …` (2.2.4.17).
        let parts = player.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        server.accessLog.write(ServedSession(clientIP: context.channel.remoteAddress?.ipAddress ?? "-", uriStem: path, userAgent: parts.first ?? player,
                                             playerID: parts.count > 1 ? parts[1] : nil, protocolName: udpTarget == nil ? "mmst" : "mmsu",
                                             transport: udpTarget == nil ? "TCP" : "UDP", startSeconds: startSeconds,
                                             durationSeconds: Int((context.eventLoop.now - started).nanoseconds / 1_000_000_000),
                                             bytes: bytesSent, packets: packetsSent, resendRequests: udpTarget == nil ? nil : resendRequests,
                                             serverIP: context.channel.localAddress?.ipAddress ?? "-"))
    }

    /// The last data packet was sent (3.2.4.1): ReportEndOfStream, and the connection stays
    /// open until the client's CloseFile (CLIENTS.md 2.4). Over UDP the report waits a second:
    /// VLC stops reading its UDP socket when the report arrives on TCP, and would lose the
    /// datagrams still queued there.
    func endOfStream() {
        stopSending()
        if udpTarget != nil, let context {
            let play = playNumber
            context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) { [self] in
                if play == playNumber { reportEndOfStream() }
            }
        } else {
            reportEndOfStream()
        }
    }

    /// The next playlist entry has other streams (3.2.4.1, 3.2.4.2): ReportEndOfStream with hr 1,
    /// ReportStreamChange, then over TCP the new header at once (incarnation 0xFF); over UDP the
    /// client asks for it with ReadBlock. The client selects the entry's streams and sends
    /// StartPlaying, which resumes `playback`. libmms follows this; ffmpeg and VLC do not
    /// (CLIENTS.md 2.3) and end there.
    func changeStream(to next: ASFFile, playback: PlaySession, read: [StreamPacket]) {
        stopSending()
        let header = next.header
        entry = (header, header.streamingHeader(dataObject: next.dataObject))
        held = (playback, read)
        selection = nil
        send(.reportEndOfStream(hr: 1, playIncarnation: UInt32(playIncarnation)))
        send(.reportStreamChange(packetSize: header.fileProperties.maximumPacketSize, headerSize: UInt32(entry!.streamingHeader.readableBytes),
                                 bitRate: header.fileProperties.maximumBitrate))
        if udpTarget == nil {
            sendHeader(playIncarnation: 0xFF)
        } else {
            _ = machine.endOfStream()
        }
        logger.info("playlist entry \(next.path) with streams \(header.streams.map(\.streamNumber)): stream change")
    }

    private func reportEndOfStream() {
        guard machine.endOfStream() else { return }
        admission?.release()
        admission = nil
        send(.reportEndOfStream(hr: 0, playIncarnation: UInt32(playIncarnation)))
        logger.info("end of stream after \(packetsSent) packets")
    }

    public func pump(now: NIODeadline) -> NIODeadline? {
        guard let context, var session = playback else { return nil }
        if udpTarget == nil, !context.channel.isWritable {
            socketWait.begin(logger: logger)
            return nil
        }
        due.removeAll(keepingCapacity: true)
        var ofNextEntry: [StreamPacket] = []
        let (step, nextEntry): (PlaySession.Step, ASFFile?)
        do {
            (step, nextEntry) = try session.collectDue(now: now, into: &due, ofNextEntry: &ofNextEntry)
        } catch {
            StreamFailures.shared.log(error, logger: logger)
            presence?.streamFailed()
            context.close(promise: nil)
            return nil
        }
        playback = session
        writeData(due)
        if let nextEntry {
            changeStream(to: nextEntry, playback: session, read: ofNextEntry)
            return nil
        }
        switch step {
        case let .wait(until):
            return until
        case .finished:
            endOfStream()
            return nil
        }
    }

    /// The broadcast's encoder stopped: the end of the stream, as after a file's last packet.
    public func broadcastEnded() {
        endOfStream()
    }

    /// The batch's Data packets are built once for every session on this loop at the same
    /// playIncarnation and sequence phase (the only fields that differ between them).
    public func receive(_ batch: BroadcastBatch) {
        guard let context, machine.state == .streaming, !batch.packets.isEmpty else { return }
        if udpTarget == nil, !context.channel.isWritable {
            logger.notice("client too slow for the broadcast: disconnected")
            endSession()
            context.close(promise: nil)
            return
        }
        let first = sequence
        let data = batch.shared(for: MMSServerHandler.self, variant: Int(playIncarnation) << 8 | Int(first & 0xFF)) { packets in
            dataPackets(packets, firstSequence: first, allocator: context.channel.allocator)
        }
        if udpTarget != nil {
            sendDatagrams(data, of: batch.packets)
        } else {
            context.writeAndFlush(wrapOutboundOut(data), promise: nil)
            sequence &+= UInt32(batch.packets.count)
        }
        packetsSent += batch.packets.count
        bytesSent += data.readableBytes - batch.packets.count * MMSData.headerSize
        presence?.reached(batch.packets.last?.sendTime)
    }

    /// Data packets (3.2.5.11.1) in one buffer: the ASF packet as stored, after the 8-byte header
    /// with its number in the file, the StartPlaying's incarnation and the sequence's low byte.
    func dataPackets(_ packets: [StreamPacket], firstSequence: UInt32, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: packets.reduce(0) { $0 + MMSData.headerSize + $1.bytes.readableBytes })
        for (i, packet) in packets.enumerated() {
            MMSData.writeHeader(locationID: packet.locationID, playIncarnation: playIncarnation,
                                flags: UInt8(truncatingIfNeeded: firstSequence &+ UInt32(i)), payloadLength: packet.bytes.readableBytes, to: &out)
            var bytes = packet.bytes
            out.writeBuffer(&bytes)
        }
        return out
    }

    /// Over UDP, one datagram per Data packet of `data`, each kept for resend requests.
    private func sendDatagrams(_ data: ByteBuffer, of packets: [StreamPacket]) {
        guard let udpTarget, let udp = server.udp else { return }
        var datagrams: [ByteBuffer] = []
        datagrams.reserveCapacity(packets.count)
        var offset = data.readerIndex
        for packet in packets {
            let datagram = data.getSlice(at: offset, length: MMSData.headerSize + packet.bytes.readableBytes)!
            resend.keep(datagram, sequence: sequence)
            datagrams.append(datagram)
            offset += datagram.readableBytes
            sequence &+= 1
        }
        udp.send(datagrams, to: udpTarget)
    }

    /// The packets of an on-demand session. Over TCP the packet bytes go out as they are after a
    /// header buffer per batch; over UDP the datagrams are built into one buffer per batch.
    func writeData(_ packets: [StreamPacket]) {
        guard let context, !packets.isEmpty else { return }
        if udpTarget != nil {
            sendDatagrams(dataPackets(packets, firstSequence: sequence, allocator: context.channel.allocator), of: packets)
        } else {
            var headers = context.channel.allocator.buffer(capacity: packets.count * MMSData.headerSize)
            for packet in packets {
                MMSData.writeHeader(locationID: packet.locationID, playIncarnation: playIncarnation, flags: UInt8(truncatingIfNeeded: sequence),
                                    payloadLength: packet.bytes.readableBytes, to: &headers)
                sequence &+= 1
            }
            for (i, packet) in packets.enumerated() {
                context.write(wrapOutboundOut(headers.getSlice(at: i * MMSData.headerSize, length: MMSData.headerSize)!), promise: nil)
                context.write(wrapOutboundOut(packet.bytes), promise: nil)
            }
            context.flush()
        }
        packetsSent += packets.count
        bytesSent += packets.reduce(0) { $0 + $1.bytes.readableBytes }
        presence?.reached(packets.last?.sendTime)
    }

    /// RequestPacketListResend (3.2.5.13): the Data packets named, unchanged, if still kept,
    /// within the session's resend budget. Only from the client's own address: a request with
    /// its client id from elsewhere is forged.
    public func resend(_ request: ResendRequest, from sender: SocketAddress) {
        guard let udpTarget, request.sourceID == UInt16(truncatingIfNeeded: Self.openFileID) else {
            logger.notice("resend request for file \(request.sourceID) ignored")
            return
        }
        guard sender.ipAddress == udpTarget.ipAddress else {
            forgedResends += 1
            if forgedResends == 1 { logger.notice("resend request for this session from \(sender), not the client's address: ignored") }
            return
        }
        resendRequests += 1
        let (granted, firstShortfall) = resendBudget.take(request.sequences.count, now: context?.eventLoop.now ?? .now())
        if firstShortfall {
            logger.notice("resend requests over the session's budget (\(Int(resendBudget.perSecond)) a second): the rest not resent")
        }
        let copies = request.sequences.prefix(granted).compactMap { resend.datagram($0) }
        if copies.count < granted {
            logger.info("resend: \(granted - copies.count) of \(granted) packets no longer kept")
        }
        server.udp?.send(copies, to: udpTarget)
        presence?.resendRequested(request.sequences.count, resent: copies.count)
    }
}
