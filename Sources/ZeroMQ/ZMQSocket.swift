import CZeroMQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The pattern a socket takes part in, fixed at creation (`ZMQ_ROUTER`, `ZMQ_DEALER`, ...).
public enum SocketType: Sendable, Hashable, CaseIterable {
    /// Routes by peer identity: each received message starts with the sender's routing id frame.
    case router
    /// Asynchronous request side: round-robins outgoing messages, fair-queues incoming ones.
    case dealer
    /// Strict request–reply client: send, then receive, alternately.
    case req
    /// Strict request–reply server: receive, then send, alternately.
    case rep
    /// Exclusive one-to-one connection.
    case pair
    /// Publisher: sends to every subscriber whose subscription matches; never receives.
    case pub
    /// Subscriber: receives messages matching `ZMQSocket.subscribe(_:)` prefixes; never sends.
    case sub
    /// Pipeline producer: round-robins to connected pullers; never receives.
    case push
    /// Pipeline consumer: fair-queues from pushers; never sends.
    case pull

    /// The libzmq constant. Not API.
    var rawValue: CInt {
        switch self {
        case .router: ZMQ_ROUTER
        case .dealer: ZMQ_DEALER
        case .req: ZMQ_REQ
        case .rep: ZMQ_REP
        case .pair: ZMQ_PAIR
        case .pub: ZMQ_PUB
        case .sub: ZMQ_SUB
        case .push: ZMQ_PUSH
        case .pull: ZMQ_PULL
        }
    }
}

/// A libzmq socket that sends and receives whole multipart messages as `[[UInt8]]`.
///
/// ### Example
/// ```swift
/// let context = try ZMQContext()
/// let router = try ZMQSocket(context: context, type: .router)
/// try router.setLinger(0)
/// try router.bind("tcp://127.0.0.1:*")
/// let endpoint = try router.lastEndpoint   // "tcp://127.0.0.1:49152"
///
/// let dealer = try ZMQSocket(context: context, type: .dealer)
/// try dealer.setReceiveTimeout(1000)
/// try dealer.connect(endpoint)
/// _ = try dealer.send([Array("hello".utf8)])
/// if let message = try router.receive() {   // [routingID, "hello"]
///     _ = try router.send([message[0], Array("world".utf8)])
/// }
/// ```
///
/// The socket holds a strong reference to its `ZMQContext`. `close()` releases the libzmq socket; `deinit` calls it.
/// Options live in `ZMQSocket+Options.swift`.
///
/// - Precondition: No method other than `close()` and `isClosed` may be used after `close()`.
/// - Note: Not thread-safe. A socket must be used from one thread at a time; it may be handed to another thread
///   (with the usual happens-before, e.g. through a lock or a queue), which is why it is `@unchecked Sendable`.
///   Polling it from one thread while another sends or receives on it is also a data race.
public final class ZMQSocket: @unchecked Sendable {
    /// The context this socket was created in; kept alive as long as the socket.
    public let context: ZMQContext
    /// The pattern given at creation.
    public let type: SocketType

    /// Payload bytes of every frame sent through this object (routing-id frames included).
    ///
    /// A plain counter for metrics: not atomic, read it from the thread that uses the socket.
    public private(set) var bytesSent = 0
    /// Payload bytes of every frame received through this object (routing-id frames included).
    ///
    /// A plain counter for metrics: not atomic, read it from the thread that uses the socket.
    public private(set) var bytesReceived = 0

    /// The `void *` from `zmq_socket`, `nil` once closed.
    private var _handle: UnsafeMutableRawPointer?

    /// The open handle. Not API.
    ///
    /// - Precondition: The socket is not closed.
    var handle: UnsafeMutableRawPointer {
        guard let handle = _handle else {
            preconditionFailure("ZMQSocket(\(type)) used after close() (programmer error)")
        }
        return handle
    }

    /// Creates a socket of `type` in `context`.
    ///
    /// - Parameters:
    ///   - context: The context; the socket keeps it alive.
    ///   - type: The messaging pattern.
    /// - Throws: `ZMQError` from `zmq_socket`, for example `EMFILE` when the context's socket limit is reached.
    public init(context: ZMQContext, type: SocketType) throws {
        self.context = context
        self.type = type
        self._handle = try zmqPointerCall("zmq_socket") { zmq_socket(context.handle, type.rawValue) }
    }

