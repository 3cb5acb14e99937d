import Foundation

/// The `[text]` table of a job: which texts are embedded, with which encoder, and how they become the numeric
/// features `user_pc1..k`, `item_pc1..k` and `affinity` that formulas can use.
///
/// ```toml
/// [text]
/// encoder = "minilm"             # "minilm" | "hashing"
/// components = 16                # k principal components per side (1...64)
/// users_path = "users.csv"       # optional; joined on data.user_key; without it user_text names columns of data.path
/// user_text = ["profile"]
/// combine = "mean"               # "mean" | "recency" (needs timestamp and half_life_days; texts in data.path only)
/// items_path = "items.csv"       # joined on item_key (a column of data.path and of the items file)
/// item_key = "item_id"
/// item_text = ["description"]
/// ```
///
/// Empty text cells are skipped; a user or item with no text at all gets zero features (see docs/DECISIONS.md).
public struct TextSpec: Sendable, Equatable, Codable {
    /// The encoders a job can name.
    public enum EncoderKind: String, Sendable, Codable, CaseIterable {
        /// all-MiniLM-L6-v2, 384 dimensions (`Encoders.MiniLMEncoder`).
        case minilm
        /// Signed feature hashing of words into 384 dimensions (`Encoders.HashingEncoder`).
        case hashing
    }

    /// How a user's several texts become one vector.
    public enum Combine: String, Sendable, Codable, CaseIterable {
        /// The plain mean of the texts' (unit) vectors.
        case mean
        /// A weighted mean with weights 2^(−age / half-life), age = the user's latest timestamp − the row's.
        case recency
    }

    /// `text.encoder`.
    public var encoder: EncoderKind
    /// `text.model_dir` resolved against the job file's folder; nil: each worker's default model folder.
    public var modelDirectory: String?
    /// `text.components`: k, principal components kept per side.
    public var components: Int = 16
    /// `text.users_path` resolved; nil when user texts are columns of the interactions file.
    public var usersPath: String?
    /// `text.user_text`: text columns (of the users file, or of the interactions file). May be empty.
    public var userText: [String] = []
    /// `text.combine`.
    public var combine: Combine = .mean
    /// `text.half_life_days` (recency only).
    public var halfLifeDays: Double?
    /// `text.timestamp`: a numeric column of the interactions file, in days (recency only).
    public var timestamp: String?
    /// `text.items_path` resolved.
    public var itemsPath: String?
    /// `text.item_key`: the column naming the item in both the interactions and the items file.
    public var itemKey: String?
    /// `text.item_text`: text columns of the items file.
    public var itemText: [String] = []
    /// `text.cache`: look texts up in (and add them to) the embedding cache.
    public var cache: Bool = true
    /// `text.cache_dir` resolved; nil: each worker's default ($XDG_CACHE_HOME/causa).
    public var cacheDirectory: String?

    /// A table with this encoder and every other key at its default (no texts yet).
    public init(encoder: EncoderKind) { self.encoder = encoder }

    /// The most components a job may ask for.
    public static let maximumComponents = 64

    /// The feature names this table makes available to formulas, in the order workers compute them.
    public var featureNames: [String] {
        var names: [String] = []
        if !userText.isEmpty { names += (1...components).map { "user_pc\($0)" } }
        if itemsPath != nil { names += (1...components).map { "item_pc\($0)" } }
        if !userText.isEmpty, itemsPath != nil { names.append("affinity") }
        return names
    }

    /// Whether `name` is a text feature name of any job (`user_pcN`, `item_pcN`, `affinity`), for hints.
    public static func looksLikeFeature(_ name: String) -> Bool {
        if name == "affinity" { return true }
        for prefix in ["user_pc", "item_pc"] where name.hasPrefix(prefix) {
            return Int(name.dropFirst(prefix.count)) != nil
        }
        return false
    }
}
