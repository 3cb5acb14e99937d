import Foundation
import Jobs
import Statistics
import SwiftProtobuf

/// Encoding and decoding of envelopes, and the conversions between wire messages and domain values.
///
/// Protobuf types stay in this layer: they become `Jobs` and `Statistics` values here, where decoded sizes are
/// checked, so deeper preconditions only ever catch bugs.
enum Wire {
    /// The protocol version this build speaks.
    static let protocolVersion: UInt32 = 3

    /// Why a frame was dropped.
    struct DecodeError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static func envelope(jobID: String = "", round: UInt64 = 0, _ body: Causa_Wire_Envelope.OneOf_Body)
        -> Causa_Wire_Envelope
    {
        var e = Causa_Wire_Envelope()
        e.protocolVersion = protocolVersion
        e.jobID = jobID
        e.round = round
        e.body = body
        return e
    }

    static func encode(_ envelope: Causa_Wire_Envelope) -> [UInt8] {
        // Serialising a message with only proto3 fields cannot fail.
        (try? envelope.serializedBytes()) ?? []
    }

    /// Decodes one frame; throws when it is not an envelope or speaks another protocol version.
    static func decode(_ frame: [UInt8]) throws -> Causa_Wire_Envelope {
        let e: Causa_Wire_Envelope
        do { e = try Causa_Wire_Envelope(serializedBytes: frame) } catch {
            throw DecodeError(message: "undecodable frame of \(frame.count) bytes: \(error)")
        }
        guard e.protocolVersion == protocolVersion else {
            throw DecodeError(message: "protocol version \(e.protocolVersion), this build speaks \(protocolVersion)")
        }
        guard e.body != nil else { throw DecodeError(message: "envelope without a body") }
        return e
    }

    // MARK: decoded numbers

    /// Largest count (rows, users, texts) a message may carry: 2⁴⁰, far above any data set, and small enough that
    /// sums over 65536 shards and products with a dimension stay inside `Int`.
    static let maximumCount: UInt64 = 1 << 40
    /// Largest vector dimension (text encoders make 384) or moment-matrix dimension a message may carry.
    static let maximumDimension = 1 << 16

    /// A count from the wire as `Int`; throws above `maximumCount` instead of trapping in `Int(_:)`.
    static func count(_ v: UInt64, _ what: String) throws -> Int {
        guard v <= maximumCount else { throw DecodeError(message: "\(what) = \(v) is beyond any data set") }
        return Int(v)
    }

    /// A count carried as a Double (moment matrices, residual and logit statistics): finite, whole, 0...2⁴⁰ (the
    /// coordinator turns counts into `Int`s).
    static func checkCount(_ v: Double, _ what: String) throws {
        guard v.isFinite, v >= 0, v <= Double(maximumCount), v.rounded() == v else {
            throw DecodeError(message: "\(what) = \(v) is not a count")
        }
    }

    /// A row index or line from the wire, for messages and ordering only: clamped into `Int`.
    static func position(_ v: UInt64) -> Int { Int(clamping: v) }

    // MARK: symmetric matrices

