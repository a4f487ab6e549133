import CAVFormat

/// A failure reported by libavformat, or a medium it cannot turn into ASF.
public struct LibAVError: Error, CustomStringConvertible, Equatable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }

    /// `what` failed with libav's error `code`.
    init(_ what: String, code: Int32) {
        var text = [UInt8](repeating: 0, count: 256)
        text.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { _ = av_strerror(code, $0.baseAddress, $0.count) }
        }
        description = "\(what): \(String(decoding: text.prefix { $0 != 0 }, as: UTF8.self))"
    }
}

/// Throws unless `code` is non-negative.
@discardableResult
func check(_ code: Int32, _ what: @autoclosure () -> String) throws -> Int32 {
    guard code >= 0 else { throw LibAVError(what(), code: code) }
    return code
}

enum LibAV {
    /// Opens `path` for reading, with its stream information read; close with avformat_close_input.
    /// libav's own warnings are silenced: errors reach the user through LibAVError instead.
    static func openInput(_ path: String) throws -> UnsafeMutablePointer<AVFormatContext> {
        av_log_set_level(AV_LOG_ERROR)
        var context: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_open_input(&context, path, nil, nil), "cannot open \(path)")
        guard let opened = context else { throw LibAVError("cannot open \(path)") }
        do {
            try check(avformat_find_stream_info(opened, nil), "cannot read stream information of \(path)")
        } catch {
            avformat_close_input(&context)
            throw error
        }
        return opened
    }
}
