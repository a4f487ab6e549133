import ASF
import Logging
import NIOCore
import NIOHTTP1
import Streaming

/// One HTTP connection of the WMSP engine (MS-WMSP 3.2): a Describe gets the ASF header, a Play
/// the header then the paced data packets, control requests act on their session, and a GET from
/// a client that does not speak WMSP gets the file as a plain download. In non-pipelined mode each
/// request has its own connection; in pipelined mode (after the Pipeline test, Play with
/// `version11-enabled`) requests share the data connection and responses are chunked.
public final class WMSPServerHandler: ChannelInboundHandler, PacedSession {
    public typealias InboundIn = HTTPServerRequestPart
    public typealias OutboundOut = HTTPServerResponsePart

    let server: WMSPServerContext
    let scheduler: PacingScheduler
    var logger: Logger
    private var head: HTTPRequestHead?
    /// The request body (Log requests carry XML); bounded.
    var bodyBuffer = ByteBuffer()
    static let maximumBody = 64 << 10
    var connection = WMSPConnectionStateMachine()
    /// The session (Client-ID) this connection's data belongs to.
    var clientID: UInt32?
    /// Whether the data response is chunked and the connection stays open after it.
    var pipelined = false
    var pipelineTimer: Scheduled<Void>?
    /// For the access log: the path, the player (its User-Agent and `xClientGUID`), and where
    /// in the content it began (c-starttime).
    var requestPath = ""
    var userAgent = ""
    var playerID: String?
    var startSeconds = 0
    /// What is sent is added to the server's count too, once per write.
    var bytesSent = 0 { didSet { presence?.sent(bytesSent - oldValue) } }
    var packetsSent = 0
    /// From the first packet to the end of playback; the player counts as connected meanwhile.
    var playStarted: NIODeadline? {
        didSet {
            guard playStarted != nil else { return presence = nil }
            if presence == nil, let channel = context?.channel {
                presence = server.delivery.arrive(protocolName: "wmsp", transport: "tcp", path: requestPath, player: userAgent, on: channel)
            }
        }
    }
    var presence: ServerActivity.Presence?
    public internal(set) var context: ChannelHandlerContext?
    var session: PlaySession?
    /// The $D sequence number (2.2.3.1.2 AFFlags).
    var sequence: UInt8 = 0
    var socketWait = SocketWait()
    var due: [StreamPacket] = []
    /// The broadcast this connection receives, if any.
    var relay: BroadcastRelay?
    var broadcastPoint: BroadcastPoint?
    /// Whether packets go out as $D frames (WMSP) or as bare ASF (plain HTTP).
    var framed = true
    /// This connection's place within the player and bandwidth limits, while it plays.
    var admission: Admission?
    /// The streams this client plays; nil for all.
    public var selection: Set<UInt8>?
    /// Client-Version 9.0 or later: $M before each $H, and the Supported header (3.2.5.2).
    var isVersion9Client = false
    /// The Playlist-gen-id of the entry playing (3.2.4.2), named in its $M packet.
    var playlistGenID: UInt32 = 1

    public init(server: WMSPServerContext, scheduler: PacingScheduler) {
        self.server = server
        self.scheduler = scheduler
        logger = server.logger
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let remote = context.channel.remoteAddress { logger[metadataKey: "client"] = "\(remote)" }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        stop()
        self.context = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(h):
            head = h
            bodyBuffer.clear()
        case var .body(chunk):
            guard bodyBuffer.readableBytes + chunk.readableBytes <= Self.maximumBody else {
                logger.notice("413: request body over \(Self.maximumBody) bytes")
                head = nil
                return sendError(.payloadTooLarge, "request body too large", context: context)
            }
            bodyBuffer.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            self.head = nil
            dispatch(WMSPRequest(head: head), version: head.version, context: context)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, session != nil, socketWait.end() {
            scheduler.schedule(self, at: context.eventLoop.now)
        }
        context.fireChannelWritabilityChanged()
    }

    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A connection closed inside a request (a client that gave up, or one the request
        // timeouts closed) is no news; other errors are.
        if let parse = error as? HTTPParserError, parse == .invalidEOFState {
            logger.debug("connection closed inside a request")
        } else {
            logger.info("connection error: \(error)")
        }
        context.close(promise: nil)
    }

    private func stop() {
        pipelineTimer?.cancel()
        endPlayback()
    }

