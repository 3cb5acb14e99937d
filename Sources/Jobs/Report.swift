import Foundation

/// The report of a fit job, written to `DIR/report.json`.
///
/// Everything but `timings_s`, `cluster.workers` and `network` (which describe the run, not the result) is a
/// pure function of the job and the data: the same for any number of workers. (`network` is too for jobs without
/// `[text]`; a text job sends item vectors once per worker.) Keys are written sorted.
public struct FitReport: Codable, Sendable, Equatable {
    public var job: JobEcho
    public var cluster: ClusterInfo
    public var data: DataInfo
    public var model: ModelResult
    public var cv: CrossValidation?
    public var network: NetworkInfo
    public var timings_s: [String: Double]
    /// What the `[text]` table made (absent for jobs without one).
    public var text: TextInfo?
    /// A `sem` job's estimates, fit measures and effects.
    public var sem: SEMSection?
    /// A `bayes_linear` job's posterior.
    public var bayes: BayesSection?
    /// Off-policy estimates (`[policy]` jobs): one per policy and estimator, the logging policy first.
    public var ope: [OffPolicyEntry]?
    /// What the off-policy evaluation used.
    public var ope_info: OffPolicyInfo?
    /// Learned policies (`policy.learners`): their held-out values, constraint use and the deployed one.
    public var policy: PolicySection?
    /// Further files of the output folder by name (policy.json, recommendations.csv); not part of report.json.
    public var files: [String: Data] = [:]

    enum CodingKeys: String, CodingKey {
        case job, cluster, data, model, cv, network, timings_s, text, sem, bayes, ope, ope_info, policy
    }

    public init(
        job: JobEcho, cluster: ClusterInfo, data: DataInfo, model: ModelResult, cv: CrossValidation?,
        network: NetworkInfo, timings_s: [String: Double]
    ) {
        self.job = job
        self.cluster = cluster
        self.data = data
        self.model = model
        self.cv = cv
        self.network = network
        self.timings_s = timings_s
    }

    /// The job as read.
    public struct JobEcho: Codable, Sendable, Equatable {
        public var file: String
        public var data: [String: JSONValue]
        public var model: [String: String]
        public var cv: CVEcho?
        public var cluster: [String: Int]
        public struct CVEcho: Codable, Sendable, Equatable {
            public var folds: Int
            public var fold_by: String
        }
        public init(_ job: JobSpec) {
            file = job.jobFile
            data = [
                "path": .string(job.dataPath), "format": .string(job.format.rawValue),
                "user_key": .array(job.userKey.map { .string($0) })
            ]
            if job.delimiter != .comma { data["delimiter"] = .string(job.delimiter.rawValue) }
            model = ["kind": job.kind.rawValue]
            if job.kind == .sem { model["syntax"] = job.syntax ?? "" } else { model["formula"] = job.formula }
            cv = job.folds > 0 ? CVEcho(folds: job.folds, fold_by: job.foldBy.rawValue) : nil
            cluster = ["shards": job.shards]
        }
    }

    public struct ClusterInfo: Codable, Sendable, Equatable {
        public var workers: Int
        public var shards: Int
        public init(workers: Int, shards: Int) {
            self.workers = workers
            self.shards = shards
        }
    }

    public struct DataInfo: Codable, Sendable, Equatable {
        public var rows: Int
        public var users: Int
        public init(rows: Int, users: Int) {
            self.rows = rows
            self.users = users
        }
    }

    /// One row of the coefficient table (statsmodels' `summary()` columns).
    public struct Coefficient: Codable, Sendable, Equatable {
        public var name: String
        public var estimate: Double
        /// Classical (non-robust) standard error.
        public var std_error: Double
        /// HC1 sandwich standard error: n/(n−p) · H⁻¹ M H⁻¹.
        public var robust_std_error: Double
        /// t (OLS) or z (logit) = estimate / std_error.
        public var statistic: Double
        public var p_value: Double
        public var ci_low: Double
        public var ci_high: Double
    }

    public struct ModelResult: Codable, Sendable, Equatable {
        public var kind: String
        public var formula: String
        public var n: Int
        public var df_resid: Int
        /// "t" for OLS (Student t with df_resid), "z" for logit (standard normal).
        public var statistic: String
        public var coefficients: [Coefficient]
        public var log_likelihood: Double
        public var iterations: Int
        public var converged: Bool
        public var sigma2_mle: Double?
        public var sigma2: Double?
        public var rss: Double?
        public var warnings: [String]
    }

