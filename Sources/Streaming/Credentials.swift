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
}