    /// Ends what this connection plays: the pacing, the broadcast, its place in the limits, and
    /// its session's streaming state; writes the access log line.
    func endPlayback() {
        guard session != nil || relay != nil else { return }
        if session != nil { scheduler.cancel(self) }
        session = nil
        relay?.leave(self)
        relay = nil
        admission?.release()
        admission = nil
        if let clientID, let context { server.sessions.stopped(clientID, on: context.eventLoop) }
        let seconds = playStarted.map { Int((NIODeadline.now() - $0).nanoseconds / 1_000_000_000) } ?? 0
        server.accessLog.write(ServedSession(clientIP: context?.channel.remoteAddress?.ipAddress ?? "-", uriStem: requestPath, userAgent: userAgent,
                                             playerID: playerID, protocolName: pipelined ? "http/1.1" : "http/1.0", transport: "TCP",
                                             startSeconds: startSeconds, durationSeconds: seconds, bytes: bytesSent, packets: packetsSent,
                                             serverIP: context?.channel.localAddress?.ipAddress ?? "-"))
        playStarted = nil
    }

    /// The streams a Play's `stream-switch-entry` selects (nil: all streams); answers 400 and
    /// returns .none when it names none of the content's streams.
    func requestedSelection(_ request: WMSPRequest, header: ASFHeader, context: ChannelHandlerContext) -> Set<UInt8>?? {
        guard let entries = request.pragma["stream-switch-entry"] else { return .some(nil) }
        let available = Set(header.streams.map(\.streamNumber))
        guard let chosen = StreamSwitchEntry.selection(entries, available: available, decimalFirst: request.printsDecimalStreamNumbers),
              !chosen.isEmpty else {
            logger.notice("400: bad stream-switch-entry \(entries)")
            sendError(.badRequest, "bad stream-switch-entry", context: context)
            return nil
        }
        return chosen == available ? .some(nil) : chosen
    }

    /// Takes a place within the limits, or answers 503 (MS-WMSP leaves refusals to HTTP).
    func admit(point: String, bitsPerSecond: UInt32, context: ChannelHandlerContext) -> Bool {
        do {
            admission = try server.admission.admit(point: point, bitsPerSecond: UInt64(bitsPerSecond))
            return true
        } catch {
            logger.notice("503: \(error)")
            sendError(.serviceUnavailable, "\(error)", context: context)
            return false
        }
    }

    // MARK: Requests

    func respond(to request: WMSPRequest, version: HTTPVersion, context: ChannelHandlerContext) {
        logger[metadataKey: "path"] = "\(request.path)"
        requestPath = String(request.path.prefix { $0 != "?" })
        userAgent = request.userAgent
        playerID = request.pragma["xClientGUID"]
        isVersion9Client = request.isVersion9OrLater
        // The point's content: a broadcast, or on-demand content (another format remuxed into
        // ASF once, off the event loop, then served from the cache).
        let access = AccessRequest(client: context.channel.remoteAddress, authorization: request.authorization,
                                   method: request.method.rawValue, uri: request.path)
        server.delivery.content(at: request.path, for: access, on: context.eventLoop, logger: logger)
            .assumeIsolated().whenComplete { [self] result in
                switch result {
                case let .success(.broadcast(point)):
                    broadcast(point, request: request, context: context)
                case let .success(.onDemand(content, pointName)):
                    serve(content, pointName: pointName, request: request, version: version, context: context)
                case let .failure(error as Content.Unauthorized):
                    logger.notice("401: \(error)")
                    sendError(.unauthorized, "credentials required", context: context, headers: error.challenges.map { ("WWW-Authenticate", $0) })
                case let .failure(error as Content.Forbidden):
                    logger.notice("403: \(error)")
                    sendError(.forbidden, "forbidden", context: context)
                case let .failure(moved as Content.Moved):
                    let location = moved.redirect.location(scheme: "http")
                    logger.info("302: \(location)")
                    sendError(.found, "moved to \(location)", context: context, headers: [("Location", location)])
                case let .failure(error as Content.NotFound):
                    logger.notice("404: \(error)")
                    sendError(.notFound, "not found", context: context)
                case let .failure(error):
                    logger.notice("cannot import: \(error)")
                    sendError(.unsupportedMediaType, "\(error)", context: context)
                }
            }
    }

