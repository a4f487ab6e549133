import ASF
import NIOCore

/// Files, or clips of them, played one after another on one continuous clock: every packet is
/// moved so that time only goes forward, which is what a client decoding one stream needs. Used
/// for server-side playlists, and looped for broadcast points.
///
/// An entry with the same streams and packet size as the one before is spliced on seamlessly; one
/// with other streams is announced with `.header` first.
public struct SplicedSource: PacketSource {
    public struct Entry: Sendable {
        public var file: ASFFile
        /// Milliseconds into the file (preroll excluded) to start at and stop after.
        public var clipBegin: UInt64?
        public var clipEnd: UInt64?

        public init(file: ASFFile, clipBegin: UInt64? = nil, clipEnd: UInt64? = nil) {
            self.file = file
            self.clipBegin = clipBegin
            self.clipEnd = clipEnd
        }
    }

    public struct Empty: Error, CustomStringConvertible {
        public init() {}
        public var description: String { "no entry to play" }
    }

    /// The first entry's file: its header starts the session.
    public let file: ASFFile
    private let entries: [Entry]
    private let loops: Bool
    private var index = -1
    private var current: ASFFile
    private var reader: ASFFile.PacketReader?
    private var videoStreams: Set<UInt8>
    /// Added to the current entry's times (wrapping: it may move a clip earlier).
    private var shift: UInt32 = 0
    private var entryStart: UInt32 = 0
    private var entryLength: UInt32 = 0
    private var shiftKnown = false
    /// The clock: where the next entry starts.
    private var clock: UInt32 = 0
    /// The latest send or presentation time given out (preroll excluded).
    private var end: UInt32 = 0
    private var nextLocation: UInt32 = 0
    private var emptyEntries = 0
    /// Entries started so far, loops included.
    private var entriesStarted: UInt32 = 0

    public init(entries: [Entry], loops: Bool) throws {
        guard let first = entries.first else { throw Empty() }
        self.entries = entries
        self.loops = loops
        file = first.file
        current = first.file
        videoStreams = Self.video(first.file)
    }

    private static func video(_ file: ASFFile) -> Set<UInt8> {
        Set(file.header.streams.filter { $0.kind == .video }.map(\.streamNumber))
    }

    /// Same stream numbers, types and formats, and the same packet size: a client's decoder can
    /// go on from one to the other.
    public static func compatible(_ a: ASFFile, _ b: ASFFile) -> Bool {
        compatible(a.header, b.header)
    }

    /// The same, for headers (a live encoder's, say): the packet size is the header's.
    public static func compatible(_ a: ASFHeader, _ b: ASFHeader) -> Bool {
        a.fileProperties.maximumPacketSize == b.fileProperties.maximumPacketSize
            && a.streams.map(\.streamNumber) == b.streams.map(\.streamNumber)
            && a.streams.map(\.streamType) == b.streams.map(\.streamType)
            && a.streams.map(\.typeSpecificData) == b.streams.map(\.typeSpecificData)
    }

    public mutating func next() throws -> SourceItem? {
        while true {
            if reader == nil {
                guard let item = try startNextEntry() else { return nil }
                if let item { return item }
            }
            guard let (number, bytes) = try reader!.next() else {
                finishEntry()
                continue
            }
            let entry = entries[index]
            var packet = try DataPacket(parsing: bytes, origin: current.dataOffset + number * current.packetSize)
            if let clipEnd = entry.clipEnd, UInt64(packet.sendTime) > clipEnd {
                finishEntry()
                continue
            }
            if !shiftKnown {
                shift = clock &- packet.sendTime
                entryStart = clock
                entryLength = UInt32(clamping: (entry.clipEnd ?? current.durationMilliseconds) &- UInt64(packet.sendTime))
                shiftKnown = true
            }
            if shift != 0 { packet = packet.shifted(by: shift) }
            end = max(end, packet.sendTime &+ UInt32(packet.duration))
            let preroll = UInt32(truncatingIfNeeded: current.header.fileProperties.preroll)
            for p in packet.payloads {
                if let t = p.presentationTime, t >= preroll { end = max(end, t - preroll) }
            }
            emptyEntries = 0
            defer { nextLocation &+= 1 }
            return .packet(StreamPacket(
                locationID: nextLocation, bytes: shift == 0 ? bytes : packet.bytes, sendTime: packet.sendTime,
                isCleanPoint: videoStreams.isEmpty || videoStreams.contains(where: packet.startsKeyFrame(of:)), entry: entriesStarted))
        }
    }

    /// Opens the next entry. Returns nil at the end, `.some(.header)` when its streams differ
    /// from the current ones, and `.some(nil)` to go on with its packets.
    private mutating func startNextEntry() throws -> SourceItem?? {
        // Ended: every entry empty, or the last played without looping (and nil from then on).
        guard emptyEntries <= entries.count, index < entries.count else { return nil }
        index += 1
        if index == entries.count {
            guard loops else { return nil }
            index = 0
        }
        let entry = entries[index]
        let start = try entry.clipBegin.map { try entry.file.packetNumber(forTime: $0) } ?? 0
        reader = entry.file.packets(from: start)
        shiftKnown = false
        emptyEntries += 1
        entriesStarted &+= 1
        defer { current = entry.file }
        if index > 0 || clock > 0, !Self.compatible(current, entry.file) {
            videoStreams = Self.video(entry.file)
            return .some(.header(entry.file))
        }
        return .some(nil)
    }

    /// The next entry starts where this one's length ends (a file's play duration counts its
    /// last frame), and never before the last packet given out.
    private mutating func finishEntry() {
        reader = nil
        guard shiftKnown else { return }
        clock = max(end &+ 1, entryStart &+ entryLength)
    }

    /// Goes on with the next entry now, its clock right after the last packet given out.
    public mutating func skipEntry() {
        guard reader != nil else { return }
        reader = nil
        if shiftKnown { clock = end &+ 1 }
    }
}
