import ASF
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The header a client gets: the content's header with what that client cannot take left out
/// (`ASFHeader.fitted`), the same for every request of a session since it depends only on the
/// header and the client. What was left out is logged once per header and client.
public struct ClientHeader: Sendable {
    public let header: ASFHeader
    public let omitted: [HeaderOmission]
    let readsKnownDataSize: Bool

    public init(_ header: ASFHeader, for limit: ClientHeaderLimit, logger: Logger) {
        var fitted = header
        var omitted: [HeaderOmission] = []
        for omission in HeaderOmission.allCases where limit.neverSent.contains(omission) {
            let smaller = fitted.omitting(omission)
            if smaller != fitted { omitted.append(omission) }
            fitted = smaller
        }
        if let maximum = limit.maximumSize {
            if let (smaller, more) = fitted.fitted(to: maximum) {
                fitted = smaller
                omitted += more
            } else {
                Self.noteOnce(header, limit, logger) {
                    logger.warning("the header (\(header.bytes.readableBytes) bytes) does not fit \(limit)'s \(maximum) bytes even without its metadata: sent whole")
                }
            }
        }
        self.header = fitted
        self.omitted = omitted
        readsKnownDataSize = limit.readsKnownDataSize
        if !omitted.isEmpty {
            Self.noteOnce(header, limit, logger) {
                logger.notice("header for \(limit): left out \(omitted.map(\.rawValue).joined(separator: ", ")) (\(header.bytes.readableBytes) → \(fitted.bytes.readableBytes) bytes)")
            }
        }
    }

    /// The streaming header: with the content's `dataObject`, or one of unknown size for a
    /// client that does not read to the end of a known one.
    public func streamingHeader(dataObject: DataObjectHeader) -> ByteBuffer {
        readsKnownDataSize ? header.streamingHeader(dataObject: dataObject) : header.streamingHeaderOfUnknownSize
    }

    private static let noted = NIOLockedValueBox<Set<String>>([])

    /// Runs `log` the first time a header (by file ID and size) meets a client.
    private static func noteOnce(_ header: ASFHeader, _ limit: ClientHeaderLimit, _ logger: Logger, _ log: () -> Void) {
        let key = "\(header.fileProperties.fileID) \(header.bytes.readableBytes) \(limit.client)"
        guard noted.withLockedValue({ $0.insert(key).inserted }) else { return }
        log()
    }
}
