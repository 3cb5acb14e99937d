// Socket options (zmq_setsockopt / zmq_getsockopt) as typed getters and throwing setters.

import CZeroMQ

extension ZMQSocket {
    // MARK: Readable options

    /// How long, in milliseconds, unsent messages are kept after `close()` (`ZMQ_LINGER`); -1 means forever.
    ///
    /// - Throws: `ZMQError` from `zmq_getsockopt`.
    public var linger: Int { get throws { try intOption(ZMQ_LINGER) } }

    /// Maximum queued outgoing messages per peer before sends block or drop (`ZMQ_SNDHWM`); 0 means no limit.
    ///
    /// - Throws: `ZMQError` from `zmq_getsockopt`.
    public var sendHighWaterMark: Int { get throws { try intOption(ZMQ_SNDHWM) } }

    /// Maximum queued incoming messages per peer (`ZMQ_RCVHWM`); 0 means no limit.
    ///
    /// - Throws: `ZMQError` from `zmq_getsockopt`.
    public var receiveHighWaterMark: Int { get throws { try intOption(ZMQ_RCVHWM) } }

    /// How long, in milliseconds, a blocking `send` waits before returning `false` (`ZMQ_SNDTIMEO`); -1 = forever.
    ///
    /// - Throws: `ZMQError` from `zmq_getsockopt`.
    public var sendTimeout: Int { get throws { try intOption(ZMQ_SNDTIMEO) } }

    /// How long, in milliseconds, a blocking `receive` waits before returning `nil` (`ZMQ_RCVTIMEO`); -1 = forever.
    ///
    /// - Throws: `ZMQError` from `zmq_getsockopt`.
    public var receiveTimeout: Int { get throws { try intOption(ZMQ_RCVTIMEO) } }

    /// The identity this socket presents to ROUTER peers (`ZMQ_ROUTING_ID`); empty if none was set.
    ///
    /// - Throws: `ZMQError` from `zmq_getsockopt`.
    public var routingID: [UInt8] {
        get throws {
            var buffer = [UInt8](repeating: 0, count: 255)
            var size = buffer.count
            try zmqCheckedCall("zmq_getsockopt") { zmq_getsockopt(handle, ZMQ_ROUTING_ID, &buffer, &size) }
            return Array(buffer.prefix(size))
        }
    }

    /// Whether messages are queued only for completed connections (`ZMQ_IMMEDIATE`).
    ///
    /// - Throws: `ZMQError` from `zmq_getsockopt`.
    public var immediate: Bool { get throws { try intOption(ZMQ_IMMEDIATE) != 0 } }

    /// Interval, in milliseconds, between ZMTP heartbeat PINGs (`ZMQ_HEARTBEAT_IVL`); 0 means disabled.
    ///
    /// - Throws: `ZMQError` from `zmq_getsockopt`.
    public var heartbeatInterval: Int { get throws { try intOption(ZMQ_HEARTBEAT_IVL) } }

    /// How long, in milliseconds, to wait for traffic after a PING before dropping the connection
    /// (`ZMQ_HEARTBEAT_TIMEOUT`).
    ///
    /// - Throws: `ZMQError` from `zmq_getsockopt`.
    public var heartbeatTimeout: Int { get throws { try intOption(ZMQ_HEARTBEAT_TIMEOUT) } }

    /// The time-to-live, in milliseconds, this socket asks its peers to apply to it (`ZMQ_HEARTBEAT_TTL`).
    ///
    /// - Throws: `ZMQError` from `zmq_getsockopt`.
    public var heartbeatTTL: Int { get throws { try intOption(ZMQ_HEARTBEAT_TTL) } }

