import ASF
import Foundation
import NIOCore
import Streaming

/// Where one set-up RTP session's packets go.
enum RTPTarget {
    case interleaved(rtp: UInt8, rtcp: UInt8)
    case udp(rtp: SocketAddress, rtcp: SocketAddress)

    var interleavedRTCP: UInt8? {
        if case let .interleaved(_, rtcp) = self { return rtcp }
        return nil
    }
}

/// A stream the client set up (SelectStream using SETUP, MS-RTSP 2.2.7.10.1).
struct SetUpStream {
    /// The ASF stream number its URL (`stream=N`) names; 0 for the retransmission stream.
    var control: UInt8
    /// The stream selected under that URL now: a SelectStream using SET_PARAMETER replaces it
    /// (2.2.7.10.3); nil once deselected.
    var number: UInt8?
    var transport: RTSPTransport
    var target: RTPTarget

    init(control: UInt8, transport: RTSPTransport, target: RTPTarget) {
        self.control = control
        number = control
        self.transport = transport
        self.target = target
    }
}

extension RTSPServerHandler {
    /// The content URL (`rtsp://host:port/path`) and control of a SETUP URL: the last path
    /// component is the control when it names a stream or `rtx`.
    static func split(_ uri: String) -> (content: String, control: String?) {
        let trimmed = uri.hasSuffix("/") ? String(uri.dropLast()) : uri
        guard let slash = trimmed.lastIndex(of: "/") else { return (trimmed, nil) }
        let last = trimmed[trimmed.index(after: slash)...]
        guard last.hasPrefix("stream=") || last == "rtx" else { return (trimmed, nil) }
        return (String(trimmed[..<slash]), String(last))
    }

