import ASF
import NIOCore

/// The protocol-independent part of one client's playback of a file: its position, its stream
/// selection, its pacing, and what it has sent. Engines wrap it with their protocol's framing.
public struct PlaySession {
    public private(set) var cursor: FileCursor
    public let filter: StreamFilter?
    public let pacing: Pacing
    public let start: NIODeadline
    private var firstSendTime: UInt32?
    /// A packet read but not yet due.
    private var held: (number: Int, bytes: ByteBuffer, due: NIODeadline)?
    public private(set) var packetsSent = 0
    public private(set) var bytesSent = 0

    /// - Parameter selection: streams to send, nil for all.
    public init(file: ASFFile, startPacket: Int, selection: Set<UInt8>?, pacing: Pacing, start: NIODeadline) {
        cursor = FileCursor(file: file, startPacket: startPacket)
        let all = Set(file.header.streams.map(\.streamNumber))
        filter = selection.map { $0 == all ? nil : StreamFilter(selection: $0) } ?? nil
        self.pacing = pacing
        self.start = start
    }

    public enum Step {
        /// Packets were handed out; call again at the deadline.
        case wait(until: NIODeadline)
        case finished
    }

    /// Hands every packet due at `now` to `send` (packet number, bytes), then says what next.
    public mutating func sendDue(now: NIODeadline, _ send: (Int, ByteBuffer) -> Void) throws -> Step {
        while true {
            if held == nil {
                guard let (number, bytes) = try cursor.next() else { return .finished }
                let packet = try DataPacket(parsing: bytes, origin: cursor.file.dataOffset + number * cursor.file.packetSize)
                let out: ByteBuffer?
                if let filter {
                    out = try filter.apply(packet, original: bytes, packetSize: cursor.file.packetSize)
                } else {
                    out = bytes
                }
                guard let out else { continue }
                let first = firstSendTime ?? packet.sendTime
                firstSendTime = first
                let offset = TimeAmount.milliseconds(Int64(packet.sendTime) - Int64(first))
                held = (number, out, start + pacing.delay(forOffset: max(.zero, offset)))
            }
            guard let packet = held, packet.due <= now else { return .wait(until: held!.due) }
            held = nil
            packetsSent += 1
            bytesSent += packet.bytes.readableBytes
            send(packet.number, packet.bytes)
        }
    }
}
