import Foundation

/// Paths and readers for the committed fixtures in Tests/Fixtures, scratch folders and job-file writers, shared by
/// the test targets.
public enum Fixtures {
    /// The repository's root folder (models/ is found here).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    /// all-MiniLM-L6-v2's files (models/ is git-ignored: `scripts/fetch-model.sh` or a link to a copy).
    public static let miniLMDirectory = repositoryRoot.appendingPathComponent("models/all-MiniLM-L6-v2")
    /// Tests/Fixtures.
    public static let root = repositoryRoot.appendingPathComponent("Tests/Fixtures")
    /// The path of `relative` under Tests/Fixtures.
    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    /// A JSON object fixture under Tests/Fixtures.
    /// - Throws: when the file is missing or not JSON.
    public static func json(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent(relative))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// A fresh temporary folder.
    public static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes `text` to `dir/name` and returns the path.
    public static func write(_ text: String, _ name: String, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Writes a job file on `data` in a fresh temporary folder and returns its path (a `[cv]` table when folds > 0).
    public static func writeJob(
        data: String, kind: String, formula: String, folds: Int = 5, foldBy: String = "row", shards: Int = 16,
        userKey: String = #"["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"]"#
    ) throws -> String {
        let escaped = formula.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let text = """
            [data]
            path = "\(data)"
            format = "csv"
            user_key = \(userKey)

            [model]
            kind = "\(kind)"
            formula = "\(escaped)"

            \(folds > 0 ? "[cv]\nfolds = \(folds)\nfold_by = \"\(foldBy)\"" : "")

            [cluster]
            shards = \(shards)

            """
        return try write(text, "job.toml", in: folder())
    }

    /// Writes a `[text]` job (hashing encoder, one component, no cache) on rows of users `rowUsers` naming items i1
    /// and i2, with its data, users and items files, in `dir` (created if missing); returns the job file's path.
    /// - Parameters:
    ///   - users: "file" (users.csv), "data" (a column of the data file) or "none".
    ///   - items: whether the job has an items file.
    public static func writeTextJob(in dir: URL, users: String, items: Bool, shards: Int, rowUsers: [String]) throws
        -> String
    {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let words = ["alpha beta", "gamma delta epsilon", "zeta", "eta theta iota kappa", "lambda mu"]
        let distinct = rowUsers.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        func text(_ u: String) -> String { words[(distinct.firstIndex(of: u) ?? 0) % words.count] }
        var data = "user_id,item_id,y,profile\n"
        for (i, u) in rowUsers.enumerated() {
            data +=
                "\(u),\(i % 2 == 0 ? "i1" : "i2"),\(Double(i * i % 7) * 0.5 + Double(i) * 0.25),\(text(u)) r\(i % 3)\n"
        }
        _ = try write(data, "data.csv", in: dir)
        _ = try write("user_id,profile\n" + distinct.map { "\($0),\(text($0)) file\n" }.joined(), "users.csv", in: dir)
        _ = try write("item_id,description\ni1,red shoes\ni2,blue running shoes\ni9,a hat\n", "items.csv", in: dir)
        var table = "encoder = \"hashing\"\ncomponents = 1\ncache = false\n"
        if users == "file" { table += "users_path = \"users.csv\"\nuser_text = [\"profile\"]\n" }
        if users == "data" { table += "user_text = [\"profile\"]\n" }
        if items { table += "items_path = \"items.csv\"\nitem_key = \"item_id\"\nitem_text = [\"description\"]\n" }
        let formula = users == "none" ? "y ~ item_pc1" : "y ~ user_pc1"
        let job =
            "[data]\npath = \"data.csv\"\nuser_key = [\"user_id\"]\n"
            + "[model]\nkind = \"ols\"\nformula = \"\(formula)\"\n[cluster]\nshards = \(shards)\n[text]\n\(table)"
        return try write(job, "job.toml", in: dir)
    }
}
