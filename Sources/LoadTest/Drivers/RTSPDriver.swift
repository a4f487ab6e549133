import ASF
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import RTSP

/// An RTSP player (MS-RTSP) over TCP-interleaved or UDP RTP: DESCRIBE, a SETUP per media line,
/// PLAY, then RTP until the server's EndOfStream or the test's end. A seek is PAUSE, then PLAY
/// with a Range (3.2.5.4): RTP that arrives before the PAUSE's reply does not count. A switch is
/// a SelectStream using SET_PARAMETER (2.2.7.10.3).
struct RTSPDriver: LoadDriver {
    var udp: Bool

    func open(_ url: URL, session: LoadSession, group: EventLoopGroup) async throws -> LoadPlayback {
        let ended = group.next().makePromise(of: Void.self)
        let counting = NIOLockedValueBox(true)
        let awaiting = NIOLockedValueBox<UInt8?>(nil)
        let receive: @Sendable (ByteBuffer) -> Void = { rtp in
            guard rtp.readableBytes > 16, let (sequence, timestamp) = rtp.getMultipleIntegers(at: 2, as: (UInt16, UInt32).self),
                  counting.withLockedValue({ $0 }) else { return }
            session.packet(sendTime: timestamp, sequence: UInt32(sequence), modulus: 1 << 16, bytes: rtp.readableBytes - 16)
            // The server sends a payload per ASF packet: a packet's first stream is its stream.
            if let target = awaiting.withLockedValue({ $0 }), let (data, offset) = ASFPayload.firstData(inRTP: rtp), offset ?? 0 == 0,
               (try? DataPacket.firstStreamNumber(of: data)) == target {
                awaiting.withLockedValue { $0 = nil }
                session.actionAnswered()
            }
        }
        do {
            let address = try ServerAddress.resolve(host: url.host ?? "127.0.0.1", port: url.port ?? 554)
            let client = try await RTSPClient.connect(to: address, from: ServerAddress.source(for: session, to: address), group: group,
                                                      interleaved: { channel, payload in if channel % 2 == 0 { receive(payload) } },
                                                      answer: { request in
                                                          if request.method == "SET_PARAMETER", String(buffer: request.body).contains("EOF: true") { ended.succeed() }
                                                          return 200
                                                      })
            session.update { $0.connected(at: .now()) }
            session.own(client.channel)
            client.closed.whenComplete { _ in ended.fail(LoadFailure("connection closed")) }
            var ports: RTPReceiverPorts?
            if udp {
                let bound = try await RTPReceiverPorts.bind(group: group, host: client.channel.localAddress?.ipAddress ?? "127.0.0.1") { isRTCP, datagram in if !isRTCP { receive(datagram) } }
                session.own(bound.rtp)
                session.own(bound.rtcp)
                ports = bound
            }
            let base = url.absoluteString
            let describe = try await client.request("DESCRIBE", base)
            guard describe.status == 200 else { throw LoadFailure("RTSP \(describe.status)") }
            let sdp = describe.body.split(separator: "\r\n")
            let kbps = sdp.first { $0.hasPrefix("b=AS:") }.flatMap { UInt32($0.dropFirst(5)) }
            session.update { $0.contentBitsPerSecond = kbps.map { $0 * 1000 } }
            // The ASF header travels in the SDP (MS-RTSP 2.2.5.1, a=pgmpu).
            let header = sdp.first { $0.hasPrefix("a=pgmpu:") }.flatMap { $0.split(separator: ",").last }
                .flatMap { Data(base64Encoded: String($0)) }.flatMap { try? ASFHeader(parsing: ByteBuffer(bytes: $0)) }
            let controls = sdp.compactMap { line in line.hasPrefix("a=control:stream=") ? String(line.dropFirst(10)) : nil }
            var serverRTCP: SocketAddress?
            for (i, control) in controls.enumerated() {
                let transport = ports.map { "RTP/AVP/UDP;unicast;client_port=\($0.rtpPort)-\($0.rtpPort + 1)" }
                    ?? "RTP/AVP/TCP;unicast;interleaved=\(2 * i)-\(2 * i + 1)"
                let reply = try await client.request("SETUP", base + "/" + control, [("Transport", transport)])
                guard reply.status == 200 else { throw LoadFailure("RTSP SETUP \(reply.status)") }
                if serverRTCP == nil, let port = RTSPPlayback.serverRTCPPort(reply["Transport"]) {
                    serverRTCP = try? SocketAddress(ipAddress: address.ipAddress ?? "127.0.0.1", port: port)
                }
            }
            let playback = RTSPPlayback(client: client, base: base, header: header, ports: ports, counting: counting, awaiting: awaiting, ended: ended)
            try await playback.play(from: 0)
            if let ports, let serverRTCP { playback.sendReceiverReports(from: ports, to: serverRTCP) }
            return playback
        } catch {
            ended.fail(error)
            throw error
        }
    }
}

