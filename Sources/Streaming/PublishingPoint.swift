import ASF
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A named place clients play from. On-demand points map a URL path prefix to a directory (each
/// client has its own position in a file); a broadcast point is one live stream at its path.
public struct PublishingPoint: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Serves the files below `directory`.
        case onDemand(directory: String)
        /// Serves one file or playlist at exactly the point's path.
        case onDemandFile(path: String)
        /// Serves one live stream shared by every client.
        case broadcast(BroadcastPoint)
        /// Serves what an encoder pushes, while it pushes.
        case live(LivePoint)
        /// Sends clients elsewhere: a URL, or `//host[:port]` for the same path on another
        /// server in the protocol each client speaks.
        case redirect(String)

        public static func == (a: Kind, b: Kind) -> Bool {
            switch (a, b) {
            case let (.onDemand(x), .onDemand(y)): return x == y
            case let (.onDemandFile(x), .onDemandFile(y)): return x == y
            case let (.redirect(x), .redirect(y)): return x == y
            case let (.broadcast(x), .broadcast(y)): return x === y
            case let (.live(x), .live(y)): return x === y
            default: return false
            }
        }
    }

    public var name: String
    /// URL path prefix, "/" for the default point.
    public var path: String
    public var kind: Kind
    /// Its users, schemes and address lists; without users anyone allowed may play.
    public var access: PointAccess

    public init(name: String, path: String, kind: Kind, access: PointAccess = PointAccess()) {
        self.name = name
        self.path = path.hasSuffix("/") ? path : path + "/"
        self.kind = kind
        self.access = access
    }
}

/// What a request path names.
public enum ContentLookup: Sendable {
    /// An on-demand file, by its real path.
    case file(point: String, path: String)
    case broadcast(BroadcastPoint)
    /// Nothing: unknown point, missing file, or a path that tries to leave its point's directory.
    case notFound(reason: String)
    /// Elsewhere.
    case redirect(Redirect)
}

/// Where a redirecting point sends a request.
public struct Redirect: Sendable, Equatable {
    /// The point's target: a URL, or `//host[:port]`.
    public var target: String
    /// The request's path (for `//host`), or what follows the point's path (for a URL).
    public var path: String

    /// The URL for a client of `scheme` (`mms`, `rtsp`, `http`).
    public func location(scheme: String) -> String {
        if target.hasPrefix("//") { return scheme + ":" + target + path }
        return target.hasSuffix("/") || path.isEmpty ? target + path : target + "/" + path
    }
}

/// Maps request paths to content, longest path prefix first. Paths never escape a point's
/// directory: `..`, encoded tricks, NUL and symbolic links out of it are all not found.
public struct PublishingPoints: Sendable {
    public private(set) var points: [PublishingPoint]
    /// Those encoders made; looked up with the configured ones.
    public let created: CreatedPoints

    public init(_ points: [PublishingPoint], created: CreatedPoints = CreatedPoints()) {
        self.points = points.sorted { $0.path.count > $1.path.count }
        self.created = created
    }

    /// Every point, longest path first.
    private var candidates: [PublishingPoint] {
        created.isEmpty ? points : (created.all + points).sorted { $0.path.count > $1.path.count }
    }

    /// The directory of the on-demand point that holds `path` (a real path from `lookup`).
    public func root(ofFile path: String) -> String? {
        for point in points {
            switch point.kind {
            case let .onDemand(directory):
                if let real = realpathString(directory), path.hasPrefix(real + "/") { return real }
            case let .onDemandFile(file):
                // A playlist point's entries resolve within the playlist's own directory.
                if realpathString(file) == path { return (path as NSString).deletingLastPathComponent }
            case .broadcast, .live, .redirect:
                break
            }
        }
        return nil
    }

