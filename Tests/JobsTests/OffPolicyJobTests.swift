import CausaTestSupport
import Foundation
import Jobs
import Logging
import Simulation
import Tabular
import XCTest

/// `[policy]` jobs end to end in process (every request, broadcast and statistic through its codec's bytes):
/// off-policy estimates on the Open Bandit Dataset sample against values derived by hand from the rows, on
/// `causa simulate` data against the simulator's true policy values, the same report for any number of workers,
/// and the input errors of issue 11's acceptance 4.
final class OffPolicyJobTests: XCTestCase {
    /// The OBD random log (10,000 rows; uniform logging policy over 80 items, propensity 0.0125).
    let obd = Fixtures.path("obd/random_10k.csv")

    func outcome(_ text: String, in dir: URL, workers: Int = 2) throws -> FitDriver.Outcome {
        let path = try Fixtures.write(text, "job.toml", in: dir)
        let prepared = try PreparedJob(job: try JobSpec.load(path: path), jobID: "ope")
        let executor = try InProcessExecutor(prepared: prepared, workers: workers, encodesPayloads: true)
        return try FitDriver(prepared: prepared, logger: Logger(label: "test")).run(on: executor)
    }

    func obdJob(formula: String, cv: Bool, evaluate: String, extra: String = "", shards: Int = 16) -> String {
        """
        [data]
        path = "\(obd)"
        user_key = ["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"]
        [model]
        kind = "ols"
        formula = "\(formula)"
        \(cv ? "[cv]\nfolds = 5\n" : "")
        [cluster]
        shards = \(shards)
        [policy]
        action = "item_id"
        propensity = "propensity_score"
        position = "position"
        evaluate = \(evaluate)
        \(extra)
        """
    }

    /// The OBD rows as (item, click, propensity).
    func obdRows() throws -> [(item: String, click: Double, propensity: Double)] {
        let table = try CSVTable(path: obd)
        let columns = ["item_id", "click", "propensity_score"].map { table.header.firstIndex(of: $0)! }
        var rows: [(String, Double, Double)] = []
        while let r = try table.next(selecting: columns) {
            rows.append((r.fields[0], Double(r.fields[1])!, Double(r.fields[2])!))
        }
        return rows
    }

    func entry(_ o: FitDriver.Outcome, _ policy: String, _ estimator: String) throws -> FitReport.OffPolicyEntry {
        try XCTUnwrap(o.ope?.first { $0.policy == policy && $0.estimator == estimator }, "\(policy) \(estimator)")
    }

