import Foundation
import Statistics
import TOMLKit
import Tabular

/// A fit job, as read from a TOML job file.
///
/// ```toml
/// [data]
/// path = "../../data/obd/random/all/all.csv"   # relative to the job file's folder
/// format = "csv"
/// user_key = ["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"]
/// [model]
/// kind = "logit"                                # "ols" | "logit"
/// formula = "click ~ C(position) + C(user_feature_0)"
/// [cv]
/// folds = 5
/// fold_by = "row"                               # "row" | "user"
/// [cluster]
/// shards = 64
/// ```
public struct JobSpec: Sendable, Equatable, Codable {
    /// Where a job's rows come from.
    public enum DataSource: String, Sendable, Codable {
        /// `data.path` is a CSV file the coordinator reads and streams to the workers.
        case file
        /// `data.path` is a folder made by `causa partition`; each worker reads its own shard files.
        case shards
    }

    /// The file formats `data.format` can name.
    public enum DataFormat: String, Sendable, Codable, CaseIterable {
        /// Delimited text with a header row (`data.delimiter`).
        case csv
    }

    /// Model families the engine fits.
    public enum ModelKind: String, Sendable, Codable, CaseIterable {
        /// Ordinary least squares (`formula`).
        case ols
        /// Logistic regression by Newton's method (`formula`).
        case logit
        /// A structural equation model in lavaan syntax (`syntax`), by maximum likelihood from the merged moments.
        case sem
        /// The conjugate normal–inverse-gamma Bayesian linear model (`formula`, prior keys); "bayes_linear" in job
        /// files and reports.
        case bayesLinear = "bayes_linear"
    }

    /// The prior of a `bayes_linear` model: β | σ² ~ N(m₀, σ² (λI)⁻¹), σ² ~ InvGamma(a₀, b₀).
    public struct BayesPrior: Sendable, Equatable, Codable {
        /// The prior families `model.prior` can name.
        public enum Kind: String, Sendable, Codable, CaseIterable {
            /// Proper and nearly flat (N(m₀, σ² (λI)⁻¹), InvGamma(a₀, b₀) with the keys' defaults); the default.
            case weak
            /// p(β, log σ) ∝ 1 (improper): the posterior mean is OLS.
            case flat
        }
        /// `model.prior`.
        public var kind: Kind = .weak
        /// `model.prior_mean`: m₀, one number for every coefficient or one per design column (default 0).
        public var mean: [Double]?
        /// `model.prior_precision`: λ (default 1e-6, a prior sd of 1000 σ per coefficient).
        public var precision: Double?
        /// `model.prior_shape`: a₀ (default 1e-3).
        public var shape: Double?
        /// `model.prior_scale`: b₀ (default 1e-3).
        public var scale: Double?
        /// `model.credible_level` (default 0.95).
        public var credibleLevel: Double = 0.95
    }

    /// How rows are assigned to cross-validation folds.
    public enum FoldBy: String, Sendable, Codable, CaseIterable {
        /// 0-based data-row index mod folds.
        case row
        /// A stable hash of the user key mod folds: all rows of a user are in one fold.
        case user
    }

    /// The job file path as given.
    public var jobFile: String
    /// `data.path` as written in the job file.
    public var dataPath: String
    /// `data.path` resolved against the job file's folder.
    public var resolvedDataPath: String
    /// `data.format`; only "csv".
    public var format: DataFormat
    /// `data.delimiter`: the field delimiter of the data, users and items files (`,` default; `;`, `"\t"`, `|`).
    /// Shard files written by `causa partition` are always comma-separated.
    public var delimiter: CSVDelimiter = .comma
    /// `data.source`: "file" (default) or "shards".
    public var source: DataSource = .file
    /// `data.user_key`: columns whose values together identify a user.
    public var userKey: [String]
    /// `model.kind`.
    public var kind: ModelKind
    /// `model.formula`, patsy syntax ("" for `sem`).
    public var formula: String
    /// `model.syntax`, lavaan syntax (`sem` only).
    public var syntax: String?
    /// `model.std_lv` (`sem` only, default false): lavaan's std.lv, every latent variance fixed at 1.
    public var stdLV = false
    /// Where `model.syntax`'s text starts: line and column of its first character in the job file.
    public var syntaxPosition: SourceLocation?
    /// `bayes_linear`'s prior.
    public var prior = BayesPrior()
    /// Where keys of `[model]` are (by key), for errors about them.
    public var modelPositions: [String: SourceLocation] = [:]
    /// `cv.folds` (≥ 2), or 0 when the job has no `[cv]` table.
    public var folds: Int
    /// `cv.fold_by`.
    public var foldBy: FoldBy
    /// `cluster.shards`: number of virtual shards S (1…65536).
    public var shards: Int
    /// Where `model.formula`'s string starts in the job file (line, column of the first character inside the
    /// quotes), to point formula errors at the job file.
    public var formulaPosition: SourceLocation?
    /// Where `cv.folds` is in the job file, for CV errors.
    public var cvPosition: SourceLocation?
    /// Where `data.path` is in the job file, for data-file errors.
    public var dataPathPosition: SourceLocation?
    /// Where `data.user_key` is in the job file.
    public var userKeyPosition: SourceLocation?
    /// The `[text]` table, when the job embeds texts.
    public var text: TextSpec?
    /// Where keys of `[text]` are in the job file (by key name), for errors about them.
    public var textPositions: [String: SourceLocation] = [:]
    /// The `[policy]` table, when the job values recommendation policies off-policy.
    public var policy: PolicySpec?

