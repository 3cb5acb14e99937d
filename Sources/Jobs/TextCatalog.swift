import Foundation
import Tabular

/// One record of a users or items file: its key, where it is, and its texts. The coordinator reads the file and
/// sends each record to the shard that embeds it.
public struct TextEntry: Sendable, Equatable {
    /// The user-key hash (users) or the item key's hash (items); it picks the shard.
    public var keyHash: UInt64
    /// 1-based line in the file.
    public var line: Int
    /// The key as text (user-key fields joined by ", "; the item key).
    public var key: String
    /// The text cells, in the order of the job's text columns (empty cells kept, as "").
    public var texts: [String]

    public init(keyHash: UInt64, line: Int, key: String, texts: [String]) {
        self.keyHash = keyHash
        self.line = line
        self.key = key
        self.texts = texts
    }
}

/// A users or items file read for its texts: one `TextEntry` per data row, in file order, keys unique.
public struct TextCatalog: Sendable {
    /// The file.
    public let path: String
    /// Records in file order.
    public let entries: [TextEntry]
    /// Entry index by key: the key fields joined by U+001F (for an item, its key text).
    public let index: [String: Int]

    /// Reads a users or items file.
    /// - Parameters:
    ///   - path: CSV file with a header.
    ///   - delimiter: its field delimiter (the job's `data.delimiter`).
    ///   - keyColumns: the key columns (the user key, or the one item-key column).
    ///   - textColumns: text columns, in the order the job lists them.
    ///   - what: "user" or "item", for messages.
    ///   - missingColumn: the error for a key or text column the header lacks (pointing at the job file key naming it).
    /// - Throws: `InputError` naming the file, line and column: unreadable file, missing columns, a column named twice
    ///   in the header, a missing key, and a key that is on two lines (naming both).
    public init(
        path: String, delimiter: CSVDelimiter = .comma, keyColumns: [String], textColumns: [String], what: String,
        missingColumn: ((String, [String]) -> InputError)? = nil
    ) throws {
        self.path = path
        let table: CSVTable
        do {
            table = try CSVTable(path: path, delimiter: delimiter)
            try table.requireUnique(keyColumns + textColumns)
        } catch let e as TabularError { throw InputError(e) }
        for name in keyColumns + textColumns where !table.header.contains(name) {
            if let missingColumn { throw missingColumn(name, table.header) }
            throw InputError(
                file: path, line: 1,
                "no column '\(name)' in the header (the job's \(keyColumns.contains(name) ? "\(what) key" : "\(what)_text") names it)\(table.delimiterHint)"
            )
        }
        let keys = keyColumns.map { table.header.firstIndex(of: $0)! }
        let texts = textColumns.map { table.header.firstIndex(of: $0)! }
        var entries: [TextEntry] = []
        var index: [String: Int] = [:]
        do {
            while let r = try table.next(selecting: keys + texts) {
                let keyFields = Array(r.fields[..<keys.count])
                if let k = keyFields.firstIndex(where: { Cell.isMissing($0) }) {
                    throw InputError(
                        file: path, line: r.line, column: keys[k] + 1,
                        "missing \(what) key in column '\(keyColumns[k])'")
                }
                let key = keyFields.joined(separator: ", ")
                let exact = keyFields.joined(separator: "\u{1F}")  // fields kept apart: ("x, y", "z") is not ("x", "y, z")
                if let earlier = index[exact] {
                    throw InputError(
                        file: path, line: r.line, column: keys[0] + 1,
                        "\(what) key '\(key)' is also on line \(entries[earlier].line); each \(what) must have one row")
                }
                index[exact] = entries.count
                entries.append(
                    TextEntry(
                        keyHash: UserKey.hash(keyFields), line: r.line, key: key, texts: Array(r.fields[keys.count...]))
                )
            }
        } catch let e as TabularError { throw InputError(e) }
        guard !entries.isEmpty else { throw InputError(file: path, line: 2, "the file has a header but no data rows") }
        self.entries = entries
        self.index = index
    }

    /// The entries by the shard their key hash falls in, [shards], each in file order.
    public func byShard(_ shards: Int) -> [[TextEntry]] {
        var out = [[TextEntry]](repeating: [], count: shards)
        for e in entries { out[UserKey.shard(hash: e.keyHash, shards: shards)].append(e) }
        return out
    }
}

/// Where model files and caches live by default (shared by `causa embed` and workers).
public enum ModelLocator {
    /// The MiniLM folder: the option, else models/all-MiniLM-L6-v2 under the current folder, else under the nearest
    /// folder above the executable that has one (the repository it was built in: .build/<triple>/<config>/causa).
    public static func minilm(_ option: String?) -> String {
        if let option { return option }
        let relative = "models/all-MiniLM-L6-v2"
        if FileManager.default.fileExists(atPath: relative + "/config.json") { return relative }
        var folder = URL(
            fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? CommandLine.arguments[0]
        )
        .deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = folder.appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("config.json").path) {
                return candidate.path
            }
            folder.deleteLastPathComponent()
        }
        return relative
    }

    /// $XDG_CACHE_HOME/causa, else ~/.cache/causa.
    public static func defaultCacheDirectory() -> String {
        if let x = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"], !x.isEmpty { return x + "/causa" }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/causa").path
    }
}
