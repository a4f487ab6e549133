import ASF
import Foundation
import NIOCore
import Streaming

/// What a session's RTCP and retransmissions came to, logged when it ends.
struct Statistics {
    var receiverReports = 0
    var lastReport: RTCP.ReceptionReport?
    var retransmitted = 0
    /// The NACKs of the retransmission stream (the access log's c-resendreqs).
    var resendRequests = 0
    var unrecoverable = 0
    var malformedRTCP = 0
    var unsendable = 0
}

extension RTSPServerHandler: PacedSession, BroadcastSubscriber, RTCPReceiver {
    /// Play (MS-RTSP 3.2.5.8): from the `Range` start (a seek while playing), else from where a
    /// Pause left off. On demand the loop's scheduler paces the packets; a broadcast joins its
    /// relay at the latest key frame.
    func play(_ request: RTSPRequest, reply: Reply) {
        guard let content, let packetizer, !streams.isEmpty else {
            logger.notice("455: PLAY before SETUP")
            return reply(455)
        }
        guard let context else { return }
        if admission == nil {
            do {
                admission = try server.admission.admit(point: content.pointName, bitsPerSecond: UInt64(content.header.fileProperties.maximumBitrate))
            } catch {
                logger.notice("503: \(error)")
                return reply(503)
            }
        }
        let requested: UInt64?
        switch RangeStart(header: request["Range"]) {
        case .invalid:
            logger.notice("457: Range \(request["Range"] ?? "")")
            return reply(457)
        case let .at(milliseconds): requested = milliseconds
        case .resume: requested = nil
        }
        var source: (any PacketSource)?
        var firstSendTime: UInt32 = 0
        var startSeconds = 0
        var burst = BroadcastBatch([])
        if let (session, read) = announced {
            // The Play after an Announce (3.2.4.2) goes on with the entry announced.
            announced = nil
            source = session.source
            burst = BroadcastBatch(read)
            firstSendTime = read.first?.sendTime ?? position
        } else if case let .onDemand(onDemand, _) = content {
            do {
                let milliseconds = requested ?? UInt64(position)
                (source, firstSendTime, startSeconds) = try onDemand.play(from: milliseconds > 0 ? .time(milliseconds: milliseconds) : nil)
            } catch {
                logger.error("500: cannot play \(contentURL): \(error)")
                return reply(500)
            }
        }
        guard machine.play() == .accept else { return reply(455) }
        stopSending()
        if streams.first?.transport.lower == .tcp {
            // A client may fall behind by the write buffer's high mark (the slow-client rule).
            try? context.channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark,
                                                         value: server.delivery.writeBufferMarks(bitsPerSecond: content.header.fileProperties.maximumBitrate))
        }
        let now = context.eventLoop.now
        // The latest Play is where the access log says the player began (c-starttime, "from
        // when the client most recently started streaming", MS-WMLOG 2.1.23).
        self.startSeconds = startSeconds
        presence = presence ?? server.delivery.arrive(protocolName: "rtsp", transport: streams[0].transport.lower == .tcp ? "tcp" : "udp",
                                                      path: URL(string: contentURL)?.path ?? contentURL, player: userAgent, on: context.channel)
        if let source {
            // Fast Start over TCP, where the client's reading paces the burst. Over UDP a burst
            // outruns the receiver (GStreamer loses frames) and MS-RTSP ties acceleration to the
            // client's X-Accelerate-Streaming (3.2.5.8), which neither ffmpeg nor GStreamer sends.
            let pacing = server.delivery.pacing(prerollMilliseconds: content.header.fileProperties.preroll,
                                                overTCP: streams[0].transport.lower == .tcp)
            playback = PlaySession(source: source, selection: selection, pacing: pacing, start: now)
        } else if case let .broadcast(point) = content {
            let relay = point.relay(on: context.eventLoop)
            self.relay = relay
            burst = relay.join(self)
            firstSendTime = burst.packets.first?.sendTime ?? 0
        }
        let info = streams.map { "url=\(contentURL)/stream=\($0.control);seq=\(packetizer.sequence);rtptime=\(firstSendTime)" }
        reply(200, [("Range", String(format: "npt=%.3f-", Double(firstSendTime) / 1000)), ("RTP-Info", info.joined(separator: ","))])
        logger.info("play \(contentURL) from \(firstSendTime) ms, streams \(streams.compactMap(\.number).sorted()) over \(streams[0].transport.lower)")
        nextReport = now
        sendRTP(burst, now: now)
        if playback != nil { scheduler.schedule(self, at: now) }
    }

    func pause(reply: Reply) {
        guard machine.pause() == .accept else {
            logger.notice("455: PAUSE while \(machine.state)")
            return reply(455)
        }
        stopSending()
        reply(200)
    }

    /// Stops the packets; the session stays set up.
    func stopSending() {
        if playback != nil { scheduler.cancel(self) }
        playback = nil
        relay?.leave(self)
        relay = nil
        socketWait.end()
    }

    /// Ends the session: TEARDOWN, the idle timeout or the connection's end; a session that
    /// played writes its access log line.
    func endSession(reason: String) {
        stopSending()
        admission?.release()
        admission = nil
        if let presence {
            let overTCP = streams.first?.transport.lower == .tcp
            server.accessLog.write(ServedSession(clientIP: context?.channel.remoteAddress?.ipAddress ?? "-", uriStem: URL(string: contentURL)?.path ?? contentURL,
                                                 userAgent: userAgent, playerID: ServedSession.rtspPlayerID(userAgent: userAgent), protocolName: "rtsp",
                                                 transport: overTCP ? "TCP" : "UDP", startSeconds: startSeconds,
                                                 durationSeconds: Int(Date().timeIntervalSince(presence.connected)), bytes: presence.bytesSent,
                                                 packets: Int(packetizer?.packetCount ?? 0),
                                                 resendRequests: retransmission == nil || overTCP ? nil : statistics.resendRequests,
                                                 serverIP: context?.channel.localAddress?.ipAddress ?? "-"))
        }
        presence = nil
        endpoint?.unregister(self)
        if let packetizer {
            let report = statistics.lastReport.map { ", client lost \($0.cumulativeLost)" } ?? ""
            logger.info("session ended (\(reason)): \(packetizer.packetCount) RTP packets, \(statistics.receiverReports) receiver reports\(report), \(statistics.retransmitted) retransmitted, \(statistics.unrecoverable) too old to resend")
        }
        streams = []
        retransmission = nil
        packetizer = nil
        content = nil
        playlistGenID = 0
        entryHeader = nil
        announced = nil
        reselecting = false
        resend.removeAll()
        statistics = Statistics()
        position = 0
    }

    // MARK: Sending

    public func pump(now: NIODeadline) -> NIODeadline? {
        guard let context, var session = playback else { return nil }
        if streams.first?.transport.lower == .tcp, !context.channel.isWritable {
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
        sendRTP(due, now: now)
        if let nextEntry {
            announce(nextEntry, playback: session, read: ofNextEntry)
            return nil
        }
        switch step {
        case let .wait(until):
            return until
        case .finished:
            finishStream()
            return nil
        }
    }

    /// The broadcast's encoder stopped: the end of the stream, as after a file's last packet.
    public func broadcastEnded() {
        finishStream()
    }

    public func receive(_ batch: BroadcastBatch) {
        guard let context, machine.state == .playing else { return }
        if streams.first?.transport.lower == .tcp, !context.channel.isWritable {
            logger.notice("client too slow for the broadcast: disconnected")
            endSession(reason: "too slow")
            context.close(promise: nil)
            return
        }
        sendRTP(batch, now: context.eventLoop.now)
    }

    /// A batch shared with other sessions (a relay's turn, or joiners' burst): its padding-free
    /// packets are the same for every session of its selection, built once.
    func sendRTP(_ batch: BroadcastBatch, now: NIODeadline) {
        guard let context, !batch.packets.isEmpty else { return }
        sendRTP(batch.shared(for: RTSPServerHandler.self, variant: 0) { rewrite($0, allocator: context.channel.allocator) }, now: now)
    }

    /// The packets as RTP on the first set-up stream's RTP session: every ASF packet exactly
    /// once, whichever streams its payloads belong to (CLIENTS.md 3.6 rule 7). Over TCP the
    /// packet bytes go out as they are, after a header buffer shared by the batch; over UDP each
    /// datagram is built once into one buffer per batch and kept for retransmission.
    func sendRTP(_ packets: [StreamPacket], now: NIODeadline) {
        guard let context, !packets.isEmpty else { return }
        sendRTP(rewrite(packets, allocator: context.channel.allocator), now: now)
    }

    /// The packets as ASF RTP payloads (MS-RTSP 2.2.1.1): padding dropped, one packet per payload
    /// (`ASFPayload.append`), in one buffer.
    func rewrite(_ packets: [StreamPacket], allocator: ByteBufferAllocator) -> (bytes: ByteBuffer, packets: [ASFPayload.Packet]) {
        var bytes = allocator.buffer(capacity: packets.reduce(0) { $0 + $1.bytes.readableBytes })
        var outgoing: [ASFPayload.Packet] = []
        for packet in packets {
            do {
                try ASFPayload.append(packet.bytes, rewritingInto: &bytes, to: &outgoing)
            } catch {
                statistics.unsendable += 1
                if statistics.unsendable == 1 { logger.error("a data packet does not parse: skipped (\(error))") }
            }
        }
        return (bytes, outgoing)
    }

    func sendRTP(_ rewritten: (bytes: ByteBuffer, packets: [ASFPayload.Packet]), now: NIODeadline) {
        guard let context, var packetizer, let target = streams.first?.target, !rewritten.packets.isEmpty else { return }
        let (batch, outgoing) = rewritten
        pieces.removeAll(keepingCapacity: true)
        var headers = context.channel.allocator.buffer(capacity: outgoing.count * 24)
        let channel: UInt8? = if case let .interleaved(rtp, _) = target { rtp } else { nil }
        for packet in outgoing {
            packetizer.packetize(body: packet.bytes(in: batch), keyFrame: packet.keyFrame, timestamp: packet.sendTime, channel: channel,
                                 headers: &headers, pieces: &pieces)
            position = packet.sendTime
        }
        self.packetizer = packetizer
        let size = pieces.reduce(0) { $0 + $1.headerLength + $1.body.readableBytes }
        presence?.sent(size)
        presence?.reached(position)
        switch target {
        case .interleaved:
            for piece in pieces {
                context.write(wrapOutboundOut(headers.getSlice(at: piece.headerStart, length: piece.headerLength)!), promise: nil)
                context.write(wrapOutboundOut(piece.body), promise: nil)
            }
            context.flush()
        case let .udp(address, _):
            guard let endpoint else { return }
            var datagrams = context.channel.allocator.buffer(capacity: size)
            for piece in pieces {
                var header = headers.getSlice(at: piece.headerStart, length: piece.headerLength)!
                var body = piece.body
                datagrams.writeBuffer(&header)
                datagrams.writeBuffer(&body)
            }
            var offset = datagrams.readerIndex
            for piece in pieces {
                let length = piece.headerLength + piece.body.readableBytes
                let datagram = datagrams.getSlice(at: offset, length: length)!
                endpoint.sendRTP(datagram, to: address)
                resend.keep(datagram, sequence: UInt32(piece.sequence))
                offset += length
            }
            endpoint.flush()
        }
        sendReportsIfDue(now: now)
    }

    /// A sender report on every set-up RTP session, every 5 s while playing (RFC 3550 6.2).
    private func sendReportsIfDue(now: NIODeadline) {
        guard now >= nextReport else { return }
        nextReport = now + .seconds(5)
        for (i, stream) in streams.enumerated() {
            sendRTCP(to: stream.target, ssrc: packetizer?.ssrc ?? 0, carriesData: i == 0, bye: false)
        }
    }

    private func sendRTCP(to target: RTPTarget, ssrc: UInt32, carriesData: Bool, bye: Bool) {
        guard let context, let packetizer else { return }
        var b = context.channel.allocator.buffer(capacity: 80)
        if let channel = target.interleavedRTCP { b.writeBytes([0x24, channel, 0, 0]) }
        let wallClock = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
        RTCP.writeSenderReport(ssrc: ssrc, ntp: RTCP.ntpTime(unixNanoseconds: wallClock), rtpTime: position,
                               packets: carriesData ? packetizer.packetCount : 0, octets: carriesData ? packetizer.octetCount : 0, to: &b)
        RTCP.writeSourceDescription(ssrc: ssrc, cname: "asfcast@\(context.channel.localAddress?.ipAddress ?? "0.0.0.0")", to: &b)
        if bye { RTCP.writeBye(ssrc: ssrc, to: &b) }
        switch target {
        case .interleaved:
            b.setInteger(UInt16(b.readableBytes - 4), at: 2)
            context.writeAndFlush(wrapOutboundOut(b), promise: nil)
        case let .udp(_, rtcp):
            endpoint?.sendRTCP(b, to: rtcp)
        }
    }

    /// The last packet was sent (MS-RTSP 3.2.4.1): EndOfStream, and an RTCP BYE per RTP
    /// session the description named. ffmpeg ends only on BYEs and counts them against every
    /// media description, the retransmission one included even over TCP where it is never set
    /// up, so the extra BYEs go on the set-up sessions.
    func finishStream() {
        guard let packetizer else { return }
        stopSending()
        guard machine.endOfStream() else { return }
        admission?.release()
        admission = nil
        sendEndOfStream(endOfEntry: false)
        sendByes()
        logger.info("end of stream after \(packetizer.packetCount) RTP packets")
    }

    /// The next playlist entry has other streams (3.2.4.1, 3.2.4.2): EndOfStream saying an
    /// entry ended, then Announce with the new entry's description under a new playlist entry
    /// identifier. The client sets up the entry's streams and plays on (the next Play resumes
    /// `playback`, with the packets already read). Neither ffmpeg nor GStreamer implements
    /// Announce (CLIENTS.md 3.3, 3.4); a refused Announce ends the stream there.
    func announce(_ entry: ASFFile, playback: PlaySession, read: [StreamPacket]) {
        guard let id = machine.sessionID else { return }
        stopSending()
        guard machine.endOfStream() else { return }
        sendEndOfStream(endOfEntry: true)
        playlistGenID += 1
        entryHeader = entry.header
        announced = (playback, read)
        reselecting = true
        let header = server.delivery.header(entry.header, for: .rtsp(userAgent: userAgent)).header
        let sdp = SessionDescription.make(header: header,
                                          title: (entry.path as NSString).lastPathComponent)
        sendRequest(method: "ANNOUNCE", uri: contentURL,
                    headers: [("Session", id), ("Content-Type", "application/sdp"), ("X-Playlist-Gen-Id", "\(playlistGenID)"),
                              ("Cache-Control", "no-cache"), ("Supported", RTSPServerContext.supported)],
                    body: sdp)
        logger.info("playlist entry \(entry.path) announced with streams \(entry.header.streams.map(\.streamNumber))")
    }

    /// A response to the server's own requests: only a refused Announce matters (ffmpeg answers
    /// 501, without CSeq): the client cannot go on to the next entry, so its stream ends.
    func receiveResponse(_ response: RTSPResponse) {
        guard announced != nil, !(200..<300).contains(response.status) else { return }
        logger.notice("client refused the next playlist entry (\(response.status)): stream ended")
        announced = nil
        admission?.release()
        admission = nil
        sendByes()
    }

    /// EndOfStream (2.2.7.3) with the sequence number of each stream's next RTP packet.
    private func sendEndOfStream(endOfEntry: Bool) {
        guard let packetizer, let id = machine.sessionID else { return }
        let info = streams.map { "url=\(contentURL)/stream=\($0.control);seq=\(packetizer.sequence)" }.joined(separator: ",")
        var headers = [("Session", id), ("Content-Type", "application/x-wms-extension-cmd"),
                       ("X-Notice", "2101 \"End-of-Stream Reached\""), ("RTP-Info", info)]
        if playlistGenID != 0 { headers.append(("X-Playlist-Gen-Id", "\(playlistGenID)")) }
        sendRequest(method: "SET_PARAMETER", uri: contentURL, headers: headers,
                    body: "Session: \(id)\r\nEOF: true\r\n" + (endOfEntry ? "End-Of-Playlist-Entry: true\r\n" : ""))
    }

    private func sendByes() {
        guard let packetizer else { return }
        let sessions = streams.map { ($0.target, packetizer.ssrc) } + (retransmission.map { [($0.target, retransmissionSSRC)] } ?? [])
        guard !sessions.isEmpty else { return }
        let described = (currentHeader?.streams.filter { $0.kind == .audio || $0.kind == .video }.count ?? 0) + 1
        for i in 0..<max(sessions.count, described) {
            let (target, ssrc) = sessions[i % sessions.count]
            sendRTCP(to: target, ssrc: ssrc, carriesData: i == 0, bye: true)
        }
    }

    // MARK: RTCP in

    /// Receiver reports are kept as statistics; a generic NACK (MS-RTSP 2.2.4) is answered
    /// from the resend window on the retransmission stream (3.2.5.10).
    public func receiveRTCP(_ packet: ByteBuffer) {
        touch()
        let messages: [RTCP.Message]
        do {
            messages = try RTCP.parse(packet)
        } catch {
            statistics.malformedRTCP += 1
            if statistics.malformedRTCP == 1 { logger.notice("malformed RTCP ignored: \(error)") }
            return
        }
        var cname: String?
        for case let .sourceDescription(cnames) in messages { cname = cname ?? cnames.values.first }
        for message in messages {
            switch message {
            case let .receiverReport(_, reports):
                for report in reports where report.ssrc == packetizer?.ssrc {
                    statistics.receiverReports += 1
                    statistics.lastReport = report
                    // The RTP clock is 1000 Hz (x-asf-pf/1000): jitter is in milliseconds.
                    presence?.receiverReport(fractionLost: Double(report.fractionLost) / 256, jitterNanoseconds: Int64(report.jitter) * 1_000_000)
                }
            case let .nack(_, _, lost):
                retransmit(lost, cname: cname)
            default:
                break
            }
        }
    }

    private func retransmit(_ lost: [UInt16], cname: String?) {
        guard let endpoint, case let .udp(port, _)? = retransmission?.target,
              cname == "\(retransmissionSSRC)\(RTCP.wmsCNAMESuffix)" else {
            logger.debug("NACK without the retransmission stream's CNAME ignored")
            return
        }
        statistics.resendRequests += 1
        let (granted, firstShortfall) = resendBudget.take(min(lost.count, 128), now: context?.eventLoop.now ?? .now())
        if firstShortfall {
            logger.notice("NACKs over the session's resend budget (\(Int(resendBudget.perSecond)) a second): the rest not resent")
        }
        var resent = 0
        for sequence in lost.prefix(granted) {
            if let datagram = resend.datagram(UInt32(sequence)) {
                endpoint.sendRTP(datagram, to: port)
                resent += 1
            } else {
                statistics.unrecoverable += 1
            }
        }
        statistics.retransmitted += resent
        presence?.resendRequested(lost.count, resent: resent)
        endpoint.flush()
    }
}
