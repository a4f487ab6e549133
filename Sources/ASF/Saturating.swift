/// Arithmetic on values that come from the network or a file: a request's position, a header's
/// preroll or duration. Such values may be anything, so sums and products saturate instead of
/// trapping; a result past any real position then means "past the end".
extension FixedWidthInteger {
    @inlinable public func saturatingAdd(_ other: Self) -> Self {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other < 0 ? .min : .max) : sum
    }

    @inlinable public func saturatingSubtract(_ other: Self) -> Self {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }

    @inlinable public func saturatingMultiply(_ other: Self) -> Self {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) != (other < 0) ? .min : .max) : product
    }
}

extension UInt64 {
    /// Milliseconds from seconds given as a Double (an RTSP `npt`, an MMS position): nil for NaN,
    /// infinity or a negative value; saturated at the largest UInt64.
    @inlinable public init?(milliseconds seconds: Double) {
        guard seconds.isFinite, seconds >= 0 else { return nil }
        let ms = seconds * 1000
        // Double(UInt64.max) rounds up to 2^64, so `<` keeps the conversion in range.
        self = ms < Double(UInt64.max) ? UInt64(ms) : .max
    }
}
