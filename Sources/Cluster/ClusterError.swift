/// A failure of the cluster: a worker that stopped answering, a timeout, a socket error.
///
/// `code` is a struct with static members (as swift-nio's `FileSystemError.Code`), so adding codes later breaks
/// no `switch`.
public struct ClusterError: Error, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }
        /// A worker's heartbeats stopped during a job.
        public static let workerLost = Code(name: "workerLost")
        /// A wait ran past its limit.
        public static let timeout = Code(name: "timeout")
        /// Not enough workers joined.
        public static let noWorkers = Code(name: "noWorkers")
        /// The coordinator a client waits on stopped sending heartbeats (or never answered).
        public static let coordinatorLost = Code(name: "coordinatorLost")
        /// A socket call failed.
        public static let transport = Code(name: "transport")
    }

    public let code: Code
    public let message: String
    public let cause: Error?

    public init(_ code: Code, _ message: String, cause: Error? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { cause.map { "\(message) (\($0))" } ?? message }
}
