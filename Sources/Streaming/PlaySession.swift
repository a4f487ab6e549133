import ASF
import NIOCore

/// The protocol-independent part of one client's on-demand playback: its source and position,
/// its stream selection, its pacing, and what it has sent. Engines wrap it with their framing.
public struct PlaySession {
    public private(set) var source: any PacketSource
    public private(set) var filter: StreamFilter?
    private var packetSize: Int
    public let pacing: Pacing
    public let start: NIODeadline
    private var firstSendTime: UInt32?
    /// An item read but not yet due.
    private var held: (item: Output, due: NIODeadline)?
    public private(set) var packetsSent = 0
    public private(set) var bytesSent = 0

    public enum Output {
        case packet(StreamPacket)
        /// The packets that follow belong to this file's header.
        case header(ASFFile)
    }

    /// - Parameter selection: streams to send, nil for all.
    public init(source: any PacketSource, selection: Set<UInt8>?, pacing: Pacing, start: NIODeadline) {
        self.source = source
        let all = Set(source.file.header.streams.map(\.streamNumber))
        filter = selection.flatMap { $0 == all ? nil : StreamFilter(selection: $0) }
        packetSize = source.file.packetSize
        self.pacing = pacing
        self.start = start
    }

    public enum Step {
        /// Items were handed out; call again at the deadline.
        case wait(until: NIODeadline)
        case finished
    }

    /// Hands every item due at `now` to `send`, then says what next.
    public mutating func sendDue(now: NIODeadline, _ send: (Output) -> Void) throws -> Step {
        while true {
            if held == nil {
                guard let item = try source.next() else { return .finished }
                switch item {
                case let .header(file):
                    // A new entry with other streams: the selection no longer applies.
                    filter = nil
                    packetSize = file.packetSize
                    held = (.header(file), now)
                case var .packet(packet):
                    if let filter {
                        guard let kept = try filter.apply(try DataPacket(parsing: packet.bytes), original: packet.bytes, packetSize: packetSize)
                        else { continue }
                        packet.bytes = kept
                    }
                    let first = firstSendTime ?? packet.sendTime
                    firstSendTime = first
                    let offset = TimeAmount.milliseconds(Int64(Int32(bitPattern: packet.sendTime &- first)))
                    held = (.packet(packet), start + pacing.delay(forOffset: max(.zero, offset)))
                }
            }
            guard let (item, due) = held, due <= now else { return .wait(until: held!.due) }
            held = nil
            if case let .packet(packet) = item {
                packetsSent += 1
                bytesSent += packet.bytes.readableBytes
            }
            send(item)
        }
    }
}
