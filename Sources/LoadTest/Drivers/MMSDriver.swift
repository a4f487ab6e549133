import ASF
import Foundation
import MMS
import NIOCore

/// An MMS player (MS-MMSP) over TCP or UDP: Connect to StartPlaying with the project's client,
/// every stream selected; over UDP a gap in the Data packets' sequence is asked for again.
struct MMSDriver: LoadDriver {
    var udp: Bool

    func play(_ url: URL, session: LoadSession, group: EventLoopGroup) async throws {
        let requests = ResendRequests()
        let client = try await MMSClient.connect(host: url.host ?? "127.0.0.1", port: url.port ?? 1755, group: group, udp: udp) { packet in
            let sendTime = (try? DataPacket.sendTime(of: packet.payload)) ?? 0
            session.packet(sendTime: sendTime, sequence: UInt32(packet.flags), modulus: 256, bytes: packet.payload.readableBytes)
            requests.note(packet.flags)
        }
        session.update { $0.connected(at: .now()) }
        session.own(client.channel)
        if let udp = client.udp { session.own(udp) }
        let path = String(url.path.drop { $0 == "/" })
        let (report, header) = try await client.open(path)
        session.update { $0.contentBitsPerSecond = report.bitRate }
        let streams = (try? ASFHeader(parsing: header).streams.map(\.streamNumber)) ?? []
        guard case .reportStreamSwitch(0) = try await client.request(.streamSwitch(streams.map { StreamSwitchEntry(destination: UInt16($0)) })) else {
            throw LoadFailure("StreamSwitch refused")
        }
        if udp, let clientID = client.clientID, let address = client.channel.remoteAddress {
            requests.send = { missing in
                session.update { $0.resendRequests += missing.count }
                Task { try? await client.requestResend(ResendRequest(clientID: clientID, sourceID: 1, sequences: missing), to: address) }
            }
        }
        guard case .reportStartedPlaying(0, _, _) = try await client.request(.startPlaying(.init())) else { throw LoadFailure("StartPlaying refused") }
        // Until the end of the content (hr 0); hr 1 is the end of a playlist entry only.
        while true {
            if case .reportEndOfStream(0, _) = try await client.next().get() { return }
        }
    }

    /// Over UDP: the Data packets skipped between two that arrived, asked for once by their
    /// 32-bit sequence numbers (2.2.5), rebuilt from the 8 bits AFFlags carries.
    private final class ResendRequests: @unchecked Sendable {
        var send: (([UInt32]) -> Void)?
        private var latest: UInt32?

        func note(_ flags: UInt8) {
            guard let latest else { latest = UInt32(flags); return }
            let step = UInt32(flags &- UInt8(truncatingIfNeeded: latest))
            guard step > 0, step < 128 else { return }  // a step back: a resent packet
            self.latest = latest &+ step
            if step > 1, step <= 33 { send?((1..<step).map { latest &+ $0 }) }
        }
    }
}