    deinit {
        close()
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool { _handle == nil }

    /// Closes the socket; safe to call more than once.
    ///
    /// Messages still queued are sent in the background for up to the linger period set with `setLinger(_:)`
    /// (libzmq's default is forever), and the context's `deinit` waits for them.
    ///
    /// - Note: Must not run concurrently with any other use of the socket.
    public func close() {
        guard let handle = _handle else { return }
        _handle = nil
        _ = try? zmqCall("zmq_close") { zmq_close(handle) }
    }

    /// Accepts connections on `endpoint`, for example `"tcp://127.0.0.1:*"` (any free port) or `"inproc://name"`.
    ///
    /// Read `lastEndpoint` afterwards to learn the port chosen for a `*` wildcard.
    ///
    /// - Parameter endpoint: `transport://address`.
    /// - Throws: `ZMQError` from `zmq_bind`: `EADDRINUSE`, `EINVAL` (malformed), `EPROTONOSUPPORT`, ...
    public func bind(_ endpoint: String) throws {
        try zmqCheckedCall("zmq_bind") { zmq_bind(handle, endpoint) }
    }

    /// Stops accepting connections on an endpoint previously bound (use `lastEndpoint` for wildcard binds).
    ///
    /// - Parameter endpoint: The endpoint as reported by `lastEndpoint`.
    /// - Throws: `ZMQError` from `zmq_unbind`, `ENOENT` if it was not bound.
    public func unbind(_ endpoint: String) throws {
        try zmqCheckedCall("zmq_unbind") { zmq_unbind(handle, endpoint) }
    }

    /// Connects to `endpoint`, for example `"tcp://10.0.0.5:5555"`.
    ///
    /// The connection is made (and remade after failures) in the background, so this succeeds even if no peer is
    /// listening yet.
    ///
    /// - Parameter endpoint: `transport://address`.
    /// - Throws: `ZMQError` from `zmq_connect`: `EINVAL` (malformed), `EPROTONOSUPPORT`, ...
    public func connect(_ endpoint: String) throws {
        try zmqCheckedCall("zmq_connect") { zmq_connect(handle, endpoint) }
    }

    /// Disconnects from an endpoint previously given to `connect(_:)`.
    ///
    /// - Parameter endpoint: The same string passed to `connect(_:)`.
    /// - Throws: `ZMQError` from `zmq_disconnect`, `ENOENT` if not connected to it.
    public func disconnect(_ endpoint: String) throws {
        try zmqCheckedCall("zmq_disconnect") { zmq_disconnect(handle, endpoint) }
    }

    /// Sends one multipart message: every frame but the last goes out with `ZMQ_SNDMORE`.
    ///
    /// libzmq delivers multipart messages atomically: all frames or none. Empty frames are allowed (they are the
    /// usual REQ/REP envelope delimiter). A message with no frames sends nothing and returns `true`.
    ///
    /// - Parameters:
    ///   - frames: The frames, in order. On a ROUTER, frame 0 is the destination's routing id.
    ///   - dontWait: Use `ZMQ_DONTWAIT`: fail with `false` instead of blocking when the message cannot be queued.
    /// - Returns: `true` if the message was queued; `false` if nothing was sent because the first frame would block
    ///   and `dontWait` was set or the send timeout (`setSendTimeout(_:)`) expired. A DEALER or PUSH with no peer
    ///   (or, with `setImmediate(true)`, no completed connection) would block, so it returns `false` then.
    /// - Throws: `ZMQError` from `zmq_send`, e.g. `EHOSTUNREACH` (ROUTER with `setRouterMandatory(true)` and an
    ///   unknown routing id) or `EFSM` (REQ/REP out of turn). Also `EAGAIN` in the should-not-happen case that a
    ///   frame after the first would block even without `ZMQ_DONTWAIT`; the socket's framing is then undefined and
    ///   it should be closed.
    public func send(_ frames: [[UInt8]], dontWait: Bool = false) throws -> Bool {
        let handle = self.handle
        for (index, frame) in frames.enumerated() {
            let more = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            if try sendFrame(handle, frame, flags: (dontWait ? ZMQ_DONTWAIT : 0) | more) { continue }
            if index == 0 { return false }
            // Not expected (libzmq checks the high-water mark at the first frame only), but finish the message
            // rather than leave it half sent.
            guard dontWait, try sendFrame(handle, frame, flags: more) else {
                throw ZMQError(code: EAGAIN, function: "zmq_send")
            }
        }
        return true
    }

    /// Sends one frame with `flags`; `false` on `EAGAIN`. Counts its bytes when sent.
    private func sendFrame(_ handle: UnsafeMutableRawPointer, _ frame: [UInt8], flags: CInt) throws -> Bool {
        let sent = try frame.withUnsafeBytes { bytes in
            // libzmq memcpy's from the pointer even for length 0, so never pass NULL.
            try withUnsafeBytes(of: 0 as UInt8) { placeholder in
                let start = bytes.baseAddress ?? placeholder.baseAddress!
                return try zmqCall("zmq_send") { zmq_send(handle, start, bytes.count, flags) }
            }
        }
        guard sent != nil else { return false }
        bytesSent += frame.count
        return true
    }

    /// Receives one whole multipart message.
    ///
    /// Waits for the first frame (unless `dontWait`, and at most the receive timeout set with
    /// `setReceiveTimeout(_:)`), then reads the remaining frames, which libzmq has already delivered.
    ///
    /// - Parameter dontWait: Use `ZMQ_DONTWAIT`: return `nil` at once if no message is waiting.
    /// - Returns: The frames in order (on a ROUTER, frame 0 is the sender's routing id), or `nil` if no message
    ///   arrived (`dontWait`, or the receive timeout expired).
    /// - Throws: `ZMQError` from `zmq_msg_recv`, e.g. `EFSM` (REQ/REP out of turn).
    public func receive(dontWait: Bool = false) throws -> [[UInt8]]? {
        let handle = self.handle
        var frames: [[UInt8]] = []
        var message = zmq_msg_t()
        try zmqCheckedCall("zmq_msg_init") { zmq_msg_init(&message) }
        defer { zmq_msg_close(&message) }
        while true {
            let flags = frames.isEmpty && dontWait ? ZMQ_DONTWAIT : 0
            guard try zmqCall("zmq_msg_recv", { zmq_msg_recv(&message, handle, flags) }) != nil else {
                if frames.isEmpty { return nil }
                // Unreachable in practice: the rest of a multipart message arrives with its first frame.
                throw ZMQError(code: EAGAIN, function: "zmq_msg_recv")
            }
            let size = zmq_msg_size(&message)
            let frame = [UInt8](UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: size))
            frames.append(frame)
            bytesReceived += size
            if zmq_msg_more(&message) == 0 { return frames }
        }
    }
}
