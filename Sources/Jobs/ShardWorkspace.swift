import Encoders
import Foundation
import Statistics
import Tabular

/// A worker's state for one job: the rows of the shards it owns and their design matrices, and the code that
/// answers each round for one shard. No sockets: the Cluster layer feeds it batches and requests.
///
/// - Note: Not thread-safe; a worker uses it from one thread.
public final class ShardWorkspace {
    public let plan: JobPlan
    private let formula: Formula
    private var rows: [Int: RowBatch] = [:]
    private var designs: [Int: ShardDesign] = [:]
    private var spec: DesignMatrixSpec?
    /// Shards whose rows could not be loaded (a shard file); every round answers with this failure.
    private var failures: [Int: ShardFailure] = [:]
    /// Per shard, the users' combined text vectors (nil: no text), from the embed round.
    private var userVectors: [Int: [UInt64: [Double]]] = [:]
    /// Per shard and plan column, the cells parsed as numbers by the summary round (NaN where a cell is not a
    /// number), so the design does not parse them again.
    private var numbers: [Int: [[Double]]] = [:]
    /// Per shard, [n, f] row-major: the text features of every row (`JobPlan.text.featureNames` order).
    private var features: [Int: [Double]] = [:]
    /// Item unit vectors received in features requests (any shard's), by item key, kept for the job.
    private var itemUnitVectors: [String: ArraySlice<Float>] = [:]

    struct ShardDesign {
        var x: [Double]
        var y: [Double]
        var fold: [Int]
    }

    /// - Throws: `FormulaError` if the plan's formula does not parse (the coordinator parsed it first, so this
    ///   means mismatched versions).
    public init(plan: JobPlan) throws {
        self.plan = plan
        self.formula = try Formula(plan.formula)
    }

    /// Shards holding rows here.
    public var shards: [Int] { rows.keys.sorted() }

    /// Appends a batch to its shard. Batches of a shard must arrive in data order.
    public func add(_ batch: RowBatch) {
        precondition(batch.fields.count == batch.count * plan.columns.count, "add: batch has \(batch.fields.count) fields for \(batch.count) rows")
        designs[batch.shard] = nil
        numbers[batch.shard] = nil
        if var existing = rows[batch.shard] {
            rows[batch.shard] = nil  // one reference, so the appends below extend in place instead of copying the shard
            existing.rowIndex += batch.rowIndex
            existing.line += batch.line
            existing.userHash += batch.userHash
            existing.fields += batch.fields
            rows[batch.shard] = existing
        } else {
            rows[batch.shard] = batch
        }
    }

    /// Makes sure a shard exists (it may have no rows).
    public func touch(shard: Int) {
        if rows[shard] == nil { rows[shard] = RowBatch(shard: shard) }
    }

    /// Reads a shard's rows from its shard file (`data.source = "shards"`); a problem is kept and reported by the
    /// shard's first round.
    public func load(shardFile path: String, shard: Int) {
        do { add(try ShardFileLoader.load(path: path, shard: shard, plan: plan)) } catch let f as ShardFailure {
            touch(shard: shard)
            failures[shard] = f
        } catch {
            touch(shard: shard)
            failures[shard] = ShardFailure(rowIndex: 0, line: 0, column: nil, message: "\(error)")
        }
    }

    /// Answers one round for one shard.
    public func answer(_ request: RoundRequest, shard: Int) -> ShardReply {
        if let f = failures[shard] { return .failure(f) }
        guard let data = rows[shard] else {
            return .failure(ShardFailure(rowIndex: 0, line: 0, column: nil, message: "this worker was not assigned shard \(shard)", isInternal: true))
        }
        do {
            switch request {
            case .summarize: return .summary(summarize(data))
            case .moments(let schema): return .moments(try moments(data, schema: schema))
            case .residuals(let beta, let centre):
                return .residuals(try residuals(shard: shard, beta: beta, centre: centre))
            case .newton(let fits, let centre): return .newton(try newton(shard: shard, fits: fits, centre: centre))
            case .embed(let r): return .embedded(try embed(data, r))
            case .features(let r): return .featuresReady(rows: try computeFeatures(data, r))
            }
        } catch let failure as ShardFailure {
            return .failure(failure)
        } catch {
            return .failure(ShardFailure(rowIndex: 0, line: 0, column: nil, message: "\(error)", isInternal: true))
        }
    }

