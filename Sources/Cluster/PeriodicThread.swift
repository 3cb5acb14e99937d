import Foundation

/// A named background thread for periodic work (heartbeats): `body` runs once on the thread, typically a loop of
/// `while !isStopped { work; pause() }`; `stop()` asks it to end and waits until it has.
final class PeriodicThread: @unchecked Sendable {
    /// Seconds between rounds of work; `pause()` sleeps this long in 20 ms steps, returning early once stopped.
    let interval: Double
    private let name: String
    private let body: (PeriodicThread) -> Void
    private let lock = NSLock()
    private var stopped = false
    private var thread: Thread?

    /// - Parameters:
    ///   - name: the thread's name (shown by debuggers and `top -H`).
    ///   - interval: seconds, > 0.
    ///   - body: the thread's work; it should return soon after `isStopped` turns true.
    init(name: String, interval: Double, body: @escaping (PeriodicThread) -> Void) {
        self.name = name
        self.interval = interval
        self.body = body
    }

    /// Starts the thread.
    func start() {
        let t = Thread { [self] in body(self) }
        t.name = name
        thread = t
        t.start()
    }

    /// Asks the thread to end and waits until it has.
    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        while thread?.isFinished == false { usleep(2000) }
    }

    /// Whether `stop()` was called.
    var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    /// Sleeps `interval` seconds, or less once stopped.
    func pause() {
        var slept = 0.0
        while slept < interval, !isStopped {
            usleep(20_000)
            slept += 0.02
        }
    }
}
