import Foundation
import NIOCore

/// Who may play a publishing point: the addresses it takes, and, when it has users, which
/// authentication schemes prove one of them. Digest by default; Basic only where configured
/// (it sends the password as it is), and MMS, whose OpenFile carries only Basic credentials
/// (MS-MMSP 2.2.4.21), then authenticates too.
public struct PointAccess: Sendable, Equatable {
    public enum Scheme: String, Sendable, CaseIterable {
        case digest, basic
    }

    public var users: Users
    public var schemes: Set<Scheme>
    public var addresses: AddressList

    public init(users: Users = Users(), schemes: Set<Scheme> = [.digest], addresses: AddressList = AddressList()) {
        self.users = users
        self.schemes = schemes
        self.addresses = addresses
    }
}

/// What a request brings to the access check, in any engine.
public struct AccessRequest: Sendable {
    public var client: SocketAddress?
    /// The `Authorization` header (HTTP, RTSP), or an MMS OpenFile's Basic token.
    public var authorization: String?
    /// The request's method and URI as the client sent them, which a Digest response signs.
    public var method: String
    public var uri: String

    public init(client: SocketAddress?, authorization: String?, method: String = "GET", uri: String = "") {
        self.client = client
        self.authorization = authorization
        self.method = method
        self.uri = uri
    }
}

extension Content {
    /// The client's address is not allowed (the server's or the point's lists).
    public struct Forbidden: Error, CustomStringConvertible {
        public var description: String
    }

    /// The point needs credentials that were not given, or not right: the WWW-Authenticate
    /// values to answer with (RFC 7235 4.1), preferred first.
    public struct Unauthorized: Error, CustomStringConvertible {
        public var description: String
        public var challenges: [String]
    }
}

/// The server-wide half of the access check: its address lists and its Digest nonces.
public struct AccessControl: Sendable {
    public var addresses: AddressList
    public let digest: DigestAuthenticator

    public init(addresses: AddressList = AddressList(), digest: DigestAuthenticator = DigestAuthenticator()) {
        self.addresses = addresses
        self.digest = digest
    }

    /// Throws `Content.Forbidden` or `Content.Unauthorized` when `request` may not play `point`.
    public func check(_ request: AccessRequest, point: PointAccess?, now: NIODeadline = .now()) throws {
        guard addresses.permits(request.client), point?.addresses.permits(request.client) ?? true else {
            throw Content.Forbidden(description: "address \(request.client?.ipAddress ?? "?") not allowed")
        }
        guard let point, !point.users.isEmpty else { return }
        func unauthorized(_ reason: String, stale: Bool = false) -> Content.Unauthorized {
            var challenges = point.schemes.contains(.digest) ? digest.challenges(stale: stale, now: now) : []
            if point.schemes.contains(.basic) { challenges.append(#"Basic realm="\#(digest.realm)""#) }
            return Content.Unauthorized(description: reason, challenges: challenges)
        }
        guard let authorization = request.authorization, !authorization.isEmpty else { throw unauthorized("no credentials") }
        if let response = DigestResponse(header: authorization) {
            guard point.schemes.contains(.digest) else { throw unauthorized("Digest is not taken here") }
            switch digest.verify(response, method: request.method, uri: request.uri, users: point.users, now: now) {
            case .accepted: return
            case .stale: throw unauthorized("stale nonce", stale: true)
            case let .refused(reason): throw unauthorized(reason)
            }
        }
        guard let credentials = Credentials(basic: authorization) else { throw unauthorized("unreadable credentials") }
        guard point.schemes.contains(.basic) else { throw unauthorized("Basic is not taken here (user \(credentials.user))") }
        guard point.users.accepts(credentials, realm: digest.realm) else { throw unauthorized("user \(credentials.user) refused") }
    }
}
