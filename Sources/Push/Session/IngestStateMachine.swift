import NIOCore

/// What an encoder's frames mean, over every PushStart of one push session (MS-WMHTTP 3.2.5.2 to
/// 3.2.5.5): the first frame of the first PushStart is `$H`; then `$D` packets, `$F` filler,
/// `$E` and `$C` for a header change; `$E(0)` (or an error HRESULT) ends the session. A later
/// PushStart of the session goes on where the last one stopped, without `$H` (3.1.4.3).
public struct IngestStateMachine: Sendable {
    public enum State: Sendable, Equatable {
        case awaitingHeader
        case streaming
        /// After `$E(1)`: the next entry's `$C` comes.
        case awaitingChange
        case ended
    }

    public enum Action: Equatable, Sendable {
        /// The stream starts with this header (Header Object and the Data Object's start).
        case begin(header: ByteBuffer)
        case packet(ByteBuffer)
        /// The stream goes on under a new header (4.4).
        case change(header: ByteBuffer)
        /// The encoder is done; a reason other than 0 is its error (an HRESULT).
        case finish(reason: UInt32)
        case none
        /// Not what an encoder sends here: the request is refused (400).
        case refuse(String)
    }

    public private(set) var state = State.awaitingHeader

    public init() {}

    public mutating func receive(_ frame: PushFrame) -> Action {
        switch (state, frame) {
        case (.ended, _):
            return .refuse("a frame after the end of the stream")
        case (_, .filler):
            return .none
        case let (.awaitingHeader, .header(header)):
            state = .streaming
            return .begin(header: header)
        case (.awaitingHeader, _):
            return .refuse("the body does not start with $H")
        case let (.streaming, .data(packet)), let (.awaitingChange, .data(packet)):
            return .packet(packet)
        case let (_, .change(_, header)), let (_, .header(header)):
            // A repeated $H is taken as a change too: an encoder that started its stream again.
            state = .streaming
            return .change(header: header)
        case (.streaming, .end(1)):
            state = .awaitingChange
            return .none
        case let (_, .end(reason)):
            state = .ended
            return .finish(reason: reason)
        }
    }
}
