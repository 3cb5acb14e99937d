import Foundation
import StableRandom

/// What `causa simulate` generates: sizes, seed and the generative model's parameters. The defaults are the
/// documented model of docs/SIMULATION.md; the command line sets only the sizes and the seed.
public struct SimulationConfig: Sendable, Equatable {
    public var users: Int
    public var items: Int
    /// Impressions (rows of impressions.csv) per user, grouped into slates of `positions` rows; the last slate of a
    /// user is shorter when `positions` does not divide it.
    public var impressionsPerUser: Int = 20
    /// Slots per slate (positions 1...P).
    public var positions: Int = 3
    public var seed: UInt64

    /// Click model: logit p = alpha + beta·a(u,i) + gamma_k + delta·ln(price) + eps_u, gamma_k = −positionDecay·ln k.
    public var alpha = -1.5
    public var beta = 2.5
    public var delta = -0.3
    public var positionDecay = 0.6
    /// eps_u = segmentEffects[segment] + signupEffect·ln(1 + signup_days/365) + userNoiseSD·N(0,1).
    public var segmentEffects: [Double] = [0.1, 0.0, -0.1, -0.2]
    public var signupEffect = 0.2
    public var userNoiseSD = 0.3
    /// Standard deviation of the unwritten latent noise added to each taste/attribute vector before normalising.
    public var latentNoiseSD = 0.1
    /// Item price = category base price · exp(priceLogSD·N(0,1)), rounded to cents (at least 1.00).
    public var priceLogSD = 0.35
    /// Logging policy: score s(u,i) = round((a(u,i) + loggingNoiseSD·N(0,1)) / loggingTemperature, 6 decimals);
    /// each slot is filled by a softmax over the scores of the items not yet in the slate.
    public var loggingTemperature = 0.2
    public var loggingNoiseSD = 0.2
    /// Impression timestamps are days since the start of the log, uniform in [0, days), 4 decimals.
    public var days = 90.0

    public init(users: Int, items: Int, impressionsPerUser: Int = 20, positions: Int = 3, seed: UInt64) {
        self.users = users
        self.items = items
        self.impressionsPerUser = impressionsPerUser
        self.positions = positions
        self.seed = seed
    }

    /// Latent dimensions: one per theme (= category).
    public static let latentDimension = Vocabulary.themes.count
    /// Largest users × items (the truth file holds two users × items matrices).
    public static let maxCells = 10_000_000

    /// The first problem with the sizes, naming the command-line flag, or nil.
    public func problem() -> String? {
        if !(1...1_000_000).contains(users) { return "--users must be in 1...1000000, got \(users)." }
        if !(1...100_000).contains(items) { return "--items must be in 1...100000, got \(items)." }
        if !(1...20).contains(positions) { return "--positions must be in 1...20, got \(positions)." }
        if items < positions {
            return "--items (\(items)) must be at least --positions (\(positions)): a slate never shows an item twice."
        }
        if !(1...10_000).contains(impressionsPerUser) {
            return "--impressions-per-user must be in 1...10000, got \(impressionsPerUser)."
        }
        if users * items > Self.maxCells {
            return
                "--users × --items must be at most \(Self.maxCells) (the truth file holds users × items matrices), got \(users * items)."
        }
        if users * impressionsPerUser > 50_000_000 {
            return "--users × --impressions-per-user must be at most 50000000, got \(users * impressionsPerUser)."
        }
        return nil
    }

    /// gamma_k for k = 1...positions (gamma_1 = 0).
    public var positionEffects: [Double] {
        (1...positions).map { $0 == 1 ? 0 : -positionDecay * Foundation.log(Double($0)) }
    }
}

public struct SimulatedUser: Sendable, Equatable {
    public var id: Int
    public var segment: Int
    public var signupDays: Int
    public var primaryTheme: Int
    public var secondaryTheme: Int
    public var secondaryWeight: Double
    /// Unit taste vector (latentDimension entries).
    public var latent: [Double]
    /// eps_u of the click model.
    public var effect: Double
    public var profile: String
    public var segmentName: String { Vocabulary.segments[segment] }
}

