import ASF

/// Where a PLAY's `Range: npt=<start>-[<end>]` starts (RFC 2326 3.6, 12.29).
public enum RangeStart: Equatable, Sendable {
    /// No Range, or `npt=now-`: go on from where the session is.
    case resume
    case at(milliseconds: UInt64)
    /// Not a time (`npt=inf-`, `npt=nan-`, `npt=1e300-`, text): 457 Invalid Range (RFC 2326 11.3.12).
    case invalid

    /// Beyond a day a start is not a position in any content, and is refused rather than converted.
    public init(header range: String?) {
        guard let range, let npt = range.split(separator: ";").first(where: { $0.hasPrefix("npt=") }) else {
            self = .resume
            return
        }
        let start = npt.dropFirst(4).split(separator: "-", omittingEmptySubsequences: false).first ?? ""
        if start == "now" || start.isEmpty {
            self = .resume
        } else if let seconds = Double(start), seconds.isFinite, seconds <= 86_400, let milliseconds = UInt64(milliseconds: max(0, seconds)) {
            self = .at(milliseconds: milliseconds)
        } else {
            self = .invalid
        }
    }
}
