import Crypto
import Foundation
import GRDB

/// A content-addressed store of embeddings in SQLite (through GRDB): key = SHA-256(encoder identifier, 0x1F, text).
///
/// A hit skips the encoder. Each row carries a checksum of its key and vector bytes; a row that fails it, or has the
/// wrong length, is deleted and reported as a miss, so the cache never returns a wrong vector. A file that SQLite
/// cannot open or that fails `PRAGMA quick_check` is moved aside (`*.corrupt-<unix time>`) and a new cache is built.
///
/// - Note: One writer at a time per file (SQLite locking); a worker owns its cache folder.
public final class EmbeddingCache {
    public let path: String
    /// True when the file was corrupt at open and has been rebuilt.
    public private(set) var rebuilt = false
    private var queue: DatabaseQueue

    /// Opens or creates the cache file (and its folder).
    /// - Throws: `EncoderError` when the folder cannot be created or SQLite cannot create a new file there.
    public init(path: String) throws {
        self.path = path
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw EncoderError("cannot create the cache folder \(folder): \(error.localizedDescription)")
        }
        if let q = try? Self.open(path) {
            queue = q
        } else {
            let aside = path + ".corrupt-\(Int(Date().timeIntervalSince1970))"
            try? FileManager.default.moveItem(atPath: path, toPath: aside)
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            do { queue = try Self.open(path) } catch {
                throw EncoderError("\(path): cannot create an embedding cache: \(error)")
            }
            rebuilt = true
        }
    }

    static func open(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let q = try DatabaseQueue(path: path, configuration: configuration)
        let check = try q.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") }
        guard check == "ok" else { throw EncoderError("quick_check: \(check ?? "no answer")") }
        try q.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS embeddings (
                        key BLOB PRIMARY KEY NOT NULL,
                        vector BLOB NOT NULL,
                        checksum INTEGER NOT NULL
                    ) WITHOUT ROWID
                    """)
        }
        return q
    }

    /// The cache key of a text for an encoder: SHA-256 of the identifier, a 0x1F byte and the text's UTF-8.
    public static func key(encoder: String, text: String) -> Data {
        var h = SHA256()
        h.update(data: Data(encoder.utf8))
        h.update(data: Data([0x1F]))
        h.update(data: Data(text.utf8))
        return Data(h.finalize())
    }

    static func checksum(_ key: Data, _ vector: Data) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        for b in vector { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return Int64(bitPattern: h)
    }

    /// Looks texts up.
    /// - Returns: per text, its vector ([dimension] Float32) or nil on a miss.
    /// - Throws: `EncoderError` when SQLite fails.
    public func lookup(encoder: String, dimension: Int, texts: [String]) throws -> [[Float]?] {
        let keys = texts.map { Self.key(encoder: encoder, text: $0) }
        var found: [Data: [Float]] = [:]
        var bad: [Data] = []
        do {
            try queue.read { db in
                for chunk in stride(from: 0, to: keys.count, by: 500) {
                    let part = Array(keys[chunk..<min(chunk + 500, keys.count)])
                    let marks = Array(repeating: "?", count: part.count).joined(separator: ",")
                    let rows = try Row.fetchAll(
                        db, sql: "SELECT key, vector, checksum FROM embeddings WHERE key IN (\(marks))",
                        arguments: StatementArguments(part))
                    for row in rows {
                        let key: Data = row["key"]
                        let vector: Data = row["vector"]
                        let sum: Int64 = row["checksum"]
                        guard vector.count == dimension * 4, sum == Self.checksum(key, vector) else {
                            bad.append(key)
                            continue
                        }
                        found[key] = vector.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                    }
                }
            }
            if !bad.isEmpty {
                try queue.write { db in
                    for k in bad { try db.execute(sql: "DELETE FROM embeddings WHERE key = ?", arguments: [k]) }
                }
            }
        } catch let e as EncoderError { throw e } catch {
            throw EncoderError("\(path): embedding cache read failed: \(error)")
        }
        return keys.map { found[$0] }
    }

    /// Stores vectors for texts (replacing any old entry).
    /// - Parameter vectors: [texts.count, dimension] row-major Float32.
    public func store(encoder: String, dimension: Int, texts: [String], vectors: [Float]) throws {
        precondition(
            vectors.count == texts.count * dimension,
            "store: \(vectors.count) values for \(texts.count) texts of \(dimension)")
        do {
            try queue.write { db in
                for (i, text) in texts.enumerated() {
                    let key = Self.key(encoder: encoder, text: text)
                    let vector = vectors[(i * dimension)..<((i + 1) * dimension)].withUnsafeBytes { Data($0) }
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO embeddings (key, vector, checksum) VALUES (?, ?, ?)",
                        arguments: [key, vector, Self.checksum(key, vector)])
                }
            }
        } catch {
            throw EncoderError("\(path): embedding cache write failed: \(error)")
        }
    }

    /// Number of stored vectors.
    public func count() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM embeddings") ?? 0 }
    }
}

/// An encoder in front of a cache: hits come from the cache, misses are encoded (in order) and stored.
public final class CachingEncoder: TextEncoder {
    public let base: TextEncoder
    public let cache: EmbeddingCache
    public var identifier: String { base.identifier }
    public var dimension: Int { base.dimension }
    /// Texts served from the cache and texts encoded, since creation.
    public private(set) var hits = 0, misses = 0

    public init(base: TextEncoder, cache: EmbeddingCache) {
        self.base = base
        self.cache = cache
    }

    public func encode(_ texts: [String]) throws -> [Float] {
        let d = dimension
        let cached = try cache.lookup(encoder: identifier, dimension: d, texts: texts)
        let missing = texts.indices.filter { cached[$0] == nil }
        hits += texts.count - missing.count
        misses += missing.count
        var fresh: [Float] = []
        if !missing.isEmpty {
            // Encode each distinct missing text once.
            var unique: [String] = []
            var position: [String: Int] = [:]
            for i in missing where position[texts[i]] == nil {
                position[texts[i]] = unique.count
                unique.append(texts[i])
            }
            fresh = try base.encode(unique)
            try cache.store(encoder: identifier, dimension: d, texts: unique, vectors: fresh)
            var out = [Float](repeating: 0, count: texts.count * d)
            for i in texts.indices {
                if let v = cached[i] {
                    out.replaceSubrange((i * d)..<((i + 1) * d), with: v)
                } else {
                    let u = position[texts[i]]!
                    out.replaceSubrange((i * d)..<((i + 1) * d), with: fresh[(u * d)..<((u + 1) * d)])
                }
            }
            return out
        }
        return cached.flatMap { $0! }
    }
}