final class RTSPPlayback: LoadPlayback, @unchecked Sendable {
    let client: RTSPClient
    let base: String
    let header: ASFHeader?
    let ports: RTPReceiverPorts?
    let counting: NIOLockedValueBox<Bool>
    /// The stream a switch waits for.
    let awaiting: NIOLockedValueBox<UInt8?>
    let endedPromise: EventLoopPromise<Void>
    let duration: Double?
    /// The alternatives once switching began, and the stream URL each selected one is carried
    /// under: the SETUP URL of the stream it replaced (2.2.7.10.3).
    private let switching = NIOLockedValueBox<(alternatives: StreamAlternatives, urls: [UInt8: String])?>(nil)
    private let reports = NIOLockedValueBox<RepeatedTask?>(nil)

    init(client: RTSPClient, base: String, header: ASFHeader?, ports: RTPReceiverPorts?, counting: NIOLockedValueBox<Bool>,
         awaiting: NIOLockedValueBox<UInt8?>, ended: EventLoopPromise<Void>) {
        self.client = client
        self.base = base
        self.header = header
        self.ports = ports
        self.counting = counting
        self.awaiting = awaiting
        endedPromise = ended
        duration = header.flatMap { $0.fileProperties.flags.contains(.broadcast) ? nil : Double($0.fileProperties.durationMilliseconds) / 1000 }
    }

    var ended: EventLoopFuture<Void> { endedPromise.futureResult }

    /// The RTCP port in a SETUP reply's `server_port=a-b`.
    static func serverRTCPPort(_ transport: String?) -> Int? {
        guard let part = transport?.split(separator: ";").first(where: { $0.hasPrefix("server_port=") }) else { return nil }
        return part.dropFirst("server_port=".count).split(separator: "-").last.flatMap { Int($0) }
    }

    /// Over UDP a player tells the server it is there with RTCP receiver reports (RFC 3550
    /// 6.2, every 5 s); without them the server ends the session at its timeout (MS-RTSP 3.2.2).
    func sendReceiverReports(from ports: RTPReceiverPorts, to server: SocketAddress) {
        let rtcp = ports.rtcp
        let ssrc = UInt32.random(in: 1...UInt32.max)
        let task = rtcp.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(5), delay: .seconds(5)) { _ in
            var report = rtcp.allocator.buffer(capacity: 8)
            RTCP.writeReceiverReport(ssrc: ssrc, to: &report)
            rtcp.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: report), promise: nil)
        }
        reports.withLockedValue { $0 = task }
    }

    func play(from seconds: Double) async throws {
        let play = try await client.request("PLAY", base + "/", [("Range", "npt=\(String(format: "%.3f", seconds))-")])
        guard play.status == 200 else { throw LoadFailure("RTSP PLAY \(play.status)") }
    }

    func seek(to seconds: Double) async throws {
        counting.withLockedValue { $0 = false }
        let pause = try await client.request("PAUSE", base + "/")
        guard pause.status == 200 else { throw LoadFailure("RTSP PAUSE \(pause.status)") }
        counting.withLockedValue { $0 = true }
        try await play(from: seconds)
    }

    /// The first switch deselects every alternative but the next (thin level 2, the same stream
    /// old and new); later ones replace the current alternative with the next under its URL.
    func switchStreams() async throws {
        guard let header else { throw LoadFailure("no header") }
        let (target, entries) = try switching.withLockedValue { s -> (UInt8, [(url: String, entry: SSEntry)]) in
            let streamURL = { (n: UInt8) in "\(self.base)/stream=\(n)" }
            guard var (alternatives, urls) = s else {
                var alternatives = try StreamAlternatives(header) ?? { throw LoadFailure("nothing to switch between") }()
                let target = alternatives.next()
                let dropped = alternatives.alternatives.filter { $0 != target }
                s = (alternatives, [target: streamURL(target)])
                return (target, dropped.map { (streamURL($0), SSEntry(oldStream: UInt32($0), newStream: UInt32($0), thinLevel: .nothing,
                                                                        oldURI: streamURL($0), newURI: streamURL($0))) })
            }
            let old = alternatives.alternatives[alternatives.current]
            let target = alternatives.next()
            let url = urls.removeValue(forKey: old) ?? streamURL(old)
            urls[target] = url
            s = (alternatives, urls)
            return (target, [(url, SSEntry(oldStream: UInt32(old), newStream: UInt32(target), oldURI: streamURL(old), newURI: streamURL(target)))])
        }
        awaiting.withLockedValue { $0 = target }
        for (url, entry) in entries {
            let reply = try await client.request("SET_PARAMETER", url, [("Content-Type", "application/x-wms-streamswitch")], body: entry.text)
            guard reply.status == 200 else { throw LoadFailure("RTSP SelectStream \(reply.status)") }
        }
    }

    func close() async {
        reports.withLockedValue { $0?.cancel() }
        await client.close()
        await ports?.close()
        endedPromise.fail(LoadFailure("closed"))
    }
}
