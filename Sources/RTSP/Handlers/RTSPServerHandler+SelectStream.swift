import NIOCore

extension RTSPServerHandler {
    /// A request whose body is a SelectStream (`application/x-wms-streamswitch`, 2.2.6.3.9).
    static func isSelectStream(_ request: RTSPRequest) -> Bool {
        (request["Content-Type"] ?? "").lowercased().hasPrefix("application/x-wms-streamswitch")
    }

    /// SelectStream using SET_PARAMETER (MS-RTSP 2.2.7.10.3, 3.2.5.6.3) replaces the stream a
    /// set-up URL carries, or changes its thinning; using TEARDOWN with a body (2.2.7.10.2)
    /// deselects one. The request line names the URL the old stream was selected with (a
    /// SETUP's, kept across replacements). Playing on demand, a new stream starts at its next key
    /// frame and the one it replaces is sent until then (3.2.4.3); a broadcast's relay filters by
    /// the new selection from the session's next turn, as for WMSP and MMS. Thinning to key frames
    /// only is taken as selecting the stream whole, as in those engines.
    func selectStream(_ request: RTSPRequest, reply: Reply) {
        guard machine.sessionID != nil, !streams.isEmpty else {
            logger.notice("455: SelectStream before SETUP")
            return reply(455)
        }
        let entries: [SSEntry]
        do {
            entries = try SSEntry.parse(String(buffer: request.body))
        } catch {
            logger.notice("400: \(error)")
            return reply(400)
        }
        var chosen = streams
        let usingTeardown = request.method == "TEARDOWN"
        for entry in entries {
            if let status = apply(entry, to: &chosen, url: Self.split(request.uri).control, usingTeardown: usingTeardown) {
                logger.notice("\(status): \(request.method) \(entry.text.trimmingCharacters(in: .whitespacesAndNewlines))")
                return reply(status)
            }
        }
        streams = chosen
        playback?.select(selection)
        logger.info("streams now \(streams.compactMap(\.number).sorted())")
        reply(200)
    }

    /// Applies one entry to the set-up streams; returns the refusal's status, if any.
    private func apply(_ entry: SSEntry, to chosen: inout [SetUpStream], url control: String?, usingTeardown: Bool) -> Int? {
        let available = Set(currentHeader?.streams.map(\.streamNumber) ?? [])
        guard let old = entry.oldStream, let i = chosen.firstIndex(where: { $0.number.map(UInt32.init) == old }) else {
            return 400  // adding a stream is a SETUP's work (2.2.7.10.1); the old one must be selected
        }
        if !usingTeardown, control != "stream=\(chosen[i].control)" { return 400 }  // 2.2.7.10.3: the URL that selected OldStream
        guard let new = entry.newStream, !usingTeardown, entry.thinLevel != .nothing else {
            chosen[i].number = nil
            return nil
        }
        guard new <= UInt32(UInt8.max), available.contains(UInt8(new)) else { return 404 }
        if new != old, chosen.contains(where: { $0.number.map(UInt32.init) == new }) { return 400 }
        chosen[i].number = UInt8(new)
        return nil
    }
}
