import ASF
import Foundation
import MMS
import NIOConcurrencyHelpers
import NIOCore

/// An MMS player (MS-MMSP) over TCP or UDP: Connect to StartPlaying with the project's client,
/// every stream selected; over UDP a gap in the Data packets' sequence is asked for again. A seek
/// is a StopPlaying (2.2.4.27), then a StartPlaying at a position with a new playIncarnation
/// (2.2.4.25: Data packets of the old one do not count); a switch a StreamSwitch (2.2.4.28).
struct MMSDriver: LoadDriver {
    var udp: Bool

    func open(_ url: URL, session: LoadSession, group: EventLoopGroup) async throws -> LoadPlayback {
        let tracker = DataTracker(session: session)
        let address = try ServerAddress.resolve(host: url.host ?? "127.0.0.1", port: url.port ?? 1755)
        let client = try await MMSClient.connect(to: address, from: ServerAddress.source(for: session, to: address), group: group, udp: udp) { packet in
            tracker.receive(packet)
        }
        session.update { $0.connected(at: .now()) }
        session.own(client.channel)
        if let udp = client.udp { session.own(udp) }
        let path = String(url.path.drop { $0 == "/" })
        let (report, header) = try await client.open(path)
        session.update { $0.contentBitsPerSecond = report.bitRate }
        let parsed = try? ASFHeader(parsing: header)
        let playback = MMSPlayback(client: client, tracker: tracker, header: parsed, openFileID: report.openFileID,
                                   duration: report.attributes & ServerMessage.ReportOpenFile.broadcast != 0 ? nil : report.durationSeconds)
        try await playback.select(Set(parsed?.streams.map(\.streamNumber) ?? []))
        if udp, let clientID = client.clientID, let address = client.channel.remoteAddress {
            tracker.requestResend = { missing in
                session.update { $0.resendRequests += missing.count }
                Task { try? await client.requestResend(ResendRequest(clientID: clientID, sourceID: 1, sequences: missing), to: address) }
            }
        }
        try await playback.play(from: 0)
        return playback
    }
}

final class MMSPlayback: LoadPlayback, @unchecked Sendable {
    let client: MMSClient
    let tracker: DataTracker
    let header: ASFHeader?
    let openFileID: UInt32
    let duration: Double?
    private let endedPromise: EventLoopPromise<Void>
    private let alternatives: NIOLockedValueBox<StreamAlternatives?>
    private let incarnation = NIOLockedValueBox<UInt32>(4)
    /// The request waiting for its answer, and how to tell it.
    private let expected = NIOLockedValueBox<(promise: EventLoopPromise<ServerMessage>, answers: @Sendable (ServerMessage) -> Bool)?>(nil)

    init(client: MMSClient, tracker: DataTracker, header: ASFHeader?, openFileID: UInt32, duration: Double?) {
        self.client = client
        self.tracker = tracker
        self.header = header
        self.openFileID = openFileID
        self.duration = duration
        alternatives = NIOLockedValueBox(nil)
        endedPromise = client.channel.eventLoop.makePromise()
        client.closed.whenComplete { [endedPromise] _ in endedPromise.fail(LoadFailure("connection closed")) }
        readReports()
    }

    var ended: EventLoopFuture<Void> { endedPromise.futureResult }

    func select(_ streams: Set<UInt8>) async throws {
        let entries = (header?.streams ?? []).map { StreamSwitchEntry(destination: UInt16($0.streamNumber), thinning: streams.contains($0.streamNumber) ? 0 : 2) }
        guard case .reportStreamSwitch(0) = try await request(.streamSwitch(entries), answeredBy: { if case .reportStreamSwitch = $0 { true } else { false } }) else {
            throw LoadFailure("StreamSwitch refused")
        }
    }

    /// StartPlaying (2.2.4.25) at `seconds` with a new playIncarnation.
    func play(from seconds: Double) async throws {
        let next = nextIncarnation()
        let reply = try await request(.startPlaying(.init(position: seconds, playIncarnation: next)),
                                      answeredBy: { if case .reportStartedPlaying = $0 { true } else { false } })
        guard case .reportStartedPlaying(0, _, _) = reply else { throw LoadFailure("StartPlaying refused") }
    }

