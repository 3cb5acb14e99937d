// The one choke point through which every libzmq call passes.

import CZeroMQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs one libzmq call: retries `EINTR`, returns `nil` on `EAGAIN`, throws `ZMQError` otherwise.
///
/// `body` must return the C function's result: a negative value means failure, with the reason in `zmq_errno()`.
/// Calls that return a pointer report `nil` as `-1` (see `zmqPointerCall`).
///
/// - Parameters:
///   - function: The C function's name, used in the error (for example `"zmq_send"`).
///   - body: Makes the C call once; it may be run several times if interrupted.
/// - Returns: The non-negative result, or `nil` if the call would block (`EAGAIN`).
/// - Throws: `ZMQError` for every other errno.
/// - Precondition: The errno is not `ENOTSOCK` or `EFAULT`, which can only mean a bug in this module.
@discardableResult
func zmqCall(_ function: StaticString, _ body: () -> CInt) throws -> CInt? {
    while true {
        let rc = body()
        if rc >= 0 { return rc }
        switch zmq_errno() {
        case EINTR: continue
        case EAGAIN: return nil
        case ENOTSOCK, EFAULT: preconditionFailure("\(function): invalid socket or context (programmer error)")
        case let code: throw ZMQError(code: code, function: "\(function)")
        }
    }
}

/// Runs one libzmq call that must not report `EAGAIN`; treats `EAGAIN` like any other error.
///
/// - Throws: `ZMQError`, including for `EAGAIN`.
@discardableResult
func zmqCheckedCall(_ function: StaticString, _ body: () -> CInt) throws -> CInt {
    guard let rc = try zmqCall(function, body) else {
        throw ZMQError(code: EAGAIN, function: "\(function)")
    }
    return rc
}

/// Runs one libzmq call that returns a pointer, with `nil` meaning failure, through `zmqCall`.
///
/// - Throws: `ZMQError` if the call returned `nil` (including for `EAGAIN`).
func zmqPointerCall(_ function: StaticString, _ body: () -> UnsafeMutableRawPointer?) throws
    -> UnsafeMutableRawPointer
{
    var result: UnsafeMutableRawPointer?
    try zmqCheckedCall(function) {
        result = body()
        return result == nil ? -1 : 0
    }
    return result!
}

/// Converts a Swift `Int` option value to a C `int`, throwing `EINVAL` if it does not fit.
func zmqCInt(_ value: Int, _ function: StaticString) throws -> CInt {
    guard let converted = CInt(exactly: value) else {
        throw ZMQError(code: EINVAL, function: "\(function)")
    }
    return converted
}
