import Statistics

/// The second round: each shard builds its design with the broadcast schema and returns the moments of [X, y] per
/// fold group (one group without CV), merged fold by fold in shard order.
public struct MomentsRound: Round {
    public static let id = "moments"
    /// The column schema every shard builds its design with.
    public struct Request: Sendable, Equatable {
        public var schema: [ColumnSchema]
        public init(schema: [ColumnSchema]) { self.schema = schema }
    }
    public var schema: [ColumnSchema]
    /// Fold groups K (1 without CV) and the moment dimension p + 1 every answer must have.
    public var groups: Int
    public var dimension: Int
    public init(schema: [ColumnSchema], groups: Int, dimension: Int) {
        self.schema = schema
        self.groups = groups
        self.dimension = dimension
    }
    public func request(shard: Int) -> Request { Request(schema: schema) }
    public func accepts(_ statistic: StatisticList<MomentMatrix>, shard: Int) -> Bool {
        statistic.items.count == groups && statistic.items.allSatisfy { $0.dimension == dimension }
    }
    public static func compute(_ request: Request, shard: Int, in workspace: ShardWorkspace) throws
        -> StatisticList<MomentMatrix>
    {
        StatisticList(try workspace.moments(try workspace.batch(of: shard), schema: request.schema))
    }
}

extension ShardWorkspace {
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
}
