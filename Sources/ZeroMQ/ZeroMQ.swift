import CZeroMQ

/// Facts about the libzmq library linked into this process.
public enum ZeroMQ {
    /// The runtime libzmq version, from `zmq_version` (for example `(4, 3, 4)`).
    ///
    /// - Note: Thread-safe.
    public static var version: (major: Int, minor: Int, patch: Int) {
        var major: CInt = 0
        var minor: CInt = 0
        var patch: CInt = 0
        zmq_version(&major, &minor, &patch)
        return (Int(major), Int(minor), Int(patch))
    }
}
