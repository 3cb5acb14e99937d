import Foundation
import Jobs
import ZeroMQ

/// `causa recommend`: asks a coordinator for the deployed policy's items for one user; the coordinator routes the
/// request to the worker that owns the user's shard.
public enum RecommendClient {
    /// The deployed policy's answer for one user.
    public struct Answer: Sendable, Equatable, Codable {
        /// Item keys in rank order.
        public var items: [String]
        /// π(item | user) at position 1, per item.
        public var probabilities: [Double]
        /// The reward model's prediction per item (nil for a user with no history).
        public var predicted_rewards: [Double?]
        /// The worker that answered.
        public var worker: String
        /// The deployed policy's version (report `policy.policy_version`).
        public var policy_version: String
        /// False: the user is not in the policy; the answer is the policy's for a user with no history.
        public var known_user: Bool
        /// Per item, the model's largest contributions for this user and item relative to the average candidate.
        public var explanations: [String]
    }

    /// Sends the request and waits up to `timeout` seconds.
    /// - Parameters:
    ///   - userKey: the `data.user_key` values of the user, in order.
    ///   - top: items wanted (0: the policy's top_k).
    /// - Throws: `InputError`-free: `ClusterError(.timeout)` without an answer, `.transport` on socket failures,
    ///   `RunError` with the coordinator's or worker's reason when there is no policy to answer from.
    public static func ask(userKey: [String], top: Int, coordinator: String, timeout: Double) throws -> Answer {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context: context, type: .dealer)
        defer { socket.close() }
        try socket.setLinger(0)
        try socket.connect(coordinator)
        var request = Causa_Wire_Recommend()
        request.userKey = userKey
        request.top = UInt32(top)
        guard try socket.send([Wire.encode(Wire.envelope(.recommend(request)))]) else {
            throw ClusterError(.transport, "cannot queue the request for \(coordinator)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let ready = try ZMQPoller.poll([(socket, .readable)], timeoutMilliseconds: 100)
            guard ready.first?.contains(.readable) == true, let frames = try socket.receive(dontWait: true),
                frames.count == 1, let envelope = try? Wire.decode(frames[0]),
                case .recommendation(let r) = envelope.body
            else { continue }
            guard r.ok else { throw RunError(r.message) }
            return Answer(
                items: r.items, probabilities: r.probabilities,
                predicted_rewards: r.predictedRewards.map { $0.isNaN ? nil : $0 }, worker: r.worker,
                policy_version: r.policyVersion, known_user: r.knownUser, explanations: r.explanations)
        }
        throw ClusterError(
            .timeout, "no answer from the coordinator at \(coordinator) within \(Int(timeout)) s (is it running?)")
    }
}
