import Foundation
import Logging
import ZeroMQ

/// The coordinator's ROUTER socket, shared by the coordinator's thread and a client-heartbeat thread.
///
/// Submit clients wait on the coordinator for as long as a job runs; they must tell a dead coordinator from a busy
/// one. So a thread of its own sends `Heartbeat(sender: "coordinator")` every `interval` seconds to every client
/// whose `Submit` has arrived and is not answered yet, even while the coordinator's thread is in a long solve. It
/// also reads what is queued on the socket into an inbox (which the coordinator's thread takes in arrival order), so
/// a client that submits while a job runs hears heartbeats at once.
///
/// A ZeroMQ socket may be used from several threads when access is serialised with a full memory barrier: every use
/// of `socket` happens inside `withSocket`, which hands the socket to one thread at a time, the heartbeat thread
/// first when both wait (so a coordinator thread that polls in a loop cannot starve it).
final class SharedRouter: @unchecked Sendable {
    let socket: ZMQSocket
    let interval: Double
    let logger: Logger
    private let condition = NSCondition()
    private var busy = false
    private var beatWaiting = false
    private var inbox: [[[UInt8]]] = []
    /// Identities of submit clients waiting for their result.
    private var clients: Set<[UInt8]> = []
    private let beatFrame: [UInt8]
    private lazy var periodic = PeriodicThread(name: "causa-client-heartbeat", interval: interval) { [unowned self] t in
        loop(t)
    }

    init(socket: ZMQSocket, interval: Double, logger: Logger) {
        self.socket = socket
        self.interval = interval
        self.logger = logger
        var beat = Causa_Wire_Heartbeat()
        beat.sender = "coordinator"
        beatFrame = Wire.encode(Wire.envelope(.heartbeat(beat)))
    }

    /// Runs `body` with exclusive use of the socket.
    func withSocket<T>(_ body: (ZMQSocket) throws -> T) rethrows -> T {
        acquire(priority: false)
        defer { release() }
        return try body(socket)
    }

    private func acquire(priority: Bool) {
        condition.lock()
        if priority { beatWaiting = true }
        while busy || (!priority && beatWaiting) { condition.wait() }
        if priority { beatWaiting = false }
        busy = true
        condition.unlock()
    }

    private func release() {
        condition.lock()
        busy = false
        condition.broadcast()
        condition.unlock()
    }

    /// Moves every queued message into the inbox; notes the identities of new submit clients. Socket held.
    private func readQueued(_ s: ZMQSocket) throws {
        while let frames = try s.receive(dontWait: true) {
            if frames.count == 2, let e = try? Wire.decode(frames[1]), case .submit = e.body {
                clients.insert(frames[0])
            }
            inbox.append(frames)
        }
    }

    /// Every message received so far, in arrival order (the inbox, then what is queued on the socket).
    /// - Throws: `ZMQError` from the socket.
    func receiveAll() throws -> [[[UInt8]]] {
        try withSocket { s in
            try readQueued(s)
            let out = inbox
            inbox.removeAll()
            return out
        }
    }

    /// Waits up to `timeout` seconds (at most 0.1 s at a time with the socket held) for a message.
    /// - Returns: true when a message is waiting (in the inbox or on the socket).
    func poll(timeout: Double) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let left = deadline.timeIntervalSinceNow
            let ready = try withSocket { s -> Bool in
                if !inbox.isEmpty { return true }
                let slice = max(0, min(100, Int(left * 1000)))
                return try ZMQPoller.poll([(s, .readable)], timeoutMilliseconds: slice).first?.contains(.readable)
                    == true
            }
            if ready || deadline.timeIntervalSinceNow <= 0 { return ready }
        }
    }

    /// The client's submit was answered (or the client is gone): no more heartbeats to it.
    func answered(_ client: [UInt8]) {
        withSocket { _ in _ = clients.remove(client) }
    }

    func start() { periodic.start() }

    func stop() { periodic.stop() }

    private func loop(_ t: PeriodicThread) {
        while !t.isStopped {
            acquire(priority: true)
            do {
                try readQueued(socket)
                for client in clients {
                    // ROUTER_MANDATORY: a client that went away is an error here; forget it.
                    do { _ = try socket.send([client, beatFrame], dontWait: true) } catch { clients.remove(client) }
                }
            } catch {
                logger.warning("client heartbeats: socket error", metadata: ["error": "\(error)"])
            }
            release()
            t.pause()
        }
    }
}
