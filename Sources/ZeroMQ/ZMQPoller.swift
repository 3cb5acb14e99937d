import CZeroMQ

/// The readiness conditions `ZMQPoller.poll(_:timeoutMilliseconds:)` waits for and reports.
public struct PollEvents: OptionSet, Sendable, Hashable {
    /// The raw `ZMQ_POLLIN`/`ZMQ_POLLOUT` bits.
    public let rawValue: Int16

    /// Creates a set from raw `zmq_pollitem_t.events` bits.
    public init(rawValue: Int16) {
        self.rawValue = rawValue
    }

    /// At least one whole message can be received without blocking (`ZMQ_POLLIN`).
    public static let readable = PollEvents(rawValue: Int16(ZMQ_POLLIN))
    /// At least one message can be sent without blocking (`ZMQ_POLLOUT`).
    public static let writable = PollEvents(rawValue: Int16(ZMQ_POLLOUT))
}

/// Waits until any of several sockets is ready, with `zmq_poll`.
///
/// ### Example
/// ```swift
/// let ready = try ZMQPoller.poll([(socket: jobs, events: .readable), (socket: control, events: .readable)],
///                                timeoutMilliseconds: 100)
/// if ready[0].contains(.readable), let message = try jobs.receive(dontWait: true) { ... }
/// ```
///
/// - Note: The sockets must not be used by other threads during the call (a socket is used from one thread at
///   a time).
public enum ZMQPoller {
    /// Waits until at least one item is ready for one of its `events`, or until the timeout.
    ///
    /// - Parameters:
    ///   - items: Sockets and the events to wait for on each. An empty list just waits for the timeout.
    ///   - timeoutMilliseconds: 0 returns at once, -1 waits forever.
    /// - Returns: The events that are ready, one entry per item in the same order; all empty on timeout. If a signal
    ///   interrupts the wait, it is retried with the full timeout.
    /// - Throws: `ZMQError` from `zmq_poll` (e.g. `ETERM`).
    /// - Precondition: No socket in `items` is closed.
    public static func poll(
        _ items: [(socket: ZMQSocket, events: PollEvents)], timeoutMilliseconds: Int
    ) throws -> [PollEvents] {
        var pollItems = items.map {
            zmq_pollitem_t(socket: $0.socket.handle, fd: 0, events: $0.events.rawValue, revents: 0)
        }
        let count = try zmqCInt(pollItems.count, "zmq_poll")
        // The items hold raw handles; keep their sockets alive (and unclosed by deinit) during the call.
        let ready = try withExtendedLifetime(items) {
            try pollItems.withUnsafeMutableBufferPointer { buffer in
                try zmqCall("zmq_poll") { zmq_poll(buffer.baseAddress, count, timeoutMilliseconds) }
            }
        }
        // EAGAIN is not documented for zmq_poll; treat it like a timeout.
        guard ready != nil else { return Array(repeating: [], count: items.count) }
        return pollItems.map { PollEvents(rawValue: $0.revents) }
    }
}
