import NIOCore

extension DataPacket {
    /// The packet moved `milliseconds` later: its send time and every payload's presentation time
    /// (replicated data, or the offset field of a compressed payload, ASF spec 5.2.3.1-5.2.3.3).
    /// Live sources use it to run a file again, or the next playlist entry, on one continuous clock.
    public func shifted(by milliseconds: UInt32) -> DataPacket {
        var copy = self
        copy.sendTime = sendTime &+ milliseconds
        for i in copy.payloads.indices {
            if copy.payloads[i].isCompressed {
                copy.payloads[i].offsetIntoMediaObject &+= milliseconds
            } else if let time = copy.payloads[i].presentationTime {
                var replicated = copy.payloads[i].replicatedData  // copied on write: the source stays intact
                replicated.setInteger(time &+ milliseconds, at: replicated.readerIndex + 4, endianness: .little)
                copy.payloads[i].replicatedData = replicated
            }
        }
        return copy
    }
}
