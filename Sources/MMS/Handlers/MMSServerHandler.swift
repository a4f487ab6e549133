import ASF
import Foundation
import Logging
import NIOCore
import Streaming

/// One MMS connection (MS-MMSP 3.2): the client's messages are framed, checked against the
/// session's state machine and answered; the header and the data go out as Data packets over
/// this connection or, for a UDP funnel, from the server's UDP socket. Playing is in `+Play`.
public final class MMSServerHandler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    let server: MMSServerContext
    let scheduler: PacingScheduler
    var logger: Logger
    var context: ChannelHandlerContext?
    var machine = MMSSessionStateMachine()

    private let parser = MMSMessageParser()
    private var pending = ByteBuffer()
    /// A message waits for work off the loop (a remux): later ones wait behind it.
    private var busy = false
    /// TcpMessageHeader `seq` of the next message sent (2.2.3).
    private var messageSequence: UInt16 = 0
    private var lastMessage = NIODeadline.now()
    /// Whether a Ping went out since the client's last message.
    private var pinged = false
    private var keepAlive: Scheduled<Void>?

    /// nCubs of ReportFunnelInfo: names this client in resend requests (2.2.4.6).
    let clientID = UInt32.random(in: 1...UInt32.max)
    /// The File-ID (3.2.1). Every client sends 1 in StartPlaying whatever it was given, and VLC
    /// accepts only 1 or 2 (CLIENTS.md 2.2, 2.3).
    static let openFileID: UInt32 = 1
    /// The player's subscriberName (2.2.4.17), for the access log.
    var player = "-"
    /// Where Data packets go over UDP (3.2.5.5); nil over this connection.
    var udpTarget: SocketAddress?

    // The content (OpenFile) and its playing (+Play).
    var content: Content?
    /// The header and streaming header of a playlist entry with other streams than the first
    /// (StreamChange, 3.2.4.2).
    var entry: (header: ASFHeader, streamingHeader: ByteBuffer)?
    /// The playback held from a StreamChange until the client's StartPlaying, with the packets
    /// it read past the new entry's header.
    var held: (playback: PlaySession, read: [StreamPacket])?
    /// The content's header as this player takes it (`ClientHeaderLimit.mms`), before the
    /// content's Data Object start.
    var contentHeader: (header: ASFHeader, streamingHeader: ByteBuffer)?
    var currentHeader: ASFHeader? { entry?.header ?? contentHeader?.header }
    var currentStreamingHeader: ByteBuffer? { entry?.streamingHeader ?? contentHeader?.streamingHeader }
    var path = ""
    public var selection: Set<UInt8>?
    var playback: PlaySession?
    var relay: BroadcastRelay?
    var admission: Admission?
    var socketWait = SocketWait()
    var due: [StreamPacket] = []
    /// The StartPlaying's playIncarnation, echoed in its Data packets (2.2.2).
    var playIncarnation: UInt8 = 4
    /// Counts StartPlaying messages, so that a delayed end of stream belongs to its play.
    var playNumber = 0
    /// The Sequence variable (3.2.1): AFFlags is its low byte, resend requests name it whole.
    var sequence: UInt32 = 0
    /// The last 256 Data packets over UDP, for resend requests (3.2.5.13).
    var resend = ResendWindow(capacity: 256)
    var resendBudget = ResendBudget()
    /// Resend requests with this session's client id from another address.
    var forgedResends = 0
    /// The client's own resend requests, and where in the content it began: for the access log.
    var resendRequests = 0
    var startSeconds = 0
    /// What is sent is added to the server's count too, once per write.
    var bytesSent = 0 { didSet { presence?.sent(bytesSent - oldValue) } }
    var packetsSent = 0
    /// From StartPlaying to the end of the session; the player counts as connected meanwhile.
    var playStarted: NIODeadline? {
        didSet {
            guard playStarted != nil else { return presence = nil }
            if presence == nil, let channel = context?.channel {
                presence = server.delivery.arrive(protocolName: "mms", transport: udpTarget == nil ? "tcp" : "udp", path: path, player: player, on: channel)
            }
        }
    }
    var presence: ServerActivity.Presence?

    public init(server: MMSServerContext, scheduler: PacingScheduler) {
        self.server = server
        self.scheduler = scheduler
        logger = server.logger
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let remote = context.channel.remoteAddress { logger[metadataKey: "client"] = "\(remote)" }
        lastMessage = context.eventLoop.now
        scheduleKeepAlive()
    }

    /// KeepAlive and Idle-Timeout (3.2.6): half the timeout after the client's last message a
    /// Ping, and at the timeout, still without a message, the end of the connection; a
    /// streaming session lives as long as its connection.
    private func scheduleKeepAlive(in delay: TimeAmount? = nil) {
        guard let context else { return }
        let half = TimeAmount.nanoseconds(server.idleTimeout.nanoseconds / 2)
        keepAlive = context.eventLoop.assumeIsolated().scheduleTask(in: delay ?? half) { [self] in
            guard let context = self.context else { return }
            let idle = context.eventLoop.now - lastMessage
            // A streaming client sends nothing: it is looked at again in half the timeout, not
            // at once (a timer a millisecond for every streaming session kept loops busy).
            if machine.state == .streaming { return scheduleKeepAlive(in: half) }
            if idle < half { return scheduleKeepAlive(in: half - idle) }
            if !pinged {
                pinged = true
                send(.ping)
            } else if idle >= server.idleTimeout {
                logger.notice("no message for \(idle.nanoseconds / 1_000_000_000) s: connection closed")
                return context.close(promise: nil)
            }
            scheduleKeepAlive(in: max(.milliseconds(1), server.idleTimeout - idle))
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        keepAlive?.cancel()
        endSession()
        self.context = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        pending.writeBuffer(&bytes)
        processPending()
    }

    private func processPending() {
        guard let context else { return }
        do {
            while !busy, machine.state != .closed, let message = try parser.parse(&pending) {
                lastMessage = context.eventLoop.now
                pinged = false
                handle(message)
            }
            pending.discardReadBytes()
        } catch {
            logger.notice("malformed message (\(error)): connection closed")
            context.close(promise: nil)
        }
    }

    /// Holds back the messages that follow until `future` completes (a remux off the loop).
    func suspendMessages(until future: EventLoopFuture<Void>) {
        busy = true
        future.assumeIsolated().whenComplete { [self] _ in
            busy = false
            processPending()
        }
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, playback != nil, socketWait.end() {
            scheduler.schedule(self, at: context.eventLoop.now)
        }
        context.fireChannelWritabilityChanged()
    }

    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.info("connection error: \(error)")
        context.close(promise: nil)
    }

    // MARK: Messages

    private func handle(_ message: MMSMessage) {
        let decoded: ClientMessage
        do {
            decoded = try ClientMessage(message)
        } catch {
            logger.notice("\(error): connection closed")
            context?.close(promise: nil)
            return
        }
        guard machine.receive(decoded) == .accept else { return refuse(decoded) }
        switch decoded {
        case let .connect(_, name):
            player = name
            send(.reportConnectedEX(hr: 0, serverVersion: MMSServerContext.serverVersion))
        case .funnelInfo:
            send(.reportFunnelInfo(clientID: clientID))
        case let .connectFunnel(name):
            connectFunnel(name)
        case let .openFile(incarnation, name, token):
            openFile(name, token: String(buffer: token), playIncarnation: incarnation)
        case let .readBlock(_, incarnation):
            readBlock(playIncarnation: incarnation)
        case let .streamSwitch(entries):
            switchStreams(entries)
        case let .startPlaying(request):
            startPlaying(request)
        case let .stopPlaying(_, incarnation):
            stopSending()
            send(.reportEndOfStream(hr: 0, playIncarnation: incarnation))
        case .closeFile:
            endSession()
            context?.close(promise: nil)
        case let .logging(log):
            logClientLog(log)
        case .cancelReadBlock, .pong, .unsupported:
            break  // the header goes out at once, so there is nothing left to cancel
        }
    }

    /// A message the state does not allow, or one not implemented: the report it expects with
    /// hr E_UNEXPECTED, or for one without a report, the end of the connection; logged once.
    private func refuse(_ message: ClientMessage) {
        logger.notice("\(message) while \(machine.state): refused")
        let hr = ServerMessage.HResult.unexpected
        switch message {
        case .connect: send(.reportConnectedEX(hr: hr, serverVersion: MMSServerContext.serverVersion))
        case .connectFunnel: send(.reportDisconnectedFunnel(hr: hr))
        case let .openFile(incarnation, _, _): send(.reportOpenFile(.init(hr: hr, playIncarnation: incarnation)))
        case let .readBlock(_, incarnation): send(.reportReadBlock(hr: hr, playIncarnation: incarnation))
        case .streamSwitch: send(.reportStreamSwitch(hr: hr))
        case let .startPlaying(request): send(.reportStartedPlaying(hr: hr, playIncarnation: request.playIncarnation, openFileID: Self.openFileID))
        default: context?.close(promise: nil)
        }
    }

    /// ConnectFunnel (3.2.5.5): `\\<ip>\TCP\<port>` keeps the data on this connection;
    /// `\\<ip>\UDP\<port>` sends it to that port at the connection's address.
    private func connectFunnel(_ name: String) {
        let parts = name.split(separator: "\\")
        if parts.count >= 3, parts[1].uppercased() == "UDP" {
            guard server.udp != nil, let ip = context?.channel.remoteAddress?.ipAddress,
                  let port = Int(parts[2].prefix { $0.isNumber }), (1...65535).contains(port),
                  let target = try? SocketAddress(ipAddress: ip, port: port) else {
                logger.notice("UDP funnel \(name) refused")
                return send(.reportDisconnectedFunnel(hr: ServerMessage.HResult.invalidArgument))
            }
            udpTarget = target
            server.udp?.register(self, clientID: clientID, on: context!.eventLoop)
        }
        machine.funnelConnected()
        send(.reportConnectedFunnel)
    }

    /// OpenFile (3.2.5.6): the path relative to the server root; unknown content gets hr
    /// "file not found", a point whose users the tokenData's basic credentials are not,
    /// "access denied".
    private func openFile(_ name: String, token: String, playIncarnation: UInt32) {
        guard let context else { return }
        let bare = String(name.prefix { $0 != "?" })
        path = "/" + (bare.removingPercentEncoding ?? bare).drop { $0 == "/" }
        stopSending()
        let promise = context.eventLoop.makePromise(of: Void.self)
        suspendMessages(until: promise.futureResult)
        // The token holds Basic credentials: taken where the point takes Basic.
        let access = AccessRequest(client: context.channel.remoteAddress, authorization: token.trimmingCharacters(in: .controlCharacters))
        server.delivery.content(at: path, for: access, on: context.eventLoop, logger: logger).assumeIsolated().whenComplete { [self] result in
            defer { promise.succeed() }
            switch result {
            case let .failure(moved as Content.Moved):
                // ReportRedirect, then the session ends (3.2.5.6).
                let location = moved.redirect.location(scheme: "mms")
                logger.info("open \(path): redirected to \(location)")
                send(.reportRedirect(location: location))
                context.close(promise: nil)
            case let .failure(error as Content.Unauthorized):
                logger.notice("open \(path): \(error)")
                send(.reportOpenFile(.init(hr: ServerMessage.HResult.accessDenied, playIncarnation: playIncarnation)))
            case let .failure(error as Content.Forbidden):
                logger.notice("open \(path): \(error)")
                send(.reportOpenFile(.init(hr: ServerMessage.HResult.accessDenied, playIncarnation: playIncarnation)))
            case let .success(found):
                content = found
                let fitted = server.delivery.header(found.header, for: .mms(playerString: player, overUDP: udpTarget != nil)).header
                var streamingHeader = fitted.bytes
                streamingHeader.writeImmutableBuffer(found.streamingHeader.getSlice(at: found.streamingHeader.writerIndex - DataObjectHeader.size,
                                                                                    length: DataObjectHeader.size)!)
                contentHeader = (fitted, streamingHeader)
                entry = nil
                held = nil
                selection = nil
                machine.fileOpened()
                send(.reportOpenFile(Self.report(found, headerSize: streamingHeader.readableBytes, playIncarnation: playIncarnation)))
                logger.info("open \(path) for \(player)")
            case let .failure(error):
                logger.notice("open \(path): \(error)")
                send(.reportOpenFile(.init(hr: ServerMessage.HResult.fileNotFound, playIncarnation: playIncarnation)))
            }
        }
    }

    /// ReportOpenFile's description of the content (2.2.4.7): a broadcast has the BROADCAST
    /// attribute alone (libmms's test for live, CLIENTS.md 2.3) and no duration or packet count.
    static func report(_ content: Content, headerSize: Int, playIncarnation: UInt32) -> ServerMessage.ReportOpenFile {
        let properties = content.header.fileProperties
        var report = ServerMessage.ReportOpenFile(playIncarnation: playIncarnation, openFileID: openFileID,
                                                  packetSize: properties.maximumPacketSize, bitRate: properties.maximumBitrate,
                                                  headerSize: UInt32(headerSize))
        switch content {
        case .broadcast:
            report.attributes = ServerMessage.ReportOpenFile.broadcast
        case let .onDemand(onDemand, _):
            report.attributes = onDemand.isSeekable ? ServerMessage.ReportOpenFile.canSeek : ServerMessage.ReportOpenFile.playlist
            report.durationSeconds = max(0, Double(properties.playDuration) / 10_000_000 - Double(properties.preroll) / 1000)
            report.packetCount = properties.dataPacketsCount
        }
        return report
    }

    /// ReadBlock (3.2.5.8): ReportReadBlock, then the header.
    private func readBlock(playIncarnation: UInt32) {
        send(.reportReadBlock(hr: 0, playIncarnation: playIncarnation))
        sendHeader(playIncarnation: UInt8(truncatingIfNeeded: playIncarnation))
    }

    /// The current entry's header in Data packets of at most a packet's size, all but the last
    /// flagged 0x04 (3.2.5.8.1; ffmpeg needs the flag: CLIENTS.md 2.3).
    func sendHeader(playIncarnation: UInt8) {
        guard let context, let header = currentHeader, let streamingHeader = currentStreamingHeader else { return }
        var b = context.channel.allocator.buffer(capacity: streamingHeader.readableBytes + 64)
        MMSData.headerPackets(streamingHeader, playIncarnation: playIncarnation,
                              pieceSize: Int(max(512, header.fileProperties.maximumPacketSize)), to: &b)
        if let udpTarget, let udp = server.udp {
            // A datagram per Data packet: each is as long as its PacketSize field says.
            var datagrams: [ByteBuffer] = []
            while let size = b.getInteger(at: b.readerIndex + 6, endianness: .little, as: UInt16.self) {
                datagrams.append(b.readSlice(length: Int(size))!)
            }
            udp.send(datagrams, to: udpTarget)
        } else {
            context.writeAndFlush(wrapOutboundOut(b), promise: nil)
        }
    }

    /// StreamSwitch (3.2.5.10): the destinations not thinned to nothing; a stream added while
    /// streaming starts at its next key frame.
    private func switchStreams(_ entries: [StreamSwitchEntry]) {
        guard let header = currentHeader else { return }
        let available = Set(header.streams.map(\.streamNumber))
        let chosen = StreamSwitchEntry.selection(entries).intersection(available)
        guard !chosen.isEmpty else {
            logger.notice("StreamSwitch selects none of \(available.sorted()): refused")
            return send(.reportStreamSwitch(hr: ServerMessage.HResult.invalidArgument))
        }
        selection = chosen == available ? nil : chosen
        playback?.select(selection)
        send(.reportStreamSwitch(hr: 0))
    }

    /// LinkViewerToMacLogging (3.2.5.15): the client's own loss counts from the end of its
    /// CLIENT_LOG (2.2.1.1), logged with the session.
    private func logClientLog(_ log: ByteBuffer) {
        let counts = log.getMultipleIntegers(at: log.readerIndex + 1470, endianness: .little, as: (UInt32, UInt32, UInt32).self)
        if let (lost, _, resendRequests) = counts {
            logger.info("client log: \(lost) packets lost, \(resendRequests) resend requests")
        } else {
            logger.info("client log of \(log.readableBytes) bytes")
        }
    }

    func send(_ message: ServerMessage) {
        guard let context else { return }
        var b = context.channel.allocator.buffer(capacity: 160)
        message.message.write(sequence: messageSequence, to: &b)
        messageSequence &+= 1
        context.writeAndFlush(wrapOutboundOut(b), promise: nil)
    }
}
