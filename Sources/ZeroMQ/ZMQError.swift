import CZeroMQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed libzmq call: the errno it reported and the C function that reported it.
///
/// libzmq reports errors as errno values, an open set, so this is a struct rather than an enum. Use the `is…`
/// properties for the codes callers usually branch on.
///
/// ### Example
/// ```swift
/// do {
///     _ = try router.send([peer, payload])
/// } catch let error as ZMQError where error.isHostUnreachable {
///     // The peer has gone away (only reported with `setRouterMandatory(true)`).
/// }
/// ```
///
/// `description` reads like `"zmq_send: Host unreachable (errno 113)"`.
public struct ZMQError: Error, CustomStringConvertible, Equatable, Hashable, Sendable {
    /// The errno value, for example `EHOSTUNREACH`.
    public let code: Int32
    /// The libzmq function that failed, for example `"zmq_send"`.
    public let function: String

    /// Creates an error for `code` reported by `function`.
    ///
    /// - Parameters:
    ///   - code: An errno value (system or libzmq-specific such as `ETERM`).
    ///   - function: The name of the C function that failed.
    public init(code: Int32, function: String) {
        self.code = code
        self.function = function
    }

    /// The human-readable text of `code`, from `zmq_strerror`.
    public var message: String {
        String(cString: zmq_strerror(code))
    }

    /// `"function: message (errno N)"`.
    public var description: String {
        "\(function): \(message) (errno \(code))"
    }

    /// The ROUTER socket could not route the message: no peer has that routing id (`EHOSTUNREACH`).
    ///
    /// Only reported when `ZMQSocket.setRouterMandatory(true)` is in effect; otherwise such messages are dropped.
    public var isHostUnreachable: Bool { code == EHOSTUNREACH }

    /// The context was terminated while the call was in progress (`ETERM`).
    public var isContextTerminated: Bool { code == ETERM }

    /// The operation would block or timed out (`EAGAIN`); only thrown where blocking was not expected.
    public var isWouldBlock: Bool { code == EAGAIN }

    /// The endpoint's address is already in use (`EADDRINUSE`), typically from `bind`.
    public var isAddressInUse: Bool { code == EADDRINUSE }

    /// An argument was invalid (`EINVAL`), for example a malformed endpoint or an out-of-range option value.
    public var isInvalidArgument: Bool { code == EINVAL }

    /// The operation is not valid in the socket's current state (`EFSM`), for example REQ sending twice.
    public var isInvalidState: Bool { code == EFSM }
}