    /// Sends `message` and waits for the report that answers it; the other reports go on to
    /// `readReports`.
    private func request(_ message: ClientMessage, answeredBy answers: @escaping @Sendable (ServerMessage) -> Bool) async throws -> ServerMessage {
        let reply = client.channel.eventLoop.makePromise(of: ServerMessage.self)
        expected.withLockedValue { $0 = (reply, answers) }
        try await client.send(message)
        return try await reply.futureResult.get()
    }

    /// Every report in turn: the answer a request waits for, else the end of the content (hr 0
    /// of the current playIncarnation; hr 1 ends a playlist entry only).
    private func readReports() {
        client.next().whenComplete { [self] result in
            switch result {
            case let .success(report):
                let current = incarnation.withLockedValue { $0 }
                let waiting = expected.withLockedValue { e in
                    guard let (promise, answers) = e, answers(report) else { return nil as EventLoopPromise<ServerMessage>? }
                    e = nil
                    return promise
                }
                if let waiting {
                    waiting.succeed(report)
                } else if case let .reportEndOfStream(0, playIncarnation) = report, UInt8(truncatingIfNeeded: playIncarnation) == UInt8(truncatingIfNeeded: current) {
                    endedPromise.succeed()
                }
                readReports()
            case let .failure(error):
                expected.withLockedValue { e in defer { e = nil }; return e?.promise }?.fail(error)
                endedPromise.fail(error)
            }
        }
    }

    /// A seek as VLC makes it (CLIENTS.md 2.2): StopPlaying, answered by a ReportEndOfStream of
    /// its playIncarnation, puts the server back in READY, where StartPlaying seeks (MS-MMSP
    /// 3.2.5.11; while STREAMING it goes on from where it is).
    func seek(to seconds: Double) async throws {
        let stop = nextIncarnation()
        _ = try await request(.stopPlaying(openFileID: openFileID, playIncarnation: stop),
                              answeredBy: { if case let .reportEndOfStream(_, i) = $0, i == stop { true } else { false } })
        try await play(from: seconds)
    }

    /// A new playIncarnation; from now on only the Data packets of it count.
    private func nextIncarnation() -> UInt32 {
        let next = incarnation.withLockedValue { i in
            i &+= 1
            return i
        }
        tracker.incarnation.withLockedValue { $0 = UInt8(truncatingIfNeeded: next) }
        return next
    }

    func switchStreams() async throws {
        guard let header else { throw LoadFailure("no header") }
        let (target, selection) = try alternatives.withLockedValue { a -> (UInt8, Set<UInt8>) in
            var alternatives = try a ?? StreamAlternatives(header) ?? { throw LoadFailure("nothing to switch between") }()
            let target = alternatives.next()
            a = alternatives
            return (target, alternatives.selection)
        }
        tracker.awaiting.withLockedValue { $0 = target }
        try await select(selection)
    }

    func close() async {
        await client.close()
        endedPromise.fail(LoadFailure("closed"))
    }
}

/// The Data packets as they arrive: those of the current playIncarnation go to the session;
/// over UDP the packets skipped between two that arrived are asked for once by their 32-bit
/// sequence numbers (2.2.5), rebuilt from the 8 bits AFFlags carries.
final class DataTracker: @unchecked Sendable {
    let session: LoadSession
    let incarnation = NIOLockedValueBox<UInt8>(0)
    /// The stream a switch waits for.
    let awaiting = NIOLockedValueBox<UInt8?>(nil)
    var requestResend: (([UInt32]) -> Void)?
    private var latest: UInt32?

    init(session: LoadSession) {
        self.session = session
    }

    func receive(_ packet: MMSData) {
        guard packet.playIncarnation == incarnation.withLockedValue({ $0 }) else { return }
        let sendTime = (try? DataPacket.sendTime(of: packet.payload)) ?? 0
        session.packet(sendTime: sendTime, sequence: UInt32(packet.flags), modulus: 256, bytes: packet.payload.readableBytes)
        noteSequence(packet.flags)
        if let target = awaiting.withLockedValue({ $0 }), let parsed = try? DataPacket(parsing: packet.payload), parsed.streamNumbers.contains(target) {
            awaiting.withLockedValue { $0 = nil }
            session.actionAnswered()
        }
    }

    private func noteSequence(_ flags: UInt8) {
        guard let latest else { latest = UInt32(flags); return }
        let step = UInt32(flags &- UInt8(truncatingIfNeeded: latest))
        guard step > 0, step < 128 else { return }  // a step back: a resent packet
        self.latest = latest &+ step
        if step > 1, step <= 33 { requestResend?((1..<step).map { latest &+ $0 }) }
    }
}
