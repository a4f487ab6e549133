import NIOCore

/// What a header can do without when a client takes no more than a certain size, in the order
/// it is left out. Playback needs none of it; a stream's objects, the codec list, mutual
/// exclusions, bit-rate properties and extended stream properties always stay.
public enum HeaderOmission: String, Sendable, CaseIterable, Codable {
    case padding = "the Padding Object"
    case pictures = "pictures (WM/Picture)"
    case binaryAttributes = "other binary attributes"
    case largeMetadata = "metadata values over 1 KiB"
    case scriptCommands = "script commands"
    case markers = "markers"

    /// Values larger than this are "oversized metadata".
    static let largeValue = 1024
}

extension ASFHeader {
    /// The header in at most `limit` bytes (Header Object and the Data Object's first 50), and
    /// what had to go for it: omissions are made in `HeaderOmission` order, each only if the
    /// header is still too large. Nil when the header cannot get that small.
    public func fitted(to limit: Int) -> (header: ASFHeader, omitted: [HeaderOmission])? {
        var header = self
        var omitted: [HeaderOmission] = []
        func size(_ h: ASFHeader) -> Int { h.bytes.readableBytes + DataObjectHeader.size }
        var current = size(header)
        for omission in HeaderOmission.allCases {
            guard current > limit else { break }
            let smaller = header.omitting(omission)
            let reduced = size(smaller)
            guard reduced < current else { continue }
            header = smaller
            current = reduced
            omitted.append(omission)
        }
        return current <= limit ? (header, omitted) : nil
    }

    public func omitting(_ omission: HeaderOmission) -> ASFHeader {
        var copy = self
        copy.objects = objects.compactMap { object -> Object? in
            switch (object, omission) {
            case let (.other(raw), .padding) where raw.guid == .padding: return nil
            case let (.other(raw), .scriptCommands) where raw.guid == .scriptCommand: return nil
            case let (.other(raw), .markers) where raw.guid == .marker: return nil
            case var (.contentDescription(c), .largeMetadata):
                c.fields = c.fields.map { $0.readableBytes > HeaderOmission.largeValue ? ByteBuffer() : $0 }
                return .contentDescription(c)
            case var (.extendedContentDescription(e), _):
                e.descriptors.removeAll { Self.omits(omission, name: $0.nameText, binary: $0.valueType == 1, size: $0.value.readableBytes) }
                return .extendedContentDescription(e)
            case var (.headerExtension(e), _):
                e.objects = e.objects.compactMap { Self.omitting(omission, from: $0) }
                return .headerExtension(e)
            default: return object
            }
        }
        return copy
    }

    private static func omitting(_ omission: HeaderOmission, from object: HeaderExtension.Object) -> HeaderExtension.Object? {
        func kept(_ m: Metadata) -> Metadata {
            var m = m
            m.records.removeAll { record in
                var name = record.name
                return omits(omission, name: name.readUTF16LE(), binary: record.dataType == 1, size: record.data.readableBytes)
            }
            return m
        }
        switch object {
        case let .other(raw) where omission == .padding && raw.guid == .padding: return nil
        case let .metadata(m): return .metadata(kept(m))
        case let .metadataLibrary(m): return .metadataLibrary(kept(m))
        default: return object
        }
    }

    private static func omits(_ omission: HeaderOmission, name: String, binary: Bool, size: Int) -> Bool {
        switch omission {
        case .pictures: return name == "WM/Picture"
        case .binaryAttributes: return binary
        case .largeMetadata: return size > HeaderOmission.largeValue
        case .padding, .scriptCommands, .markers: return false
        }
    }
}
