import Foundation
import NIOHTTP1

/// A request of an encoder on the HTTP port (MS-WMHTTP 2.2.2): a POST whose Content-Type is
/// `application/x-wms-pushsetup` or `application/x-wms-pushstart`. Read leniently, as the
/// encoders in the field send it (PUSH.md 1.7): HTTP/1.0 or 1.1, `//name`, any number of cookies,
/// `push-id` among them several times.
public struct PushRequest: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// PushSetup (2.2.2.1): names the point, gets a push-id.
        case setup
        /// PushStart (2.2.2.2): the body is the stream.
        case start
    }

    public var kind: Kind
    public var uri: String
    /// The push-ids of its cookies, in order; "0" (no session yet, 3.1.4.1.1) left out.
    public var pushIDs: [String]
    /// nil when absent or unreadable.
    public var contentLength: Int?
    public var isChunked: Bool
    public var userAgent: String
    public var authorization: String?

    /// The push-id values of `Cookie` or `Set-Cookie` headers, in order.
    public static func pushIDs(in cookies: [String]) -> [String] {
        cookies.flatMap { $0.split(separator: ";") }.compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0].lowercased() == "push-id", !parts[1].isEmpty else { return nil }
            return parts[1]
        }
    }

    public static let setupType = "application/x-wms-pushsetup"
    public static let startType = "application/x-wms-pushstart"

    /// Nil for any other request: it is not for the push ingest.
    public init?(head: HTTPRequestHead) {
        guard head.method == .POST else { return nil }
        switch head.headers.first(name: "Content-Type")?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() {
        case Self.setupType?: kind = .setup
        case Self.startType?: kind = .start
        default: return nil
        }
        uri = head.uri
        pushIDs = Self.pushIDs(in: head.headers["Cookie"]).filter { $0 != "0" }
        let lengths = head.headers["Content-Length"]
        contentLength = lengths.count == 1 ? Int(lengths[0].trimmingCharacters(in: .whitespaces)).flatMap { $0 >= 0 ? $0 : nil } : nil
        isChunked = head.headers["Transfer-Encoding"].contains { $0.lowercased().contains("chunked") }
        userAgent = head.headers.first(name: "User-Agent") ?? ""
        authorization = head.headers.first(name: "Authorization")
    }
}

/// The PushSetup body (2.2.2.1.1, 2.2.2.1.2): `Template-URL: "/pub"` and `AutoDestroy: 1`
/// lines; an empty body is fine (bridges posing as WME send one).
public struct PushSetupBody: Sendable, Equatable {
    public var templateURL: String?
    public var autoDestroy = false

    public init(templateURL: String? = nil, autoDestroy: Bool = false) {
        self.templateURL = templateURL
        self.autoDestroy = autoDestroy
    }

    public init(parsing text: String) {
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0].lowercased() {
            case "template-url": templateURL = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            case "autodestroy": autoDestroy = parts[1] == "1"
            default: continue
            }
        }
    }

    public var text: String {
        (templateURL.map { "Template-URL: \"\($0)\"\r\n" } ?? "") + "AutoDestroy: \(autoDestroy ? 1 : 0)\r\n"
    }
}
