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
    let formula: Formula
    var rows: [Int: RowBatch] = [:]
    var designs: [Int: ShardDesign] = [:]
    var spec: DesignMatrixSpec?
    /// Shards whose rows could not be loaded (a shard file); every round answers with this failure.
    var failures: [Int: ShardFailure] = [:]
    /// Per shard, the users' combined text vectors (nil: no text), from the embed round.
    var userVectors: [Int: [UInt64: [Double]]] = [:]
    /// Per shard and plan column, the cells parsed as numbers by the summary round (NaN where a cell is not a
    /// number), so the design does not parse them again.
    var numbers: [Int: [[Double]]] = [:]
    /// Per shard, [n, f] row-major: the text features of every row (`JobPlan.text.featureNames` order).
    var features: [Int: [Double]] = [:]
    /// Job-level broadcasts received, by name (`JobBroadcast`), kept for the job.
    var broadcasts: [String: any Sendable] = [:]
    /// Broadcasts that arrived but could not be taken, by name: why.
    var broadcastFailures: [String: String] = [:]
    /// Per shard, the learned policies' state (`LearnRound`): users, scores, top-k lists.
    var learned: [Int: LearnedShard] = [:]
    /// The policy this job deployed on this worker's shards (`DeployRound`), for the worker to keep after the job.
    public internal(set) var deployment: Deployment?

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
        precondition(
            batch.fields.count == batch.count * plan.columns.count,
            "add: batch has \(batch.fields.count) fields for \(batch.count) rows")
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

    /// The rows of `shard` held here.
    /// - Throws: `ShardFailure` (a worker fault) when this worker was not assigned the shard.
    public func batch(of shard: Int) throws -> RowBatch {
        guard let data = rows[shard] else {
            throw ShardFailure(
                rowIndex: 0, line: 0, column: nil, message: "this worker was not assigned shard \(shard)",
                isInternal: true)
        }
        return data
    }

    /// Answers one round for one shard: the round's computation, or the failure it (or loading the shard) found.
    public func answer<R: Round>(_ round: R.Type, _ request: R.Request, shard: Int) -> ShardAnswer<R.Statistic> {
        if let f = failures[shard] { return .failure(f) }
        do {
            _ = try batch(of: shard)
            return .success(try R.compute(request, shard: shard, in: self))
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
}
