import Jobs

/// The rounds a worker answers, by id: every built-in round with its codec. A worker started with more rounds
/// (`Worker(rounds:)`) answers those too.
public enum RoundCodecs {
    public static let standard: [any RoundCodec.Type] = [
        SummarizeRound.self, MomentsRound.self, ResidualsRound.self, NewtonRound.self, EmbedRound.self,
        FeaturesRound.self, OffPolicyRound.self, LearnRound.self, DeployRound.self, GradientRound.self, AnnealRound.self
    ]

    /// `rounds` by id.
    /// - Precondition: ids are unique.
    static func byID(_ rounds: [any RoundCodec.Type]) -> [String: any RoundCodec.Type] {
        Dictionary(
            rounds.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in preconditionFailure("two rounds with id \(a.id)") })
    }
}