    private func serve(_ content: OnDemandContent, pointName: String, request: WMSPRequest, version: HTTPVersion, context: ChannelHandlerContext) {
        switch request.kind {
        case .download:
            guard content.playlist == nil else { return sendError(.notFound, "a playlist is played, not downloaded", context: context) }
            guard admit(point: pointName, bitsPerSecond: content.first.header.fileProperties.maximumBitrate, context: context) else { return }
            download(content.first, request: request, version: version, context: context)
        case .describe:
            describe(clientHeader(content.header, request).streamingHeader(dataObject: content.dataObject), of: content.first.header,
                     features: content.wmspFeatures, broadcastID: 0, request: request, context: context)
        case .play:
            guard admit(point: pointName, bitsPerSecond: content.first.header.fileProperties.maximumBitrate, context: context) else { return }
            play(content, request: request, context: context)
        default:
            sendError(.badRequest, "not a content request", context: context)
        }
    }

    private func play(_ content: OnDemandContent, request: WMSPRequest, context: ChannelHandlerContext) {
        let file = content.first
        guard let selection = requestedSelection(request, header: file.header, context: context) else { return }
        let source: any PacketSource
        do {
            (source, _, startSeconds) = try content.play(from: request.startPosition)
        } catch {
            logger.error("cannot start: \(error)")
            return sendError(.internalServerError, "cannot start playback", context: context)
        }
        guard startStreaming(request, context: context) else { return }
        writeWMSPHead(contentType: "application/x-mms-framed", features: content.wmspFeatures, context: context)
        playlistGenID = 1
        writeHeader(clientHeader(content.header, request).streamingHeader(dataObject: content.dataObject), of: file.header,
                    features: content.wmspFeatures, broadcastID: 0, context: context)
        context.flush()
        try? context.channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: server.delivery.writeBufferMarks(bitsPerSecond: file.header.fileProperties.maximumBitrate))
        let pacing = server.delivery.pacing(prerollMilliseconds: file.header.fileProperties.preroll)
        self.selection = selection
        session = PlaySession(source: source, selection: selection, pacing: pacing, start: context.eventLoop.now)
        logger.info("play from \(request.startPosition.map { "\($0)" } ?? "the start"), streams \(selection.map { $0.sorted().description } ?? "all")")
        scheduler.schedule(self, at: context.eventLoop.now)
    }

    /// MS-WMSP response headers as the three open-source clients accept them (CLIENTS.md 1.1):
    /// HTTP/1.0 and never chunked in non-pipelined mode, a reason phrase, the session's client-id
    /// with its timeout (3.2.5.2), and `features`. In pipelined mode HTTP/1.1, chunked, kept open.
    /// Returns the size of the head as written.
    @discardableResult
    func writeWMSPHead(contentType: String?, features: String?, status: HTTPResponseStatus = .ok, extraPragma: String? = nil,
                       context: ChannelHandlerContext) -> Int {
        var headers = HTTPHeaders()
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        headers.add(name: "Server", value: "Cougar/9.01.01.3814")
        if isVersion9Client { headers.add(name: "Supported", value: Self.supportedFeatures) }
        headers.add(name: "Cache-Control", value: "no-cache")
        var pragma = ["no-cache"]
        if let clientID { pragma += ["client-id=\(clientID)", "timeout=\(server.sessions.idleTimeout.nanoseconds / 1_000_000 - 5000)"] }
        if let features { pragma.append("features=\"\(features)\"") }
        if let extraPragma { pragma.append(extraPragma) }
        headers.add(name: "Pragma", value: pragma.joined(separator: ","))
        if contentType == nil { headers.add(name: "Content-Length", value: "0") }
        if !pipelined { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: pipelined ? .http1_1 : .http1_0, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        return head.encodedLength
    }

    func sendError(_ status: HTTPResponseStatus, _ reason: String, context: ChannelHandlerContext, headers extra: [(String, String)] = []) {
        var body = context.channel.allocator.buffer(capacity: reason.utf8.count + 1)
        body.writeString(reason + "\n")
        var headers = HTTPHeaders(extra)
        headers.add(name: "Content-Type", value: "text/plain")
        headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_0, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    // MARK: Pacing

    /// Writes packets as $D frames (2.2.3.3) and flushes once. One buffer holds the batch's frame
    /// headers; each packet goes out as its own shared bytes, never copied.
    func writeData<C: Collection>(_ packets: C, context: ChannelHandlerContext, _ parts: (C.Element) -> (location: UInt32, bytes: ByteBuffer)) {
        packetsSent += packets.count
        guard framed else {
            var written = 0
            for packet in packets {
                written += parts(packet).bytes.readableBytes
                context.write(wrapOutboundOut(.body(.byteBuffer(parts(packet).bytes))), promise: nil)
            }
            bytesSent += written
            context.flush()
            return
        }
        var headers = context.channel.allocator.buffer(capacity: packets.count * 12)
        for packet in packets {
            let (location, bytes) = parts(packet)
            Frame.writeDataHeader(type: Frame.data, locationID: location, incarnation: 0, afFlags: sequence,
                                  payloadLength: bytes.readableBytes, to: &headers)
            sequence &+= 1
        }
        var written = 0
        for (i, packet) in packets.enumerated() {
            context.write(wrapOutboundOut(.body(.byteBuffer(headers.getSlice(at: i * 12, length: 12)!))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(parts(packet).bytes))), promise: nil)
            written += 12 + parts(packet).bytes.readableBytes
        }
        bytesSent += written
        context.flush()
    }

    public func pump(now: NIODeadline) -> NIODeadline? {
        guard let context, var session else { return nil }
        guard context.channel.isWritable else {
            socketWait.begin(logger: logger)
            return nil
        }
        let step: PlaySession.Step
        do {
            due.removeAll(keepingCapacity: true)
            step = try session.sendDue(now: now) { output in
                switch output {
                case let .packet(packet):
                    due.append(packet)
                case let .header(file):
                    // A playlist entry with other streams (MS-WMSP 3.2.4.2): $C, then its header.
                    writeData(due, context: context) { ($0.locationID, $0.bytes) }
                    presence?.reached(due.last?.sendTime)
                    due.removeAll(keepingCapacity: true)
                    var change = context.channel.allocator.buffer(capacity: 8)
                    Frame.writeNotification(type: Frame.streamChange, reason: 0, to: &change)
                    context.write(wrapOutboundOut(.body(.byteBuffer(change))), promise: nil)
                    playlistGenID &+= 1
                    writeHeader(file.header.streamingHeader(dataObject: file.dataObject), of: file.header, features: "playlist",
                                broadcastID: 0, context: context)
                    logger.info("playlist entry \(file.path) with new streams")
                }
            }
            self.session = session
        } catch {
            StreamFailures.shared.log(error, logger: logger)
            presence?.streamFailed()
            context.close(promise: nil)
            return nil
        }
        if !due.isEmpty {
            writeData(due, context: context) { ($0.locationID, $0.bytes) }
            presence?.reached(due.last?.sendTime)
        }
        switch step {
        case let .wait(until):
            return until
        case .finished:
            var end = context.channel.allocator.buffer(capacity: 8)
            Frame.writeNotification(type: Frame.endOfStream, reason: 0, to: &end)
            context.write(wrapOutboundOut(.body(.byteBuffer(end))), promise: nil)
            logger.info("play ended: \(session.packetsSent) packets, \(session.bytesSent) bytes")
            endPlayback()
            finishDataResponse(context: context)
            return nil
        }
    }

    // MARK: Plain HTTP

    /// The whole file, or the requested byte range, with Content-Length: for ffplay http:// and
    /// download tools.
    private func download(_ file: ASFFile, request: WMSPRequest, version: HTTPVersion, context: ChannelHandlerContext) {
        let size = file.fileSize
        var range = 0..<size
        var status = HTTPResponseStatus.ok
        if let header = request.range {
            guard let requested = ByteRange(header, size: size) else {
                var headers = HTTPHeaders()
                headers.add(name: "Content-Range", value: "bytes */\(size)")
                headers.add(name: "Content-Length", value: "0")
                headers.add(name: "Connection", value: "close")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .rangeNotSatisfiable, headers: headers))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
                return
            }
            range = requested.range
            status = .partialContent
        }
        let handle: NIOFileHandle
        do {
            handle = try NIOFileHandle(_deprecatedPath: file.path)
        } catch {
            logger.error("cannot open for download: \(error)")
            return sendError(.internalServerError, "cannot read file", context: context)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "video/x-ms-asf")
        headers.add(name: "Content-Length", value: "\(range.count)")
        headers.add(name: "Accept-Ranges", value: "bytes")
        if status == .partialContent { headers.add(name: "Content-Range", value: "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)") }
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        let region = FileRegion(fileHandle: handle, readerIndex: range.lowerBound, endIndex: range.upperBound)
        context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            try? handle.close()
            context.close(promise: nil)
        }
        logger.info("download \(range.lowerBound)..<\(range.upperBound) of \(size)")
    }
}

extension OnDemandContent {
    /// MS-WMSP 2.2.1.4.8: a file can be sought; a playlist is played through.
    var wmspFeatures: String { isSeekable ? "seekable,stridable" : "playlist" }
}
