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
    /// The users file of `[text]`, read and checked (unique keys), when the job has one.
    public let users: TextCatalog?
    /// The items file of `[text]`, read and checked (unique keys), when the job has one.
    public let items: TextCatalog?
    /// A `sem` job's parsed model.
    public let semModel: SEMModel?
    /// A `sem` job's observed variables in lavaan's order; the moments round returns them as the design
    /// [observed[1...], observed[0]] (a formula `observed[0] ~ 0 + observed[1] + …` made for the purpose).
    public let semVariables: [String]
    /// Where to write the reward model's predictions for every valued row and candidate item (`--export-predictions`;
    /// `[policy]` jobs with a reward model), or nil.
    public var predictionsPath: String?

    /// Parses the formula, opens the data (or the shard manifest) and checks every named column.
    /// - Throws: `InputError` naming the job file (formula syntax, unknown column, a text feature the `[text]` table
    ///   does not make, the model folder missing) or the data, users or items file (missing, empty, no header, a
    ///   named column missing, duplicate user or item keys).
    public init(job: JobSpec, jobID: String) throws {
        self.job = job
        var formula: Formula
        var semModel: SEMModel? = nil
        if job.kind == .sem {
            do { semModel = try SEMModel(parsing: job.syntax ?? "") } catch let e as SEMError {
                throw Self.semInputError(e, job: job)
            }
            formula = try Formula("y ~ 1")  // replaced once the header is known
        } else {
            do { formula = try Formula(job.formula) } catch let e as FormulaError { throw job.inputError(e) }
        }
        self.semModel = semModel
        let header: [String]
        switch job.source {
        case .file:
            let table: CSVTable
            do { table = try CSVTable(path: job.resolvedDataPath, delimiter: job.delimiter) } catch let e
                as TabularError
            {
                guard e.code == .unreadable, let p = job.dataPathPosition else { throw InputError(e) }
                // The file is not there: point at the job file's data.path too.
                throw InputError(
                    file: job.jobFile, line: p.line, column: p.column, "data.path: \(e.file): \(e.message)")
            }
            self.table = table
            self.manifest = nil
            self.dataFile = job.resolvedDataPath
            header = table.header
        case .shards:
            let m = try ShardManifest.load(folder: job.resolvedDataPath)
            guard m.shards == job.shards else {
                throw InputError(
                    file: job.jobFile, line: job.dataPathPosition?.line, column: job.dataPathPosition?.column,
                    "the shards in \(job.resolvedDataPath) were cut for \(m.shards) shards; set cluster.shards = \(m.shards)"
                )
            }
            guard m.userKey == job.userKey else {
                throw InputError(
                    file: job.jobFile, line: job.dataPathPosition?.line, column: job.dataPathPosition?.column,
                    "the shards in \(job.resolvedDataPath) were cut by user key \(m.userKey), the job says \(job.userKey)"
                )
            }
            self.table = nil
            self.manifest = m
            self.dataFile = m.source
            header = m.header
        }
        let features = job.text?.featureNames ?? []
        var semVariables: [String] = []
        if let model = semModel {
            do {
                let table = try SEMParameterTable(model: model, dataNames: header + features, stdLV: job.stdLV)
                try SEMIdentification.check(table)
                semVariables = table.observed
            } catch let e as SEMError { throw Self.semInputError(e, job: job) }
            guard semVariables.count >= 2 else {
                throw job.syntaxError(
                    line: nil, column: nil,
                    "the model has \(semVariables.count) observed variable; a structural equation model needs at least two"
                )
            }
            func quoted(_ name: String) -> String {
                "Q(\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    + "\")"
            }
            let text =
                quoted(semVariables[0]) + " ~ 0 + " + semVariables.dropFirst().map(quoted).joined(separator: " + ")
            do { formula = try Formula(text) } catch {
                throw RunError("internal: the moments formula for the SEM does not parse: \(text): \(error)")
            }
        }
        self.semVariables = semVariables
        self.formula = formula
        let formulaDataColumns = formula.columns.filter { !features.contains($0) }
        var textColumns: [String] = []
        if let t = job.text {
            if t.usersPath == nil { textColumns += t.userText + (t.timestamp.map { [$0] } ?? []) }
            if let k = t.itemKey { textColumns.append(k) }
            for name in formula.columns where features.contains(name) && header.contains(name) {
                throw InputError(
                    file: dataFile, line: 1, column: header.firstIndex(of: name)! + 1,
                    "the data has a column '\(name)', which is also the name of a text feature the formula uses; rename the column"
                )
            }
        }
        // A column the job reads must be named once in the header.
        do {
            try CSVTable.requireUnique(job.userKey + formulaDataColumns + textColumns, header: header, file: dataFile)
        } catch let e as TabularError { throw InputError(e) }
        let delimiterHint = table?.delimiterHint ?? ""
        var keyColumns: [Int] = []
        for k in job.userKey {
            guard let i = header.firstIndex(of: k) else {
                var hint = ""
                if header.count <= 20 {
                    hint = " (the header has: \(header.map { "'\($0)'" }.joined(separator: ", ")))"
                }
                throw InputError(
                    file: dataFile, line: 1,
                    "no column '\(k)' in the header, needed by data.user_key in \(job.jobFile)\(hint)\(delimiterHint)")
            }
            keyColumns.append(i)
        }
        self.userKeyColumns = keyColumns
        for factor in [formula.outcome] + formula.factors {
            for c in factor.expression.columns where !header.contains(c) && !features.contains(c) {
                throw job.inputError(
                    FormulaError(
                        "unknown column '\(c)': it is not in the header of \(dataFile)\(Self.featureHint(c, job.text))\(delimiterHint)",
                        at: factor.offset))
            }
        }
        if let t = job.text {
            for c in textColumns where !header.contains(c) {
                let key = c == t.itemKey ? "item_key" : c == t.timestamp ? "timestamp" : "user_text"
                throw job.textError(
                    key,
                    "no column '\(c)' in the header of \(dataFile)\(t.usersPath == nil && key == "user_text" ? " (without users_path, user_text names columns of data.path)" : "")\(delimiterHint)"
                )
            }
        }
        var columns = formulaDataColumns
        for c in textColumns where !columns.contains(c) { columns.append(c) }
        if let policy = job.policy {
            try Self.checkPolicy(policy, job: job, header: header, dataFile: dataFile, delimiterHint: delimiterHint)
            for c in policy.columns where !columns.contains(c) { columns.append(c) }
            if !policy.learners.isEmpty {
                let outcome = Set(formula.outcome.expression.columns)
                try Self.checkLearning(
                    policy, job: job, predictors: formulaDataColumns.filter { !outcome.contains($0) })
                // Workers write each user's key into recommendations.csv.
                for c in job.userKey where !columns.contains(c) { columns.append(c) }
            }
        }
        self.planColumns = columns.map { header.firstIndex(of: $0)! }
        var levelColumns: [String] = []
        var categoricalColumns: [String] = []
        for f in formula.factors {
            if case .column(let c) = f.expression, !features.contains(c), !levelColumns.contains(c) {
                levelColumns.append(c)
            }
            if f.forcedCategorical, case .column(let c) = f.expression, !categoricalColumns.contains(c) {
                categoricalColumns.append(c)
            }
        }
        var outcomeColumn: String? = nil
        if case .column(let c) = formula.outcome.expression { outcomeColumn = c }
        var plan = JobPlan(
            jobID: jobID, kind: job.kind, formula: job.kind == .sem ? formula.text : job.formula, folds: job.folds,
            foldBy: job.foldBy,
            columns: columns, columnNumbers: planColumns.map { $0 + 1 }, levelColumns: levelColumns,
            outcomeColumn: outcomeColumn)
        plan.userKey = job.userKey
        plan.text = job.text
        plan.categoricalColumns = categoricalColumns
        plan.actionColumn = job.policy?.action
        self.plan = plan
        if let t = job.text {
            if t.encoder == .minilm {
                let folder = ModelLocator.minilm(t.modelDirectory)
                guard FileManager.default.fileExists(atPath: folder + "/config.json") else {
                    throw job.textError(
                        t.modelDirectory == nil ? "encoder" : "model_dir",
                        "no MiniLM model in \(folder) (config.json, vocab.txt, model.safetensors); run scripts/fetch-model.sh or set text.model_dir"
                    )
                }
            }
            func missing(_ file: String, keyName: String, keyColumns: [String], textKey: String) -> (String, [String])
                -> InputError
            {
                { name, header in
                    let shown =
                        (header.count <= 20 ? " (it has: \(header.map { "'\($0)'" }.joined(separator: ", ")))" : "")
                        + CSVDelimiter.hint(header: header, readWith: job.delimiter)
                    if keyColumns.contains(name) {
                        let p = keyName == "data.user_key" ? job.userKeyPosition : job.textPositions["item_key"]
                        return InputError(
                            file: job.jobFile, line: p?.line, column: p?.column,
                            "\(keyName): no column '\(name)' in the header of \(file)\(shown); the key columns must have the same names in both files"
                        )
                    }
                    return job.textError(textKey, "no column '\(name)' in the header of \(file)\(shown)")
                }
            }
            users = try t.usersPath.map {
                try TextCatalog(
                    path: $0, delimiter: job.delimiter, keyColumns: job.userKey, textColumns: t.userText, what: "user",
                    missingColumn: missing($0, keyName: "data.user_key", keyColumns: job.userKey, textKey: "user_text"))
            }
            items = try t.itemsPath.map {
                try TextCatalog(
                    path: $0, delimiter: job.delimiter, keyColumns: [t.itemKey!], textColumns: t.itemText, what: "item",
                    missingColumn: missing($0, keyName: "text.item_key", keyColumns: [t.itemKey!], textKey: "item_text")
                )
            }
        } else {
            users = nil
            items = nil
        }
    }

    /// A SEM error as an input error pointing into the job file's model.syntax (identification messages name the
    /// equation's position in the model text; the error points at the first position the message names).
    static func semInputError(_ e: SEMError, job: JobSpec) -> InputError {
        switch e {
        case .syntax(let line, let column, let message): return job.syntaxError(line: line, column: column, message)
        case .unknownVariable(let name, let line, let column):
            return job.syntaxError(
                line: line, column: column,
                "unknown variable '\(name)': it is not a column of \(job.dataPath) (nor a text feature) and not a latent variable (define latent variables with =~)"
            )
        case .latentIsObserved(let name, let line, let column):
            return job.syntaxError(
                line: line, column: column, "latent variable '\(name)' has the name of a data column; rename it")
        case .notIdentified(let message), .singularLoop(let message):
            if let r = message.range(of: #"line (\d+), column (\d+)"#, options: .regularExpression) {
                let numbers = message[r].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
                return job.syntaxError(
                    line: numbers[0], column: numbers[1], message + " (lines and columns of the model text)")
            }
            return job.syntaxError(line: nil, column: nil, message)
        default: return job.syntaxError(line: nil, column: nil, e.description)
        }
    }

    /// Checks `[policy]` against the data header and the rest of the job before any row moves.
    /// - Throws: `InputError` at the `[policy]` key: a column missing from the header, an action column other than
    ///   `text.item_key` when there is an items file, MIPS asked for without a logging distribution or item texts,
    ///   a policy file that does not exist.
    static func checkPolicy(
        _ policy: PolicySpec, job: JobSpec, header: [String], dataFile: String, delimiterHint: String
    ) throws {
        for (key, column) in [
            ("action", policy.action), ("propensity", policy.propensity), ("reward", policy.reward),
            ("position", policy.position)
        ] {
            guard let column, !header.contains(column) else { continue }
            let shown =
                header.count <= 20 ? " (the header has: \(header.map { "'\($0)'" }.joined(separator: ", ")))" : ""
            throw job.policyError(
                job.policy?.positionsInJob[key] == nil ? nil : key,
                "no column '\(column)' in the header of \(dataFile)\(shown)\(delimiterHint)"
                    + (job.policy?.positionsInJob[key] == nil ? " (policy.\(key) defaults to the model's outcome)" : "")
            )
        }
        do { try CSVTable.requireUnique(policy.columns, header: header, file: dataFile) } catch let e as TabularError {
            throw InputError(e)
        }
        if let t = job.text, t.itemsPath != nil, let key = t.itemKey, key != policy.action {
            throw job.policyError(
                "action",
                "the action column '\(policy.action)' must be text.item_key ('\(key)'): the items file is the catalogue of actions"
            )
        }
        if policy.estimators?.contains(.mips) == true {
            guard policy.loggingPolicy != nil else {
                throw job.policyError(
                    "estimators",
                    "MIPS needs the logging policy's full distribution: set policy.logging_policy (\"uniform\" or a policy file)"
                )
            }
            guard job.text?.itemsPath != nil else {
                throw job.policyError(
                    "estimators",
                    "MIPS clusters items by their text embeddings: it needs a [text] table with items_path and item_text"
                )
            }
        }
        if job.kind == .sem, let e = policy.estimators?.first(where: \.needsRewardModel) {
            throw job.policyError(
                "estimators",
                "\(e.rawValue) needs a reward model, and a sem job has none (use an ols, logit or bayes_linear model)")
        }
        for case .file(let written, let resolved) in policy.files
        where !FileManager.default.fileExists(atPath: resolved) {
            let key =
                policy.evaluate.contains(.file(written: written, resolved: resolved)) ? "evaluate" : "logging_policy"
            throw job.policyError(key, "no such policy file: \(written) (\(resolved))")
        }
    }

    /// Checks the learning keys of `[policy]` (issue 12) against the job.
    /// - Throws: `InputError` at the `[policy]` key: learning without `data.user_key`, with a `sem` model, candidates
    ///   "items" without an items file, a formula column only the log has (not the item's, not the user key) that
    ///   `policy.at` does not give, an `at` column the formula does not read.
    static func checkLearning(_ policy: PolicySpec, job: JobSpec, predictors: [String]) throws {
        guard !job.userKey.isEmpty else {
            throw job.policyError(
                "learners", "learning a policy needs data.user_key: a policy recommends items to users")
        }
        guard job.kind != .sem else {
            throw job.policyError(
                "learners", "learning a policy needs a reward model (ols, logit or bayes_linear); a sem job has none")
        }
        var itemColumns: Set<String> = [policy.action]
        if let path = job.text?.itemsPath {
            if let table = try? CSVTable(path: path, delimiter: job.delimiter) { itemColumns.formUnion(table.header) }
        } else if policy.candidates == .items {
            throw job.policyError(
                "candidates", "candidates = \"items\" needs an items file ([text] items_path); use \"logged\"")
        }
        if let budget = policy.budget {
            guard job.text?.itemsPath != nil else {
                throw job.policyError(
                    "budget",
                    "policy.budget reads the cost column '\(budget.column)' from the items file: set [text] items_path")
            }
            guard itemColumns.contains(budget.column) else {
                throw job.policyError(
                    "budget", "the items file has no column '\(budget.column)' (policy.budget.column)")
            }
        }
        let known = itemColumns.union(job.userKey).union(policy.at.keys)
        if let missing = predictors.first(where: { !known.contains($0) }) {
            throw job.policyError(
                policy.positionsInJob["at"] == nil ? "learners" : "at",
                "the formula reads '\(missing)', which only the log has (it is not the item's nor the user key): give its value for new (user, item) pairs in policy.at, e.g. at = { \(missing) = … }"
            )
        }
        if let extra = policy.at.keys.sorted().first(where: { !predictors.contains($0) }) {
            throw job.policyError("at", "policy.at gives '\(extra)', which the formula does not read")
        }
    }

    /// Why a name that is not a data column might be meant as a text feature, or "".
    static func featureHint(_ name: String, _ text: TextSpec?) -> String {
        guard TextSpec.looksLikeFeature(name) else { return "" }
        guard let text else { return " (text features such as user_pc1, item_pc1 and affinity need a [text] table)" }
        if name == "affinity" { return " (affinity needs both text.user_text and text.items_path)" }
        if name.hasPrefix("item_pc"), text.itemsPath == nil { return " (item_pc features need text.items_path)" }
        if name.hasPrefix("user_pc"), text.userText.isEmpty { return " (user_pc features need text.user_text)" }
        return " (text.components = \(text.components): the features are numbered 1...\(text.components))"
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
                let h = UserKey.rowHash(
                    keyFields: record.fields[..<keyCount], rowIndex: record.index, hasKey: keyCount > 0)
                let s = UserKey.shard(hash: h, shards: job.shards)
                var batch = pending[s] ?? RowBatch(shard: s)
                pending[s] = nil  // drop the array's reference first, so the appends below do not copy the batch
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
        guard total > 0 else {
            throw InputError(file: job.resolvedDataPath, line: 2, "the file has a header but no data rows")
        }
        for case let batch? in pending { try emit(batch) }
        return total
    }
}