    /// Opens the content `url` names, then runs `then` (with nil when there is none, after
    /// logging why). Other formats are remuxed off the loop first; requests wait meanwhile.
    /// A point with users answers 401 for `request` without one of them (RFC 2326 11.4.1).
    func withContent(_ url: String, for request: RTSPRequest, reply: Reply, then: @escaping (Content?) -> Void) {
        guard let context else { return }
        if let content { return then(content) }
        contentURL = url
        guard let path = URL(string: url)?.path.removingPercentEncoding else {
            logger.notice("404: \(url)")
            return then(nil)
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        suspendRequests(until: promise.futureResult)
        let access = AccessRequest(client: context.channel.remoteAddress, authorization: request["Authorization"],
                                   method: request.method, uri: request.uri)
        server.delivery.content(at: path, for: access, on: context.eventLoop, logger: logger).assumeIsolated().whenComplete { [self] result in
            defer { promise.succeed() }
            switch result {
            case let .failure(moved as Content.Moved):
                let location = moved.redirect.location(scheme: "rtsp")
                logger.info("302: \(location)")
                contentURL = ""
                return reply(302, [("Location", location)])
            case let .failure(error as Content.Unauthorized):
                logger.notice("401: \(error)")
                contentURL = ""
                return reply(401, error.challenges.map { ("WWW-Authenticate", $0) })
            case let .failure(error as Content.Forbidden):
                logger.notice("403: \(error)")
                contentURL = ""
                return reply(403)
            case let .success(found):
                content = found
            case let .failure(error):
                logger.notice("404: \(error)")
            }
            then(content)
        }
    }

    func describe(_ request: RTSPRequest, reply: Reply) {
        let url = Self.split(request.uri).content
        withContent(url, for: request, reply: reply) { [self] content in
            guard let content else { return reply(404) }
            let header = server.delivery.header(content.header, for: .rtsp(userAgent: userAgent)).header
            let sdp = SessionDescription.make(header: header,
                                              title: (url as NSString).lastPathComponent)
            var headers = [("Content-Type", "application/sdp"), ("Content-Base", url + "/"), ("Cache-Control", "no-cache"),
                           ("Supported", RTSPServerContext.supported)]
            if case let .onDemand(onDemand, _) = content, onDemand.playlist != nil {
                // A server-side playlist: its first entry's identifier (2.2.6.22).
                playlistGenID = max(playlistGenID, 1)
                headers.append(("X-Playlist-Gen-Id", "\(playlistGenID)"))
            }
            reply(200, headers, body: sdp)
        }
    }

    /// SelectStream using SETUP (MS-RTSP 2.2.7.10.1, 3.2.5.6): one transport per request; every
    /// stream of a session uses the same lower transport (ffmpeg requires it: CLIENTS.md 3.3).
    func setup(_ request: RTSPRequest, reply: Reply) {
        let (url, control) = Self.split(request.uri)
        guard let control else {
            logger.notice("459: SETUP of \(request.uri), which names no stream")
            return reply(459)
        }
        withContent(url, for: request, reply: reply) { [self] content in
            guard content != nil else { return reply(404) }
            guard let transport = RTSPTransport.firstSupported(in: request["Transport"] ?? ""),
                  transport.lower == (streams.first ?? retransmission)?.transport.lower ?? transport.lower,
                  transport.lower == .tcp || endpoint != nil,
                  let target = target(for: transport) else {
                logger.notice("461: Transport \(request["Transport"] ?? "-")")
                return reply(461)
            }
            let ssrc: UInt32
            if control == "rtx" {
                // Retransmission (2.2.3) is for UDP; over TCP nothing is lost.
                guard transport.lower == .udp else { return reply(461) }
                _ = machine.setup(newSessionID: Self.newSessionID())
                retransmission = SetUpStream(control: 0, transport: transport, target: target)
                ssrc = retransmissionSSRC
            } else {
                guard let number = UInt8(control.dropFirst("stream=".count)),
                      currentHeader?.streams.contains(where: { $0.streamNumber == number }) == true else {
                    logger.notice("404: SETUP of \(control), which \(url) does not have")
                    return reply(404)
                }
                _ = machine.setup(newSessionID: Self.newSessionID())
                if reselecting {
                    reselecting = false
                    streams.removeAll()
                }
                streams.removeAll { $0.control == number || $0.number == number }
                streams.append(SetUpStream(control: number, transport: transport, target: target))
                if packetizer == nil {
                    packetizer = RTPPacketizer(ssrc: UInt32.random(in: 1...UInt32.max), payloadType: UInt8(SessionDescription.payloadType),
                                               sequence: UInt16.random(in: 0...0x7FFF),
                                               maximumBody: transport.lower == .udp ? server.maximumUDPBody : nil)
                }
                ssrc = packetizer!.ssrc
                // A stream set up while playing joins at its next key frame (3.2.5.6.4).
                playback?.select(selection)
            }
            if case let .udp(_, rtcp) = target { endpoint?.register(self, for: rtcp) }
            let serverPorts = transport.lower == .udp ? endpoint?.ports : nil
            reply(200, [("Transport", transport.reply(ssrc: ssrc, source: context?.channel.localAddress?.ipAddress, serverPorts: serverPorts))])
        }
    }

    private func target(for transport: RTSPTransport) -> RTPTarget? {
        switch transport.lower {
        case .tcp:
            guard let channels = transport.interleaved else { return nil }
            return .interleaved(rtp: channels.rtp, rtcp: channels.rtcp)
        case .udp:
            guard let ports = transport.clientPort, let ip = context?.channel.remoteAddress?.ipAddress,
                  let rtp = try? SocketAddress(ipAddress: ip, port: ports.rtp),
                  let rtcp = try? SocketAddress(ipAddress: ip, port: ports.rtcp ?? ports.rtp + 1) else { return nil }
            return .udp(rtp: rtp, rtcp: rtcp)
        }
    }

    func updateSelection() {
        let chosen = Set(streams.compactMap(\.number))
        let all = Set(currentHeader?.streams.map(\.streamNumber) ?? [])
        selection = chosen == all ? nil : chosen
    }

    static func newSessionID() -> String { String(UInt64.random(in: 1_000_000_000...UInt64.max)) }
}
