import CAVFormat

/// libavformat's view of a media file: an independent reading used to check our own ASF parser,
/// and to tell a user what a file holds before it is imported.
public struct MediaInfo: Sendable, Equatable, Codable {
    public struct Stream: Sendable, Equatable, Codable {
        /// libavformat's stream index.
        public var index: Int
        /// Container stream id: the ASF stream number for ASF files.
        public var id: Int
        public var type: String
        public var codecName: String
        public var codecTag: UInt32
        public var bitRate: Int
        /// Demuxed packets (media objects, for ASF), when counted.
        public var packetCount: Int?
    }

    public var formatName: String
    public var duration: Double
    public var streams: [Stream]

    /// Opens `path` with libavformat; with `countPackets`, reads every packet to count them per stream.
    public static func probe(path: String, countPackets: Bool = false) throws -> MediaInfo {
        let ctx = try LibAV.openInput(path)
        var context: UnsafeMutablePointer<AVFormatContext>? = ctx
        defer { avformat_close_input(&context) }

        var streams = [Stream]()
        for i in 0..<Int(ctx.pointee.nb_streams) {
            let stream = ctx.pointee.streams[i]!
            let par = stream.pointee.codecpar!.pointee
            streams.append(Stream(
                index: i, id: Int(stream.pointee.id), type: av_get_media_type_string(par.codec_type).map { String(cString: $0) } ?? "unknown",
                codecName: String(cString: avcodec_get_name(par.codec_id)), codecTag: par.codec_tag,
                bitRate: Int(par.bit_rate), packetCount: countPackets ? 0 : nil))
        }
        if countPackets {
            let packet = av_packet_alloc()
            defer { var p = packet; av_packet_free(&p) }
            while av_read_frame(ctx, packet) >= 0 {
                let i = Int(packet!.pointee.stream_index)
                if i < streams.count { streams[i].packetCount! += 1 }
                av_packet_unref(packet)
            }
        }
        let duration = ctx.pointee.duration == asfcast_nopts_value() ? 0 : Double(ctx.pointee.duration) / Double(AV_TIME_BASE)
        return MediaInfo(formatName: String(cString: ctx.pointee.iformat.pointee.name), duration: duration, streams: streams)
    }
}
