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
        if var existing = rows[batch.shard] {
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
            case .residuals(let beta): return .residuals(try residuals(shard: shard, beta: beta))
            case .newton(let fits): return .newton(try newton(shard: shard, fits: fits))
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
        for (k, name) in plan.columns.enumerated() {
            var s = summary.columns[k]
            let collect = plan.levelColumns.contains(name)
            let isOutcome = name == plan.outcomeColumn
            var levels = Set<String>()
            for i in 0..<data.count {
                let text = data.fields[i * c + k]
                let ref = { CellReference(rowIndex: data.rowIndex[i], line: data.line[i], value: text) }
                if Cell.isMissing(text) {
                    if s.firstMissing == nil { s.firstMissing = ref() }
                    continue
                }
                if let x = Cell.number(text) {
                    s.numericCount += 1
                    if s.allIntegral, !Cell.isIntegerSyntax(text) { s.allIntegral = false }
                    if isOutcome, x != 0, x != 1, s.firstNonBinary == nil { s.firstNonBinary = ref() }
                } else {
                    s.nonNumericCount += 1
                    if s.firstNonNumeric == nil { s.firstNonNumeric = ref() }
                }
                if collect, !s.levelsTruncated {
                    levels.insert(text)
                    if levels.count > ColumnSummary.levelLimit { s.levelsTruncated = true }
                }
            }
            s.levels = levels.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            if s.levels.count > ColumnSummary.levelLimit { s.levels.removeLast(s.levels.count - ColumnSummary.levelLimit) }
            summary.columns[k] = s
        }
        return summary
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
        let reads = spec.dataColumns.map { (slot[$0]!, info[$0]!.isNumeric) }
        var x = [Double](repeating: 0, count: n * p)
        var y = [Double](repeating: 0, count: n)
        var fold = [Int](repeating: 0, count: n)
        var row = [Double](repeating: 0, count: p)
        var values = [FactorValue](repeating: .number(0), count: reads.count)
        var scratch = DesignMatrixSpec.Scratch(factors: spec.factors.count)
        for i in 0..<n {
            for (k, (s, numeric)) in reads.enumerated() {
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
        for i in d.y.indices {
            let g = d.fold[i]
            blocks[g].append(contentsOf: d.x[(i * p)..<((i + 1) * p)])
            blocks[g].append(d.y[i])
        }
        for g in 0..<plan.foldGroups {
            out.append(MomentMatrix(rows: blocks[g], count: blocks[g].count / (p + 1), dimension: p + 1))
        }
        return out
    }

    func designOf(shard: Int) throws -> ShardDesign {
        if let d = designs[shard] { return d }
        if (rows[shard]?.count ?? 0) == 0 { return ShardDesign(x: [], y: [], fold: []) }
        throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: "internal: shard \(shard) has no design (moments round missing)", isInternal: true)
    }

    func residuals(shard: Int, beta: [Double]) throws -> ResidualStatistic {
        let d = try designOf(shard: shard)
        let p = beta.count, n = d.y.count
        var s = ResidualStatistic(dimension: p)
        guard n > 0 else { return s }
        let fitted = d.x.withUnsafeBufferPointer { LinearAlgebra.multiply($0.baseAddress!, rows: n, n: p, beta) }
        var scaled = [Double](repeating: 0, count: n * p)
        for i in 0..<n {
            let e = d.y[i] - fitted[i]
            s.sumOfSquares += e * e
            for j in 0..<p { scaled[i * p + j] = e * d.x[i * p + j] }
        }
        s.count = Double(n)
        scaled.withUnsafeBufferPointer { LinearAlgebra.addGram($0.baseAddress!, rows: n, n: p, into: &s.meat) }
        return s
    }

    func newton(shard: Int, fits: [NewtonFit]) throws -> [LogitStatistic] {
        let d = try designOf(shard: shard)
        return fits.map { f in
            guard !d.y.isEmpty else { return LogitStatistic(dimension: f.beta.count) }
            if f.fit < 0 { return LogitStatistic(x: d.x, y: d.y, beta: f.beta, train: { _ in true }, test: { _ in false }) }
            return LogitStatistic(x: d.x, y: d.y, beta: f.beta, train: { d.fold[$0] != f.fit }, test: { d.fold[$0] == f.fit })
        }
    }
}
