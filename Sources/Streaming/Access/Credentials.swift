import Foundation

/// A user name and password as RFC 2617 basic-credentials carry them: HTTP's and RTSP's
/// `Authorization: Basic <base64>`, and MMS's OpenFile tokenData (MS-MMSP 2.2.4.21).
public struct Credentials: Sendable, Equatable {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// From `Basic <base64 of user:password>`, or the base64 alone; nil when it is not that.
    public init?(basic text: String) {
        var token = text.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: "\0")))
        if token.lowercased().hasPrefix("basic ") { token = String(token.dropFirst(6)).trimmingCharacters(in: .whitespaces) }
        guard let data = Data(base64Encoded: token), let decoded = String(data: data, encoding: .utf8),
              let colon = decoded.firstIndex(of: ":") else { return nil }
        user = String(decoded[..<colon])
        password = String(decoded[decoded.index(after: colon)...])
    }

    /// `Basic <base64>`, for a client's Authorization header.
    public var basic: String { "Basic " + Data("\(user):\(password)".utf8).base64EncodedString() }

    /// A client's answer to a Digest challenge (RFC 7616 3.4) for a request with `method` and
    /// `uri`, as the `nc`th use of its nonce; nil when the challenge is not one it can answer.
    public func digest(answering challenge: String, method: String, uri: String, nc: UInt32 = 1,
                       cnonce: String = "0a4f113b") -> String? {
        guard let fields = DigestResponse(header: challenge), let realm = fields["realm"], let nonce = fields["nonce"],
              let algorithm = DigestAlgorithm.allCases.first(where: { $0.rawValue.caseInsensitiveCompare(fields["algorithm"] ?? "MD5") == .orderedSame })
        else { return nil }
        let count = String(nc, radix: 16)
        let ncText = String(repeating: "0", count: max(0, 8 - count.count)) + count
        let response = DigestAuthenticator.response(ha1: algorithm.hex("\(user):\(realm):\(password)"), nonce: nonce, nc: ncText,
                                                    cnonce: cnonce, method: method, uri: uri, algorithm)
        return #"Digest username="\#(user)", realm="\#(realm)", nonce="\#(nonce)", uri="\#(uri)", algorithm=\#(algorithm.rawValue), "#
            + #"response="\#(response)", qop=auth, nc=\#(ncText), cnonce="\#(cnonce)""# + (fields["opaque"].map { #", opaque="\#($0)""# } ?? "")
    }
}
