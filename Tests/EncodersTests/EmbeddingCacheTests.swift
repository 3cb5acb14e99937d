import Foundation
import XCTest

@testable import Encoders

/// Counts calls so tests can tell hits from misses.
private final class CountingEncoder: TextEncoder {
    let identifier = "counting:4"
    let dimension = 4
    var encoded: [String] = []
    func encode(_ texts: [String]) throws -> [Float] {
        encoded += texts
        return texts.flatMap { t -> [Float] in
            let h = Float(t.utf8.count)
            let v: [Float] = [1, h, h * h, 2]
            let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / n }
        }
    }
}

final class EmbeddingCacheTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func testHitsSkipTheEncoderAndReturnTheSameVectors() throws {
        let path = dir.appendingPathComponent("c.sqlite").path
        let base = CountingEncoder()
        let first = CachingEncoder(base: base, cache: try EmbeddingCache(path: path))
        let a = try first.encode(["x", "yy", "x", "zzz"])
        XCTAssertEqual(base.encoded, ["x", "yy", "zzz"], "each distinct miss is encoded once")
        XCTAssertEqual(first.misses, 4)
        let second = CachingEncoder(base: base, cache: try EmbeddingCache(path: path))
        let b = try second.encode(["zzz", "x", "yy", "x", "new"])
        XCTAssertEqual(base.encoded, ["x", "yy", "zzz", "new"])
        XCTAssertEqual(second.hits, 4)
        XCTAssertEqual(Array(b[0..<4]), Array(a[12..<16]))
        XCTAssertEqual(Array(b[4..<8]), Array(a[0..<4]))
        XCTAssertEqual(try second.cache.count(), 4)
    }

    func testKeysDependOnTheEncoder() {
        XCTAssertNotEqual(EmbeddingCache.key(encoder: "a", text: "t"), EmbeddingCache.key(encoder: "b", text: "t"))
        XCTAssertNotEqual(EmbeddingCache.key(encoder: "ab", text: "c"), EmbeddingCache.key(encoder: "a", text: "bc"))
        XCTAssertEqual(EmbeddingCache.key(encoder: "a", text: "t").count, 32)
    }

    /// A file that is not a database is moved aside and rebuilt; it never yields vectors.
    func testCorruptFileIsRebuilt() throws {
        let path = dir.appendingPathComponent("bad.sqlite").path
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
        let cache = try EmbeddingCache(path: path)
        XCTAssertTrue(cache.rebuilt)
        XCTAssertEqual(try cache.count(), 0)
        let moved = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("corrupt") }
        XCTAssertEqual(moved.count, 1)
    }

    /// A row whose bytes were changed is a miss, not a wrong vector.
    func testTamperedRowIsAMiss() throws {
        let path = dir.appendingPathComponent("t.sqlite").path
        let base = CountingEncoder()
        let cached = CachingEncoder(base: base, cache: try EmbeddingCache(path: path))
        let good = try cached.encode(["hello"])
        // Flip a byte of the stored vector behind the cache's back.
        let key = EmbeddingCache.key(encoder: base.identifier, text: "hello")
        try tamper(path: path, key: key)
        let again = CachingEncoder(base: base, cache: try EmbeddingCache(path: path))
        let v = try again.encode(["hello"])
        XCTAssertEqual(v, good)
        XCTAssertEqual(again.misses, 1, "the damaged row must be re-encoded")
    }

    private func tamper(path: String, key: Data) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        let hex = key.map { String(format: "%02x", $0) }.joined()
        p.arguments = [path, "UPDATE embeddings SET vector = zeroblob(16) WHERE key = x'\(hex)';"]
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") else {
            throw XCTSkip("sqlite3 command not installed")
        }
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
    }

    func testHashingEncoderIsNormalisedAndDeterministic() throws {
        let e = HashingEncoder(dimension: 64)
        let v = try e.encode(["The cat sat on the mat", "", "the CAT sat; on the mat!"])
        let row0 = Array(v[0..<64])
        let row1 = Array(v[64..<128])
        let row2 = Array(v[128..<192])
        XCTAssertEqual(row0.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-6)
        XCTAssertEqual(row1, [Float](repeating: 0, count: 64), "no tokens, zero vector")
        XCTAssertEqual(row0, row2, "case and punctuation do not matter for word hashing")
    }

    func testSafeTensorsRejectsTruncatedAndMismatchedFiles() throws {
        // Header: one F32 tensor of shape [2, 2] (16 bytes) but only 8 data bytes: truncated.
        let header = #"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) }
        bytes.append(Data(header.utf8))
        bytes.append(Data(repeating: 0, count: 8))
        let path = dir.appendingPathComponent("t.safetensors").path
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SafeTensorsFile(path: path)) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
        bytes.append(Data(repeating: 0, count: 8))
        try bytes.write(to: URL(fileURLWithPath: path))
        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(try file.float32("w", shape: [2, 2]), [0, 0, 0, 0])
        XCTAssertThrowsError(try file.float32("w", shape: [4])) { XCTAssertTrue("\($0)".contains("shape"), "\($0)") }
        XCTAssertThrowsError(try file.float32("nope", shape: [1])) {
            XCTAssertTrue("\($0)".contains("no tensor"), "\($0)")
        }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SafeTensorsFile(path: path))
    }
}
