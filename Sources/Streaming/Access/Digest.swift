import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// An `Authorization: Digest …` header's fields (RFC 7616 3.4): `name=value` or `name="value"`,
/// separated by commas; names case-insensitive.
public struct DigestResponse: Sendable, Equatable {
    public var fields: [String: String]

    public init?(header: String) {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.lowercased().hasPrefix("digest ") else { return nil }
        var fields: [String: String] = [:]
        var rest = Substring(text.dropFirst(7))
        while true {
            rest = rest.drop { $0 == " " || $0 == "," || $0 == "\t" }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...].drop { $0 == " " }
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                var end = rest.endIndex
                for i in rest.indices {
                    if escaped { escaped = false; value.append(rest[i]); continue }
                    if rest[i] == "\\" { escaped = true; continue }
                    if rest[i] == "\"" { end = i; break }
                    value.append(rest[i])
                }
                guard end != rest.endIndex else { return nil }
                rest = rest[rest.index(after: end)...]
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            guard !name.isEmpty else { return nil }
            fields[name] = value
        }
        guard !fields.isEmpty else { return nil }
        self.fields = fields
    }

    public subscript(_ name: String) -> String? { fields[name] }
}

/// HTTP Digest authentication (RFC 7616) for WMSP, plain HTTP and RTSP: `qop=auth` with MD5 and
/// SHA-256. Nonces are made here and signed (HMAC-SHA-256 over their time and a random part), so
/// they need no table to be checked; a nonce past `nonceLifetime` is answered with
/// `stale=true` (3.3) and the client retries without asking its user. Each nonce's highest
/// nonce-count is kept, and a count that does not increase is a replay (3.4): refused.
public final class DigestAuthenticator: Sendable {
    public let realm: String
    public let nonceLifetime: TimeAmount
    /// The nonces' signing key (SymmetricKey is not Sendable; its bytes are).
    private let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
    private let opaque: String
    /// Nonce to highest nonce-count seen; bounded, expired nonces dropped first.
    private let counts = NIOLockedValueBox<[String: UInt32]>([:])
    static let maximumNonces = 65_536

    public init(realm: String = "asfcast", nonceLifetime: TimeAmount = .seconds(300)) {
        self.realm = realm
        self.nonceLifetime = nonceLifetime
        opaque = (0..<16).map { _ in UInt8.random(in: 0...255) }.hex
    }

    public enum Verdict: Equatable, Sendable {
        case accepted(user: String)
        /// The response was right but the nonce expired: challenge again with stale=true.
        case stale
        case refused(String)
    }

    /// The WWW-Authenticate values, preferred first: SHA-256, then MD5 (RFC 7616 3.7), each with
    /// a fresh nonce.
    public func challenges(stale: Bool, now: NIODeadline = .now()) -> [String] {
        DigestAlgorithm.allCases.map { algorithm in
            #"Digest realm="\#(realm)", qop="auth", algorithm=\#(algorithm.rawValue), nonce="\#(nonce(at: now))", opaque="\#(opaque)""#
                + (stale ? ", stale=true" : "")
        }
    }

    /// Checks a Digest response to a request with `method` and `uri` against `users`.
    public func verify(_ response: DigestResponse, method: String, uri: String, users: Users, now: NIODeadline = .now()) -> Verdict {
        guard let user = response["username"], let nonce = response["nonce"], let digest = response["response"]?.lowercased(),
              let uriField = response["uri"], let cnonce = response["cnonce"], let ncText = response["nc"] else {
            return .refused("incomplete Digest response")
        }
        guard response["realm"] == realm else { return .refused("another realm") }
        guard response["qop"]?.lowercased() == "auth" else { return .refused("qop must be auth") }
        guard let algorithm = DigestAlgorithm.allCases.first(where: { $0.rawValue.caseInsensitiveCompare(response["algorithm"] ?? "MD5") == .orderedSame }) else {
            return .refused("unknown algorithm \(response["algorithm"] ?? "")")
        }
        // The URI the response signs is the request's (3.4.6): as sent, or its path.
        guard uriField == uri || URL(string: uri)?.path == uriField || URL(string: uriField)?.path == URL(string: uri)?.path else {
            return .refused("the response signs another URI")
        }
        guard ncText.count == 8, let nc = UInt32(ncText, radix: 16) else { return .refused("bad nonce-count") }
        guard let issued = issueTime(of: nonce) else { return .refused("not a nonce of this server") }
        guard let ha1 = users.ha1(of: user, realm: realm, algorithm) else { return .refused("user \(user) refused") }
        let expected = Self.response(ha1: ha1, nonce: nonce, nc: ncText, cnonce: cnonce, method: method, uri: uriField, algorithm)
        guard constantTimeEqual(expected, digest) else { return .refused("user \(user) refused") }
        if now - issued > nonceLifetime { return .stale }
        let fresh = counts.withLockedValue { counts -> Bool in
            if let last = counts[nonce], nc <= last { return false }
            if counts.count >= Self.maximumNonces {
                counts = counts.filter { (self.issueTime(of: $0.key)).map { now - $0 <= self.nonceLifetime } ?? false }
                if counts.count >= Self.maximumNonces { counts.removeAll() }
            }
            counts[nonce] = nc
            return true
        }
        return fresh ? .accepted(user: user) : .refused("nonce-count \(ncText) replayed")
    }

    /// The response for qop=auth (RFC 7616 3.4.1): H(HA1:nonce:nc:cnonce:auth:H(method:uri)).
    static func response(ha1: String, nonce: String, nc: String, cnonce: String, method: String, uri: String,
                         _ algorithm: DigestAlgorithm) -> String {
        algorithm.hex("\(ha1):\(nonce):\(nc):\(cnonce):auth:\(algorithm.hex("\(method):\(uri)"))")
    }

    /// `<issue time, 16 hex digits><random, 16><HMAC of both, 32>`.
    private func nonce(at now: NIODeadline) -> String {
        let body = String(UInt64(max(0, now.uptimeNanoseconds)), radix: 16).leftPadded(16) + UInt64.random(in: 0...UInt64.max).paddedHex
        return body + signature(body)
    }

    private func signature(_ body: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: key)).prefix(16).hex
    }

    private func issueTime(of nonce: String) -> NIODeadline? {
        guard nonce.utf8.count == 64 else { return nil }
        let body = String(nonce.prefix(32)), mac = String(nonce.suffix(32))
        guard constantTimeEqual(signature(body), mac), let time = UInt64(body.prefix(16), radix: 16) else { return nil }
        return NIODeadline.uptimeNanoseconds(time)
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

private extension UInt64 {
    var paddedHex: String { String(self, radix: 16).leftPadded(16) }
}