    public struct CrossValidation: Codable, Sendable, Equatable {
        public var folds: Int
        public var fold_by: String
        /// Pooled held-out mean squared error Σ SSEₖ / Σ nₖ (for a logit, of predicted probabilities: the Brier score).
        public var mse: Double
        public var fold_mse: [Double?]
        public var fold_rows: [Int]
        public var fold_converged: [Bool]?
    }

    /// The text features of a job: encoder, counts and how much variance the kept components explain.
    public struct TextInfo: Codable, Sendable, Equatable {
        /// The encoder's identifier (model files fingerprinted).
        public var encoder: String
        /// Vector dimension d.
        public var dimension: Int
        /// Principal components kept per side, k.
        public var components: Int
        /// The feature names the formula can use.
        public var features: [String]
        /// Users with some text (their vectors enter the user PCA) and without (their user features are 0).
        public var users_with_text: Int?
        public var users_without_text: Int?
        /// Items in the items file, and those with no text (their item features are 0).
        public var items: Int?
        public var items_without_text: Int?
        /// Distinct texts embedded, summed over shards.
        public var texts_embedded: Int
        /// Share of total variance of each kept component, [k].
        public var user_explained_variance: [Double]?
        public var item_explained_variance: [Double]?
        public var warnings: [String]
    }

    public struct NetworkInfo: Codable, Sendable, Equatable {
        /// Job-traffic payload bytes the coordinator sent (heartbeats and membership messages not counted).
        public var bytes_sent: Int
        /// Job-traffic payload bytes the coordinator received.
        public var bytes_received: Int
        /// The part of `bytes_sent` that is the row stream (row batches); the rest is plans and round requests.
        public var row_stream_bytes: Int
        public init(bytes_sent: Int, bytes_received: Int, row_stream_bytes: Int = 0) {
            self.bytes_sent = bytes_sent
            self.bytes_received = bytes_received
            self.row_stream_bytes = row_stream_bytes
        }
    }

    /// The report as pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // JSON has no NaN or infinity; a non-finite number that reaches a report is written as a string rather than
        // failing the whole job at its last step.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    /// Writes `dir/report.json` (and `files`) atomically: each to a temporary file in `dir`, then renamed; the report
    /// last.
    /// - Returns: the report's path.
    /// - Throws: `RunError` when the folder cannot be made or written.
    public func write(toDirectory dir: String) throws -> String {
        try Self.write(json: jsonData(), files: files, toDirectory: dir)
    }