public struct SimulatedItem: Sendable, Equatable {
    public var id: Int
    public var category: Int
    public var secondaryTheme: Int
    public var secondaryWeight: Double
    /// Unit attribute vector (latentDimension entries).
    public var latent: [Double]
    public var price: Double
    public var description: String
    public var categoryName: String { Vocabulary.categories[category] }
}

public struct SimulatedImpression: Sendable, Equatable {
    public var user: Int
    public var slate: Int
    public var timestamp: Double
    public var item: Int
    public var position: Int
    /// The logging policy's probability of this choice at this decision (this slot, given the items above it).
    public var propensity: Double
    public var click: Bool
    public var query: String
}

public struct PolicyValues: Sendable, Equatable {
    /// Expected click rate of one position-1 recommendation to a uniformly drawn user.
    public var logging: Double
    public var uniform: Double
    public var oracle: Double
}

/// A generated dataset: what the four files hold.
public struct SimulatedDataset: Sendable {
    public var config: SimulationConfig
    public var users: [SimulatedUser]
    public var items: [SimulatedItem]
    public var impressions: [SimulatedImpression]
    /// True click probability at position 1, row-major [user * items + item].
    public var clickProbability: [Double]
    /// The logging policy's scores, row-major [user * items + item].
    public var loggingScores: [Double]
    /// Per user, the item with the largest true click probability (lowest id on ties).
    public var oracleItems: [Int]
    public var policyValues: PolicyValues

    public func probability(user: Int, item: Int) -> Double { clickProbability[user * items.count + item] }
    public func score(user: Int, item: Int) -> Double { loggingScores[user * items.count + item] }
}

public enum SimulationError: Error, CustomStringConvertible {
    case invalid(String)
    case write(path: String, reason: String)
    public var description: String {
        switch self {
        case .invalid(let m): return m
        case .write(let path, let reason): return "cannot write \(path): \(reason)"
        }
    }
}

