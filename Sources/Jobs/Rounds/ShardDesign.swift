import Statistics
import Tabular

/// How each data column is to be read when building the design (decided by the coordinator).
public struct ColumnSchema: Sendable, Equatable {
    public var name: String
    public var info: ColumnInfo
    public init(name: String, info: ColumnInfo) {
        self.name = name
        self.info = info
    }
}

/// What the residual and Newton rounds subtract from each design column, as an unevaluated sum high + low (the
/// column means to about twice Float64 precision; `DesignCentring`): x − centre is computed as (x − high) − low.
public struct DesignCentre: Sendable, Equatable {
    /// [p] rounded centre.
    public var high: [Double]
    /// [p] its rounding error.
    public var low: [Double]
    public init(high: [Double], low: [Double]) {
        precondition(high.count == low.count, "DesignCentre: \(high.count) and \(low.count) values")
        self.high = high
        self.low = low
    }
}

/// One shard's design: [n, p] row-major x, [n] y, and each row's fold.
struct ShardDesign {
    var x: [Double]
    var y: [Double]
    var fold: [Int]
}

extension ShardWorkspace {
    func design(for schema: [ColumnSchema]) throws -> DesignMatrixSpec {
        if let spec { return spec }
        let info = Dictionary(uniqueKeysWithValues: schema.map { ($0.name, $0.info) })
        let s = try DesignMatrixSpec(formula: formula, columns: info)
        spec = s
        return s
    }

    /// How `build` and the off-policy scorer read a shard's cells into the formula's factor values.
    struct RowReader {
        /// Per data column of the design (`DesignMatrixSpec.dataColumns` order): its plan slot, or −1 − the text
        /// feature's index; and whether it is read as a number.
        var reads: [(slot: Int, numeric: Bool)]
        /// The design's data-column names, in `reads` order.
        var names: [String]
        /// [n, f] row-major text features of the shard's rows.
        var features: [Double]
        var featureCount: Int
        /// Per plan column, the cells the summary round parsed as numbers (NaN: not a number), when kept.
        var parsed: [[Double]]?
        var columnCount: Int
        var columnNumbers: [Int]
        var columns: [String]

        /// Row i's factor values, in `reads` order.
        /// - Throws: `ShardFailure` at the row when a numeric column's cell is not a number.
        func values(_ i: Int, of data: RowBatch, into values: inout [FactorValue]) throws {
            let n = data.count
            for (k, (s, numeric)) in reads.enumerated() {
                if s < 0 {
                    values[k] = .number(features[i * featureCount + (-1 - s)])
                    continue
                }
                if numeric, let cached = parsed?[s], cached.count == n, !cached[i].isNaN {
                    values[k] = .number(cached[i])
                    continue
                }
                let text = data.fields[i * columnCount + s]
                if numeric {
                    guard let v = Cell.number(text) else {
                        throw ShardFailure(
                            rowIndex: data.rowIndex[i], line: data.line[i], column: columnNumbers[s],
                            message: "'\(text)' is not a number (column \(columns[s]))")
                    }
                    values[k] = .number(v)
                } else {
                    values[k] = .string(text)
                }
            }
        }
    }