    /// Records a worker-side fault for a shard (e.g. a row batch that did not decode); every round reports it.
    public func fail(shard: Int, _ message: String) {
        touch(shard: shard)
        failures[shard] = ShardFailure(rowIndex: 0, line: 0, column: nil, message: message, isInternal: true)
    }

    // MARK: rounds

    func summarize(_ data: RowBatch) -> ShardSummary {
        let c = plan.columns.count
        var summary = ShardSummary(columns: plan.columns.map { ColumnSummary(name: $0) })
        summary.rows = data.count
        summary.users = Set(data.userHash).count
        var parsed = [[Double]](repeating: [], count: c)
        for (k, name) in plan.columns.enumerated() {
            var s = summary.columns[k]
            let keep = formula.columns.contains(name)  // text-only columns (user_text, item_key) are never read as numbers
            var column = keep ? [Double](repeating: .nan, count: data.count) : []
            let collect = plan.levelColumns.contains(name)
            let forced = plan.categoricalColumns.contains(name)
            let isOutcome = name == plan.outcomeColumn
            var levels = Set<String>()
            for i in 0..<data.count {
                let text = data.fields[i * c + k]
                let ref = { CellReference(rowIndex: data.rowIndex[i], line: data.line[i], value: text) }
                if Cell.isMissing(text) {
                    if s.firstMissing == nil { s.firstMissing = ref() }
                    continue
                }
                var isNumber = false
                if let x = Cell.number(text) {
                    isNumber = true
                    if keep { column[i] = x }
                    s.numericCount += 1
                    if s.allIntegral, !Cell.isIntegerSyntax(text) { s.allIntegral = false }
                    if isOutcome, x != 0, x != 1, s.firstNonBinary == nil { s.firstNonBinary = ref() }
                } else {
                    s.nonNumericCount += 1
                    if s.firstNonNumeric == nil { s.firstNonNumeric = ref() }
                }
                if collect, forced || !isNumber, !s.levelsTruncated {
                    levels.insert(text)
                    if levels.count > ColumnSummary.levelLimit { s.levelsTruncated = true }
                }
            }
            s.levels = levels.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            if s.levels.count > ColumnSummary.levelLimit { s.levels.removeLast(s.levels.count - ColumnSummary.levelLimit) }
            summary.columns[k] = s
            parsed[k] = column
        }
        numbers[data.shard] = parsed
        if let key = plan.text?.itemKey, let slot = plan.columns.firstIndex(of: key) {
            var first: [String: Int] = [:]
            for i in 0..<data.count where first[data.fields[i * c + slot]] == nil { first[data.fields[i * c + slot]] = i }
            summary.itemKeys = first.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { key in
                let i = first[key]!
                return KeyOccurrence(key: key, first: CellReference(rowIndex: data.rowIndex[i], line: data.line[i], value: key))
            }
        }
        return summary
    }

    // MARK: text

    /// A text cell that counts as no text: blank, or a missing-value marker (`Cell.isMissing`).
    static func isBlank(_ text: String) -> Bool { Cell.isMissing(text.trimmingCharacters(in: .whitespacesAndNewlines)) }