    /// The upper triangle (row by row) of a symmetric [d, d] row-major matrix: d(d+1)/2 values on the wire.
    static func packSymmetric(_ m: [Double], _ d: Int) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(d * (d + 1) / 2)
        for i in 0..<d { for j in i..<d { out.append(m[i * d + j]) } }
        return out
    }

    /// Rebuilds a symmetric [d, d] matrix from its packed upper triangle; throws on a size mismatch.
    static func unpackSymmetric(_ packed: [Double], _ d: Int) throws -> [Double] {
        guard d >= 0, d <= maximumDimension else { throw DecodeError(message: "packed matrix of dimension \(d)") }
        guard packed.count == d * (d + 1) / 2 else {
            throw DecodeError(message: "packed matrix has \(packed.count) values, expected \(d * (d + 1) / 2)")
        }
        var m = [Double](repeating: 0, count: d * d)
        m.withUnsafeMutableBufferPointer { m in
            packed.withUnsafeBufferPointer { packed in
                // Rows of the upper triangle are contiguous in both; the lower triangle is then mirrored in tiles,
                // so neither pass strides through memory a column at a time.
                var k = 0
                for i in 0..<d {
                    let n = d - i
                    (m.baseAddress! + i * d + i).update(from: packed.baseAddress! + k, count: n)
                    k += n
                }
                let tile = 32
                for ib in stride(from: 0, to: d, by: tile) {
                    for jb in stride(from: 0, through: ib, by: tile) {
                        for i in ib..<min(ib + tile, d) {
                            for j in jb..<min(jb + tile, i) { m[i * d + j] = m[j * d + i] }
                        }
                    }
                }
            }
        }
        return m
    }

    // MARK: plan

    static func plan(_ p: JobPlan) -> Causa_Wire_JobPlan {
        var w = Causa_Wire_JobPlan()
        w.jobID = p.jobID
        w.kind = p.kind.rawValue
        w.formula = p.formula
        w.folds = UInt32(p.folds)
        w.foldBy = p.foldBy.rawValue
        w.columns = p.columns
        w.columnNumbers = p.columnNumbers.map { UInt32($0) }
        w.levelColumns = p.levelColumns
        w.outcomeColumn = p.outcomeColumn ?? ""
        w.userKey = p.userKey
        if let t = p.text { w.text = text(t) }
        w.categoricalColumns = p.categoricalColumns
        w.actionColumn = p.actionColumn ?? ""
        return w
    }

    static func text(_ t: TextSpec) -> Causa_Wire_TextPlan {
        var w = Causa_Wire_TextPlan()
        w.encoder = t.encoder.rawValue
        w.modelDir = t.modelDirectory ?? ""
        w.components = UInt32(t.components)
        w.usersPath = t.usersPath ?? ""
        w.userText = t.userText
        w.combine = t.combine.rawValue
        w.halfLifeDays = t.halfLifeDays ?? 0
        w.timestamp = t.timestamp ?? ""
        w.itemsPath = t.itemsPath ?? ""
        w.itemKey = t.itemKey ?? ""
        w.itemText = t.itemText
        w.cache = t.cache
        w.cacheDir = t.cacheDirectory ?? ""
        return w
    }

    static func text(_ w: Causa_Wire_TextPlan) throws -> TextSpec {
        guard let encoder = TextSpec.EncoderKind(rawValue: w.encoder),
            let combine = TextSpec.Combine(rawValue: w.combine),
            (1...TextSpec.maximumComponents).contains(Int(w.components))
        else {
            throw DecodeError(
                message: "text plan with encoder '\(w.encoder)', combine '\(w.combine)', components \(w.components)")
        }
        func optional(_ s: String) -> String? { s.isEmpty ? nil : s }
        var t = TextSpec(encoder: encoder)
        t.modelDirectory = optional(w.modelDir)
        t.components = Int(w.components)
        t.usersPath = optional(w.usersPath)
        t.userText = w.userText
        t.combine = combine
        t.halfLifeDays = w.halfLifeDays > 0 ? w.halfLifeDays : nil
        t.timestamp = optional(w.timestamp)
        t.itemsPath = optional(w.itemsPath)
        t.itemKey = optional(w.itemKey)
        t.itemText = w.itemText
        t.cache = w.cache
        t.cacheDirectory = optional(w.cacheDir)
        return t
    }

    static func entry(_ e: TextEntry) -> Causa_Wire_TextEntry {
        var w = Causa_Wire_TextEntry()
        w.keyHash = e.keyHash
        w.line = UInt64(e.line)
        w.key = e.key
        w.texts = e.texts
        return w
    }

    static func entry(_ w: Causa_Wire_TextEntry) -> TextEntry {
        TextEntry(keyHash: w.keyHash, line: position(w.line), key: w.key, texts: w.texts)
    }

    static func centre(_ high: [Double], _ low: [Double], _ p: Int) throws -> DesignCentre {
        guard high.isEmpty || high.count == p, low.isEmpty || low.count == p else {
            throw DecodeError(message: "a centre of the wrong size")
        }
        let zero = [Double](repeating: 0, count: p)
        return DesignCentre(high: high.isEmpty ? zero : high, low: low.isEmpty ? zero : low)
    }

    static func moments(_ p: MomentMatrix) -> Causa_Wire_MomentMatrix {
        var x = Causa_Wire_MomentMatrix()
        x.dimension = UInt32(p.dimension)
        x.count = p.count
        x.mean = p.mean
        x.comoment = packSymmetric(p.comoment, p.dimension)
        if p.meanLow.contains(where: { $0 != 0 }) { x.meanLow = p.meanLow }
        if p.count > 0 {
            x.minimum = p.minimum
            x.maximum = p.maximum
        }
        for (j, list) in p.firstLarge.enumerated() {
            for r in list {
                x.largeColumn.append(UInt32(j))
                x.largeRowIndex.append(UInt64(r.rowIndex))
                x.largeLine.append(UInt64(r.line))
            }
        }
        return x
    }

    static func moments(_ x: Causa_Wire_MomentMatrix, dimension d: Int) throws -> MomentMatrix {
        guard d >= 0, d <= maximumDimension, Int(x.dimension) == d, x.mean.count == d,
            x.minimum.count == x.maximum.count,
            x.minimum.isEmpty || x.minimum.count == d, x.meanLow.isEmpty || x.meanLow.count == d,
            x.largeColumn.count == x.largeRowIndex.count, x.largeColumn.count == x.largeLine.count,
            x.largeColumn.allSatisfy({ Int($0) < d }),
            x.largeColumn.count <= d * (1024 - MomentMatrix.largeExponentFloor),
            zip(x.largeColumn, x.largeColumn.dropFirst()).allSatisfy({ $0 <= $1 }),
            x.largeRowIndex.allSatisfy({ $0 <= UInt64(Int.max) }), x.largeLine.allSatisfy({ $0 <= UInt64(Int.max) })
        else { throw DecodeError(message: "moment matrix of wrong size") }
        try checkCount(x.count, "moment matrix count")
        var large = [[MomentMatrix.RowMark]](repeating: [], count: d)
        for (i, j) in x.largeColumn.enumerated() {
            large[Int(j)].append(MomentMatrix.RowMark(rowIndex: Int(x.largeRowIndex[i]), line: Int(x.largeLine[i])))
        }
        return MomentMatrix(
            dimension: d, count: x.count, mean: x.mean, comoment: try unpackSymmetric(x.comoment, d),
            meanLow: x.meanLow.isEmpty ? nil : x.meanLow, minimum: x.minimum.isEmpty ? nil : x.minimum,
            maximum: x.maximum.isEmpty ? nil : x.maximum,
            firstLarge: large)
    }

    static func plan(_ w: Causa_Wire_JobPlan) throws -> JobPlan {
        guard let kind = JobSpec.ModelKind(rawValue: w.kind), let foldBy = JobSpec.FoldBy(rawValue: w.foldBy) else {
            throw DecodeError(message: "plan with unknown kind '\(w.kind)' or fold_by '\(w.foldBy)'")
        }
        guard w.columns.count == w.columnNumbers.count, !w.columns.isEmpty else {
            throw DecodeError(message: "plan with mismatched columns")
        }
        guard w.folds == 0 || (2...1000).contains(w.folds) else {
            throw DecodeError(message: "plan with \(w.folds) folds")
        }
        var plan = JobPlan(
            jobID: w.jobID, kind: kind, formula: w.formula, folds: Int(w.folds), foldBy: foldBy, columns: w.columns,
            columnNumbers: w.columnNumbers.map { Int($0) }, levelColumns: w.levelColumns,
            outcomeColumn: w.outcomeColumn.isEmpty ? nil : w.outcomeColumn)
        plan.userKey = w.userKey
        if w.hasText { plan.text = try text(w.text) }
        // Columns the worker looks up by name must be in the plan (a worker indexes rows by them).
        let named =
            plan.text.map { t in
                (t.usersPath == nil ? t.userText : []) + [t.timestamp, t.itemKey].compactMap { $0 }
            } ?? []
        if let missing = named.first(where: { !w.columns.contains($0) }) {
            throw DecodeError(message: "plan without its column '\(missing)'")
        }
        plan.categoricalColumns = w.categoricalColumns
        if !w.actionColumn.isEmpty {
            guard w.columns.contains(w.actionColumn) else {
                throw DecodeError(message: "plan without its action column '\(w.actionColumn)'")
            }
            plan.actionColumn = w.actionColumn
        }
        return plan
    }

    // MARK: rows

    static func batch(_ b: RowBatch, sequence: UInt64) -> Causa_Wire_RowBatch {
        var w = Causa_Wire_RowBatch()
        w.shard = UInt32(b.shard)
        w.sequence = sequence
        w.rowIndex = b.rowIndex.map { UInt64($0) }
        w.line = b.line.map { UInt64($0) }
        w.userHash = b.userHash
        w.fields = b.fields
        return w
    }

    static func batch(_ w: Causa_Wire_RowBatch, columns: Int) throws -> RowBatch {
        let n = w.rowIndex.count
        guard w.line.count == n, w.userHash.count == n, w.fields.count == n * columns else {
            throw DecodeError(
                message:
                    "row batch with \(n) rows, \(w.line.count) lines, \(w.userHash.count) hashes, \(w.fields.count) fields for \(columns) columns"
            )
        }
        return RowBatch(
            shard: Int(w.shard), rowIndex: w.rowIndex.map(position), line: w.line.map(position),
            userHash: w.userHash, fields: w.fields)
    }

    // MARK: round payloads

    /// A payload message's bytes.
    static func bytes(_ message: some SwiftProtobuf.Message) -> [UInt8] {
        (try? message.serializedBytes()) ?? []  // proto3 fields only: serialising cannot fail
    }

    /// A payload message from its bytes.
    static func message<M: SwiftProtobuf.Message>(_ type: M.Type, _ bytes: [UInt8]) throws -> M {
        do { return try M(serializedBytes: bytes) } catch {
            throw DecodeError(message: "undecodable \(M.protoMessageName) payload of \(bytes.count) bytes: \(error)")
        }
    }

    static func columnSchema(_ s: ColumnSchema) -> Causa_Wire_ColumnSchema {
        var c = Causa_Wire_ColumnSchema()
        c.name = s.name
        c.isNumeric = s.info.isNumeric
        c.isIntegral = s.info.isIntegral
        c.levels = s.info.levels.map(factorValue)
        return c
    }

    static func columnSchema(_ c: Causa_Wire_ColumnSchema) throws -> ColumnSchema {
        ColumnSchema(
            name: c.name,
            info: ColumnInfo(isNumeric: c.isNumeric, isIntegral: c.isIntegral, levels: try c.levels.map(factorValue)))
    }

    static func factorValue(_ v: FactorValue) -> Causa_Wire_FactorValue {
        var w = Causa_Wire_FactorValue()
        switch v {
        case .number(let x): w.number = x
        case .string(let s): w.text = s
        case .bool(let b): w.truth = b
        }
        return w
    }

    static func factorValue(_ w: Causa_Wire_FactorValue) throws -> FactorValue {
        switch w.value {
        case .number(let x): return .number(x)
        case .text(let s): return .string(s)
        case .truth(let b): return .bool(b)
        case nil: throw DecodeError(message: "empty factor value")
        }
    }

    // MARK: failures

    static func failure(_ f: ShardFailure) -> Causa_Wire_ShardFailure {
        var m = Causa_Wire_ShardFailure()
        m.rowIndex = UInt64(f.rowIndex)
        m.line = UInt64(f.line)
        m.column = UInt32(f.column ?? 0)
        m.message = f.message
        m.internal = f.isInternal
        return m
    }

    static func failure(_ f: Causa_Wire_ShardFailure) -> ShardFailure {
        ShardFailure(
            rowIndex: position(f.rowIndex), line: position(f.line), column: f.column == 0 ? nil : Int(f.column),
            message: f.message, isInternal: f.internal)
    }

    static func cell(_ r: CellReference) -> Causa_Wire_CellReference {
        var w = Causa_Wire_CellReference()
        w.rowIndex = UInt64(r.rowIndex)
        w.line = UInt64(r.line)
        w.value = r.value
        return w
    }

    static func cell(_ has: Bool, _ w: Causa_Wire_CellReference) -> CellReference? {
        has ? CellReference(rowIndex: position(w.rowIndex), line: position(w.line), value: w.value) : nil
    }
}