public enum Simulator {
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    static func normalized(_ v: [Double]) -> [Double] {
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / n }
    }

    /// Latent vector e_primary + weight·e_secondary + sd·N(0, I), normalised to unit length.
    static func latent(primary: Int, secondary: Int, weight: Double, sd: Double, rng: inout Xoshiro256) -> [Double] {
        var v = (0..<SimulationConfig.latentDimension).map { _ in sd * rng.normal() }
        v[primary] += 1
        v[secondary] += weight
        return normalized(v)
    }

    /// A theme other than `t`, uniformly.
    static func otherTheme(than t: Int, rng: inout Xoshiro256) -> Int {
        let k = rng.index(SimulationConfig.latentDimension - 1)
        return k >= t ? k + 1 : k
    }

    public static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for k in a.indices { s += a[k] * b[k] }
        return s  // both are unit vectors
    }

    public static func generate(_ config: SimulationConfig) throws -> SimulatedDataset {
        if let problem = config.problem() { throw SimulationError.invalid(problem) }
        let users = makeUsers(config)
        let items = makeItems(config)
        let nI = items.count
        let gamma = config.positionEffects

        // Truth at position 1 and the logging policy's scores.
        var probability = [Double](repeating: 0, count: users.count * nI)
        var scores = [Double](repeating: 0, count: users.count * nI)
        var noise = Xoshiro256(seed: config.seed, stream: 3)
        let logPrice = items.map { Foundation.log($0.price) }
        for u in users {
            for i in items {
                let a = cosine(u.latent, i.latent)
                probability[u.id * nI + i.id] = sigmoid(
                    config.alpha + config.beta * a + config.delta * logPrice[i.id] + u.effect)
                let raw = (a + config.loggingNoiseSD * noise.normal()) / config.loggingTemperature
                scores[u.id * nI + i.id] = (raw * 1e6).rounded() / 1e6
            }
        }

        // Policy values (one decision at position 1 for a uniformly drawn user).
        var logging = 0.0
        var uniform = 0.0
        var oracle = 0.0
        var oracleItems: [Int] = []
        oracleItems.reserveCapacity(users.count)
        for u in 0..<users.count {
            let row = u * nI
            let w = softmaxWeights(scores[row..<row + nI])
            let total = w.reduce(0, +)
            var l = 0.0
            var m = 0.0
            var best = 0
            for i in 0..<nI {
                let p = probability[row + i]
                l += w[i] / total * p
                m += p
                if p > probability[row + best] { best = i }
            }
            logging += l
            uniform += m / Double(nI)
            oracle += probability[row + best]
            oracleItems.append(best)
        }
        let values = PolicyValues(
            logging: logging / Double(users.count), uniform: uniform / Double(users.count),
            oracle: oracle / Double(users.count))

        // The log.
        var rng = Xoshiro256(seed: config.seed, stream: 4)
        var impressions: [SimulatedImpression] = []
        impressions.reserveCapacity(users.count * config.impressionsPerUser)
        var slateID = 0
        let P = config.positions
        let slates = (config.impressionsPerUser + P - 1) / P
        var shown = [Bool](repeating: false, count: nI)
        for u in users {
            let row = u.id * nI
            let w = softmaxWeights(scores[row..<row + nI])
            let times = (0..<slates).map { _ in (rng.uniform() * config.days * 1e4).rounded(.down) / 1e4 }.sorted()
            for s in 0..<slates {
                let size = min(P, config.impressionsPerUser - s * P)
                let query = makeQuery(u, rng: &rng)
                var placed: [Int] = []
                for position in 1...size {
                    var total = 0.0
                    for i in 0..<nI where !shown[i] { total += w[i] }
                    let r = rng.uniform() * total
                    var cumulative = 0.0
                    var chosen = -1
                    for i in 0..<nI where !shown[i] {
                        cumulative += w[i]
                        chosen = i
                        if r < cumulative { break }
                    }
                    shown[chosen] = true
                    placed.append(chosen)
                    let p = sigmoid(
                        config.alpha + config.beta * cosine(u.latent, items[chosen].latent)
                            + gamma[position - 1] + config.delta * logPrice[chosen] + u.effect)
                    let click = rng.uniform() < p
                    impressions.append(
                        SimulatedImpression(
                            user: u.id, slate: slateID, timestamp: times[s], item: chosen,
                            position: position, propensity: w[chosen] / total, click: click, query: query))
                }
                for i in placed { shown[i] = false }
                slateID += 1
            }
        }
        return SimulatedDataset(
            config: config, users: users, items: items, impressions: impressions, clickProbability: probability,
            loggingScores: scores, oracleItems: oracleItems, policyValues: values)
    }

    /// exp(s − max s): the softmax's unnormalised weights (the normaliser of a slot is their sum over the items
    /// still available).
    public static func softmaxWeights<C: Collection>(_ scores: C) -> [Double] where C.Element == Double {
        let m = scores.max() ?? 0
        return scores.map { Foundation.exp($0 - m) }
    }

    // MARK: users and items

    static func makeUsers(_ config: SimulationConfig) -> [SimulatedUser] {
        var rng = Xoshiro256(seed: config.seed, stream: 1)
        return (0..<config.users).map { id in
            let segment = rng.index(Vocabulary.segments.count)
            let signup = 1 + rng.index(1825)
            var prior = [Double](repeating: 1, count: SimulationConfig.latentDimension)
            for t in Vocabulary.segmentThemes[segment] { prior[t] = 3 }
            let t1 = rng.weightedIndex(prior)
            let t2 = otherTheme(than: t1, rng: &rng)
            let weight = rng.uniform() < 0.5 ? 0.4 : 0.8
            let latent = latent(primary: t1, secondary: t2, weight: weight, sd: config.latentNoiseSD, rng: &rng)
            let effect =
                config.segmentEffects[segment] + config.signupEffect * Foundation.log(1 + Double(signup) / 365)
                + config.userNoiseSD * rng.normal()
            let profile = makeProfile(segment: segment, t1: t1, t2: t2, strong: weight > 0.5, rng: &rng)
            return SimulatedUser(
                id: id, segment: segment, signupDays: signup, primaryTheme: t1, secondaryTheme: t2,
                secondaryWeight: weight, latent: latent, effect: effect, profile: profile)
        }
    }

    static func makeItems(_ config: SimulationConfig) -> [SimulatedItem] {
        var rng = Xoshiro256(seed: config.seed, stream: 2)
        return (0..<config.items).map { id in
            let c = rng.index(Vocabulary.categories.count)
            let t2 = otherTheme(than: c, rng: &rng)
            let weight = rng.uniform() < 0.5 ? 0.4 : 0.8
            let latent = latent(primary: c, secondary: t2, weight: weight, sd: config.latentNoiseSD, rng: &rng)
            let price = max(
                1, (Vocabulary.basePrice[c] * Foundation.exp(config.priceLogSD * rng.normal()) * 100).rounded() / 100)
            let description = makeDescription(category: c, t2: t2, strong: weight > 0.5, rng: &rng)
            return SimulatedItem(
                id: id, category: c, secondaryTheme: t2, secondaryWeight: weight, latent: latent,
                price: price, description: description)
        }
    }

    // MARK: texts

    static func capitalized(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }
    static func lowercasedFirst(_ s: String) -> String { s.prefix(1).lowercased() + s.dropFirst() }
    static func article(_ word: String) -> String { "aeiou".contains(word.prefix(1).lowercased()) ? "An" : "A" }

    /// A profile from the primary theme's role and activity and the secondary theme's preference; a strong
    /// secondary taste (weight 0.8) gets a second phrase from its theme.
    static func makeProfile(segment: Int, t1: Int, t2: Int, strong: Bool, rng: inout Xoshiro256) -> String {
        let role = rng.pick(Vocabulary.roles[t1])
        let act = rng.pick(Vocabulary.activities[t1])
        let pref = rng.pick(Vocabulary.preferences[t2])
        let who = rng.pick(Vocabulary.segmentPhrases[segment])
        let template = rng.index(4)
        if strong {
            let role2 = lowercasedFirst(rng.pick(Vocabulary.roles[t2]))
            let act2 = rng.pick(Vocabulary.activities[t2])
            switch template {
            case 0: return "\(role) and \(role2) who \(act); \(pref)."
            case 1: return "\(who). \(role) who \(act) and \(act2); \(pref)."
            case 2: return "\(role) and \(role2). \(capitalized(act)) and \(act2)."
            default: return "\(role) who \(act); also \(act2), and \(pref)."
            }
        }
        switch template {
        case 0: return "\(role) who \(act); \(pref)."
        case 1: return "\(who). \(role) who \(act) and \(pref)."
        case 2: return "\(role). \(capitalized(act)), \(pref)."
        default: return "\(who) who \(act); \(pref)."
        }
    }

    /// A description from the category's noun and feature and the secondary theme's adjective and closing phrase;
    /// a weak secondary attribute (weight 0.4) gets one of the two from its theme, the other slot neutral.
    static func makeDescription(category c: Int, t2: Int, strong: Bool, rng: inout Xoshiro256) -> String {
        let noun = rng.pick(Vocabulary.nouns[c])
        let feature = rng.pick(Vocabulary.features[c])
        let adjective: String
        let tail: String
        if strong {
            adjective = rng.pick(Vocabulary.adjectives[t2])
            tail = rng.pick(Vocabulary.tails[t2])
        } else if rng.uniform() < 0.5 {
            adjective = rng.pick(Vocabulary.adjectives[t2])
            tail = rng.pick(Vocabulary.neutralTails)
        } else {
            adjective = rng.pick(Vocabulary.neutralAdjectives)
            tail = rng.pick(Vocabulary.tails[t2])
        }
        switch rng.index(3) {
        case 0: return "\(capitalized(adjective)) \(noun) \(feature), \(tail)."
        case 1: return "\(article(adjective)) \(adjective) \(noun) \(feature) — \(tail)."
        default: return "\(capitalized(noun)) \(feature); \(adjective), \(tail)."
        }
    }

    /// A search query from a theme drawn from the user's taste (primary : secondary = 1 : weight).
    static func makeQuery(_ u: SimulatedUser, rng: inout Xoshiro256) -> String {
        let theme = rng.uniform() < 1 / (1 + u.secondaryWeight) ? u.primaryTheme : u.secondaryTheme
        return rng.pick(Vocabulary.queryPrefixes) + rng.pick(Vocabulary.queries[theme])
    }
}
