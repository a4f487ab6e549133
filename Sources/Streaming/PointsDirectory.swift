import NIOConcurrencyHelpers

/// The publishing points now: every request looks its point up here, and a reload replaces them
/// whole, so a request sees the points before or after it, never a mix.
public final class PointsDirectory: Sendable {
    private let current: NIOLockedValueBox<PublishingPoints>

    public init(_ points: PublishingPoints) {
        current = NIOLockedValueBox(points)
    }

    public var points: PublishingPoints { current.withLockedValue { $0 } }

    public func replace(with points: PublishingPoints) {
        current.withLockedValue { $0 = points }
    }
}