    /// A line and column in a text file, 1-based.
    public struct SourceLocation: Sendable, Equatable, Codable {
        public var line: Int
        public var column: Int
    }

    /// Reads a job file.
    /// - Parameter path: the TOML file.
    /// - Throws: `InputError` naming the file, line and column (TOML syntax errors, missing or ill-typed keys,
    ///   unknown values).
    public static func load(path: String) throws -> JobSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, "no such job file (or it cannot be read)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InputError(file: path, line: 1, "the job file is not UTF-8")
        }
        return try parse(text: text, path: path)
    }

    /// Parses job-file text; `path` is used for messages and to resolve relative data paths. The text is pre-scanned
    /// first (`JobTextGuard.prescan`): TOMLKit's parser aborts the process on some malformed text.
    /// - Throws: `InputError`.
    public static func parse(text: String, path: String) throws -> JobSpec {
        try JobTextGuard.prescan(text: text, path: path)
        return try parseUnchecked(text: text, path: path)
    }

    /// `parse` without the pre-scan: only to show what the TOML library does with raw text (tests, fuzzing).
    /// - Throws: `InputError`.
    public static func parseUnchecked(text: String, path: String) throws -> JobSpec {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw InputError(
                file: path, line: error.source.begin.line, column: error.source.begin.column,
                "TOML syntax error: \(error.description)")
        } catch {
            throw InputError(file: path, "TOML syntax error: \(error)")
        }
        let keys = KeyLocator(text: text)
        func fail(_ section: String, _ key: String?, _ message: String) -> InputError {
            let loc = key.flatMap { keys.locate(section: section, key: $0) } ?? keys.locate(section: section, key: nil)
            return InputError(file: path, line: loc?.line, column: loc?.column, message)
        }
        for key in table.keys where !["data", "model", "cv", "cluster", "text", "policy"].contains(key) {
            throw fail(
                "", key, "unknown table or key '\(key)' (expected [data], [model], [cv], [cluster], [text], [policy])")
        }
        func section(_ name: String, required: Bool) throws -> TOMLTable? {
            guard let value = table[name] else {
                if required { throw InputError(file: path, "missing table [\(name)]") }
                return nil
            }
            guard let t = value.table else { throw fail("", name, "'\(name)' must be a table, [\(name)]") }
            return t
        }
        func string(_ t: TOMLTable, _ s: String, _ key: String, default value: String? = nil) throws -> String {
            guard let v = t[key] else {
                if let value { return value }
                throw fail(s, nil, "missing key '\(key)' in [\(s)]")
            }
            guard let str = v.string else { throw fail(s, key, "'\(s).\(key)' must be a string") }
            return str
        }
        func integer(_ t: TOMLTable, _ s: String, _ key: String, default value: Int, range: ClosedRange<Int>) throws
            -> Int
        {
            guard let v = t[key] else { return value }
            guard let i = v.int else { throw fail(s, key, "'\(s).\(key)' must be an integer") }
            guard range.contains(i) else {
                throw fail(s, key, "'\(s).\(key)' must be in \(range.lowerBound)...\(range.upperBound), got \(i)")
            }
            return i
        }
        func checkKeys(_ t: TOMLTable, _ s: String, _ allowed: [String]) throws {
            for k in t.keys where !allowed.contains(k) {
                throw fail(s, k, "unknown key '\(k)' in [\(s)] (expected one of: \(allowed.joined(separator: ", ")))")
            }
        }

        let data = try section("data", required: true)!
        try checkKeys(data, "data", ["path", "format", "delimiter", "user_key", "source"])
        let dataPath = try string(data, "data", "path")
        let formatText = try string(data, "data", "format", default: DataFormat.csv.rawValue)
        guard let format = DataFormat(rawValue: formatText) else {
            let supported = DataFormat.allCases.map(\.rawValue).joined(separator: ", ")
            throw fail("data", "format", "data.format '\(formatText)' is not supported (supported: \(supported))")
        }
        let delimiterText = try string(data, "data", "delimiter", default: ",")
        guard let delimiter = CSVDelimiter(rawValue: delimiterText) else {
            let choices = CSVDelimiter.allCases.map(\.toml).joined(separator: ", ")
            throw fail(
                "data", "delimiter",
                "unknown data.delimiter \(String(reflecting: delimiterText)) (expected one of \(choices))")
        }
        let sourceText = try string(data, "data", "source", default: "file")
        guard let source = DataSource(rawValue: sourceText) else {
            throw fail("data", "source", "unknown data.source '\(sourceText)' (expected \"file\" or \"shards\")")
        }
        /// A column name or an array of distinct column names ([] when the key is absent).
        func strings(_ t: TOMLTable, _ s: String, _ key: String) throws -> [String] {
            guard let v = t[key] else { return [] }
            if let one = v.string { return [one] }
            guard let a = v.array else { throw fail(s, key, "'\(s).\(key)' must be an array of column names") }
            var out: [String] = []
            for item in a {
                guard let name = item.string else {
                    throw fail(s, key, "'\(s).\(key)' must be an array of column names")
                }
                out.append(name)
            }
            if let dup = out.first(where: { k in out.filter { $0 == k }.count > 1 }) {
                throw fail(s, key, "'\(s).\(key)' names '\(dup)' twice")
            }
            return out
        }
        let userKey = try strings(data, "data", "user_key")
        if data["user_key"] != nil, userKey.isEmpty {
            throw fail("data", "user_key", "'data.user_key' must name at least one column")
        }

        let model = try section("model", required: true)!
        let kindText = try string(model, "model", "kind")
        guard let kind = ModelKind(rawValue: kindText) else {
            throw fail(
                "model", "kind",
                "unknown model.kind '\(kindText)' (expected one of: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        let priorKeys = ["prior", "prior_mean", "prior_precision", "prior_shape", "prior_scale", "credible_level"]
        if kind != .sem, model["syntax"] != nil {
            throw fail(
                "model", "syntax",
                "model.syntax (lavaan syntax) is for kind = \"sem\"; this job has kind = \"\(kind.rawValue)\", which takes a formula"
            )
        }
        if kind == .sem, model["formula"] != nil {
            throw fail("model", "formula", "kind = \"sem\" takes model.syntax (lavaan syntax), not a formula")
        }
        switch kind {
        case .sem: try checkKeys(model, "model", ["kind", "syntax", "std_lv"])
        case .bayesLinear: try checkKeys(model, "model", ["kind", "formula"] + priorKeys)
        case .ols, .logit: try checkKeys(model, "model", ["kind", "formula"])
        }
        var modelPositions: [String: SourceLocation] = [:]
        for k in ["kind", "formula", "syntax", "std_lv"] + priorKeys {
            modelPositions[k] = keys.locate(section: "model", key: k)
        }
        let formula = kind == .sem ? "" : try string(model, "model", "formula")
        var syntax: String? = nil
        var syntaxPosition: SourceLocation? = nil
        var stdLV = false
        if kind == .sem {
            if let v = model["std_lv"] {
                guard let b = v.bool else { throw fail("model", "std_lv", "'model.std_lv' must be true or false") }
                stdLV = b
            }
            syntax = try string(model, "model", "syntax")
            if let p = keys.locate(section: "model", key: "syntax") {
                let rest = keys.lines[p.line - 1].dropFirst(p.column - 1)
                // A multi-line string whose opening triple quote ends the line: TOML drops that newline, so the text
                // starts on the next line.
                if rest.hasPrefix("\"\"\"") || rest.hasPrefix("'''") {
                    let after = rest.dropFirst(3)
                    syntaxPosition =
                        after.isEmpty ? .init(line: p.line + 1, column: 1) : .init(line: p.line, column: p.column + 3)
                } else {
                    syntaxPosition = .init(line: p.line, column: p.column + 1)
                }
            }
        }
        var prior = BayesPrior()
        if kind == .bayesLinear {
            func number(_ key: String) throws -> Double? {
                guard let v = model[key] else { return nil }
                guard let x = v.double ?? v.int.map(Double.init), x.isFinite else {
                    throw fail("model", key, "'model.\(key)' must be a number")
                }
                return x
            }
            let priorText = try string(model, "model", "prior", default: BayesPrior.Kind.weak.rawValue)
            guard let priorKind = BayesPrior.Kind(rawValue: priorText) else {
                throw fail("model", "prior", "unknown model.prior '\(priorText)' (expected weak or flat)")
            }
            prior.kind = priorKind
            if let v = model["prior_mean"] {
                if let x = v.double ?? v.int.map(Double.init) {
                    guard x.isFinite else {
                        throw fail(
                            "model", "prior_mean",
                            "'model.prior_mean' must be a finite number or an array of finite numbers")
                    }
                    prior.mean = [x]
                } else if let a = v.array {
                    prior.mean = try (0..<a.count).map { i in
                        guard let x = a[i].double ?? a[i].int.map(Double.init), x.isFinite else {
                            throw fail(
                                "model", "prior_mean", "'model.prior_mean' must be a number or an array of numbers")
                        }
                        return x
                    }
                } else {
                    throw fail("model", "prior_mean", "'model.prior_mean' must be a number or an array of numbers")
                }
            }
            prior.precision = try number("prior_precision")
            prior.shape = try number("prior_shape")
            prior.scale = try number("prior_scale")
            if let level = try number("credible_level") {
                // 1 − level is the tail probability: it must be below 1 too (a level of 5e-324 rounds it to 1).
                guard level > 0, level < 1, 1 - level < 1 else {
                    throw fail(
                        "model", "credible_level",
                        "'model.credible_level' must be between 0 and 1, got \(level)")
                }
                prior.credibleLevel = level
            }
            if let p = prior.precision, p <= 0 {
                throw fail("model", "prior_precision", "'model.prior_precision' must be positive")
            }
            if let a = prior.shape, a <= 0 {
                throw fail("model", "prior_shape", "'model.prior_shape' must be positive")
            }
            if let b = prior.scale, b <= 0 {
                throw fail("model", "prior_scale", "'model.prior_scale' must be positive")
            }
            if prior.kind == .flat,
                let key = ["prior_mean", "prior_precision", "prior_shape", "prior_scale"].first(where: {
                    model[$0] != nil
                })
            {
                throw fail(
                    "model", key,
                    "model.prior = \"flat\" takes no '\(key)' (the flat prior has no parameters); use prior = \"weak\" to set them"
                )
            }
        }

        var folds = 0
        var foldBy = FoldBy.row
        if let cv = try section("cv", required: false) {
            if kind == .sem {
                throw fail(
                    "cv", nil,
                    "[cv] is not available for model.kind = \"sem\" (a structural equation model is judged by its fit indices); remove the [cv] table"
                )
            }
            try checkKeys(cv, "cv", ["folds", "fold_by"])
            folds = try integer(cv, "cv", "folds", default: 5, range: 2...1000)
            let by = try string(cv, "cv", "fold_by", default: "row")
            guard let f = FoldBy(rawValue: by) else {
                throw fail("cv", "fold_by", "unknown cv.fold_by '\(by)' (expected row or user)")
            }
            foldBy = f
            if foldBy == .user, userKey.isEmpty {
                throw fail("cv", "fold_by", "cv.fold_by = \"user\" needs data.user_key")
            }
        }
        var shards = 64
        if let cluster = try section("cluster", required: false) {
            try checkKeys(cluster, "cluster", ["shards"])
            shards = try integer(cluster, "cluster", "shards", default: 64, range: 1...65536)
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ p: String) -> String {
            p.hasPrefix("/") ? p : base.appendingPathComponent(p).standardizedFileURL.path
        }
        let resolved = resolve(dataPath)
        var textSpec: TextSpec? = nil
        var textPositions: [String: SourceLocation] = [:]
        if let text = try section("text", required: false) {
            let allowed = [
                "encoder", "model_dir", "components", "users_path", "user_text", "combine", "half_life_days",
                "timestamp",
                "items_path", "item_key", "item_text", "cache", "cache_dir"
            ]
            try checkKeys(text, "text", allowed)
            for k in allowed { textPositions[k] = keys.locate(section: "text", key: k) }
            let encoderText = try string(text, "text", "encoder")
            guard let encoder = TextSpec.EncoderKind(rawValue: encoderText) else {
                throw fail(
                    "text", "encoder",
                    "unknown text.encoder '\(encoderText)' (expected one of: \(TextSpec.EncoderKind.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            var t = TextSpec(encoder: encoder)
            if let d = text["model_dir"] {
                guard let s = d.string else { throw fail("text", "model_dir", "'text.model_dir' must be a string") }
                t.modelDirectory = resolve(s)
            }
            t.components = try integer(text, "text", "components", default: 16, range: 1...TextSpec.maximumComponents)
            if let u = text["users_path"] {
                guard let s = u.string else { throw fail("text", "users_path", "'text.users_path' must be a string") }
                t.usersPath = resolve(s)
            }
            t.userText = try strings(text, "text", "user_text")
            let combineText = try string(text, "text", "combine", default: "mean")
            guard let combine = TextSpec.Combine(rawValue: combineText) else {
                throw fail("text", "combine", "unknown text.combine '\(combineText)' (expected mean or recency)")
            }
            t.combine = combine
            if let h = text["half_life_days"] {
                guard let v = h.double ?? h.int.map(Double.init), v > 0, v.isFinite else {
                    throw fail("text", "half_life_days", "'text.half_life_days' must be a positive number of days")
                }
                t.halfLifeDays = v
            }
            if text["timestamp"] != nil { t.timestamp = try string(text, "text", "timestamp") }
            if combine == .recency {
                guard t.usersPath == nil else {
                    throw fail(
                        "text", "combine",
                        "combine = \"recency\" weighs a user's texts by the timestamps of their rows, so user_text must name columns of data.path, not of users_path"
                    )
                }
                guard t.timestamp != nil else {
                    throw fail("text", "combine", "combine = \"recency\" needs text.timestamp (a column of days)")
                }
                guard t.halfLifeDays != nil else {
                    throw fail("text", "combine", "combine = \"recency\" needs text.half_life_days")
                }
            } else if t.halfLifeDays != nil || t.timestamp != nil {
                throw fail(
                    "text", t.halfLifeDays != nil ? "half_life_days" : "timestamp",
                    "text.half_life_days and text.timestamp are only used with combine = \"recency\"")
            }
            if t.usersPath != nil, t.userText.isEmpty {
                throw fail("text", "users_path", "text.users_path is set but text.user_text names no column of it")
            }
            if t.usersPath != nil, userKey.isEmpty {
                throw fail(
                    "text", "users_path",
                    "text.users_path is joined on data.user_key, and the job has none; set data.user_key (its columns must be in both files)"
                )
            }
            if let i = text["items_path"] {
                guard let s = i.string else { throw fail("text", "items_path", "'text.items_path' must be a string") }
                t.itemsPath = resolve(s)
                t.itemKey = try string(text, "text", "item_key")
                t.itemText = try strings(text, "text", "item_text")
                guard !t.itemText.isEmpty else {
                    throw fail("text", "items_path", "text.items_path is set but text.item_text names no column of it")
                }
            } else if text["item_key"] != nil || text["item_text"] != nil {
                throw fail(
                    "text", text["item_key"] != nil ? "item_key" : "item_text",
                    "text.item_key and text.item_text need text.items_path")
            }
            guard !t.userText.isEmpty || t.itemsPath != nil else {
                throw fail("text", nil, "[text] needs user_text (user texts) or items_path (item texts), or both")
            }
            if let c = text["cache"] {
                guard let b = c.bool else { throw fail("text", "cache", "'text.cache' must be true or false") }
                t.cache = b
            }
            if let d = text["cache_dir"] {
                guard let s = d.string else { throw fail("text", "cache_dir", "'text.cache_dir' must be a string") }
                t.cacheDirectory = resolve(s)
            }
            textSpec = t
        }
        var formulaPosition = keys.locate(section: "model", key: "formula")
        if let p = formulaPosition { formulaPosition = .init(line: p.line, column: p.column + 1) }
        var spec = JobSpec(
            jobFile: path, dataPath: dataPath, resolvedDataPath: resolved, format: format, source: source,
            userKey: userKey,
            kind: kind, formula: formula, folds: folds, foldBy: foldBy, shards: shards,
            formulaPosition: formulaPosition,
            cvPosition: keys.locate(section: "cv", key: "folds"),
            dataPathPosition: keys.locate(section: "data", key: "path"))
        spec.delimiter = delimiter
        spec.text = textSpec
        spec.textPositions = textPositions
        spec.userKeyPosition = keys.locate(section: "data", key: "user_key")
        spec.syntax = syntax
        spec.syntaxPosition = syntaxPosition
        spec.stdLV = stdLV
        spec.prior = prior
        spec.modelPositions = modelPositions
        if let t = try section("policy", required: false) {
            var outcome: String? = nil
            if kind != .sem, let f = try? Formula(formula), case .column(let c) = f.outcome.expression { outcome = c }
            spec.policy = try PolicySpec.parse(
                t, outcome: outcome, isSEM: kind == .sem, resolve: resolve,
                locate: { keys.locate(section: "policy", key: $0) },
                fail: { key, message in fail("policy", key, message) })
        }
        return spec
    }

    /// An input error pointing at a key of `[policy]` (or at the table when the key is not written).
    public func policyError(_ key: String?, _ message: String) -> InputError {
        let p = key.flatMap { policy?.positionsInJob[$0] }
        return InputError(
            file: jobFile, line: p?.line, column: p?.column, (key.map { "policy.\($0): " } ?? "") + message)
    }

    /// An input error pointing at a key of `[text]` (or at the table when the key is not written).
    public func textError(_ key: String, _ message: String) -> InputError {
        let p = textPositions[key]
        return InputError(file: jobFile, line: p?.line, column: p?.column, "text.\(key): \(message)")
    }

    /// An input error at a position of the model syntax (1-based line and column of the syntax text), mapped into
    /// the job file.
    public func syntaxError(line: Int?, column: Int?, _ message: String) -> InputError {
        guard let p = syntaxPosition else { return InputError(file: jobFile, "model.syntax: \(message)") }
        guard let line, let column else {
            return InputError(file: jobFile, line: p.line, column: p.column, "model.syntax: \(message)")
        }
        return InputError(
            file: jobFile, line: p.line + line - 1, column: line == 1 ? p.column + column - 1 : column,
            "model.syntax: \(message)")
    }

    /// An input error at a key of `[model]` (or at the table).
    public func modelError(_ key: String, _ message: String) -> InputError {
        let p = modelPositions[key]
        return InputError(file: jobFile, line: p?.line, column: p?.column, "model.\(key): \(message)")
    }

    /// Turns a formula error into an input error pointing into the job file.
    public func inputError(_ error: FormulaError) -> InputError {
        guard let p = formulaPosition else { return InputError(file: jobFile, "model.formula: \(error.message)") }
        return InputError(
            file: jobFile, line: p.line, column: p.column + (error.offset ?? 1) - 1, "model.formula: \(error.message)")
    }
}

/// Finds where `key = value` lines are in a TOML text, for error positions (TOMLKit does not expose them).
struct KeyLocator {
    let lines: [Substring]

    /// Lines split on LF bytes (a CRLF is one Character in Swift, so splitting Characters would miss it), CR dropped.
    init(text: String) {
        lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map {
            (bytes: Substring.UTF8View.SubSequence) -> Substring in
            let trimmed = bytes.last == 0x0D ? bytes.dropLast() : bytes
            return Substring(String(decoding: trimmed, as: UTF8.self))
        }
    }

    /// Position of the value of `key` in `[section]` ("" for the top level), or of the section header when key is nil.
    func locate(section: String, key: String?) -> JobSpec.SourceLocation? {
        var current = ""
        for (i, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                let header = line.split(separator: "#", maxSplits: 1).first.map(String.init) ?? line
                current = header.trimmingCharacters(in: CharacterSet(charactersIn: "[] \t"))
                if key == nil, current == section { return .init(line: i + 1, column: 1) }
                if section.isEmpty, let key, current == key { return .init(line: i + 1, column: 1) }
                continue
            }
            guard current == section, let key, let eq = raw.firstIndex(of: "=") else { continue }
            let name = raw[..<eq].trimmingCharacters(in: .whitespaces).trimmingCharacters(
                in: CharacterSet(charactersIn: "\"'"))
            if name == key {
                var valueStart = raw.index(after: eq)
                while valueStart < raw.endIndex, raw[valueStart] == " " || raw[valueStart] == "\t" {
                    valueStart = raw.index(after: valueStart)
                }
                return .init(line: i + 1, column: raw.distance(from: raw.startIndex, to: valueStart) + 1)
            }
        }
        return nil
    }
}
