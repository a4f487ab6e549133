extension DataPacket {
    /// The packet without the video payloads that come before its first key frame starts: the
    /// rest of a frame whose start a joiner never had. What a stream joined mid-way starts
    /// with, so that a decoder's first frame is a key frame. Nil when nothing is to be left out.
    public func startingAtKeyFrame(of videoStreams: Set<UInt8>, packetSize: Int) -> DataPacket? {
        guard !videoStreams.isEmpty,
              let key = payloads.firstIndex(where: { videoStreams.contains($0.streamNumber) && $0.isKeyFrame && $0.startsMediaObject })
        else { return nil }
        let kept = payloads.enumerated().filter { i, p in i >= key || !videoStreams.contains(p.streamNumber) }.map(\.element)
        guard kept.count < payloads.count else { return nil }
        return try? PacketBuilder.build(payloads: kept, sendTime: sendTime, duration: duration, packetSize: packetSize)
    }
}
