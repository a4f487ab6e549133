import ASF
import Foundation
import Logging
import NIOCore
import Streaming

/// What an on-demand request plays: one ASF file, or a server-side playlist of them.
struct OnDemandContent {
    let first: ASFFile
    let playlist: [SplicedSource.Entry]?
    /// The ASF header the client gets first.
    let streamingHeader: ByteBuffer
    /// MS-WMSP 2.2.1.4.8: a file can be sought; a playlist is played through.
    let features: String

    init(path: String, root: String, logger: Logger) throws {
        guard path.lowercased().hasSuffix(".wsx") else {
            first = try ASFFile(path: path)
            playlist = nil
            streamingHeader = first.header.streamingHeader(dataObject: first.dataObject)
            features = "seekable,stridable"
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
        let total = entries.reduce(UInt64(0)) { sum, e in sum + (e.clipEnd ?? e.file.durationMilliseconds) - (e.clipBegin ?? 0) }
        properties.playDuration = (total + properties.preroll) * 10_000
        properties.sendDuration = total * 10_000
        properties.dataPacketsCount = 0
        properties.fileSize = 0
        properties.flags.remove(.seekable)
        header.fileProperties = properties
        streamingHeader = header.streamingHeader(dataObject: DataObjectHeader(objectSize: 0, fileID: properties.fileID, totalDataPackets: 0))
        features = "playlist"
    }

    /// A source from `start`; a playlist always plays from its beginning.
    func source(from start: WMSPRequest.StartPosition?) throws -> any PacketSource {
        if let playlist { return try SplicedSource(entries: playlist, loops: false) }
        let packet: Int
        switch start {
        case nil: packet = 0
        case let .byteOffset(offset): packet = min(Int(offset / UInt64(first.packetSize)), first.packetCount)
        case let .time(ms): packet = try first.packetNumber(forTime: ms)
        }
        return FileCursor(file: first, startPacket: packet)
    }
}
