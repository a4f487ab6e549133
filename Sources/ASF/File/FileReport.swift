import NIOCore

/// What a streaming engineer wants to know about a file, gathered by reading every packet.
public struct FileReport: Sendable, Codable, Equatable {
    public struct Stream: Sendable, Codable, Equatable {
        public var number: UInt8
        public var type: String
        public var codec: String
        /// WAVE format tag or FourCC, as libavformat reports it.
        public var codecTag: UInt32?
        public var bitrate: UInt32?
        public var language: String?
        public var width: UInt32?
        public var height: UInt32?
        public var channels: UInt16?
        public var sampleRate: UInt32?
        public var encrypted: Bool
        // Statistics from the data packets.
        public var payloads: Int = 0
        public var mediaObjects: Int = 0
        public var keyFrames: Int = 0
        public var bytes: Int = 0
        public var packets: Int = 0
    }

    public var file: String
    public var fileSize: UInt64
    public var durationMilliseconds: UInt64
    public var prerollMilliseconds: UInt64
    public var packetSize: Int
    public var packetCount: Int
    public var declaredPacketCount: UInt64
    public var maximumBitrate: UInt32
    public var broadcast: Bool
    public var seekable: Bool
    public var simpleIndexEntries: Int?
    public var hasIndexObject: Bool
    public var title: String?
    public var streams: [Stream]
    public var exclusions: [ASFHeader.Exclusion]
    /// Departures from the ASF spec the file is read through anyway, one line each.
    public var departures: [String]

    public init(_ file: ASFFile) throws {
        let header = file.header
        let p = header.fileProperties
        self.file = file.path
        fileSize = p.fileSize
        durationMilliseconds = p.durationMilliseconds
        prerollMilliseconds = p.preroll
        packetSize = file.packetSize
        packetCount = file.packetCount
        declaredPacketCount = p.dataPacketsCount
        maximumBitrate = p.maximumBitrate
        broadcast = p.flags.contains(.broadcast)
        seekable = p.flags.contains(.seekable)
        simpleIndexEntries = file.simpleIndexes.first?.entries.count
        hasIndexObject = file.index != nil
        let title = header.contentDescription?.title
        self.title = title?.isEmpty == false ? title : nil
        exclusions = header.exclusions
        let codecNames = header.codecList?.entries ?? []
        streams = header.streams.map { s in
            let audio = s.audioFormat
            let video = s.videoFormat
            let codec = audio?.codecName ?? video?.fourCC
                ?? codecNames.first { $0.type == (s.kind == .audio ? 2 : 1) }?.nameText ?? s.kind.rawValue
            return Stream(number: s.streamNumber, type: s.kind.rawValue, codec: codec, codecTag: s.codecTag,
                          bitrate: header.averageBitrate(of: s.streamNumber), language: header.language(of: s.streamNumber),
                          width: video?.width, height: video?.height, channels: audio?.channels,
                          sampleRate: audio?.samplesPerSecond, encrypted: s.isEncrypted)
        }
        var slot = [UInt8: Int]()
        for (i, s) in streams.enumerated() { slot[s.number] = i }
        var reader = file.packets()
        var packetDepartures: [PacketDepartures: Int] = [:]
        var undeclared: [UInt8: Int] = [:]
        while let (number, bytes) = try reader.next() {
            let packet = try DataPacket(parsing: bytes, origin: file.dataOffset + number * file.packetSize)
            for (departure, _) in PacketDepartures.all where packet.departures.contains(departure) {
                packetDepartures[departure, default: 0] += 1
            }
            var seen = Set<UInt8>()
            for payload in packet.payloads {
                guard let i = slot[payload.streamNumber] else {
                    undeclared[payload.streamNumber, default: 0] += 1
                    continue
                }
                streams[i].payloads += 1
                streams[i].bytes += payload.isCompressed ? try payload.subPayloads().reduce(0) { $0 + $1.readableBytes } : payload.data.readableBytes
                let started = try payload.mediaObjectsStarted()
                streams[i].mediaObjects += started
                if payload.isKeyFrame, started > 0 { streams[i].keyFrames += started }
                if seen.insert(payload.streamNumber).inserted { streams[i].packets += 1 }
            }
        }
        departures = file.departures
            + PacketDepartures.all.compactMap { departure, phrase in
                packetDepartures[departure].map { "\(phrase) (\($0) of \(file.packetCount) packets)" }
            }
            + undeclared.sorted { $0.key < $1.key }.map { "\($0.value) payloads for stream \($0.key), which the header does not declare: ignored" }
    }
}
