import Foundation
import NIOCore
import RTSP

/// An RTSP player (MS-RTSP) over TCP-interleaved or UDP RTP: DESCRIBE, a SETUP per media line,
/// PLAY, then RTP until the server's EndOfStream or the test's end.
struct RTSPDriver: LoadDriver {
    var udp: Bool

    func play(_ url: URL, session: LoadSession, group: EventLoopGroup) async throws {
        let ended = group.next().makePromise(of: Void.self)
        defer { ended.fail(LoadFailure("ended")) }  // a no-op once completed
        let receive: @Sendable (ByteBuffer) -> Void = { rtp in
            guard rtp.readableBytes > 16, let (sequence, timestamp) = rtp.getMultipleIntegers(at: 2, as: (UInt16, UInt32).self) else { return }
            session.packet(sendTime: timestamp, sequence: UInt32(sequence), modulus: 1 << 16, bytes: rtp.readableBytes - 16)
        }
        let client = try await RTSPClient.connect(host: url.host ?? "127.0.0.1", port: url.port ?? 554, group: group,
                                                  interleaved: { channel, payload in if channel % 2 == 0 { receive(payload) } },
                                                  answer: { request in
                                                      if request.method == "SET_PARAMETER", String(buffer: request.body).contains("EOF: true") { ended.succeed() }
                                                      return 200
                                                  })
        session.update { $0.connected(at: .now()) }
        session.own(client.channel)
        var ports: RTPReceiverPorts?
        if udp {
            let bound = try await RTPReceiverPorts.bind(group: group) { isRTCP, datagram in if !isRTCP { receive(datagram) } }
            session.own(bound.rtp)
            session.own(bound.rtcp)
            ports = bound
        }
        let base = url.absoluteString
        let describe = try await client.request("DESCRIBE", base)
        guard describe.status == 200 else { throw LoadFailure("RTSP \(describe.status)") }
        let sdp = describe.body
        let kbps = sdp.split(separator: "\r\n").first { $0.hasPrefix("b=AS:") }.flatMap { UInt32($0.dropFirst(5)) }
        session.update { $0.contentBitsPerSecond = kbps.map { $0 * 1000 } }
        let controls = sdp.split(separator: "\r\n").compactMap { line in line.hasPrefix("a=control:stream=") ? String(line.dropFirst(10)) : nil }
        for (i, control) in controls.enumerated() {
            let transport = ports.map { "RTP/AVP/UDP;unicast;client_port=\($0.rtpPort)-\($0.rtpPort + 1)" }
                ?? "RTP/AVP/TCP;unicast;interleaved=\(2 * i)-\(2 * i + 1)"
            let reply = try await client.request("SETUP", base + "/" + control, [("Transport", transport)])
            guard reply.status == 200 else { throw LoadFailure("RTSP SETUP \(reply.status)") }
        }
        let play = try await client.request("PLAY", base + "/", [("Range", "npt=0.000-")])
        guard play.status == 200 else { throw LoadFailure("RTSP PLAY \(play.status)") }
        client.closed.whenComplete { _ in ended.fail(LoadFailure("connection closed")) }
        try await ended.futureResult.get()
    }
}
