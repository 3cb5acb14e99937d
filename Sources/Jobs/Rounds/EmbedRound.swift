import Encoders
import Foundation
import Statistics
import Tabular

/// The first text round (`[text]` jobs): each shard embeds its users' texts and the items it owns. A gathering
/// round: the coordinator keeps the shards' answers apart (item vectors in shard order) and merges the user moments.
public struct EmbedRound: Round {
    public static let id = "embed"
    /// Per shard: its users- and items-file records.
    public var requests: [EmbedRequest]
    public init(requests: [EmbedRequest]) { self.requests = requests }
    public func request(shard: Int) -> EmbedRequest { requests[shard] }
    public func accepts(_ e: EmbedStatistic, shard: Int) -> Bool {
        let items = requests[shard].items.count
        return e.itemHasText.count == items && e.itemVectors.count == items * e.dimension
            && e.userMoments.dimension == e.dimension
            && (e.userVectors.isEmpty
                || (e.userMoments.count == 0 && e.userVectors.count == e.usersWithText * e.dimension))
    }
    public static func compute(_ request: EmbedRequest, shard: Int, in workspace: ShardWorkspace) throws
        -> EmbedStatistic
    {
        try workspace.embed(try workspace.batch(of: shard), request)
    }
}

/// The embedding round's request to one shard: the users-file records of the shard's users and the items-file
/// records the shard owns (items are sharded by the hash of their key).
public struct EmbedRequest: Sendable, Equatable {
    /// Users-file records whose user key hashes to this shard (empty when user texts are in the data rows).
    public var users: [TextEntry]
    /// Items-file records whose item key hashes to this shard, in file order.
    public var items: [TextEntry]
    public init(users: [TextEntry], items: [TextEntry]) {
        self.users = users
        self.items = items
    }
}

/// A shard's embeddings: the moments of its users' vectors (for the user PCA) and the vectors of the items it owns.
public struct EmbedStatistic: Sendable, Equatable {
    /// The encoder's identifier (it fingerprints the model files); "" when the shard embedded nothing.
    public var encoder: String
    /// Vector dimension d.
    public var dimension: Int
    /// Moments of the shard's users' vectors, over users with some text; dimension d. Empty (count 0) when
    /// `userVectors` carries them instead.
    public var userMoments: MomentMatrix
    /// [n, d] row-major: the users' vectors themselves, sent instead of `userMoments` when the shard has fewer than
    /// d/2 users with text (the moment matrix then has rank ≤ n, and n rows are smaller than d(d+1)/2 packed values);
    /// the coordinator forms their `MomentMatrix` with the same code, so results do not depend on the form.
    public var userVectors: [Double] = []
    /// Users with at least one non-empty text, and without any.
    public var usersWithText: Int
    public var usersWithoutText: Int
    /// The earliest row whose user has no record in the users file.
    public var firstUserWithoutRecord: CellReference?
    /// [m, d] row-major Float32: the vectors of `EmbedRequest.items`, in request order; zero rows for items with no
    /// text.
    public var itemVectors: [Float]
    /// [m]: whether each item had some text.
    public var itemHasText: [Bool]
    /// Distinct texts run through the encoder (cache hits included).
    public var textsEmbedded: Int

    public init(
        encoder: String, dimension: Int, userMoments: MomentMatrix, usersWithText: Int, usersWithoutText: Int,
        firstUserWithoutRecord: CellReference?, itemVectors: [Float], itemHasText: [Bool], textsEmbedded: Int
    ) {
        self.encoder = encoder
        self.dimension = dimension
        self.userMoments = userMoments
        self.usersWithText = usersWithText
        self.usersWithoutText = usersWithoutText
        self.firstUserWithoutRecord = firstUserWithoutRecord
        self.itemVectors = itemVectors
        self.itemHasText = itemHasText
        self.textsEmbedded = textsEmbedded
    }
}

extension ShardWorkspace {
    /// A text cell that counts as no text: blank, or a missing-value marker (`Cell.isMissing`).
    static func isBlank(_ text: String) -> Bool { Cell.isMissing(text.trimmingCharacters(in: .whitespacesAndNewlines)) }