    /// Acceptance 1: the uniform policy on a uniform log has weight 1 on every row, so IPW and SNIPS are the mean
    /// click; so is the logging policy's value.
    func testUniformPolicyOnTheUniformLogIsTheMeanClick() throws {
        let dir = try Fixtures.folder()
        let o = try outcome(
            obdJob(formula: "click ~ C(position) + C(item_id)", cv: true, evaluate: #"["uniform", "logging"]"#), in: dir
        )
        let rows = try obdRows()
        let mean = rows.reduce(0) { $0 + $1.click } / Double(rows.count)
        for policy in ["logging", "uniform"] {
            for estimator in ["ipw", "snips"] {
                let e = try entry(o, policy, estimator)
                assertRelative(e.estimate, mean, 1e-12, "\(policy) \(estimator)")
                XCTAssertEqual(e.n, 10_000)
                XCTAssertEqual(e.max_weight, 1)
                assertRelative(e.ess, 10_000, 1e-12, "ESS of weights all 1")
            }
        }
        // The report lists the logging policy first, and gives it no DM or DR.
        XCTAssertEqual(o.ope?.first?.policy, "logging")
        XCTAssertEqual(o.ope?.filter { $0.policy == "logging" }.map(\.estimator), ["ipw", "snips"])
        XCTAssertEqual(o.opeInfo?.catalogue_size, 80)
        XCTAssertTrue(o.opeInfo?.reward_model.contains("cross-fitted") == true)
        // The interval is the mean ± z·sd/√n of the clicks.
        let sd = (rows.reduce(0) { $0 + ($1.click - mean) * ($1.click - mean) } / Double(rows.count - 1)).squareRoot()
        assertRelative(try entry(o, "uniform", "ipw").se, sd / Double(rows.count).squareRoot(), 1e-10, "se")
    }

    /// Acceptance 1: a non-uniform context-free policy's IPW, SNIPS, DM, DR and switch-DR against the formulas
    /// evaluated here on the rows. The reward model `click ~ C(item_id)` (in-sample) predicts each item's mean click.
    func testContextFreePolicyMatchesValuesDerivedByHand() throws {
        let dir = try Fixtures.folder()
        let policyFile = Fixtures.path("policies/obd-top-items.csv")
        let o = try outcome(obdJob(formula: "click ~ C(item_id)", cv: false, evaluate: "[\"\(policyFile)\"]"), in: dir)
        let rows = try obdRows()
        let policyTable = try CSVTable(path: policyFile)
        var pi: [String: Double] = [:]
        while let r = try policyTable.next() { pi[r.fields[0]] = Double(r.fields[1])! }
        var clicks: [String: (Double, Double)] = [:]
        for r in rows {
            let c = clicks[r.item] ?? (0, 0)
            clicks[r.item] = (c.0 + r.click, c.1 + 1)
        }
        let q = clicks.mapValues { $0.0 / $0.1 }
        let n = Double(rows.count)
        let w = rows.map { pi[$0.item]! / $0.propensity }
        let ipw = zip(w, rows).reduce(0) { $0 + $1.0 * $1.1.click } / n
        let snips = zip(w, rows).reduce(0) { $0 + $1.0 * $1.1.click } / w.reduce(0, +)
        let dm = pi.reduce(0) { $0 + $1.value * q[$1.key]! }
        let correction = zip(w, rows).map { $0 * ($1.click - q[$1.item]!) }
        let dr = dm + correction.reduce(0, +) / n
        let switchDR = dm + zip(w, correction).reduce(0) { $0 + ($1.0 <= 1 ? $1.1 : 0) } / n
        let name = policyFile
        assertRelative(try entry(o, name, "ipw").estimate, ipw, 1e-12, "IPW")
        assertRelative(try entry(o, name, "snips").estimate, snips, 1e-12, "SNIPS")
        assertRelative(try entry(o, name, "dm").estimate, dm, 1e-12, "DM")
        assertRelative(try entry(o, name, "dr").estimate, dr, 1e-12, "DR")
        assertRelative(try entry(o, name, "switch_dr").estimate, switchDR, 1e-12, "switch-DR")
        XCTAssertEqual(try entry(o, name, "switch_dr").switched_rows, w.filter { $0 > 1 }.count)
        XCTAssertEqual(try entry(o, name, "ipw").max_weight, w.max())
        XCTAssertTrue(o.opeInfo?.reward_model.contains("in-sample") == true)
    }

    /// Acceptance 1: the report is the same, bit for bit, for 1, 2 and 5 workers at one shard count.
    func testReportIsBitIdenticalForAnyNumberOfWorkers() throws {
        let dir = try Fixtures.folder()
        let policyFile = Fixtures.path("policies/obd-top-items.csv")
        let text = obdJob(
            formula: "click ~ C(position) + C(item_id)", cv: true,
            evaluate: "[\"logging\", \"uniform\", \"\(policyFile)\"]",
            extra: "clip = 1.5")
        let reports = try [1, 2, 5].map { try outcome(text, in: dir, workers: $0) }
        for r in reports.dropFirst() {
            XCTAssertEqual(try json(r.ope), try json(reports[0].ope))
            XCTAssertEqual(r.opeInfo, reports[0].opeInfo)
        }
        XCTAssertEqual(reports[0].ope?.count, 2 + 5 + 5)
        XCTAssertGreaterThan(try entry(reports[0], policyFile, "ipw").clipped_rows, 0)
    }

    /// JSON with sorted keys: Swift writes every Float64 in its shortest round-trip form, so equal bytes mean
    /// equal bits.
    func json<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }

