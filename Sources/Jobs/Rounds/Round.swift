import Statistics

/// One round of Causa's computation: the coordinator sends every shard a request, each shard answers with a statistic
/// of its rows, and the coordinator checks the answers' shapes and merges them in shard order
/// (`ShardExecutor.run(_:job:)`, `ShardExecutor.merge(_:job:)`).
///
/// A round value holds what the coordinator knows when it starts the round (parameters, expected shapes); `request`
/// cuts it into per-shard requests, `compute` runs on the worker that owns a shard. A round's statistic is usually a
/// `SufficientStatistic` (merged in shard order); gathering rounds (`EmbedRound`) keep the shards' answers apart.
/// On the wire a round travels as bytes tagged by `id`, written by its `RoundCodec`.
public protocol Round: Sendable {
    /// What one shard is sent.
    associatedtype Request: Sendable
    /// What one shard answers.
    associatedtype Statistic: Sendable
    /// The round's id: tags its payload on the wire and names it in messages and logs. Unique among rounds.
    static var id: String { get }
    /// The request for shard `shard` (0 ≤ shard < S).
    func request(shard: Int) -> Request
    /// Whether `statistic`, shard `shard`'s answer, has the shape this round expects (the job fails otherwise).
    func accepts(_ statistic: Statistic, shard: Int) -> Bool
    /// The per-shard computation, on the worker that owns `shard`.
    /// - Throws: `ShardFailure` for a problem at a data cell, or a worker fault (`isInternal`); any other error is
    ///   reported as a worker fault.
    static func compute(_ request: Request, shard: Int, in workspace: ShardWorkspace) throws -> Statistic
}

/// A round whose requests and statistics cross the network: its payload codec. The wire envelope carries
/// `Round.id` and these bytes; adding a round means adding its `Round` type and this conformance.
public protocol RoundCodec: Round {
    /// The request's bytes.
    static func encode(request: Request) -> [UInt8]
    /// - Throws: when the bytes are not a request of this round for `plan` (sizes are checked here).
    static func decode(request bytes: [UInt8], plan: JobPlan) throws -> Request
    /// The statistic's bytes.
    static func encode(statistic: Statistic) -> [UInt8]
    /// - Throws: when the bytes are not an answer to `request` (sizes are checked against it).
    static func decode(statistic bytes: [UInt8], request: Request, plan: JobPlan) throws -> Statistic
}

/// One shard's answer to a round: its statistic, or the input error (or worker fault) it found.
public typealias ShardAnswer<Statistic> = Result<Statistic, ShardFailure>

/// Runs rounds on every shard of a job. The Cluster layer implements it over ZeroMQ; `InProcessExecutor`
/// implements it in memory for tests.
public protocol ShardExecutor: AnyObject {
    /// Number of virtual shards S.
    var shardCount: Int { get }
    /// Sends `requests[s]` to shard s (S requests) and returns every shard's answer, indexed by shard id 0..<S.
    /// Callers use `run(_:job:)`, which orders failures and checks shapes.
    /// - Throws: `RunError` when a worker fails or a wait times out.
    func answers<R: Round>(_ round: R.Type, perShard requests: [R.Request]) throws -> [ShardAnswer<R.Statistic>]
    /// Sends a job-level broadcast: each worker that owns a shard gets, once, the part its shards need
    /// (`JobBroadcast.part(forShards:)`) and keeps it for the job. Call it before the rounds that use it.
    /// - Throws: `RunError` when the broadcast must cross a transport and has no codec; the transport's errors.
    func broadcast<B: JobBroadcast>(_ value: B) throws
}

extension Round {
    public func accepts(_ statistic: Statistic, shard: Int) -> Bool { true }
}

extension ShardExecutor {
    /// The one entry point for rounds: sends `round`'s request to every shard, throws the failure of the earliest
    /// data row if any shard failed (failures without a row — shard files, worker faults — first, in shard order),
    /// checks every statistic's shape (`Round.accepts`), and returns the statistics indexed by shard id 0..<S.
    /// - Throws: `InputError` for a shard's input error (at its file, line and column), `RunError` for a worker fault
    ///   or a statistic of the wrong shape, and what `answers` throws.
    public func run<R: Round>(_ round: R, job prepared: PreparedJob) throws -> [R.Statistic] {
        let answers = try answers(R.self, perShard: (0..<shardCount).map(round.request(shard:)))
        precondition(answers.count == shardCount, "\(R.id): \(answers.count) answers for \(shardCount) shards")
        var first: (shard: Int, failure: ShardFailure)? = nil
        let position = { (f: ShardFailure) in f.line > 0 ? f.rowIndex : -1 }
        for (shard, answer) in answers.enumerated() {
            guard case .failure(let f) = answer else { continue }
            if first == nil || position(f) < position(first!.failure) { first = (shard, f) }
        }
        if let first { throw Self.error(first.failure, shard: first.shard, round: R.id, job: prepared) }
        return try answers.enumerated().map { shard, answer in
            guard case .success(let statistic) = answer, round.accepts(statistic, shard: shard) else {
                throw RunError("shard \(shard) answered the \(R.id) round with the wrong statistic")
            }
            return statistic
        }
    }

    /// `run(_:job:)`, then the statistics merged in shard order, starting from the identity
    /// (`SufficientStatistic.empty(like:)`).
    /// - Throws: as `run(_:job:)`.
    public func merge<R: Round>(_ round: R, job prepared: PreparedJob) throws -> R.Statistic
    where R.Statistic: SufficientStatistic {
        let parts = try run(round, job: prepared)
        return R.Statistic.merged(parts, into: .empty(like: parts[0]))
    }

    /// The error a shard's failure fails the job with: a worker fault is a `RunError`; an input error points at the
    /// data file's row (or, for a shard file that cannot be read, at that file).
    static func error(_ f: ShardFailure, shard: Int, round: String, job prepared: PreparedJob) -> Error {
        if f.isInternal { return RunError("shard \(shard) failed in the \(round) round on its worker: \(f.message)") }
        return InputError(
            file: f.line > 0 ? prepared.dataFile : (prepared.shardFile(shard) ?? prepared.dataFile),
            line: f.line > 0 ? f.line : nil, column: f.column, f.message)
    }
}

/// One statistic per fold group or per fit (the moments round's folds; the Newton round's fits, where the full fit
/// and the CV fits share rounds), merged element by element.
public struct StatisticList<Element: SufficientStatistic & Equatable>: SufficientStatistic, Equatable {
    /// One statistic per fold group or fit, in request order.
    public var items: [Element]
    public init(_ items: [Element]) { self.items = items }
    /// The empty statistic of each of `other`'s elements (the identity of `merge`, bit for bit).
    public static func empty(like other: StatisticList) -> StatisticList {
        StatisticList(other.items.map(Element.empty(like:)))
    }
    /// Merges element by element.
    /// - Precondition: the same number of elements.
    public mutating func merge(_ other: StatisticList) {
        precondition(
            other.items.count == items.count, "merge: \(other.items.count) statistics, expected \(items.count)")
        for i in items.indices { items[i].merge(other.items[i]) }
    }
}