    /// Embeds the shard's user texts and the items it owns. Users are taken in order of their first row; each user's
    /// vector is the (weighted) mean of the unit vectors of their non-blank texts.
    func embed(_ data: RowBatch, _ request: EmbedRequest) throws -> EmbedStatistic {
        guard let t = plan.text else { throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: "internal: embed round for a job without [text]", isInternal: true) }
        let c = plan.columns.count
        var order: [UInt64] = [], firstRow: [UInt64: Int] = [:]
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
                        throw ShardFailure(rowIndex: data.rowIndex[i], line: data.line[i], column: plan.columnNumbers[slot],
                                           message: "text.timestamp: '\(text)' is not a number of days (column \(ts))")
                    }
                    time[i] = v
                    // The reference time is the user's latest row *with text*, so the newest text has weight 1 (the
                    // weights of one user share a factor that cancels; this keeps them from all underflowing to 0).
                    if slots.contains(where: { !Self.isBlank(data.fields[i * c + $0]) }) {
                        latest[data.userHash[i]] = max(latest[data.userHash[i]] ?? v, v)
                    }
                }
                for i in 0..<data.count { weight[i] = latest[data.userHash[i]].map { exp2(-($0 - time[i]) / half) } ?? 1 }
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
            throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: "cannot load the \(t.encoder.rawValue) encoder: \(error)", isInternal: true)
        }
        let d = encoder.dimension
        let vectors: [Float]
        do { vectors = texts.isEmpty ? [] : try encoder.encode(texts) } catch {
            throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: "the encoder failed: \(error)", isInternal: true)
        }
        let row = Dictionary(uniqueKeysWithValues: texts.enumerated().map { ($1, $0) })
        /// The weighted mean of the texts' vectors; nil when it is zero (no weight, or texts whose vectors cancel, such
        /// as punctuation only under the hashing encoder): such a user or item counts as having no text.
        func mean(_ list: [(text: String, weight: Double)]) -> [Double]? {
            var v = [Double](repeating: 0, count: d), total = 0.0
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
        var with = 0, without = 0
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
        var statistic = EmbedStatistic(encoder: texts.isEmpty ? "" : encoder.identifier, dimension: d,
                                       userMoments: lowRank ? MomentMatrix(dimension: d) : MomentMatrix(rows: block, count: with, dimension: d),
                                       usersWithText: with, usersWithoutText: without, firstUserWithoutRecord: firstWithoutRecord,
                                       itemVectors: itemVectors, itemHasText: hasText, textsEmbedded: texts.count)
        if lowRank { statistic.userVectors = block }
        return statistic
    }

    /// Computes every row's text features from the broadcast projection and item table; keeps them for the design.
    func computeFeatures(_ data: RowBatch, _ r: FeatureRequest) throws -> Int {
        guard let t = plan.text else { throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: "internal: features round for a job without [text]", isInternal: true) }
        let names = t.featureNames, f = names.count, k = r.components, d = r.dimension, c = plan.columns.count
        let hasUsers = !t.userText.isEmpty, hasItems = t.itemsPath != nil
        let users = userVectors[data.shard] ?? [:]
        var scores: [UInt64: [Double]] = [:], units: [UInt64: [Double]] = [:]
        for (h, u) in users {
            scores[h] = PrincipalComponents.scores(centred: (0..<d).map { u[$0] - r.userMean[$0] }, components: r.userAxes, count: k)
            let norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { units[h] = u.map { $0 / norm } }
        }
        guard k == t.components, hasUsers ? (r.userMean.count == d && r.userAxes.count == k * d) : true, r.itemScores.count == r.itemKeys.count * k,
              r.vectors.dimension == d else {
            throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: "internal: features request of the wrong shape (k = \(k), d = \(d))", isInternal: true)
        }
        for key in r.vectorKeys {
            guard let v = r.vectors.vector(key) else {
                throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: "internal: features request without the vector of item '\(key)'", isInternal: true)
            }
            itemUnitVectors[key] = v
        }
        let itemIndex = Dictionary(uniqueKeysWithValues: r.itemKeys.enumerated().map { ($1, $0) })
        let itemSlot = t.itemKey.flatMap { plan.columns.firstIndex(of: $0) }
        var out = [Double](repeating: 0, count: data.count * f)
        for i in 0..<data.count {
            var col = i * f
            let h = data.userHash[i]
            if hasUsers {
                if let s = scores[h] { for j in 0..<k { out[col + j] = s[j] } }
                col += k
            }
            if hasItems, let slot = itemSlot {
                let key = data.fields[i * c + slot]
                guard let m = itemIndex[key] else {
                    throw ShardFailure(rowIndex: data.rowIndex[i], line: data.line[i], column: nil, message: "internal: item '\(key)' missing from the features request", isInternal: true)
                }
                for j in 0..<k { out[col + j] = r.itemScores[m * k + j] }
                col += k
                if hasUsers, let u = units[h] {
                    guard let v = itemUnitVectors[key] else {
                        throw ShardFailure(rowIndex: data.rowIndex[i], line: data.line[i], column: nil, message: "internal: no vector for item '\(key)' in this job's features requests", isInternal: true)
                    }
                    var dot = 0.0
                    v.withUnsafeBufferPointer { v in for l in 0..<d { dot += u[l] * Double(v[l]) } }
                    out[col] = dot
                }
            }
        }
        features[data.shard] = out
        return data.count
    }

    func design(for schema: [ColumnSchema]) throws -> DesignMatrixSpec {
        if let spec { return spec }
        let info = Dictionary(uniqueKeysWithValues: schema.map { ($0.name, $0.info) })
        let s = try DesignMatrixSpec(formula: formula, columns: info)
        spec = s
        return s
    }

    func build(_ data: RowBatch, spec: DesignMatrixSpec, schema: [ColumnSchema]) throws -> ShardDesign {
        let c = plan.columns.count, p = spec.width, n = data.count
        let slot = Dictionary(uniqueKeysWithValues: plan.columns.enumerated().map { ($1, $0) })
        let info = Dictionary(uniqueKeysWithValues: schema.map { ($0.name, $0.info) })
        let featureNames = plan.text?.featureNames ?? []
        let featureSlot = Dictionary(uniqueKeysWithValues: featureNames.enumerated().map { ($1, $0) })
        let f = featureNames.count
        let rowFeatures = features[data.shard] ?? []
        if spec.dataColumns.contains(where: { featureSlot[$0] != nil }), rowFeatures.count != n * f {
            throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: "internal: shard \(data.shard) has no text features (features round missing)", isInternal: true)
        }
        let parsedColumns = numbers[data.shard].flatMap { $0.count == c ? $0 : nil }
        // (slot, numeric) for data columns; (−1 − feature index, true) for text features.
        let reads = try spec.dataColumns.map { name -> (Int, Bool) in
            if let k = featureSlot[name] { return (-1 - k, true) }
            // A plan or schema that does not fit the formula: a wire fault, not the user's.
            guard let s = slot[name], let i = info[name] else {
                let message = "internal: column '\(name)' is not in the job's plan or schema"
                throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: message, isInternal: true)
            }
            return (s, i.isNumeric)
        }
        var x = [Double](repeating: 0, count: n * p)
        var y = [Double](repeating: 0, count: n)
        var fold = [Int](repeating: 0, count: n)
        var row = [Double](repeating: 0, count: p)
        var values = [FactorValue](repeating: .number(0), count: reads.count)
        var scratch = DesignMatrixSpec.Scratch(factors: spec.factors.count)
        for i in 0..<n {
            for (k, (s, numeric)) in reads.enumerated() {
                if s < 0 {
                    values[k] = .number(rowFeatures[i * f + (-1 - s)])
                    continue
                }
                if numeric, let cached = parsedColumns?[s], cached.count == n, !cached[i].isNaN {
                    values[k] = .number(cached[i])
                    continue
                }
                let text = data.fields[i * c + s]
                if numeric {
                    guard let v = Cell.number(text) else {
                        throw ShardFailure(rowIndex: data.rowIndex[i], line: data.line[i], column: plan.columnNumbers[s],
                                           message: "'\(text)' is not a number (column \(plan.columns[s]))")
                    }
                    values[k] = .number(v)
                } else {
                    values[k] = .string(text)
                }
            }
            do {
                y[i] = try spec.fill(values: values, row: &row, scratch: &scratch)
            } catch let error as FormulaError {
                throw ShardFailure(rowIndex: data.rowIndex[i], line: data.line[i], column: nil, message: error.message)
            }
            guard y[i].isFinite, row.allSatisfy(\.isFinite) else {
                let term = y[i].isFinite ? spec.columnNames[row.firstIndex { !$0.isFinite }!] : "the outcome"
                throw ShardFailure(rowIndex: data.rowIndex[i], line: data.line[i], column: nil,
                                   message: "\(term) is not finite in this row (log of 0 or less, division by 0, or overflow)")
            }
            if plan.kind == .logit, y[i] != 0, y[i] != 1 {
                throw ShardFailure(rowIndex: data.rowIndex[i], line: data.line[i], column: nil,
                                   message: "the outcome is \(y[i]); a logit needs 0 or 1")
            }
            for j in 0..<p { x[i * p + j] = row[j] }
            fold[i] = plan.folds > 0 ? UserKey.fold(rowIndex: data.rowIndex[i], hash: data.userHash[i], folds: plan.folds, by: plan.foldBy) : 0
        }
        return ShardDesign(x: x, y: y, fold: fold)
    }

    func moments(_ data: RowBatch, schema: [ColumnSchema]) throws -> [MomentMatrix] {
        let spec = try design(for: schema)
        let d = try build(data, spec: spec, schema: schema)
        designs[data.shard] = d
        let p = spec.width
        var out: [MomentMatrix] = []
        // One pass sorts rows into per-fold [X, y] blocks.
        var blocks = [[Double]](repeating: [], count: plan.foldGroups)
        var marks = [[MomentMatrix.RowMark]](repeating: [], count: plan.foldGroups)
        for i in d.y.indices {
            let g = d.fold[i]
            blocks[g].append(contentsOf: d.x[(i * p)..<((i + 1) * p)])
            blocks[g].append(d.y[i])
            marks[g].append(MomentMatrix.RowMark(rowIndex: data.rowIndex[i], line: data.line[i]))
        }
        for g in 0..<plan.foldGroups {
            let rows = blocks[g].count / (p + 1)
            out.append(MomentMatrix(rows: blocks[g], count: rows, dimension: p + 1, marks: marks[g]))
        }
        return out
    }

    func designOf(shard: Int) throws -> ShardDesign {
        if let d = designs[shard] { return d }
        if (rows[shard]?.count ?? 0) == 0 { return ShardDesign(x: [], y: [], fold: []) }
        throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: "internal: shard \(shard) has no design (moments round missing)", isInternal: true)
    }

    /// The design with `centre` subtracted from every row, as (x − high) − low (the design itself when the centre is
    /// all zeros).
    static func centred(_ x: [Double], columns p: Int, centre: DesignCentre) -> [Double] {
        guard centre.high.count == p, (centre.high + centre.low).contains(where: { $0 != 0 }) else { return x }
        var z = x
        for i in 0..<(p == 0 ? 0 : x.count / p) {
            for j in 0..<p { z[i * p + j] = (z[i * p + j] - centre.high[j]) - centre.low[j] }
        }
        return z
    }

    func residuals(shard: Int, beta: [Double], centre: DesignCentre) throws -> ResidualStatistic {
        let d = try designOf(shard: shard)
        let p = beta.count, n = d.y.count
        var s = ResidualStatistic(dimension: p)
        guard n > 0 else { return s }
        guard d.x.count == n * p else { throw Self.wrongWidth(p, design: d) }
        let x = Self.centred(d.x, columns: p, centre: centre)
        let fitted = x.withUnsafeBufferPointer { LinearAlgebra.multiply($0.baseAddress!, rows: n, n: p, beta) }
        var scaled = [Double](repeating: 0, count: n * p)
        for i in 0..<n {
            let e = d.y[i] - fitted[i]
            s.sumOfSquares += e * e
            for j in 0..<p { scaled[i * p + j] = e * x[i * p + j] }
        }
        s.count = Double(n)
        scaled.withUnsafeBufferPointer { LinearAlgebra.addGram($0.baseAddress!, rows: n, n: p, into: &s.meat) }
        return s
    }

    /// A request whose β does not fit the shard's design (a wire fault, not the user's).
    static func wrongWidth(_ p: Int, design d: ShardDesign) -> ShardFailure {
        ShardFailure(rowIndex: 0, line: 0, column: nil,
                     message: "internal: β of \(p) values for a design of \(d.x.count) values and \(d.y.count) rows",
                     isInternal: true)
    }

    func newton(shard: Int, fits: [NewtonFit], centre: DesignCentre) throws -> [LogitStatistic] {
        let d = try designOf(shard: shard)
        if let bad = fits.first(where: { !d.y.isEmpty && d.x.count != d.y.count * $0.beta.count }) {
            throw Self.wrongWidth(bad.beta.count, design: d)
        }
        let x = Self.centred(d.x, columns: centre.high.count, centre: centre)
        return fits.map { f in
            guard !d.y.isEmpty else { return LogitStatistic(dimension: f.beta.count) }
            if f.fit < 0 {
                return LogitStatistic(x: x, y: d.y, beta: f.beta, train: { _ in true }, test: { _ in false })
            }
            return LogitStatistic(x: x, y: d.y, beta: f.beta, train: { d.fold[$0] != f.fit },
                                  test: { d.fold[$0] == f.fit })
        }
    }
}
