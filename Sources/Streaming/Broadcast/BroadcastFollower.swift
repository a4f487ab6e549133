/// What goes with each broadcast a point plays, from its start to its end: its archive, its
/// multicast sender. A pushed or pulled point starts a new broadcast at each header of other
/// streams, and hands each to its followers.
public protocol BroadcastFollower: AnyObject, Sendable {
    func follow(_ broadcast: BroadcastPoint)
}