    /// Writes report bytes to `dir/report.json` through a temporary file and a rename, so a reader never sees
    /// half a report; `files` first, the same way.
    public static func write(json: Data, files: [String: Data] = [:], toDirectory dir: String) throws -> String {
        var prefix = URL(fileURLWithPath: dir).standardizedFileURL
        while prefix.path != "/" {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: prefix.path, isDirectory: &isDirectory) {
                if !isDirectory.boolValue {
                    throw RunError("cannot create the output folder \(dir): \(prefix.path) is a file")
                }
                break
            }
            prefix.deleteLastPathComponent()
        }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw RunError(
                "cannot create the output folder \(dir): \((error as NSError).userInfo[NSUnderlyingErrorKey].map { "\($0)" } ?? "permission denied or read-only file system")"
            )
        }
        for name in files.keys.sorted() { _ = try writeAtomically(files[name]!, name: name, in: dir) }
        return try writeAtomically(json, name: "report.json", in: dir)
    }

    /// Writes `dir/name` through a temporary file and a rename.
    static func writeAtomically(_ data: Data, name: String, in dir: String) throws -> String {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
            throw RunError("refusing to write a file named '\(printable(name))' into the output folder")
        }
        let url = URL(fileURLWithPath: dir).appendingPathComponent(name)
        let tmp = URL(fileURLWithPath: dir).appendingPathComponent(".\(name).\(getpid()).tmp")
        do { try data.write(to: tmp) } catch {
            throw RunError("cannot write \(tmp.path): \(error.localizedDescription)")
        }
        if rename(tmp.path, url.path) != 0 {
            try? FileManager.default.removeItem(at: tmp)
            throw RunError("cannot rename \(tmp.path) to \(url.path): \(String(cString: strerror(errno)))")
        }
        return url.path
    }

    /// The coefficient table and headline numbers as text, for stdout.
    public func table() -> String {
        var out = "\(model.kind.uppercased()) \(printable(model.formula))\n"
        if sem != nil {
            // The model text as written, one statement per line, indented; comments and blank lines left out.
            let lines = model.formula.split(separator: "\n").map {
                $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            out = "SEM (lavaan syntax)\n" + lines.map { "  \($0)\n" }.joined()
        }
        out += "rows \(data.rows)  users \(data.users)  workers \(cluster.workers)  shards \(cluster.shards)\n"
        if let sem { return out + semTable(sem) + textLines() + offPolicyLines() }
        if let bayes {
            out += bayesTable(bayes)
            if let cv {
                out += "\(cv.folds)-fold CV (by \(cv.fold_by)) of the posterior mean: MSE \(fmt(cv.mse, digits: 8))\n"
            }
            return out + textLines() + offPolicyLines()
        }
        out +=
            "log-likelihood \(fmt(model.log_likelihood))  iterations \(model.iterations)  converged \(model.converged)\n"
        if let s = model.sigma2 { out += "sigma2 \(fmt(s))  sigma2_mle \(fmt(model.sigma2_mle ?? 0))\n" }
        let width = max(12, model.coefficients.map { printable($0.name).count }.max() ?? 0)
        out +=
            pad("", width)
            + ["coef", "std err", "HC1 se", model.statistic, "P>|\(model.statistic)|", "[0.025", "0.975]"].map {
                lpad($0, 12)
            }.joined() + "\n"
        for c in model.coefficients {
            out +=
                pad(c.name, width)
                + [c.estimate, c.std_error, c.robust_std_error, c.statistic, c.p_value, c.ci_low, c.ci_high].map {
                    lpad(fmt($0), 12)
                }.joined() + "\n"
        }
        if let cv {
            out +=
                "\(cv.folds)-fold CV (by \(cv.fold_by)): MSE \(fmt(cv.mse, digits: 8))  folds [\(cv.fold_mse.map { $0.map { fmt($0, digits: 6) } ?? "-" }.joined(separator: ", "))]\n"
        }
        out += textLines()
        for w in model.warnings { out += "warning: \(printable(w))\n" }
        return out + offPolicyLines()
    }

    /// The off-policy table: one line per policy and estimator, the logging policy first.
    private func offPolicyLines() -> String {
        guard let ope, let info = ope_info else { return "" }
        var out =
            "off-policy evaluation: \(info.rows_valued) rows, \(info.catalogue_size) items, reward model: \(printable(info.reward_model))\n"
        let width = max(12, ope.map { printable($0.policy).count }.max() ?? 0) + 2
        let level = fixed(100 * info.confidence, digits: 1)
        out +=
            pad("policy", width) + pad("estimator", 11)
            + ["estimate", "std err", "[\(level)%", "]"].map { lpad($0, 13) }.joined()
            + ["ESS", "max w"].map { lpad($0, 12) }.joined() + "\n"
        for e in ope {
            out +=
                pad(printable(e.policy), width) + pad(e.estimator, 11)
                + [e.estimate, e.se, e.ci_low, e.ci_high].map { lpad(fmt($0, digits: 6), 13) }.joined()
                + [e.ess, e.max_weight].map { lpad(fmt($0, digits: 2), 12) }.joined() + "\n"
        }
        for note in info.notes { out += "note: \(printable(note))\n" }
        return out + policyLines()
    }

    /// The learned policies: one line per learner, the deployed one marked.
    private func policyLines() -> String {
        guard let policy else { return "" }
        var out =
            "learned policies (\(policy.users) users, \(policy.candidates) candidate items, top \(policy.top_k), ε = \(fmt(policy.epsilon, digits: 3))\(policy.capacity.map { ", capacity \(fmt($0, digits: 3))" } ?? "")):\n"
        for l in policy.learners {
            var line =
                "  \(l.learner)\(l.learner == policy.deployed ? " (deployed)" : ""): predicted \(fmt(l.predicted_value, digits: 6))"
            if let dr = l.held_out.first(where: { $0.estimator == "dr" }) ?? l.held_out.first {
                line +=
                    ", \(dr.estimator) \(fmt(dr.estimate, digits: 6)) [\(fmt(dr.ci_low, digits: 6)), \(fmt(dr.ci_high, digits: 6))]"
            }
            line += ", max item share \(fmt(l.max_item_share, digits: 4))"
            if let m = l.mean_budget_column { line += ", mean \(policy.budget_column ?? "cost") \(fmt(m, digits: 6))" }
            if let gap = l.lp_gap { line += ", LP gap \(fmt(gap, digits: 3)) per user" }
            out += line + "\n"
        }
        for note in policy.notes { out += "note: \(printable(note))\n" }
        return out
    }

    private func textLines() -> String {
        guard let text else { return "" }
        var out =
            "text: encoder \(text.encoder), k = \(text.components) components, \(text.texts_embedded) texts embedded"
        if let u = text.user_explained_variance { out += ", user PCs explain \(fmt(100 * u.reduce(0, +), digits: 1))%" }
        if let i = text.item_explained_variance { out += ", item PCs explain \(fmt(100 * i.reduce(0, +), digits: 1))%" }
        out += "\n"
        for w in text.warnings { out += "warning: \(printable(w))\n" }
        return out
    }

    private func fmt(_ x: Double, digits: Int = 4) -> String {
        // Fixed notation up to 99999.9999 (11 characters with a sign), so table cells of 12 keep a space between them.
        if x != 0, abs(x) < 1e-3 || abs(x) >= 1e5 { return String(format: "%.\(digits - 1)e", x) }
        return fixed(x, digits: digits)
    }
}

