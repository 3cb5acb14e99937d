import Foundation
import Tabular

/// The description of a partitioned data set, `DIR/manifest.json`, written by `causa partition`.
///
/// Shard s's rows are in `DIR/shard-<s, 5 digits>.csv`: the original header plus `__causa_row` (the 0-based data-row
/// index in the source file) and `__causa_line` (its 1-based line there), rows in source order. Folds by row and error
/// messages therefore refer to the source file exactly as when the coordinator streams it.
public struct ShardManifest: Codable, Sendable, Equatable {
    public static let formatName = "causa-shards/1"
    public static let rowColumn = "__causa_row"
    public static let lineColumn = "__causa_line"

    public var format: String
    /// The source CSV (absolute path) the shards were cut from.
    public var source: String
    /// The source file's header.
    public var header: [String]
    public var userKey: [String]
    public var shards: Int
    /// Data rows per shard.
    public var rows: [Int]

    /// The file of shard s inside `folder`.
    public static func file(_ folder: String, shard: Int) -> String {
        URL(fileURLWithPath: folder).appendingPathComponent(String(format: "shard-%05d.csv", shard)).path
    }

    /// Reads and checks `folder/manifest.json`.
    /// - Throws: `InputError` naming the manifest when it is missing, unreadable or of another format.
    public static func load(folder: String) throws -> ShardManifest {
        let path = URL(fileURLWithPath: folder).appendingPathComponent("manifest.json").path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(
                file: path,
                "no shard manifest here; make the folder with `causa partition --job JOB.toml --out \(folder)`")
        }
        guard let m = try? JSONDecoder().decode(ShardManifest.self, from: data), m.format == formatName,
            m.rows.count == m.shards
        else {
            throw InputError(file: path, "not a \(formatName) manifest")
        }
        return m
    }
}

/// `causa partition`: cuts a job's data file into one file per shard, so that workers read their own rows
/// (`data.source = "shards"`) and rows do not pass through the coordinator.
public enum ShardPartitioner {
    /// Writes the shard files and the manifest into `folder` (which must not exist yet): to a temporary sibling
    /// folder first, renamed at the end.
    /// - Returns: the manifest written.
    /// - Throws: `InputError` (job or data problems, an existing output folder), `RunError` (writing fails).
    public static func partition(job: JobSpec, into folder: String) throws -> ShardManifest {
        guard job.source == .file else {
            throw InputError(
                file: job.jobFile, line: job.dataPathPosition?.line, column: job.dataPathPosition?.column,
                "data.source is already \"shards\"; partition a job that reads a CSV file")
        }
        if FileManager.default.fileExists(atPath: folder) {
            throw InputError(file: folder, "the output folder exists; choose a new one or remove it")
        }
        let table: CSVTable
        do { table = try CSVTable(path: job.resolvedDataPath, delimiter: job.delimiter) } catch let e as TabularError {
            throw InputError(e)
        }
        var keys: [Int] = []
        do { try table.requireUnique(job.userKey) } catch let e as TabularError { throw InputError(e) }
        for k in job.userKey {
            do { keys.append(try table.columnIndex(k, wantedBy: "data.user_key in \(job.jobFile)")) } catch let e
                as TabularError
            { throw InputError(e) }
        }
        let headerLine =
            (table.header + [ShardManifest.rowColumn, ShardManifest.lineColumn]).map(csvField).joined(separator: ",")
            + "\n"
        var buffers = [String](repeating: headerLine, count: job.shards)
        var counts = [Int](repeating: 0, count: job.shards)
        do {
            while let r = try table.next() {
                let s = UserKey.shard(
                    hash: UserKey.rowHash(
                        keyFields: keys.map { r.fields[$0] }, rowIndex: r.index, hasKey: !keys.isEmpty),
                    shards: job.shards)
                buffers[s] += (r.fields.map(csvField) + [String(r.index), String(r.line)]).joined(separator: ",") + "\n"
                counts[s] += 1
            }
        } catch let e as TabularError { throw InputError(e) }
        guard counts.reduce(0, +) > 0 else {
            throw InputError(file: job.resolvedDataPath, line: 2, "the file has a header but no data rows")
        }
        let manifest = ShardManifest(
            format: ShardManifest.formatName,
            source: URL(fileURLWithPath: job.resolvedDataPath).standardizedFileURL.path,
            header: table.header, userKey: job.userKey, shards: job.shards, rows: counts)
        let temporary = folder + ".partial-\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
            for s in 0..<job.shards {
                try Data(buffers[s].utf8).write(to: URL(fileURLWithPath: ShardManifest.file(temporary, shard: s)))
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(manifest).write(
                to: URL(fileURLWithPath: temporary).appendingPathComponent("manifest.json"))
            try FileManager.default.moveItem(atPath: temporary, toPath: folder)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw RunError("cannot write the shards to \(folder): \(error.localizedDescription)")
        }
        return manifest
    }

    /// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
            return s
        }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Reads one shard file into a `RowBatch` on the worker that owns the shard.
public enum ShardFileLoader {
    /// - Parameters:
    ///   - path: the shard file.
    ///   - shard: its shard id.
    ///   - plan: which columns to keep (and the user key, in `plan.userKey`).
    /// - Throws: `ShardFailure` with the shard file's problem (missing file, malformed CSV, missing column).
    public static func load(path: String, shard: Int, plan: JobPlan) throws -> RowBatch {
        do {
            let table = try CSVTable(path: path)
            let keys = try plan.userKey.map { try table.columnIndex($0) }
            let columns = try plan.columns.map { try table.columnIndex($0) }
            let row = try table.columnIndex(ShardManifest.rowColumn)
            let line = try table.columnIndex(ShardManifest.lineColumn)
            var batch = RowBatch(shard: shard)
            while let r = try table.next() {
                guard let index = Int(r.fields[row]), let source = Int(r.fields[line]) else {
                    throw TabularError(
                        .badValue, "bad \(ShardManifest.rowColumn)/\(ShardManifest.lineColumn) values", file: path,
                        line: r.line)
                }
                batch.rowIndex.append(index)
                batch.line.append(source)
                batch.userHash.append(
                    UserKey.rowHash(keyFields: keys.map { r.fields[$0] }, rowIndex: index, hasKey: !keys.isEmpty))
                for c in columns { batch.fields.append(r.fields[c]) }
            }
            return batch
        } catch let e as TabularError {
            throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: "shard file \(e.description)")
        }
    }
}