    /// The reader of a shard's rows for `spec`.
    /// - Throws: `ShardFailure` (a worker fault) when the features round has not run for a design that needs text
    ///   features, or the plan or schema lacks a column of the design.
    func rowReader(_ data: RowBatch, spec: DesignMatrixSpec, schema: [ColumnSchema]) throws -> RowReader {
        let c = plan.columns.count
        let n = data.count
        let slot = Dictionary(uniqueKeysWithValues: plan.columns.enumerated().map { ($1, $0) })
        let info = Dictionary(uniqueKeysWithValues: schema.map { ($0.name, $0.info) })
        let featureNames = plan.text?.featureNames ?? []
        let featureSlot = Dictionary(uniqueKeysWithValues: featureNames.enumerated().map { ($1, $0) })
        let f = featureNames.count
        let rowFeatures = features[data.shard] ?? []
        if spec.dataColumns.contains(where: { featureSlot[$0] != nil }), rowFeatures.count != n * f {
            throw ShardFailure(
                rowIndex: 0, line: 0, column: nil,
                message: "internal: shard \(data.shard) has no text features (features round missing)", isInternal: true
            )
        }
        // (slot, numeric) for data columns; (−1 − feature index, true) for text features.
        let reads = try spec.dataColumns.map { name -> (slot: Int, numeric: Bool) in
            if let k = featureSlot[name] { return (-1 - k, true) }
            // A plan or schema that does not fit the formula: a wire fault, not the user's.
            guard let s = slot[name], let i = info[name] else {
                let message = "internal: column '\(name)' is not in the job's plan or schema"
                throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: message, isInternal: true)
            }
            return (s, i.isNumeric)
        }
        return RowReader(
            reads: reads, names: spec.dataColumns, features: rowFeatures, featureCount: f,
            parsed: numbers[data.shard].flatMap { $0.count == c ? $0 : nil }, columnCount: c,
            columnNumbers: plan.columnNumbers, columns: plan.columns)
    }

    func build(_ data: RowBatch, spec: DesignMatrixSpec, schema: [ColumnSchema]) throws -> ShardDesign {
        let p = spec.width
        let n = data.count
        let reader = try rowReader(data, spec: spec, schema: schema)
        var x = [Double](repeating: 0, count: n * p)
        var y = [Double](repeating: 0, count: n)
        var fold = [Int](repeating: 0, count: n)
        var row = [Double](repeating: 0, count: p)
        var values = [FactorValue](repeating: .number(0), count: reader.reads.count)
        var scratch = DesignMatrixSpec.Scratch(factors: spec.factors.count)
        for i in 0..<n {
            try reader.values(i, of: data, into: &values)
            do {
                y[i] = try spec.fill(values: values, row: &row, scratch: &scratch)
            } catch let error as FormulaError {
                throw ShardFailure(rowIndex: data.rowIndex[i], line: data.line[i], column: nil, message: error.message)
            }
            guard y[i].isFinite, row.allSatisfy(\.isFinite) else {
                let term = y[i].isFinite ? spec.columnNames[row.firstIndex { !$0.isFinite }!] : "the outcome"
                throw ShardFailure(
                    rowIndex: data.rowIndex[i], line: data.line[i], column: nil,
                    message: "\(term) is not finite in this row (log of 0 or less, division by 0, or overflow)")
            }
            if plan.kind == .logit, y[i] != 0, y[i] != 1 {
                throw ShardFailure(
                    rowIndex: data.rowIndex[i], line: data.line[i], column: nil,
                    message: "the outcome is \(y[i]); a logit needs 0 or 1")
            }
            for j in 0..<p { x[i * p + j] = row[j] }
            fold[i] =
                plan.folds > 0
                ? UserKey.fold(rowIndex: data.rowIndex[i], hash: data.userHash[i], folds: plan.folds, by: plan.foldBy)
                : 0
        }
        return ShardDesign(x: x, y: y, fold: fold)
    }

    func designOf(shard: Int) throws -> ShardDesign {
        if let d = designs[shard] { return d }
        if (rows[shard]?.count ?? 0) == 0 { return ShardDesign(x: [], y: [], fold: []) }
        throw ShardFailure(
            rowIndex: 0, line: 0, column: nil,
            message: "internal: shard \(shard) has no design (moments round missing)", isInternal: true)
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

    /// A request whose β does not fit the shard's design (a wire fault, not the user's).
    static func wrongWidth(_ p: Int, design d: ShardDesign) -> ShardFailure {
        ShardFailure(
            rowIndex: 0, line: 0, column: nil,
            message: "internal: β of \(p) values for a design of \(d.x.count) values and \(d.y.count) rows",
            isInternal: true)
    }
}
