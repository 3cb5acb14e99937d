import ArgumentParser
import Cluster
import Foundation
import Jobs

struct Recommend: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask a coordinator for the deployed policy's items for one user.",
        discussion: """
            The coordinator routes the request to the worker that owns the user's shard. Prints one line per item \
            (rank, item, probability at position 1, predicted reward) and the worker and policy version; --json \
            prints {"items", "probabilities", "predicted_rewards", "explanations", "worker", "policy_version", \
            "known_user"}; an explanation names the model's largest contributions for the user and item relative to \
            the average candidate, on the linear predictor's scale (log-odds for a logit). A \
            user the policy does not know gets the policy's answer for a user with no history (known_user false).
            """)

    @Option(help: ArgumentHelp("The coordinator's address.", valueName: "tcp://HOST:PORT")) var coordinator: String
    @Option(
        help: ArgumentHelp(
            "The user's data.user_key value; repeat it for each key column, in the job's order.", valueName: "KEY"))
    var user: [String] = []
    @Option(help: "Items wanted, at most the policy's top_k (default: all of them).") var top = 0
    @Flag(help: "Print the answer as JSON.") var json = false
    @Option(help: "Seconds to wait for the answer.") var timeout = 10.0

    func validate() throws {
        guard !user.isEmpty else { throw ValidationError("give the user's key with --user KEY") }
        guard top >= 0 else { throw ValidationError("--top must be ≥ 0, got \(top).") }
        try validateSeconds(timeout, "--timeout")
    }

    func run() throws {
        try guarded {
            let answer = try RecommendClient.ask(userKey: user, top: top, coordinator: coordinator, timeout: timeout)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(answer), as: UTF8.self))
                return
            }
            for (j, item) in answer.items.enumerated() {
                let reward = answer.predicted_rewards[j].map { String(format: "%.6f", $0) } ?? "-"
                print("\(j + 1)  \(item)  p=\(String(format: "%.6f", answer.probabilities[j]))  predicted \(reward)")
                if j < answer.explanations.count { print("     \(answer.explanations[j])") }
            }
            print(
                "worker \(answer.worker), policy \(answer.policy_version)\(answer.known_user ? "" : " (user not in the policy: the answer for a user with no history)")"
            )
        }
    }
}