/// A JSON value for heterogeneous echo fields.
public enum JSONValue: Codable, Sendable, Equatable {
    case string(String)
    case array([JSONValue])
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        }
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            self = .string(s)
        } else {
            self = .array(try c.decode([JSONValue].self))
        }
    }
}

extension FitReport {
    /// One off-policy estimate: a policy valued by one estimator (report section `ope`).
    public struct OffPolicyEntry: Codable, Sendable, Equatable {
        /// "logging", "uniform" or the policy file as the job file names it.
        public var policy: String
        /// "ipw", "snips", "dm", "dr", "switch_dr" or "mips" (obp 0.4.1's definitions; `OffPolicyEstimator`).
        public var estimator: String
        /// The estimated policy value (mean reward per valued row).
        public var estimate: Double
        /// Its standard error (per-row terms, divisor n − 1; SNIPS by the delta method).
        public var se: Double
        /// The normal-approximation interval at `policy.confidence`.
        public var ci_low: Double
        public var ci_high: Double
        /// Effective sample size (Σw)² / Σw² of the weights this estimator uses.
        public var ess: Double
        /// The largest weight (after the clip).
        public var max_weight: Double
        /// Rows whose weight `policy.clip` lowered.
        public var clipped_rows: Int
        /// switch-DR only: rows whose weight exceeded τ, valued by DM alone.
        public var switched_rows: Int?
        /// Rows valued.
        public var n: Int
    }

    /// What an off-policy evaluation used (report section `ope_info`).
    public struct OffPolicyInfo: Codable, Sendable, Equatable {
        /// |A|: the items of the items file, else the distinct logged actions.
        public var catalogue_size: Int
        /// Rows valued, and rows left out by `policy.positions`.
        public var rows_valued: Int
        public var rows_skipped: Int
        /// `policy.positions` (absent: every row).
        public var positions: [Int]?
        /// The reward model of DM, DR and switch-DR, and how rows were scored (cross-fitted or in-sample).
        public var reward_model: String
        public var confidence: Double
        public var clip: Double?
        public var switch_tau: Double
        /// k of the MIPS item clusters, when MIPS ran.
        public var mips_clusters: Int?
        /// The policies valued, in report order.
        public var policies: [String]
        /// `policy.estimators` as run, `policy.logging_policy`, `policy.missing` and `policy.seed`.
        public var estimators: [String]
        public var logging_policy: String?
        public var missing: String
        public var seed: Int
        public var notes: [String]
    }
}