    public func lookup(_ requestPath: String) -> ContentLookup {
        let (point, normalized): (PublishingPoint, String)
        switch match(requestPath) {
        case let .success(found): (point, normalized) = found
        case let .failure(notFound): return .notFound(reason: notFound.reason)
        }
        switch point.kind {
        case let .broadcast(live):
            guard normalized + "/" == point.path else { return .notFound(reason: "nothing below a broadcast point") }
            return .broadcast(live)
        case let .live(live):
            guard normalized + "/" == point.path else { return .notFound(reason: "nothing below a broadcast point") }
            guard let broadcast = live.broadcast else { return .notFound(reason: "no encoder is pushing to point \(point.name)") }
            return .broadcast(broadcast)
        case let .onDemandFile(path):
            guard normalized + "/" == point.path else { return .notFound(reason: "nothing below a file's point") }
            guard let real = realpathString(path) else { return .notFound(reason: "the point's file is missing") }
            return .file(point: point.name, path: real)
        case let .onDemand(directory):
            let relative = String(normalized.dropFirst(point.path.count - 1)).drop { $0 == "/" }
            guard !relative.isEmpty else { return .notFound(reason: "no file named") }
            return Self.resolve(directory: directory, relative: String(relative), point: point.name)
        case let .redirect(target):
            let relative = String(normalized.dropFirst(point.path.count - 1)).drop { $0 == "/" }
            return .redirect(Redirect(target: target, path: target.hasPrefix("//") ? normalized : String(relative)))
        }
    }

    /// The access rules of the point serving `requestPath`; nil for a path no point serves
    /// (not found later).
    public func access(for requestPath: String) -> PointAccess? {
        guard case let .success((point, _)) = match(requestPath) else { return nil }
        return point.access
    }

    /// The name of the point serving `requestPath`, as the metrics and the admin API show it.
    public func name(serving requestPath: String) -> String? {
        guard case let .success((point, _)) = match(requestPath) else { return nil }
        return point.name
    }

    /// What a push to `requestPath` reaches.
    public enum PushTarget {
        case live(name: String, LivePoint)
        /// A point that takes no pushes.
        case notLive(name: String)
        case unknown
    }

    /// The point at exactly `requestPath`, compared without case as WMS names points (encoders
    /// type them), `//name` read as `/name` (WME sends it: PUSH.md 1.1).
    public func pushTarget(at requestPath: String) -> PushTarget {
        let pathOnly = requestPath.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard let decoded = pathOnly.removingPercentEncoding else { return .unknown }
        let normalized = ("/" + decoded.split(separator: "/").joined(separator: "/") + "/").lowercased()
        guard let point = candidates.first(where: { $0.path.lowercased() == normalized }) else { return .unknown }
        guard case let .live(live) = point.kind else { return .notLive(name: point.name) }
        return .live(name: point.name, live)
    }

    private struct NoMatch: Error {
        var reason: String
    }

    /// The point serving `requestPath`, longest path first, and the path normalized.
    private func match(_ requestPath: String) -> Result<(PublishingPoint, String), NoMatch> {
        let pathOnly = requestPath.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard let decoded = pathOnly.removingPercentEncoding else { return .failure(NoMatch(reason: "bad percent-encoding")) }
        guard decoded.hasPrefix("/"), !decoded.contains("\0"), !decoded.contains("\\") else {
            return .failure(NoMatch(reason: "not an absolute URL path"))
        }
        let components = decoded.split(separator: "/")
        guard !components.contains(where: { $0 == ".." || $0 == "." }) else { return .failure(NoMatch(reason: "dot segment")) }
        let normalized = "/" + components.joined(separator: "/")
        guard let point = candidates.first(where: { (normalized + "/").hasPrefix($0.path) }) else {
            return .failure(NoMatch(reason: "no publishing point"))
        }
        return .success((point, normalized))
    }

    /// The file's real path, if it is a regular file inside `directory` once links are resolved.
    private static func resolve(directory: String, relative: String, point: String) -> ContentLookup {
        guard let root = realpathString(directory), let file = realpathString(directory + "/" + relative) else {
            return .notFound(reason: "no such file")
        }
        guard file.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            return .notFound(reason: "outside the publishing point's directory")
        }
        var st = stat()
        guard stat(file, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return .notFound(reason: "not a regular file") }
        return .file(point: point, path: file)
    }
}
