import Foundation
import Jobs
import ZeroMQ

/// `causa submit`: sends a job to a running coordinator and waits for its result.
public enum SubmitClient {
    /// The outcome of a submitted job.
    public enum Result {
        /// report.json's bytes, the printed summary, and further files of the output folder by name.
        case report(json: Data, table: String, files: [String: Data])
        case inputError(String)
        case runError(String)
    }

    /// Sends the job file's text and absolute path, and waits up to `timeout` seconds for the result.
    ///
    /// The coordinator sends a heartbeat every second (from a thread of its own) while the job waits or runs; after
    /// `silence` seconds without any message the coordinator counts as gone.
    /// - Throws: `ClusterError(.coordinatorLost)` after `silence` seconds without a message from the coordinator
    ///   (it died, or none runs there); `ClusterError(.timeout)` when no result arrives within `timeout`;
    ///   `.transport` on socket failures.
    public static func submit(
        jobPath: String, jobText: String, coordinator: String, timeout: Double,
        silence: Double = 5
    ) throws -> Result {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context: context, type: .dealer)
        defer { socket.close() }
        try socket.setLinger(0)
        try socket.connect(coordinator)
        var submit = Causa_Wire_Submit()
        submit.jobPath = URL(fileURLWithPath: jobPath).standardizedFileURL.path
        submit.jobText = jobText
        guard try socket.send([Wire.encode(Wire.envelope(.submit(submit)))]) else {
            throw ClusterError(.transport, "cannot queue the job for \(coordinator)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        var heard: Date? = nil
        var lastHeard = Date()
        while Date() < deadline {
            let silent = Date().timeIntervalSince(lastHeard)
            if silent > silence {
                if heard == nil {
                    throw ClusterError(
                        .coordinatorLost,
                        "no answer from a coordinator at \(coordinator) within \(Int(silence)) s "
                            + "(is `causa coordinator` running there?)")
                }
                throw ClusterError(
                    .coordinatorLost,
                    "the coordinator at \(coordinator) went silent: no heartbeat for \(Int(silence)) s while the job was "
                        + "waiting or running (it stopped, or the network failed); the job's outcome is unknown")
            }
            let ready = try ZMQPoller.poll([(socket, .readable)], timeoutMilliseconds: 200)
            guard ready.first?.contains(.readable) == true, let frames = try socket.receive(dontWait: true),
                frames.count == 1,
                let envelope = try? Wire.decode(frames[0])
            else { continue }
            heard = Date()
            lastHeard = Date()
            guard case .submitResult(let r) = envelope.body else { continue }
            switch r.status {
            case .ok: return .report(json: r.reportJson, table: r.table, files: r.files)
            case .inputError: return .inputError(r.message)
            default: return .runError(r.message)
            }
        }
        throw ClusterError(
            .timeout,
            "no answer from the coordinator at \(coordinator) within \(Int(timeout)) s (is `causa coordinator` running there?)"
        )
    }
}
