import CZeroMQ

/// A libzmq context: the I/O threads and bookkeeping shared by a group of sockets.
///
/// Create one per process (or per independent component) and pass it to `ZMQSocket.init(context:type:)`. Every
/// socket holds a strong reference to its context, so the context outlives its sockets; when the last reference goes
/// away, `deinit` terminates it with `zmq_ctx_term`.
///
/// ### Example
/// ```swift
/// let context = try ZMQContext()
/// let socket = try ZMQSocket(context: context, type: .dealer)
/// ```
///
/// - Warning: `zmq_ctx_term` waits for every socket's pending outgoing messages to be sent, up to each socket's
///   linger period. libzmq's default linger is infinite, so set `ZMQSocket.setLinger(_:)` (for example to 0 or a few
///   hundred milliseconds) on sockets that may hold messages for unreachable peers, or `deinit` can hang.
/// - Note: Thread-safe: a context may be shared between threads.
public final class ZMQContext: @unchecked Sendable {
    /// The `void *` handle from `zmq_ctx_new`. Not API.
    let handle: UnsafeMutableRawPointer

    /// Creates a context with `ioThreads` background I/O threads.
    ///
    /// - Parameter ioThreads: Number of libzmq I/O threads (`ZMQ_IO_THREADS`); 1 is enough for most uses.
    /// - Throws: `ZMQError` if the context cannot be created (for example `EMFILE`) or `ioThreads` is invalid.
    public init(ioThreads: Int = 1) throws {
        let handle = try zmqPointerCall("zmq_ctx_new") { zmq_ctx_new() }
        do {
            let threads = try zmqCInt(ioThreads, "zmq_ctx_set")
            try zmqCheckedCall("zmq_ctx_set") { zmq_ctx_set(handle, ZMQ_IO_THREADS, threads) }
        } catch {
            _ = zmq_ctx_term(handle)
            throw error
        }
        self.handle = handle
    }

    deinit {
        // EINTR is retried by zmqCall; nothing useful can be done with other errors here.
        _ = try? zmqCall("zmq_ctx_term") { zmq_ctx_term(handle) }
    }
}
