import ASF
import NIOCore

/// Plays files one after another, and again from the first, as one live stream: every packet is
/// moved onto one continuous clock, so clients see time only go forward. The files must share
/// the first one's streams and packet size (a playlist of one encoder profile).
public struct LoopingSource {
    public let header: ASFHeader
    public let packetSize: Int
    private let files: [ASFFile]
    private let videoStreams: Set<UInt8>
    private var entry = 0
    private var reader: ASFFile.PacketReader
    /// Added to the current file's times.
    private var offset: UInt32 = 0
    /// The latest send or presentation time given out (preroll excluded).
    private var end: UInt32 = 0
    private var nextLocation: UInt32 = 0

    public struct Incompatible: Error, CustomStringConvertible {
        public var description: String
    }

    public init(files: [ASFFile]) throws {
        guard let first = files.first else { throw Incompatible(description: "no file to play") }
        for file in files.dropFirst() where !Self.compatible(first, file) {
            throw Incompatible(description: "\(file.path) does not have the streams and packet size of \(first.path)")
        }
        self.files = files
        header = first.header.broadcast()
        packetSize = first.packetSize
        videoStreams = Set(first.header.streams.filter { $0.kind == .video }.map(\.streamNumber))
        reader = first.packets()
    }

    /// Same stream numbers, types and formats, and the same packet size: a client's decoder can
    /// go on from one to the other.
    public static func compatible(_ a: ASFFile, _ b: ASFFile) -> Bool {
        a.packetSize == b.packetSize
            && a.header.streams.map { [$0.streamNumber: $0.typeSpecificData] } == b.header.streams.map { [$0.streamNumber: $0.typeSpecificData] }
            && a.header.streams.map(\.streamType) == b.header.streams.map(\.streamType)
    }

    /// The next packet; files repeat forever. Throws only if a file cannot be read.
    public mutating func next() throws -> LivePacket {
        var attempts = 0
        while true {
            if let (number, bytes) = try reader.next() {
                let file = files[entry]
                var packet = try DataPacket(parsing: bytes, origin: file.dataOffset + number * file.packetSize)
                if offset != 0 { packet = packet.shifted(by: offset) }
                end = max(end, packet.sendTime &+ UInt32(packet.duration))
                for p in packet.payloads {
                    if let t = p.presentationTime { end = max(end, t &- UInt32(truncatingIfNeeded: file.header.fileProperties.preroll)) }
                }
                let clean = videoStreams.isEmpty || videoStreams.contains(where: packet.startsKeyFrame(of:))
                defer { nextLocation &+= 1 }
                return LivePacket(locationID: nextLocation, bytes: offset == 0 ? bytes : packet.bytes,
                                  sendTime: packet.sendTime, isCleanPoint: clean)
            }
            attempts += 1
            guard attempts <= files.count else { throw Incompatible(description: "no packets to play") }
            // The next file starts where this one's play duration ends (it counts the last
            // frame's duration), and never before the last packet sent.
            offset = max(offset &+ UInt32(truncatingIfNeeded: files[entry].durationMilliseconds), end &+ 1)
            entry = (entry + 1) % files.count
            reader = files[entry].packets()
        }
    }
}
