import NIOCore

/// Writes an ASF file: the header, fixed-size data packets, then a Simple Index Object (ASF spec 6.1)
/// for the first video stream. On `finish()` the File Properties and Data Object are updated with
/// the real size and packet count (and durations, when the header did not carry them).
public final class ASFFileWriter {
    private let file: FileDescriptor
    private var header: ASFHeader
    private let packetSize: Int
    private let indexedStream: UInt8?
    private let indexInterval: UInt64
    private var packetCount = 0
    private var keyFrames: [(time: UInt32, first: Int, last: Int)] = []
    private var openKeyFrame: (mediaObject: UInt32, index: Int)?
    private var lastSendEnd: UInt64 = 0
    private var lastPresentation: UInt64 = 0
    private var finished = false

    /// - Parameter indexInterval: Simple Index granularity in milliseconds.
    public init(path: String, header: ASFHeader, indexInterval: UInt64 = 1000) throws {
        guard let size = header.fileProperties.fixedPacketSize else {
            throw ASFError("File Properties Object", at: 0, .invalidValue("a file needs a fixed packet size"))
        }
        file = try FileDescriptor(path: path, writing: true)
        self.header = header
        packetSize = size
        indexedStream = header.streams.first { $0.kind == .video }?.streamNumber
        self.indexInterval = indexInterval
        try writeHeader()
    }

    private var headerSize: Int { header.bytes.readableBytes }

    private func writeHeader() throws {
        let p = header.fileProperties
        // Until `finish`, the Data Object's size is 0, unknown, as a live capture's: a reader of
        // the file while it is written counts the packets there are.
        let dataObject = DataObjectHeader(objectSize: finished ? UInt64(DataObjectHeader.size + packetCount * packetSize) : 0,
                                          fileID: p.fileID, totalDataPackets: UInt64(packetCount))
        try file.write(header.streamingHeader(dataObject: dataObject), at: 0)
    }

    /// Appends one packet; it must be exactly the header's packet size and parse.
    public func write(packet bytes: ByteBuffer) throws {
        precondition(!finished)
        let at = headerSize + DataObjectHeader.size + packetCount * packetSize
        guard bytes.readableBytes == packetSize else {
            throw ASFError("data packet", at: at, .invalidSize(UInt64(bytes.readableBytes)))
        }
        let packet = try DataPacket(parsing: bytes, origin: at)
        lastSendEnd = max(lastSendEnd, UInt64(packet.sendTime) + UInt64(packet.duration))
        for payload in packet.payloads {
            if let time = payload.presentationTime { lastPresentation = max(lastPresentation, UInt64(time)) }
            guard payload.streamNumber == indexedStream else { continue }
            if payload.isKeyFrame, payload.startsMediaObject, let time = payload.presentationTime {
                keyFrames.append((time, packetCount, packetCount))
                openKeyFrame = (payload.mediaObjectNumber, keyFrames.count - 1)
            } else if let open = openKeyFrame, payload.mediaObjectNumber == open.mediaObject {
                keyFrames[open.index].last = packetCount
            } else {
                openKeyFrame = nil
            }
        }
        try file.write(bytes, at: at)
        packetCount += 1
    }

    /// Writes the index and the final header. The file is complete after this.
    public func finish() throws {
        precondition(!finished)
        finished = true
        let end = headerSize + DataObjectHeader.size + packetCount * packetSize
        var p = header.fileProperties
        p.dataPacketsCount = UInt64(packetCount)
        if p.playDuration == 0 || p.flags.contains(.broadcast) {
            p.playDuration = max(lastPresentation, lastSendEnd) * 10_000
            p.sendDuration = lastSendEnd * 10_000
        }
        p.flags.remove(.broadcast)
        p.flags.insert(.seekable)
        var trailer = ByteBuffer()
        if indexedStream != nil, !keyFrames.isEmpty {
            ObjectFraming.write(simpleIndex(fileID: p.fileID, playDuration: p.playDuration), to: &trailer)
        }
        p.fileSize = UInt64(end + trailer.readableBytes)
        header.fileProperties = p
        try writeHeader()
        try file.write(trailer, at: end)
    }

    /// One entry per interval up to the play duration: the last key frame at or before it.
    private func simpleIndex(fileID: GUID, playDuration: UInt64) -> SimpleIndex {
        let intervalMs = indexInterval
        let count = Int(playDuration / 10_000 / intervalMs) + 1
        var entries = [SimpleIndex.Entry]()
        entries.reserveCapacity(count)
        var k = 0
        for slot in 0..<count {
            let time = UInt64(slot) * intervalMs
            while k + 1 < keyFrames.count, UInt64(keyFrames[k + 1].time) <= time { k += 1 }
            let frame = keyFrames[k]
            entries.append(.init(packetNumber: UInt32(frame.first), packetCount: UInt16(clamping: frame.last - frame.first + 1)))
        }
        return SimpleIndex(fileID: fileID, entryTimeInterval: intervalMs * 10_000, entries: entries)
    }
}