    /// Acceptance 2: on simulated logs, position-1 rows, the 95% intervals of IPW, SNIPS and DR for the uniform and
    /// the oracle policy cover the simulator's true values (one fixed seed: a regression test; the coverage study in
    /// benchmarks/ope-coverage.sh is the real check).
    func testSimulatedTruthIsCoveredAtPositionOne() throws {
        let dir = try Fixtures.folder()
        _ = try Simulator.generate(SimulationConfig(users: 1500, items: 30, seed: 3)).write(to: dir.path)
        let truth =
            try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("truth.json")))
            as! [String: Any]
        let values = truth["policy_values"] as! [String: Double]
        let oracle = truth["oracle_items"] as! [Int]
        let oracleFile =
            "user_id,item_id,probability\n" + oracle.enumerated().map { "\($0.offset),\($0.element),1\n" }.joined()
        _ = try Fixtures.write(oracleFile, "oracle.csv", in: dir)
        let text = """
            [data]
            path = "impressions.csv"
            user_key = ["user_id"]
            [model]
            kind = "logit"
            formula = "click ~ C(position) + np.log(price) + C(category)"
            [cv]
            folds = 5
            fold_by = "user"
            [cluster]
            shards = 8
            [text]
            encoder = "hashing"
            items_path = "items.csv"
            item_key = "item_id"
            item_text = ["description"]
            [policy]
            action = "item_id"
            propensity = "propensity"
            position = "position"
            positions = [1]
            evaluate = ["logging", "uniform", "oracle.csv"]
            """
        let o = try outcome(text, in: dir)
        XCTAssertEqual(o.opeInfo?.catalogue_size, 30)
        XCTAssertEqual(o.opeInfo?.positions, [1])
        XCTAssertEqual(o.opeInfo?.rows_valued, 1500 * 7)
        for (policy, truthKey) in [("uniform", "uniform"), ("oracle.csv", "oracle"), ("logging", "logging")] {
            for estimator in policy == "logging" ? ["ipw", "snips"] : ["ipw", "snips", "dr"] {
                let e = try entry(o, policy, estimator)
                let v = values[truthKey]!
                XCTAssertTrue(
                    e.ci_low <= v && v <= e.ci_high,
                    "\(policy) \(estimator): [\(e.ci_low), \(e.ci_high)] does not cover the true value \(v)")
            }
        }
        // MIPS is not asked for and not possible without a logging distribution: absent, not zero.
        XCTAssertNil(o.ope?.first { $0.estimator == "mips" })
    }

    /// MIPS with one cluster per item is IPW (π(c) = π(a)); with one cluster for all items every marginal weight
    /// is 1 and MIPS is the mean reward. Clusters come from k-means on the items' text components.
    func testMIPSReducesToIPWAndToTheMeanAtItsExtremes() throws {
        let third = String(1.0 / 3.0)
        for k in [3, 1] {
            let dir = try Fixtures.folder()
            _ = try Fixtures.write(smallLog([String](repeating: third, count: 6)), "log.csv", in: dir)
            _ = try Fixtures.write(
                "item,description\na,red running shoe\nb,blue winter hat\nc,green garden chair\n", "items.csv", in: dir)
            let policy = "item,probability\na,0.6\nb,0.3\nc,0.1\n"
            _ = try Fixtures.write(policy, "policy.csv", in: dir)
            let text =
                smallJob(
                    evaluate: #"["uniform", "policy.csv"]"#,
                    extra: "logging_policy = \"uniform\"\nmips_clusters = \(k)\nestimators = [\"ipw\", \"mips\"]")
                + "\n[text]\nencoder = \"hashing\"\ncomponents = 2\nitems_path = \"items.csv\"\nitem_key = \"item\"\nitem_text = [\"description\"]\n"
            let o = try outcome(text, in: dir)
            XCTAssertEqual(o.opeInfo?.mips_clusters, k)
            for name in ["uniform", "policy.csv"] {
                if k == 1 {
                    // One cluster: every marginal weight is 1, and the diagnostics say so (not IPW's).
                    assertRelative(try entry(o, name, "mips").max_weight, 1, 1e-15, "MIPS max weight")
                    assertRelative(try entry(o, name, "mips").ess, 6, 1e-14, "MIPS ESS")
                }
                let mips = try entry(o, name, "mips").estimate
                if k == 3 {
                    assertRelative(mips, try entry(o, name, "ipw").estimate, 1e-15, "\(name): MIPS with k = |A|")
                } else {
                    assertRelative(mips, 0.5, 1e-15, "\(name): MIPS with k = 1 is the mean click")
                }
            }
            XCTAssertTrue(o.opeInfo?.notes.contains { $0.contains("may be biased") } == true)
        }
    }

    // MARK: acceptance 4: bad input

    /// A small log: user, item, position, click, propensity (columns 1–5).
    func smallLog(_ propensities: [String] = ["0.5", "0.5", "0.25", "0.25", "0.5", "0.5"]) -> String {
        let items = ["a", "b", "a", "c", "b", "c"]
        var text = "user,item,position,click,propensity\n"
        for i in 0..<6 { text += "u\(i % 3),\(items[i]),\(i % 2 + 1),\(i % 2),\(propensities[i])\n" }
        return text
    }

    func smallJob(evaluate: String = #"["uniform"]"#, extra: String = "") -> String {
        """
        [data]
        path = "log.csv"
        user_key = ["user"]
        [model]
        kind = "ols"
        formula = "click ~ C(item)"
        [cluster]
        shards = 3
        [policy]
        action = "item"
        propensity = "propensity"
        position = "position"
        evaluate = \(evaluate)
        \(extra)
        """
    }

    func inputError(log: String? = nil, policy: String? = nil, job: String? = nil) throws -> InputError {
        let dir = try Fixtures.folder()
        _ = try Fixtures.write(log ?? smallLog(), "log.csv", in: dir)
        if let policy { _ = try Fixtures.write(policy, "policy.csv", in: dir) }
        do {
            let o = try outcome(
                job ?? smallJob(evaluate: policy == nil ? #"["uniform"]"# : #"["policy.csv"]"#), in: dir)
            XCTFail("no error; estimates \(o.ope ?? [])")
        } catch let e as InputError { return e }
        throw InputError(file: "", "the job ran without an input error")
    }

    func testBadPropensitiesAreInputErrorsAtTheirCell() throws {
        for (value, words) in [
            ("0", "could not have chosen"), ("-0.2", "negative"), ("1.5", "it is 1.5"), ("", "missing"),
            ("abc", "'abc'")
        ] {
            var p = ["0.5", "0.5", "0.25", "0.25", "0.5", "0.5"]
            p[3] = value
            let e = try inputError(log: smallLog(p))
            XCTAssertTrue(e.file.hasSuffix("log.csv"), "\(value): \(e)")
            XCTAssertEqual(e.line, 5, "\(value): \(e)")
            XCTAssertEqual(e.column, 5, "\(value): \(e)")
            XCTAssertTrue(e.message.contains(words), "\(value): \(e.message)")
        }
    }

    func testPolicyFileProblemsAreInputErrorsAtTheirLine() throws {
        // Does not sum to 1.
        var e = try inputError(policy: "item,probability\na,0.5\nb,0.4\n")
        XCTAssertEqual([e.line, e.column], [2, 2], "\(e)")
        XCTAssertTrue(e.message.contains("sum to 0.9"), e.message)
        XCTAssertTrue(e.file.hasSuffix("policy.csv"))
        // An unknown item.
        e = try inputError(policy: "item,probability\na,0.5\nzz,0.5\n")
        XCTAssertEqual([e.line, e.column], [3, 1], "\(e)")
        XCTAssertTrue(e.message.contains("'zz' is not in the catalogue"), e.message)
        // A duplicate row.
        e = try inputError(policy: "item,probability\na,0.5\nb,0.25\na,0.25\n")
        XCTAssertEqual([e.line, e.column], [4, 1], "\(e)")
        XCTAssertTrue(e.message.contains("listed twice") && e.message.contains("line 2"), e.message)
        // Per position: position 2 sums to 1.1.
        e = try inputError(policy: "item,position,probability\na,1,1\na,2,0.6\nb,2,0.5\n")
        XCTAssertEqual(e.line, 3, "\(e)")
        XCTAssertTrue(e.message.contains("position 2"), e.message)
        // Compact form: ε makes the total 1.
        let dir = try Fixtures.folder()
        _ = try Fixtures.write(smallLog(), "log.csv", in: dir)
        _ = try Fixtures.write("item,probability,epsilon\na,0.8,0.2\n", "policy.csv", in: dir)
        let o = try outcome(smallJob(evaluate: #"["policy.csv"]"#), in: dir)
        // Rows: a (p .5, r 0), b (.5, 1), a (.25, 0), c (.25, 1), b (.5, 0), c (.5, 1); π(b) = π(c) = 0.1.
        let expected = (0.1 / 0.5 + 0.1 / 0.25 + 0.1 / 0.5) / 6
        assertRelative(try entry(o, "policy.csv", "ipw").estimate, expected, 1e-15, "compact-form IPW")
        // A per-user file missing a user: an error at that user's first valued data row.
        e = try inputError(policy: "user,item,probability\nu0,a,1\nu1,b,1\n")
        XCTAssertTrue(e.file.hasSuffix("log.csv"), "\(e)")
        XCTAssertEqual(e.line, 4, "\(e)")
        XCTAssertTrue(e.message.contains("policy.missing"), e.message)
    }

    /// Found by a new-user trial: policy files whose groups or columns do not fit the job, fallbacks that would
    /// silently turn a policy into the uniform one, weights too large for Float64, and reports that said nothing.
    func testPolicyFilesThatDoNotFitTheJobAndSilentOutcomesAreRefusedOrNoted() throws {
        // A per-user, per-position file listing every user at position 1 only: position 2 is an error even with
        // missing = "uniform" (which is for users the file does not list).
        let perUserPosition = "user,item,position,probability\nu0,a,1,1\nu1,b,1,1\nu2,c,1,1\n"
        var e = try inputError(
            policy: perUserPosition, job: smallJob(evaluate: #"["policy.csv"]"#, extra: #"missing = "uniform""#))
        XCTAssertEqual(e.line, 3, "\(e)")
        XCTAssertTrue(e.message.contains("no rows for position 2 for this row's user"), e.message)
        // Every user missing: an error, not a copy of the uniform policy.
        e = try inputError(
            policy: "user,item,probability\nU0,a,1\n",
            job: smallJob(evaluate: #"["policy.csv"]"#, extra: #"missing = "uniform""#))
        XCTAssertTrue(e.message.contains("no user of the data is in the policy file"), e.message)
        // Some users missing: counted in a note.
        let dir = try Fixtures.folder()
        _ = try Fixtures.write(smallLog(), "log.csv", in: dir)
        _ = try Fixtures.write("user,item,probability\nu0,a,1\n", "policy.csv", in: dir)
        let o = try outcome(smallJob(evaluate: #"["policy.csv"]"#, extra: #"missing = "uniform""#), in: dir)
        XCTAssertTrue(
            o.opeInfo?.notes.contains { $0.contains("4 of 6 rows are of users the file does not list") } == true,
            "\(o.opeInfo?.notes ?? [])")
        // Columns the job cannot read: unknown, named twice, per position without policy.position.
        e = try inputError(policy: "item,probability,note\na,1,x\n")
        XCTAssertEqual([e.line, e.column], [1, 3], "\(e)")
        XCTAssertTrue(e.message.contains("unknown column 'note'"), e.message)
        e = try inputError(policy: "item,probability,probability\na,1,1\n")
        XCTAssertTrue(e.message.contains("named twice"), e.message)
        let noPosition = smallJob(evaluate: #"["policy.csv"]"#).replacingOccurrences(
            of: "position = \"position\"\n", with: "")
        e = try inputError(policy: "item,position,probability\na,1,1\na,2,1\n", job: noPosition)
        XCTAssertEqual([e.line, e.column], [1, 2], "\(e)")
        XCTAssertTrue(e.message.contains("set policy.position"), e.message)
        // A propensity so small that w² overflows: an input error at its cell, not NaN in the report.
        var p = ["0.5", "0.5", "0.25", "0.25", "0.5", "0.5"]
        p[2] = "1e-300"
        e = try inputError(log: smallLog(p))
        XCTAssertEqual([e.line, e.column], [4, 5], "\(e)")
        XCTAssertTrue(e.message.contains("policy.clip"), e.message)
        // No row at the valued positions.
        e = try inputError(job: smallJob(extra: "positions = [7]"))
        XCTAssertTrue(e.message.contains("no rows at position 7"), e.message)
        // DM and DR need the reward to be the model's outcome.
        let withRevenue =
            smallLog().split(separator: "\n").enumerated().map {
                $0.offset == 0 ? "\($0.element),revenue" : "\($0.element),\($0.offset * 10)"
            }
            .joined(separator: "\n") + "\n"
        e = try inputError(log: withRevenue, job: smallJob(extra: "reward = \"revenue\"\nestimators = [\"dr\"]"))
        XCTAssertTrue(e.message.contains("needs a reward model of the reward 'revenue'"), e.message)
    }

    func testActionOutsideTheCatalogueAndMIPSWithoutItsInputs() throws {
        // A policy naming an item the items file lacks, with [text]: the items file is the catalogue.
        let dir = try Fixtures.folder()
        _ = try Fixtures.write(smallLog(), "log.csv", in: dir)
        _ = try Fixtures.write("item,description\na,red shoe\nb,blue hat\n", "items.csv", in: dir)
        let text =
            smallJob()
            + "\n[text]\nencoder = \"hashing\"\nitems_path = \"items.csv\"\nitem_key = \"item\"\nitem_text = [\"description\"]\n"
        do {
            _ = try outcome(text, in: dir)
            XCTFail("no error")
        } catch let e as InputError {
            XCTAssertTrue(e.file.hasSuffix("log.csv"), "\(e)")
            XCTAssertEqual([e.line, e.column], [5, 2], "\(e)")
            XCTAssertTrue(e.message.contains("'c'"), e.message)
        }
        // MIPS without a logging distribution, and without [text].
        for (extra, words) in [
            (#"estimators = ["mips"]"#, "logging_policy"),
            ("estimators = [\"mips\"]\nlogging_policy = \"uniform\"", "[text]")
        ] {
            let dir = try Fixtures.folder()
            _ = try Fixtures.write(smallLog(), "log.csv", in: dir)
            let path = try Fixtures.write(smallJob(extra: extra), "job.toml", in: dir)
            do {
                _ = try PreparedJob(job: try JobSpec.load(path: path), jobID: "t")
                XCTFail("no error for \(extra)")
            } catch let e as InputError {
                XCTAssertEqual(e.file, path)
                XCTAssertEqual(e.line, 14, "\(e)")
                XCTAssertTrue(e.message.contains(words), e.message)
            }
        }
    }
}
