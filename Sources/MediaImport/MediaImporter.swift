import ASF
import CAVFormat
import Foundation

/// Remuxes any medium libavformat reads into ASF, copying the coded audio and video as they are.
/// The server uses the same code to serve non-ASF files (remuxed once, cached).
public enum MediaImporter {
    public struct Report: Sendable, Equatable {
        /// Streams carried into the ASF file, as "type codec".
        public var carried: [String]
        /// Streams left out because ASF playback has no use for them (subtitles, data, cover art).
        public var skipped: [String]
        /// Whether a Bitrate Mutual Exclusion Object was added over several video streams.
        public var addedBitrateExclusion: Bool
    }

    /// Writes `output` as ASF from `input`. Throws naming the codec when an audio or video stream
    /// cannot be carried in ASF.
    ///
    /// libavformat's ASF muxer writes no Stream Bitrate Properties Object, so one is added with
    /// the measured bit rates; several video streams become a multi-bit-rate file, with a Bitrate
    /// Mutual Exclusion Object (ASF spec 3.8) so that players choose one.
    @discardableResult
    public static func importFile(_ input: String, to output: String) throws -> Report {
        let staging = output + ".partial"
        defer { try? FileManager.default.removeItem(atPath: staging) }
        var report = try remux(input, to: staging)
        let file = try ASFFile(path: staging)
        let (header, addedExclusion) = try streamingHeader(for: file)
        report.addedBitrateExclusion = addedExclusion
        let writer = try ASFFileWriter(path: output, header: header)
        var packets = file.packets()
        while let (_, bytes) = try packets.next() { try writer.write(packet: bytes) }
        try writer.finish()
        return report
    }

    /// The header with what a streaming server and its players need added.
    private static func streamingHeader(for file: ASFFile) throws -> (ASFHeader, Bool) {
        var header = file.header
        let report = try FileReport(file)
        let seconds = max(Double(report.durationMilliseconds) / 1000, 0.001)
        let bitrates = report.streams.map { (stream: $0.number, bitsPerSecond: UInt32(min(Double(UInt32.max), Double($0.bytes * 8) / seconds))) }
        if !header.objects.contains(where: { if case .streamBitrateProperties = $0 { true } else { false } }) {
            header = header.addingStreamBitrates(bitrates)
        }
        var properties = header.fileProperties
        properties.maximumBitrate = max(properties.maximumBitrate, bitrates.reduce(0) { $0 + $1.bitsPerSecond })
        header.fileProperties = properties
        let video = header.streams.filter { $0.kind == .video }.map(\.streamNumber)
        guard video.count > 1, header.exclusions.isEmpty else { return (header, false) }
        return (header.addingBitrateExclusion(of: video), true)
    }

    private static func remux(_ input: String, to output: String) throws -> Report {
        let source = try LibAV.openInput(input)
        var inputContext: UnsafeMutablePointer<AVFormatContext>? = source
        defer { avformat_close_input(&inputContext) }

        var outputContext: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&outputContext, nil, "asf", output), "cannot create an ASF muxer")
        guard let sink = outputContext else { throw LibAVError("cannot create an ASF muxer") }
        defer { avformat_free_context(sink) }

        var report = Report(carried: [], skipped: [], addedBitrateExclusion: false)
        // Output stream index for each input stream, or -1 when it is left out.
        var mapping = [Int32](repeating: -1, count: Int(source.pointee.nb_streams))
        for i in 0..<Int(source.pointee.nb_streams) {
            let stream = source.pointee.streams[i]!
            let par = stream.pointee.codecpar!
            let type = par.pointee.codec_type
            let name = String(cString: avcodec_get_name(par.pointee.codec_id))
            let typeName = av_get_media_type_string(type).map { String(cString: $0) } ?? "unknown"
            guard type == AVMEDIA_TYPE_AUDIO || type == AVMEDIA_TYPE_VIDEO else {
                report.skipped.append("\(typeName) \(name)")
                continue
            }
            if stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0 {
                report.skipped.append("cover art \(name)")
                continue
            }
            guard avformat_query_codec(sink.pointee.oformat, par.pointee.codec_id, FF_COMPLIANCE_NORMAL) == 1 else {
                throw LibAVError("\(input): \(typeName) codec '\(name)' cannot be carried in ASF")
            }
            guard let out = avformat_new_stream(sink, nil) else { throw LibAVError("cannot add a stream") }
            try check(avcodec_parameters_copy(out.pointee.codecpar, par), "cannot copy codec parameters")
            out.pointee.codecpar.pointee.codec_tag = 0
            mapping[i] = out.pointee.index
            report.carried.append("\(typeName) \(name)")
        }
        guard !report.carried.isEmpty else { throw LibAVError("\(input): no audio or video stream to import") }

        try check(avio_open(&sink.pointee.pb, output, AVIO_FLAG_WRITE), "cannot write \(output)")
        defer { avio_closep(&sink.pointee.pb) }
        try check(avformat_write_header(sink, nil), "cannot write the ASF header")

        var packet = av_packet_alloc()
        defer { av_packet_free(&packet) }
        while true {
            let status = av_read_frame(source, packet)
            if status == asfcast_averror_eof() { break }
            try check(status, "cannot read \(input)")
            let index = Int(packet!.pointee.stream_index)
            guard index < mapping.count, mapping[index] >= 0 else {
                av_packet_unref(packet)
                continue
            }
            let out = sink.pointee.streams[Int(mapping[index])]!
            av_packet_rescale_ts(packet, source.pointee.streams[index]!.pointee.time_base, out.pointee.time_base)
            packet!.pointee.stream_index = mapping[index]
            packet!.pointee.pos = -1
            try check(av_interleaved_write_frame(sink, packet), "cannot write a packet to \(output)")
        }
        try check(av_write_trailer(sink), "cannot finish \(output)")
        return report
    }
}
