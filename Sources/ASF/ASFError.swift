/// A malformed or unsupported ASF input. Names what was being read and the absolute byte offset.
public struct ASFError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// A field or object runs past the bytes present.
        case truncated(needed: Int, available: Int)
        /// A size or count that cannot be right (too small, too large, inconsistent).
        case invalidSize(UInt64)
        case invalidValue(String)
        case unexpectedGUID(GUID)
        case io(String)
    }

    public var context: String
    public var offset: Int
    public var reason: Reason

    public init(_ context: String, at offset: Int, _ reason: Reason) {
        self.context = context
        self.offset = offset
        self.reason = reason
    }

    public var description: String {
        let what: String
        switch reason {
        case let .truncated(needed, available):
            what = "truncated: needs \(needed) bytes, \(available) present"
        case let .invalidSize(size):
            what = "invalid size \(size)"
        case let .invalidValue(text):
            what = text
        case let .unexpectedGUID(guid):
            what = "unexpected GUID \(guid)"
        case let .io(text):
            what = text
        }
        return "\(context) at byte \(offset): \(what)"
    }
}
