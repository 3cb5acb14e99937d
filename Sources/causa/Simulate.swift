import ArgumentParser
import Foundation
import Simulation

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a semi-synthetic logged-recommendation dataset with known truth.",
        discussion: """
            Writes DIR/users.csv, DIR/items.csv, DIR/impressions.csv and DIR/truth.json (each to a temporary file, then \
            renamed). The same arguments give byte-identical files. The generative model is in docs/SIMULATION.md.
            """)

    @Option(help: ArgumentHelp("Folder for the four files (created if missing).", valueName: "DIR")) var out: String
    @Option(help: "Number of users (1...1000000).") var users: Int
    @Option(help: "Number of items (at least --positions; users × items at most 10,000,000).") var items: Int
    @Option(help: "Seed of the generator (0...2^64-1).") var seed: UInt64
    @Option(help: "Impressions (rows) per user, in slates of --positions rows; the last slate may be shorter.")
    var impressionsPerUser = 20
    @Option(help: "Positions per slate (1...20).") var positions = 3
    @OptionGroup var common: CommonOptions

    var config: SimulationConfig {
        SimulationConfig(
            users: users, items: items, impressionsPerUser: impressionsPerUser, positions: positions, seed: seed)
    }

    func validate() throws {
        if let problem = config.problem() { throw ValidationError(problem) }
    }

    func run() throws {
        _ = common.bootstrap()
        try guarded {
            let started = Date()
            let data = try Simulator.generate(config)
            try data.write(to: out)
            let clicks = data.impressions.reduce(0) { $0 + ($1.click ? 1 : 0) }
            let v = data.policyValues
            print(
                "wrote \(out)/{users.csv,items.csv,impressions.csv,truth.json}: \(data.users.count) users, \(data.items.count) items, "
                    + "\(data.impressions.count) impressions, \(clicks) clicks")
            print(
                String(
                    format: "policy values (click rate at position 1): oracle %.4f, logging %.4f, uniform %.4f; %.2f s",
                    v.oracle, v.logging, v.uniform, Date().timeIntervalSince(started)))
        }
    }
}
