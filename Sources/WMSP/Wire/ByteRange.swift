/// A single `Range: bytes=a-b`, `a-` or `-n` (RFC 9110 14.1.2) within a file of `size` bytes.
public struct ByteRange: Equatable, Sendable {
    public var range: Range<Int>

    public init?(_ header: String, size: Int) {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        if spec[0].isEmpty {
            guard let suffix = Int(spec[1]), suffix > 0 else { return nil }
            range = max(0, size - suffix)..<size
        } else {
            guard let first = Int(spec[0]), first < size else { return nil }
            let last = spec[1].isEmpty ? size - 1 : min(Int(spec[1]) ?? -1, size - 1)
            guard last >= first else { return nil }
            range = first..<(last + 1)
        }
    }
}
