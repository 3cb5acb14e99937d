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
    static let protocolVersion: UInt32 = 1

    /// Why a frame was dropped.
    struct DecodeError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static func envelope(jobID: String = "", round: UInt64 = 0, _ body: Causa_Wire_Envelope.OneOf_Body) -> Causa_Wire_Envelope {
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
        guard packed.count == d * (d + 1) / 2 else { throw DecodeError(message: "packed matrix has \(packed.count) values, expected \(d * (d + 1) / 2)") }
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
        guard let encoder = TextSpec.EncoderKind(rawValue: w.encoder), let combine = TextSpec.Combine(rawValue: w.combine),
              (1...TextSpec.maximumComponents).contains(Int(w.components)) else {
            throw DecodeError(message: "text plan with encoder '\(w.encoder)', combine '\(w.combine)', components \(w.components)")
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
        guard d >= 0, d <= maximumDimension, Int(x.dimension) == d, x.mean.count == d, x.minimum.count == x.maximum.count,
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
        return MomentMatrix(dimension: d, count: x.count, mean: x.mean, comoment: try unpackSymmetric(x.comoment, d),
                            meanLow: x.meanLow.isEmpty ? nil : x.meanLow, minimum: x.minimum.isEmpty ? nil : x.minimum,
                            maximum: x.maximum.isEmpty ? nil : x.maximum,
                            firstLarge: large)
    }

    static func plan(_ w: Causa_Wire_JobPlan) throws -> JobPlan {
        guard let kind = JobSpec.ModelKind(rawValue: w.kind), let foldBy = JobSpec.FoldBy(rawValue: w.foldBy) else {
            throw DecodeError(message: "plan with unknown kind '\(w.kind)' or fold_by '\(w.foldBy)'")
        }
        guard w.columns.count == w.columnNumbers.count, !w.columns.isEmpty else { throw DecodeError(message: "plan with mismatched columns") }
        guard w.folds == 0 || (2...1000).contains(w.folds) else {
            throw DecodeError(message: "plan with \(w.folds) folds")
        }
        var plan = JobPlan(jobID: w.jobID, kind: kind, formula: w.formula, folds: Int(w.folds), foldBy: foldBy, columns: w.columns,
                           columnNumbers: w.columnNumbers.map { Int($0) }, levelColumns: w.levelColumns,
                           outcomeColumn: w.outcomeColumn.isEmpty ? nil : w.outcomeColumn)
        plan.userKey = w.userKey
        if w.hasText { plan.text = try text(w.text) }
        // Columns the worker looks up by name must be in the plan (a worker indexes rows by them).
        let named = plan.text.map { t in
            (t.usersPath == nil ? t.userText : []) + [t.timestamp, t.itemKey].compactMap { $0 }
        } ?? []
        if let missing = named.first(where: { !w.columns.contains($0) }) {
            throw DecodeError(message: "plan without its column '\(missing)'")
        }
        plan.categoricalColumns = w.categoricalColumns
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
            throw DecodeError(message: "row batch with \(n) rows, \(w.line.count) lines, \(w.userHash.count) hashes, \(w.fields.count) fields for \(columns) columns")
        }
        return RowBatch(shard: Int(w.shard), rowIndex: w.rowIndex.map(position), line: w.line.map(position),
                        userHash: w.userHash, fields: w.fields)
    }

    // MARK: requests

    static func request(_ r: RoundRequest, shard: Int) -> Causa_Wire_RoundRequest {
        var w = Causa_Wire_RoundRequest()
        w.shard = UInt32(shard)
        switch r {
        case .summarize: w.summarize = .init()
        case .moments(let schema):
            var m = Causa_Wire_RoundRequest.Moments()
            m.schema = schema.map { s in
                var c = Causa_Wire_ColumnSchema()
                c.name = s.name
                c.isNumeric = s.info.isNumeric
                c.isIntegral = s.info.isIntegral
                c.levels = s.info.levels.map(factorValue)
                return c
            }
            w.moments = m
        case .residuals(let beta, let centre):
            var m = Causa_Wire_RoundRequest.Residuals()
            m.beta = beta
            if centre.high.contains(where: { $0 != 0 }) { m.centre = centre.high }
            if centre.low.contains(where: { $0 != 0 }) { m.centreLow = centre.low }
            w.residuals = m
        case .newton(let fits, let centre):
            var m = Causa_Wire_RoundRequest.Newton()
            if centre.high.contains(where: { $0 != 0 }) { m.centre = centre.high }
            if centre.low.contains(where: { $0 != 0 }) { m.centreLow = centre.low }
            m.fits = fits.map { f in
                var n = Causa_Wire_NewtonFit()
                n.fit = Int32(f.fit)
                n.beta = f.beta
                return n
            }
            w.newton = m
        case .embed(let r):
            var m = Causa_Wire_RoundRequest.Embed()
            m.users = r.users.map(entry)
            m.items = r.items.map(entry)
            w.embed = m
        case .features(let r):
            var m = Causa_Wire_RoundRequest.Features()
            m.components = UInt32(r.components)
            m.dimension = UInt32(r.dimension)
            m.userMean = r.userMean
            m.userAxes = r.userAxes
            m.itemKeys = r.itemKeys
            m.itemScores = r.itemScores
            m.vectorKeys = r.vectorKeys
            m.itemUnitVectors = r.vectors.rows(for: r.vectorKeys)
            w.features = m
        }
        return w
    }

    static func request(_ w: Causa_Wire_RoundRequest) throws -> RoundRequest {
        switch w.kind {
        case .summarize: return .summarize
        case .moments(let m):
            return .moments(schema: try m.schema.map { c in
                ColumnSchema(name: c.name, info: ColumnInfo(isNumeric: c.isNumeric, isIntegral: c.isIntegral, levels: try c.levels.map(factorValue)))
            })
        case .residuals(let r):
            return .residuals(beta: r.beta, centre: try centre(r.centre, r.centreLow, r.beta.count))
        case .embed(let e):
            return .embed(EmbedRequest(users: e.users.map(entry), items: e.items.map(entry)))
        case .features(let f):
            let k = Int(f.components), d = Int(f.dimension), m = f.itemKeys.count
            // Bounds first, so that the products below cannot overflow.
            guard (1...TextSpec.maximumComponents).contains(k), (1...maximumDimension).contains(d) else {
                throw DecodeError(message: "features request with k = \(k), d = \(d)")
            }
            guard (f.userMean.isEmpty && f.userAxes.isEmpty) || (f.userMean.count == d && f.userAxes.count == k * d),
                  f.itemScores.count == m * k, f.itemUnitVectors.count == f.vectorKeys.count * d else {
                throw DecodeError(message: "features request with sizes that do not match k = \(k), d = \(d), \(m) items")
            }
            return .features(FeatureRequest(components: k, dimension: d, userMean: f.userMean, userAxes: f.userAxes, itemKeys: f.itemKeys,
                                            itemScores: f.itemScores, vectorKeys: f.vectorKeys,
                                            vectors: ItemVectorTable(keys: f.vectorKeys, rows: f.itemUnitVectors, dimension: d)))
        case .newton(let n):
            guard let p = n.fits.first?.beta.count, n.fits.allSatisfy({ $0.beta.count == p }) else {
                throw DecodeError(message: "newton request with no fits or unequal β lengths")
            }
            return .newton(fits: n.fits.map { NewtonFit(fit: Int($0.fit), beta: $0.beta) },
                           centre: try centre(n.centre, n.centreLow, p))
        case nil: throw DecodeError(message: "round request without a kind")
        }
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

    // MARK: replies

    static func reply(_ r: ShardReply, shard: Int) -> Causa_Wire_RoundReply {
        var w = Causa_Wire_RoundReply()
        w.shard = UInt32(shard)
        switch r {
        case .summary(let s):
            var m = Causa_Wire_ShardSummary()
            m.rows = UInt64(s.rows)
            m.users = UInt64(s.users)
            m.columns = s.columns.map { c in
                var x = Causa_Wire_ColumnSummary()
                x.name = c.name
                x.numericCount = UInt64(c.numericCount)
                x.nonNumericCount = UInt64(c.nonNumericCount)
                x.allIntegral = c.allIntegral
                if let r = c.firstMissing { x.firstMissing = cell(r) }
                if let r = c.firstNonNumeric { x.firstNonNumeric = cell(r) }
                if let r = c.firstNonBinary { x.firstNonBinary = cell(r) }
                x.levels = c.levels
                x.levelsTruncated = c.levelsTruncated
                return x
            }
            m.itemKeys = s.itemKeys.map { k in
                var x = Causa_Wire_KeyOccurrence()
                x.key = k.key
                x.first = cell(k.first)
                return x
            }
            w.summary = m
        case .moments(let parts):
            var m = Causa_Wire_MomentList()
            m.folds = parts.map(moments)
            w.moments = m
        case .residuals(let s):
            var m = Causa_Wire_ResidualStatistic()
            m.count = s.count
            m.sumOfSquares = s.sumOfSquares
            m.meat = packSymmetric(s.meat, Int(Double(s.meat.count).squareRoot()))
            w.residuals = m
        case .newton(let parts):
            var m = Causa_Wire_LogitList()
            m.fits = parts.map { s in
                var x = Causa_Wire_LogitStatistic()
                x.dimension = UInt32(s.dimension)
                x.count = s.count
                x.logLikelihood = s.logLikelihood
                x.gradient = s.gradient
                x.information = packSymmetric(s.information, s.dimension)
                x.meat = packSymmetric(s.meat, s.dimension)
                x.testCount = s.testCount
                x.testSquaredError = s.testSquaredError
                x.minimumMargin = s.minimumMargin
                return x
            }
            w.newton = m
        case .failure(let f):
            var m = Causa_Wire_ShardFailure()
            m.rowIndex = UInt64(f.rowIndex)
            m.line = UInt64(f.line)
            m.column = UInt32(f.column ?? 0)
            m.message = f.message
            m.internal = f.isInternal
            w.failure = m
        case .embedded(let e):
            var m = Causa_Wire_EmbedStatistic()
            m.encoder = e.encoder
            m.dimension = UInt32(e.dimension)
            // Absent when the vectors carry them, or when the shard has no user with text (a d × d block of zeros).
            if e.userVectors.isEmpty, e.userMoments.count > 0 { m.userMoments = moments(e.userMoments) }
            m.usersWithText = UInt64(e.usersWithText)
            m.usersWithoutText = UInt64(e.usersWithoutText)
            if let r = e.firstUserWithoutRecord { m.firstUserWithoutRecord = cell(r) }
            m.itemVectors = e.itemVectors
            m.itemHasText = e.itemHasText
            m.textsEmbedded = UInt64(e.textsEmbedded)
            m.userVectors = e.userVectors
            w.embedded = m
        case .featuresReady(let rows):
            var m = Causa_Wire_FeaturesReady()
            m.rows = UInt64(rows)
            w.features = m
        }
        return w
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

    /// Decodes a reply, checking every size against the request it answers.
    static func reply(_ w: Causa_Wire_RoundReply, for request: RoundRequest, plan: JobPlan) throws -> ShardReply {
        switch w.kind {
        case .summary(let m):
            guard m.columns.map(\.name) == plan.columns else { throw DecodeError(message: "summary for other columns") }
            var s = ShardSummary(columns: try m.columns.map { c in
                var x = ColumnSummary(name: c.name)
                x.numericCount = try count(c.numericCount, "numeric cells")
                x.nonNumericCount = try count(c.nonNumericCount, "non-numeric cells")
                x.allIntegral = c.allIntegral
                x.firstMissing = cell(c.hasFirstMissing, c.firstMissing)
                x.firstNonNumeric = cell(c.hasFirstNonNumeric, c.firstNonNumeric)
                x.firstNonBinary = cell(c.hasFirstNonBinary, c.firstNonBinary)
                x.levels = c.levels
                x.levelsTruncated = c.levelsTruncated
                return x
            })
            s.rows = try count(m.rows, "rows")
            s.users = try count(m.users, "users")
            s.itemKeys = m.itemKeys.map { KeyOccurrence(key: $0.key, first: cell(true, $0.first)!) }
            return .summary(s)
        case .moments(let m):
            guard m.folds.count == plan.foldGroups else { throw DecodeError(message: "\(m.folds.count) fold moments, expected \(plan.foldGroups)") }
            let d = Int(m.folds.first?.dimension ?? 0)
            return .moments(try m.folds.map { try moments($0, dimension: d) })
        case .residuals(let m):
            guard case .residuals(let beta, _) = request else {
                throw DecodeError(message: "residual reply to another request")
            }
            try checkCount(m.count, "residual count")
            return .residuals(ResidualStatistic(count: m.count, sumOfSquares: m.sumOfSquares, meat: try unpackSymmetric(m.meat, beta.count)))
        case .newton(let m):
            guard case .newton(let fits, _) = request, m.fits.count == fits.count else {
                throw DecodeError(message: "newton reply with wrong fit count")
            }
            let p = fits[0].beta.count
            return .newton(try m.fits.map { x in
                guard Int(x.dimension) == p, x.gradient.count == p else { throw DecodeError(message: "logit statistic of wrong size") }
                try checkCount(x.count, "logit count")
                try checkCount(x.testCount, "logit test count")
                return LogitStatistic(dimension: p, count: x.count, logLikelihood: x.logLikelihood, gradient: x.gradient,
                                      information: try unpackSymmetric(x.information, p), meat: try unpackSymmetric(x.meat, p),
                                      testCount: x.testCount, testSquaredError: x.testSquaredError,
                                      minimumMargin: x.minimumMargin)
            })
        case .embedded(let m):
            guard case .embed(let r) = request else { throw DecodeError(message: "embed reply to another request") }
            let d = Int(m.dimension)
            guard d > 0, d <= maximumDimension, m.itemHasText.count == r.items.count,
                  m.itemVectors.count == r.items.count * d else {
                throw DecodeError(message: "embed reply with \(m.itemVectors.count) vector entries for \(r.items.count) items of dimension \(d)")
            }
            var e = EmbedStatistic(encoder: m.encoder, dimension: d,
                                   userMoments: m.hasUserMoments ? try moments(m.userMoments, dimension: d) : MomentMatrix(dimension: d),
                                   usersWithText: try count(m.usersWithText, "users with text"),
                                   usersWithoutText: try count(m.usersWithoutText, "users without text"),
                                   firstUserWithoutRecord: cell(m.hasFirstUserWithoutRecord, m.firstUserWithoutRecord),
                                   itemVectors: m.itemVectors, itemHasText: m.itemHasText,
                                   textsEmbedded: try count(m.textsEmbedded, "texts"))
            e.userVectors = m.userVectors
            return .embedded(e)
        case .features(let m):
            guard case .features = request else { throw DecodeError(message: "features reply to another request") }
            return .featuresReady(rows: try count(m.rows, "rows"))
        case .failure(let f):
            return .failure(ShardFailure(rowIndex: position(f.rowIndex), line: position(f.line),
                                         column: f.column == 0 ? nil : Int(f.column),
                                         message: f.message, isInternal: f.internal))
        case nil:
            throw DecodeError(message: "reply without a kind")
        }
    }
}
