import Foundation
import Statistics
import Tabular

/// Everything the coordinator settles before any row moves: the parsed formula, the data file's header checked
/// against the job, and the plan sent to workers.
public struct PreparedJob {
    public let job: JobSpec
    public let formula: Formula
    public let plan: JobPlan
    /// The data file, opened, header read; nil when the job reads shard files (`data.source = "shards"`).
    public let table: CSVTable?
    /// The shard manifest when the job reads shard files.
    public let manifest: ShardManifest?
    /// The data file that row errors refer to (the CSV, or the source the shards were cut from).
    public let dataFile: String
    /// 0-based header positions of `job.userKey`.
    public let userKeyColumns: [Int]
    /// 0-based header positions of `plan.columns`.
    public let planColumns: [Int]

    /// Parses the formula, opens the data (or the shard manifest) and checks every named column.
    /// - Throws: `InputError` naming the job file (formula syntax, unknown column) or the data file (missing,
    ///   empty, no header, user-key column missing).
    public init(job: JobSpec, jobID: String) throws {
        self.job = job
        let formula: Formula
        do { formula = try Formula(job.formula) } catch let e as FormulaError { throw job.inputError(e) }
        self.formula = formula
        let header: [String]
        switch job.source {
        case .file:
            let table: CSVTable
            do { table = try CSVTable(path: job.resolvedDataPath) } catch let e as TabularError {
                guard e.code == .unreadable, let p = job.dataPathPosition else { throw InputError(e) }
                // The file is not there: point at the job file's data.path too.
                throw InputError(file: job.jobFile, line: p.line, column: p.column, "data.path: \(e.file): \(e.message)")
            }
            self.table = table
            self.manifest = nil
            self.dataFile = job.resolvedDataPath
            header = table.header
        case .shards:
            let m = try ShardManifest.load(folder: job.resolvedDataPath)
            guard m.shards == job.shards else {
                throw InputError(file: job.jobFile, line: job.dataPathPosition?.line, column: job.dataPathPosition?.column,
                                 "the shards in \(job.resolvedDataPath) were cut for \(m.shards) shards; set cluster.shards = \(m.shards)")
            }
            guard m.userKey == job.userKey else {
                throw InputError(file: job.jobFile, line: job.dataPathPosition?.line, column: job.dataPathPosition?.column,
                                 "the shards in \(job.resolvedDataPath) were cut by user key \(m.userKey), the job says \(job.userKey)")
            }
            self.table = nil
            self.manifest = m
            self.dataFile = m.source
            header = m.header
        }
        // A column the job reads must be named once in the header.
        var checked = Set<String>()
        for name in job.userKey + formula.columns where checked.insert(name).inserted && header.filter({ $0 == name }).count > 1 {
            let positions = header.indices.filter { header[$0] == name }.map { "\($0 + 1)" }
            throw InputError(file: dataFile, line: 1, column: Int(positions[1]),
                             "the header names '\(name)' more than once (columns \(positions.joined(separator: ", "))); the job cannot tell which to read")
        }
        var keyColumns: [Int] = []
        for k in job.userKey {
            guard let i = header.firstIndex(of: k) else {
                var hint = ""
                if header.count <= 20 { hint = " (the header has: \(header.map { "'\($0)'" }.joined(separator: ", ")))" }
                throw InputError(file: dataFile, line: 1, "no column '\(k)' in the header, needed by data.user_key in \(job.jobFile)\(hint)")
            }
            keyColumns.append(i)
        }
        self.userKeyColumns = keyColumns
        for factor in [formula.outcome] + formula.factors {
            for c in factor.expression.columns where !header.contains(c) {
                throw job.inputError(FormulaError("unknown column '\(c)': it is not in the header of \(dataFile)", at: factor.offset))
            }
        }
        let columns = formula.columns
        self.planColumns = columns.map { header.firstIndex(of: $0)! }
        var levelColumns: [String] = []
        for f in formula.factors {
            if case .column(let c) = f.expression, !levelColumns.contains(c) { levelColumns.append(c) }
        }
        var outcomeColumn: String? = nil
        if case .column(let c) = formula.outcome.expression { outcomeColumn = c }
        var plan = JobPlan(jobID: jobID, kind: job.kind, formula: job.formula, folds: job.folds, foldBy: job.foldBy,
                           columns: columns, columnNumbers: planColumns.map { $0 + 1 }, levelColumns: levelColumns,
                           outcomeColumn: outcomeColumn)
        plan.userKey = job.userKey
        self.plan = plan
    }

    /// The shard file of shard s, when the job reads shard files.
    public func shardFile(_ s: Int) -> String? {
        job.source == .shards ? ShardManifest.file(job.resolvedDataPath, shard: s) : nil
    }

    /// Reads every data row, hashes its user key to a shard and hands out per-shard batches of at most
    /// `batchRows` rows, in data order within each shard. Memory O(shards × batchRows).
    /// - Parameters:
    ///   - batchRows: rows per batch.
    ///   - emit: called with each full batch, and at the end with every remaining batch in shard order.
    /// - Returns: the number of data rows.
    /// - Throws: `InputError` for malformed rows or a file with no data rows; whatever `emit` throws.
    public func streamRows(batchRows: Int, emit: (RowBatch) throws -> Void) throws -> Int {
        guard let table else { return 0 }  // shard files: nothing to stream
        var pending = [RowBatch?](repeating: nil, count: job.shards)
        var total = 0
        let selection = userKeyColumns + planColumns
        let keyCount = userKeyColumns.count
        do {
            while let record = try table.next(selecting: selection) {
                let h = UserKey.hash(record.fields[..<keyCount])
                let s = UserKey.shard(hash: h, shards: job.shards)
                var batch = pending[s] ?? RowBatch(shard: s)
                batch.rowIndex.append(record.index)
                batch.line.append(record.line)
                batch.userHash.append(h)
                batch.fields.append(contentsOf: record.fields[keyCount...])
                total += 1
                if batch.count >= batchRows {
                    try emit(batch)
                    pending[s] = nil
                } else {
                    pending[s] = batch
                }
            }
        } catch let e as TabularError { throw InputError(e) }
        guard total > 0 else { throw InputError(file: job.resolvedDataPath, line: 2, "the file has a header but no data rows") }
        for case let batch? in pending { try emit(batch) }
        return total
    }
}