    /// The endpoint most recently bound or connected (`ZMQ_LAST_ENDPOINT`), with wildcards resolved.
    ///
    /// After `bind("tcp://127.0.0.1:*")` this is e.g. `"tcp://127.0.0.1:49152"`; empty if nothing was bound yet.
    ///
    /// - Throws: `ZMQError` from `zmq_getsockopt`.
    public var lastEndpoint: String {
        get throws {
            var buffer = [UInt8](repeating: 0, count: 1024)
            var size = buffer.count
            try zmqCheckedCall("zmq_getsockopt") { zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) }
            // size counts the terminating NUL.
            let bytes = buffer.prefix(size).prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    // MARK: Setters

    /// Sets how long, in milliseconds, unsent messages are kept after `close()` (`ZMQ_LINGER`).
    ///
    /// 0 discards them at once; -1 (libzmq's default) keeps them forever, which makes `ZMQContext`'s `deinit` wait
    /// until they are delivered. Services should set a finite value.
    ///
    /// - Parameter milliseconds: -1 or more.
    /// - Throws: `ZMQError` (`EINVAL` if out of range).
    public func setLinger(_ milliseconds: Int) throws {
        try setIntOption(ZMQ_LINGER, milliseconds)
    }

    /// Sets the outgoing high-water mark in messages per peer (`ZMQ_SNDHWM`); 0 means no limit.
    ///
    /// Applies to connections made after the call, so set it before `bind`/`connect`.
    ///
    /// - Throws: `ZMQError` (`EINVAL` if negative).
    public func setSendHighWaterMark(_ messages: Int) throws {
        try setIntOption(ZMQ_SNDHWM, messages)
    }

    /// Sets the incoming high-water mark in messages per peer (`ZMQ_RCVHWM`); 0 means no limit.
    ///
    /// Applies to connections made after the call, so set it before `bind`/`connect`.
    ///
    /// - Throws: `ZMQError` (`EINVAL` if negative).
    public func setReceiveHighWaterMark(_ messages: Int) throws {
        try setIntOption(ZMQ_RCVHWM, messages)
    }

    /// Sets how long, in milliseconds, a blocking `send` waits before returning `false` (`ZMQ_SNDTIMEO`).
    ///
    /// - Parameter milliseconds: -1 (forever, the default), 0 (never wait) or more.
    /// - Throws: `ZMQError` (`EINVAL` if out of range).
    public func setSendTimeout(_ milliseconds: Int) throws {
        try setIntOption(ZMQ_SNDTIMEO, milliseconds)
    }

    /// Sets how long, in milliseconds, a blocking `receive` waits before returning `nil` (`ZMQ_RCVTIMEO`).
    ///
    /// - Parameter milliseconds: -1 (forever, the default), 0 (never wait) or more.
    /// - Throws: `ZMQError` (`EINVAL` if out of range).
    public func setReceiveTimeout(_ milliseconds: Int) throws {
        try setIntOption(ZMQ_RCVTIMEO, milliseconds)
    }

    /// Sets the identity this socket presents to ROUTER peers (`ZMQ_ROUTING_ID`).
    ///
    /// Must be set before `connect`/`bind` to take effect. Routing ids must be unique among a ROUTER's peers.
    ///
    /// - Parameter id: 1 to 255 bytes. Do not start it with a zero byte: libzmq reserves those for the ids a ROUTER
    ///   generates itself (it does not check).
    /// - Throws: `ZMQError` (`EINVAL` if the id is empty or longer than 255 bytes).
    public func setRoutingID(_ id: [UInt8]) throws {
        try setBytesOption(ZMQ_ROUTING_ID, id)
    }

    /// Makes a ROUTER report unroutable messages instead of dropping them (`ZMQ_ROUTER_MANDATORY`).
    ///
    /// With `true`, `send` throws `ZMQError` with `isHostUnreachable` for an unknown routing id, and returns
    /// `false` (with `dontWait`) or blocks when the peer's queue is full.
    ///
    /// - Throws: `ZMQError` (`EINVAL` on sockets other than ROUTER).
    public func setRouterMandatory(_ enabled: Bool) throws {
        try setIntOption(ZMQ_ROUTER_MANDATORY, enabled ? 1 : 0)
    }

    /// Queues messages only for completed connections (`ZMQ_IMMEDIATE`), so a DEALER or PUSH with no live peer
    /// blocks (or returns `false`) instead of queueing for a peer that may never come.
    ///
    /// - Throws: `ZMQError` from `zmq_setsockopt`.
    public func setImmediate(_ enabled: Bool) throws {
        try setIntOption(ZMQ_IMMEDIATE, enabled ? 1 : 0)
    }

    /// Sets the interval, in milliseconds, between ZMTP heartbeat PINGs (`ZMQ_HEARTBEAT_IVL`); 0 disables them.
    ///
    /// Applies to connections made after the call.
    ///
    /// - Throws: `ZMQError` (`EINVAL` if negative).
    public func setHeartbeatInterval(_ milliseconds: Int) throws {
        try setIntOption(ZMQ_HEARTBEAT_IVL, milliseconds)
    }

    /// Sets how long, in milliseconds, to wait for any traffic after a PING before closing the connection
    /// (`ZMQ_HEARTBEAT_TIMEOUT`); defaults to the heartbeat interval.
    ///
    /// - Throws: `ZMQError` (`EINVAL` if negative).
    public func setHeartbeatTimeout(_ milliseconds: Int) throws {
        try setIntOption(ZMQ_HEARTBEAT_TIMEOUT, milliseconds)
    }

    /// Sets the time-to-live, in milliseconds, that peers should apply to this socket (`ZMQ_HEARTBEAT_TTL`).
    ///
    /// libzmq rounds down to tenths of a second; the maximum is 6,553,599.
    ///
    /// - Throws: `ZMQError` (`EINVAL` if out of range).
    public func setHeartbeatTTL(_ milliseconds: Int) throws {
        try setIntOption(ZMQ_HEARTBEAT_TTL, milliseconds)
    }

    /// Subscribes a SUB socket to messages whose first frame starts with `prefix` (`ZMQ_SUBSCRIBE`).
    ///
    /// An empty prefix subscribes to everything. A SUB socket receives nothing until it subscribes.
    ///
    /// - Throws: `ZMQError` (`EINVAL` on sockets other than SUB).
    public func subscribe(_ prefix: [UInt8]) throws {
        try setBytesOption(ZMQ_SUBSCRIBE, prefix)
    }

    /// Removes one earlier `subscribe(_:)` of the same `prefix` (`ZMQ_UNSUBSCRIBE`).
    ///
    /// - Throws: `ZMQError` (`EINVAL` on sockets other than SUB).
    public func unsubscribe(_ prefix: [UInt8]) throws {
        try setBytesOption(ZMQ_UNSUBSCRIBE, prefix)
    }

    // MARK: Helpers (not API)

    private func intOption(_ option: CInt) throws -> Int {
        var value: CInt = 0
        var size = MemoryLayout<CInt>.size
        try zmqCheckedCall("zmq_getsockopt") { zmq_getsockopt(handle, option, &value, &size) }
        return Int(value)
    }

    private func setIntOption(_ option: CInt, _ value: Int) throws {
        var value = try zmqCInt(value, "zmq_setsockopt")
        try zmqCheckedCall("zmq_setsockopt") {
            zmq_setsockopt(handle, option, &value, MemoryLayout<CInt>.size)
        }
    }

    private func setBytesOption(_ option: CInt, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            try withUnsafeBytes(of: 0 as UInt8) { placeholder in
                let start = buffer.baseAddress ?? placeholder.baseAddress!
                _ = try zmqCheckedCall("zmq_setsockopt") { zmq_setsockopt(handle, option, start, buffer.count) }
            }
        }
    }
}
