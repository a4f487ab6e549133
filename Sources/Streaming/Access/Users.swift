import Crypto
import Foundation

/// The hashes of HTTP Digest (RFC 7616 3.4.2): MD5, which every client has, and SHA-256.
public enum DigestAlgorithm: String, Sendable, CaseIterable {
    case sha256 = "SHA-256"
    case md5 = "MD5"

    func hex(_ text: String) -> String {
        switch self {
        case .md5: Insecure.MD5.hash(data: Data(text.utf8)).hex
        case .sha256: SHA256.hash(data: Data(text.utf8)).hex
        }
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hex, two digits a byte.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// How a user's secret is kept: the password itself, or only its HA1 hash, H(user:realm:password)
/// (RFC 7616 3.4.2), as Apache's htdigest files keep it, so that no password is on the disk.
public enum UserSecret: Sendable, Equatable {
    case password(String)
    case ha1(DigestAlgorithm, hex: String)

    /// `ha1-md5:<32 hex digits>` or `ha1-sha256:<64 hex digits>`; anything else is a password.
    public init(configured text: String) {
        for algorithm in DigestAlgorithm.allCases {
            let prefix = algorithm == .md5 ? "ha1-md5:" : "ha1-sha256:"
            let digits = text.dropFirst(prefix.count).lowercased()
            if text.lowercased().hasPrefix(prefix), digits.count == (algorithm == .md5 ? 32 : 64), digits.allSatisfy(\.isHexDigit) {
                self = .ha1(algorithm, hex: digits)
                return
            }
        }
        self = .password(text)
    }

    /// HA1 for `algorithm`, if this secret can give it.
    func ha1(user: String, realm: String, _ algorithm: DigestAlgorithm) -> String? {
        switch self {
        case let .password(password): algorithm.hex("\(user):\(realm):\(password)")
        case let .ha1(kept, hex): kept == algorithm ? hex : nil
        }
    }
}

/// The users who may play a point, with their secrets. Secrets are compared, never logged.
public struct Users: Sendable, Equatable {
    public private(set) var secrets: [String: [UserSecret]] = [:]

    public init(_ secrets: [String: [UserSecret]] = [:]) {
        self.secrets = secrets
    }

    public var isEmpty: Bool { secrets.isEmpty }

    public mutating func add(_ user: String, _ secret: UserSecret) {
        secrets[user, default: []].append(secret)
    }

    /// An htdigest file (`user:realm:HA1`, one a line; SHA-256 HA1s have 64 digits): the lines of
    /// `realm`. Throws with the line number for a malformed line.
    public static func htdigest(_ text: String, realm: String) throws -> Users {
        var users = Users()
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, !fields[0].isEmpty, [32, 64].contains(fields[2].count), fields[2].allSatisfy(\.isHexDigit) else {
                throw Malformed(line: number + 1)
            }
            guard fields[1] == realm else { continue }
            users.add(String(fields[0]), .ha1(fields[2].count == 32 ? .md5 : .sha256, hex: fields[2].lowercased()))
        }
        return users
    }

    public struct Malformed: Error, CustomStringConvertible {
        public var line: Int
        public var description: String { "line \(line) is not user:realm:HA1" }
    }

    /// Basic credentials: the password, or its HA1 under any kept hash.
    func accepts(_ credentials: Credentials, realm: String) -> Bool {
        secrets[credentials.user]?.contains { secret in
            switch secret {
            case let .password(password): return constantTimeEqual(password, credentials.password)
            case let .ha1(algorithm, hex): return constantTimeEqual(hex, algorithm.hex("\(credentials.user):\(realm):\(credentials.password)"))
            }
        } ?? false
    }

    func ha1(of user: String, realm: String, _ algorithm: DigestAlgorithm) -> String? {
        secrets[user]?.lazy.compactMap { $0.ha1(user: user, realm: realm, algorithm) }.first
    }
}

/// Compares without stopping at the first difference, so the time taken tells nothing of where
/// a guess went wrong.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
}
