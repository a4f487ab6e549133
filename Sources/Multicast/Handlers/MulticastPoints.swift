import Foundation
import Streaming

/// The server's multicast points by path, for their announcements: what the HTTP port serves
/// at a point's path plus `.nsc`, `.asx` and `.log`.
public struct MulticastPoints: Sendable {
    public struct Point: Sendable {
        public var name: String
        /// "/live", without the trailing slash.
        public var path: String
        public var sender: MulticastSender

        public init(name: String, path: String, sender: MulticastSender) {
            self.name = name
            self.path = path
            self.sender = sender
        }
    }

    private let byPath: [String: Point]
    public var all: [Point] { Array(byPath.values) }

    public init(_ points: [Point]) {
        byPath = Dictionary(points.map { ($0.path.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// What a request path names: a point's announcement or its log URL.
    public enum Resource {
        case nsc(Point)
        case asx(Point)
        case log(Point)
    }

    public func resource(at requestPath: String) -> Resource? {
        guard !byPath.isEmpty else { return nil }
        let path = (requestPath.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "").removingPercentEncoding?.lowercased() ?? ""
        for (suffix, make) in [(".nsc", Resource.nsc), (".asx", Resource.asx), (".log", Resource.log)] where path.hasSuffix(suffix) {
            if let point = byPath[String(path.dropLast(suffix.count))] { return make(point) }
        }
        return nil
    }
}
