import ASF
import NIOConcurrencyHelpers

/// The counters of /metrics whose values are kept elsewhere, brought up to date as /metrics is
/// read (`ServerActivity.collect()`).
extension ServerActivity {
    /// The process's reads from ASF files (`FileReads`), counted from now: their bytes (WMS's
    /// file read rate, as Prometheus's `rate()` of them), their number, and the late ones.
    public func countFileReads(_ reads: FileReads = .process) {
        guard let bytes = counter("asfcast_file_read_bytes_total"), let count = counter("asfcast_file_reads_total"),
              let late = counter("asfcast_late_reads_total") else { return }
        let reported = NIOLockedValueBox((bytes: reads.bytes, count: reads.reads, late: reads.late))
        whenCollected {
            reported.withLockedValue { last in
                let now = (bytes: reads.bytes, count: reads.reads, late: reads.late)
                bytes.increment(by: Int64(now.bytes &- last.bytes))
                count.increment(by: Int64(now.count &- last.count))
                late.increment(by: Int64(now.late &- last.late))
                last = now
            }
        }
    }

    /// The bit rate admitted to each point's players (`AdmissionControl`): WMS's allocated
    /// bandwidth, per point.
    public func measureAllocatedBandwidth(_ admission: AdmissionControl) {
        whenCollected { [self] in
            for (point, bits) in admission.allocatedBitsPerSecond {
                meter("asfcast_allocated_bandwidth_bits_per_second", [("point", point)])?.set(Double(bits))
            }
        }
    }
}
