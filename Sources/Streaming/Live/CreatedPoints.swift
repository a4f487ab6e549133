import NIOConcurrencyHelpers

/// Push points made at run time by encoders' PushSetups from a template point (MS-WMHTTP
/// 2.2.2.1.1 Template-URL, with `push_creates_points`), shared by every engine's lookups; removed
/// again when their encoder asked for AutoDestroy and its session ends.
public final class CreatedPoints: Sendable {
    private let points = NIOLockedValueBox<[PublishingPoint]>([])

    public init() {}

    public var isEmpty: Bool { points.withLockedValue(\.isEmpty) }
    public var all: [PublishingPoint] { points.withLockedValue { $0 } }

    /// Adds `point` unless one has its path (compared without case); returns the one there is.
    public func add(_ point: PublishingPoint) -> PublishingPoint {
        points.withLockedValue { points in
            if let existing = points.first(where: { $0.path.lowercased() == point.path.lowercased() }) { return existing }
            points.append(point)
            return point
        }
    }

    public func remove(path: String) {
        points.withLockedValue { $0.removeAll { $0.path.lowercased() == path.lowercased() } }
    }
}
