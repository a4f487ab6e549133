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
        guard case .reportStartedPlaying(0, _, _) = try await client.request(.startPlaying(.init())) else { throw LoadFailure("StartPlaying refused") }
        if udp, let clientID = client.clientID, let address = client.channel.remoteAddress {
            requests.send = { missing in
                session.update { $0.resendRequests += missing.count }
                Task { try? await client.requestResend(ResendRequest(clientID: clientID, sourceID: 1, sequences: missing), to: address) }
            }
        }
        while true {
            switch try await client.next().get() {
            case .reportEndOfStream(0, _): return
            case .reportEndOfStream, .reportStreamChange: continue
            default: continue
            }
        }
    }

    /// Over UDP: the 8-bit sequences skipped between two packets, asked for once.
    private final class ResendRequests: @unchecked Sendable {
        var send: (([UInt32]) -> Void)?
        private var last: UInt8?
        private var base: UInt32 = 0

        func note(_ flags: UInt8) {
            defer { last = flags }
            guard let last, let send else { return }
            let step = Int(flags &- last)
            guard step > 1, step < 33 else { return }
            send((1..<step).map { base &+ UInt32(last &+ UInt8($0)) })
        }
    }
}
