import Foundation
import Jobs
import ZeroMQ

/// `causa submit`: sends a job to a running coordinator and waits for its result.
public enum SubmitClient {
    /// The outcome of a submitted job.
    public enum Result {
        case report(json: Data, table: String)
        case inputError(String)
        case runError(String)
    }

    /// Sends the job file's text and absolute path, and waits up to `timeout` seconds for the result.
    /// - Throws: `ClusterError(.timeout)` when no result arrives in time; `.transport` on socket failures.
    public static func submit(jobPath: String, jobText: String, coordinator: String, timeout: Double) throws -> Result {
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
        while Date() < deadline {
            let ready = try ZMQPoller.poll([(socket, .readable)], timeoutMilliseconds: 200)
            guard ready.first?.contains(.readable) == true, let frames = try socket.receive(dontWait: true), frames.count == 1,
                  let envelope = try? Wire.decode(frames[0]), case .submitResult(let r) = envelope.body else { continue }
            switch r.status {
            case .ok: return .report(json: r.reportJson, table: r.table)
            case .inputError: return .inputError(r.message)
            default: return .runError(r.message)
            }
        }
        throw ClusterError(.timeout, "no answer from the coordinator at \(coordinator) within \(Int(timeout)) s (is `causa coordinator` running there?)")
    }
}
