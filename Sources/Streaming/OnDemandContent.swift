import ASF
import Foundation
import Logging
import NIOCore

/// Where on-demand play starts: a byte offset into the data packets, or a time.
public enum StartPosition: Equatable, Sendable {
    case byteOffset(UInt64)
    case time(milliseconds: UInt64)
}

/// What an on-demand request plays, for every engine: one ASF file, or a server-side playlist
/// of them.
public struct OnDemandContent {
    public let first: ASFFile
    public let playlist: [SplicedSource.Entry]?
    /// The ASF header the client gets first.
    public let streamingHeader: ByteBuffer
    /// The header `streamingHeader` holds.
    public let header: ASFHeader
    /// The Data Object's start `streamingHeader` ends with.
    public let dataObject: DataObjectHeader

    /// A file can be sought; a playlist is played through.
    public var isSeekable: Bool { playlist == nil }

    public init(path: String, root: String, logger: Logger) throws {
        guard path.lowercased().hasSuffix(".wsx") else {
            first = try ASFFile(path: path)
            playlist = nil
            // The packets there are, which a partial download has fewer of than it declares:
            // ffmpeg over mmst waits for the packets a header promises.
            var header = first.header
            let packets = UInt64(first.packetCount)
            if header.fileProperties.dataPacketsCount != packets { header.fileProperties.dataPacketsCount = packets }
            self.header = header
            dataObject = DataObjectHeader(objectSize: UInt64(DataObjectHeader.size + first.packetCount * first.packetSize),
                                          fileID: first.dataObject.fileID, totalDataPackets: packets)
            streamingHeader = header.streamingHeader(dataObject: dataObject)
            return
        }
        let entries = try Playlist(parsing: try Data(contentsOf: URL(fileURLWithPath: path)))
            .openEntries(relativeTo: path, root: root, logger: logger)
        guard let head = entries.first else { throw SplicedSource.Empty() }
        first = head.file
        playlist = entries
        // The first entry's header, lasting the whole playlist, of unknown size so that clients
        // read on past the first entry's packets (libavformat stops at a known Data Object end).
        var header = head.file.header
        var properties = header.fileProperties
        let total = entries.reduce(UInt64(0)) { sum, e in
            sum.saturatingAdd((e.clipEnd ?? e.file.durationMilliseconds).saturatingSubtract(e.clipBegin ?? 0))
        }
        properties.playDuration = total.saturatingAdd(properties.preroll).saturatingMultiply(10_000)
        properties.sendDuration = total.saturatingMultiply(10_000)
        properties.dataPacketsCount = 0
        properties.fileSize = 0
        properties.flags.remove(.seekable)
        header.fileProperties = properties
        self.header = header
        dataObject = DataObjectHeader(objectSize: 0, fileID: properties.fileID, totalDataPackets: 0)
        streamingHeader = header.streamingHeader(dataObject: dataObject)
    }

    /// A source from `start` (a playlist always plays from its beginning), the ASF send time of
    /// its first packet (what RTSP states in `Range` and `RTP-Info`), and where that is in the
    /// content, in whole seconds from its first packet (the access log's c-starttime).
    public func play(from start: StartPosition?) throws -> (source: any PacketSource, firstSendTime: UInt32, startSeconds: Int) {
        if let playlist { return (try SplicedSource(entries: playlist, loops: false), try first.packet(0).sendTime, 0) }
        let packet: Int
        switch start {
        case nil: packet = 0
        case let .byteOffset(offset): packet = min(Int(offset / UInt64(first.packetSize)), first.packetCount)
        case let .time(ms): packet = try first.packetNumber(forTime: ms)
        }
        let sendTime = packet < first.packetCount ? try first.packet(packet).sendTime : 0
        let contentStart = first.packetCount > 0 ? try first.packet(0).sendTime : 0
        return (FileCursor(file: first, startPacket: packet), sendTime, Int(sendTime >= contentStart ? (sendTime - contentStart) / 1000 : 0))
    }
}
