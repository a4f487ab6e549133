import NIOCore

/// Edits a server makes to a header before sending it.
extension ASFHeader {
    /// The header as a live stream presents it (ASF spec 3.2): the broadcast flag set, not
    /// seekable, and file size, packet count and durations 0, since they are not known.
    public func broadcast() -> ASFHeader {
        var copy = self
        var p = copy.fileProperties
        p.flags.insert(.broadcast)
        p.flags.remove(.seekable)
        p.fileSize = 0
        p.dataPacketsCount = 0
        p.playDuration = 0
        p.sendDuration = 0
        copy.fileProperties = p
        return copy
    }

    /// The header without the given streams: their Stream Properties, Extended Stream Properties,
    /// bit-rate records, exclusion entries and metadata go; exclusions left with one stream go too.
    public func removingStreams(_ removed: Set<UInt8>) -> ASFHeader {
        guard !removed.isEmpty else { return self }
        let gone = Set(removed.map(UInt16.init))
        var copy = self
        copy.objects = objects.compactMap { object -> Object? in
            switch object {
            case let .streamProperties(s):
                return removed.contains(s.streamNumber) ? nil : object
            case var .streamBitrateProperties(p):
                p.records.removeAll { removed.contains($0.streamNumber) }
                return .streamBitrateProperties(p)
            case var .bitrateMutualExclusion(m):
                m.streamNumbers.removeAll { gone.contains($0) }
                return m.streamNumbers.count > 1 ? .bitrateMutualExclusion(m) : nil
            case var .headerExtension(e):
                e.objects = e.objects.compactMap { Self.removing(gone, from: $0) }
                return .headerExtension(e)
            default:
                return object
            }
        }
        return copy
    }

    private static func removing(_ gone: Set<UInt16>, from object: HeaderExtension.Object) -> HeaderExtension.Object? {
        switch object {
        case let .extendedStreamProperties(e):
            return gone.contains(e.streamNumber) ? nil : object
        case var .advancedMutualExclusion(m):
            m.streamNumbers.removeAll { gone.contains($0) }
            return m.streamNumbers.count > 1 ? .advancedMutualExclusion(m) : nil
        case var .groupMutualExclusion(g):
            g.records = g.records.map { $0.filter { !gone.contains($0) } }.filter { !$0.isEmpty }
            return g.records.count > 1 ? .groupMutualExclusion(g) : nil
        case var .metadata(m):
            m.records.removeAll { gone.contains($0.streamNumber) }
            return .metadata(m)
        case var .metadataLibrary(m):
            m.records.removeAll { gone.contains($0.streamNumber) }
            return .metadataLibrary(m)
        default:
            return object
        }
    }

    /// Adds a Bitrate Mutual Exclusion Object (ASF spec 3.8) over `streams`, so that players
    /// pick one of them by bit rate.
    public func addingBitrateExclusion(of streams: [UInt8]) -> ASFHeader {
        let exclusion = MutualExclusion(exclusionType: .mutexBitrate, streamNumbers: streams.map(UInt16.init))
        return inserting(.bitrateMutualExclusion(exclusion))
    }

    /// Adds a Stream Bitrate Properties Object (ASF spec 3.12): players choose among exclusive
    /// streams with it, and servers pace and admit by it.
    public func addingStreamBitrates(_ bitrates: [(stream: UInt8, bitsPerSecond: UInt32)]) -> ASFHeader {
        let records = bitrates.map { StreamBitrateProperties.Record(streamNumber: $0.stream, averageBitrate: $0.bitsPerSecond) }
        return inserting(.streamBitrateProperties(StreamBitrateProperties(records: records)))
    }

    /// Inserts `object` after the last Stream Properties Object.
    private func inserting(_ object: Object) -> ASFHeader {
        var copy = self
        let last = copy.objects.lastIndex { if case .streamProperties = $0 { return true } else { return false } }
        copy.objects.insert(object, at: (last ?? copy.objects.count - 1) + 1)
        return copy
    }
}
