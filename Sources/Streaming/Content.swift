import ASF
import Foundation
import Logging
import NIOCore

/// What a client plays, for every engine: on-demand content (a file or a playlist) or a
/// broadcast point.
public enum Content {
    case onDemand(OnDemandContent, point: String)
    case broadcast(BroadcastPoint)

    public var header: ASFHeader {
        switch self {
        case let .onDemand(content, _): content.header
        case let .broadcast(point): point.header
        }
    }

    public var streamingHeader: ByteBuffer {
        switch self {
        case let .onDemand(content, _): content.streamingHeader
        case let .broadcast(point): point.streamingHeader
        }
    }

    public var pointName: String {
        switch self {
        case let .onDemand(_, point): point
        case let .broadcast(point): point.name
        }
    }

    /// No content at a path: why, for the log.
    public struct NotFound: Error, CustomStringConvertible {
        public var description: String
    }

    /// The point sends its clients elsewhere.
    public struct Moved: Error, CustomStringConvertible {
        public var redirect: Redirect
        public var description: String { "redirected to \(redirect.target)" }
    }
}

extension DeliveryContext {
    /// The content at a URL path: a broadcast point (started if it waits for a first client), or
    /// on-demand content, remuxed off the loop first when it is not ASF. Fails with
    /// `Content.Forbidden` for an address the server or the point does not take,
    /// `Content.Unauthorized` when the point has users and `request` proves none of them,
    /// `Content.Moved` for a redirecting point, or `Content.NotFound`.
    public func content(at path: String, for request: AccessRequest, on loop: EventLoop, logger: Logger) -> EventLoopFuture<Content> {
        do {
            try access.check(request, point: points.access(for: path))
        } catch {
            return loop.makeFailedFuture(error)
        }
        switch points.lookup(path.isEmpty ? "/" : path) {
        case let .notFound(reason):
            return loop.makeFailedFuture(Content.NotFound(description: reason))
        case let .redirect(redirect):
            return loop.makeFailedFuture(Content.Moved(redirect: redirect))
        case let .broadcast(point):
            point.start()
            return loop.makeSucceededFuture(.broadcast(point))
        case let .file(point, found):
            let root = points.root(ofFile: found) ?? found
            return asfFile(for: found, on: loop).flatMapThrowing { asf in
                do {
                    return .onDemand(try OnDemandContent(path: asf, root: root, logger: logger), point: point)
                } catch {
                    throw Content.NotFound(description: "cannot serve \(found): \(error)")
                }
            }
        }
    }
}