    /// Embeds the shard's user texts and the items it owns. Users are taken in order of their first row; each user's
    /// vector is the (weighted) mean of the unit vectors of their non-blank texts.
    func embed(_ data: RowBatch, _ request: EmbedRequest) throws -> EmbedStatistic {
        guard let t = plan.text else {
            throw ShardFailure(
                rowIndex: 0, line: 0, column: nil, message: "internal: embed round for a job without [text]",
                isInternal: true)
        }
        let c = plan.columns.count
        var order: [UInt64] = []
        var firstRow: [UInt64: Int] = [:]
        for i in 0..<data.count where firstRow[data.userHash[i]] == nil {
            firstRow[data.userHash[i]] = i
            order.append(data.userHash[i])
        }
        var userTexts: [UInt64: [(text: String, weight: Double)]] = [:]
        var firstWithoutRecord: CellReference? = nil
        if t.usersPath != nil {
            var records: [UInt64: TextEntry] = [:]
            for r in request.users where records[r.keyHash] == nil { records[r.keyHash] = r }
            for h in order {
                guard let record = records[h] else {
                    let i = firstRow[h]!
                    if firstWithoutRecord == nil || data.rowIndex[i] < firstWithoutRecord!.rowIndex {
                        firstWithoutRecord = CellReference(rowIndex: data.rowIndex[i], line: data.line[i], value: "")
                    }
                    continue
                }
                userTexts[h] = record.texts.filter { !Self.isBlank($0) }.map { ($0, 1.0) }
            }
        } else if !t.userText.isEmpty {
            let slots = t.userText.map { plan.columns.firstIndex(of: $0)! }
            var weight = [Double](repeating: 1, count: data.count)
            if t.combine == .recency, let ts = t.timestamp, let half = t.halfLifeDays {
                let slot = plan.columns.firstIndex(of: ts)!
                var time = [Double](repeating: 0, count: data.count)
                var latest: [UInt64: Double] = [:]
                for i in 0..<data.count {
                    let text = data.fields[i * c + slot]
                    guard let v = Cell.number(text), v.isFinite else {
                        throw ShardFailure(
                            rowIndex: data.rowIndex[i], line: data.line[i], column: plan.columnNumbers[slot],
                            message: "text.timestamp: '\(text)' is not a number of days (column \(ts))")
                    }
                    time[i] = v
                    // The reference time is the user's latest row *with text*, so the newest text has weight 1 (the
                    // weights of one user share a factor that cancels; this keeps them from all underflowing to 0).
                    if slots.contains(where: { !Self.isBlank(data.fields[i * c + $0]) }) {
                        latest[data.userHash[i]] = max(latest[data.userHash[i]] ?? v, v)
                    }
                }
                for i in 0..<data.count {
                    weight[i] = latest[data.userHash[i]].map { exp2(-($0 - time[i]) / half) } ?? 1
                }
            }
            for i in 0..<data.count {
                for slot in slots {
                    let text = data.fields[i * c + slot]
                    if !Self.isBlank(text) { userTexts[data.userHash[i], default: []].append((text, weight[i])) }
                }
            }
        }
        // Every distinct text once, in bytewise order (the encoder's output does not depend on batch composition).
        var distinct = Set<String>()
        for list in userTexts.values { for e in list { distinct.insert(e.text) } }
        for item in request.items { for text in item.texts where !Self.isBlank(text) { distinct.insert(text) } }
        let texts = distinct.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let encoder: TextEncoder
        do { encoder = try TextEncoders.encoder(for: t) } catch {
            throw ShardFailure(
                rowIndex: 0, line: 0, column: nil, message: "cannot load the \(t.encoder.rawValue) encoder: \(error)",
                isInternal: true)
        }
        let d = encoder.dimension
        let vectors: [Float]
        do { vectors = texts.isEmpty ? [] : try encoder.encode(texts) } catch {
            throw ShardFailure(
                rowIndex: 0, line: 0, column: nil, message: "the encoder failed: \(error)", isInternal: true)
        }
        let row = Dictionary(uniqueKeysWithValues: texts.enumerated().map { ($1, $0) })
        /// The weighted mean of the texts' vectors; nil when it is zero (no weight, or texts whose vectors cancel, such
        /// as punctuation only under the hashing encoder): such a user or item counts as having no text.
        func mean(_ list: [(text: String, weight: Double)]) -> [Double]? {
            var v = [Double](repeating: 0, count: d)
            var total = 0.0
            for e in list {
                let base = row[e.text]! * d
                for j in 0..<d { v[j] += e.weight * Double(vectors[base + j]) }
                total += e.weight
            }
            guard total > 0, v.contains(where: { $0 != 0 }) else { return nil }
            for j in 0..<d { v[j] /= total }
            return v
        }
        var users: [UInt64: [Double]] = [:]
        var block: [Double] = []
        var with = 0
        var without = 0
        for h in order {
            guard let list = userTexts[h], !list.isEmpty, let v = mean(list) else {
                if t.usersPath == nil ? !t.userText.isEmpty : userTexts[h] != nil { without += 1 }
                continue
            }
            users[h] = v
            block += v
            with += 1
        }
        userVectors[data.shard] = users
        var itemVectors = [Float](repeating: 0, count: request.items.count * d)
        var hasText = [Bool](repeating: false, count: request.items.count)
        for (m, item) in request.items.enumerated() {
            let list = item.texts.filter { !Self.isBlank($0) }.map { (text: $0, weight: 1.0) }
            guard !list.isEmpty, let v = mean(list) else { continue }
            for j in 0..<d { itemVectors[m * d + j] = Float(v[j]) }
            hasText[m] = true
        }
        let lowRank = with < d / 2
        var statistic = EmbedStatistic(
            encoder: texts.isEmpty ? "" : encoder.identifier, dimension: d,
            userMoments: lowRank ? MomentMatrix(dimension: d) : MomentMatrix(rows: block, count: with, dimension: d),
            usersWithText: with, usersWithoutText: without, firstUserWithoutRecord: firstWithoutRecord,
            itemVectors: itemVectors, itemHasText: hasText, textsEmbedded: texts.count)
        if lowRank { statistic.userVectors = block }
        return statistic
    }

}
