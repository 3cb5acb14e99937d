import CEncoderKernels
import CausaTestSupport
import Foundation
import XCTest

@testable import Encoders

private let root = Fixtures.repositoryRoot
private let modelDirectory = Fixtures.miniLMDirectory.path

private struct ParityCase: Decodable {
    let text: String
    let input_ids: [Int32]
    let embedding: [Float]
}

private struct Parity: Decodable {
    let max_seq_length: Int
    let cases: [ParityCase]
}

/// Embeddings against sentence-transformers (Tests/Fixtures/minilm/parity.json, 41 texts, normalised, max length 256).
final class MiniLMEncoderTests: XCTestCase {
    static var shared: MiniLMEncoder?

    func encoder() throws -> MiniLMEncoder {
        if let e = Self.shared { return e }
        // Throws an EncoderError naming scripts/fetch-model.sh when the model has not been fetched.
        let e = try MiniLMEncoder(modelDirectory: modelDirectory, batchSize: 8)
        Self.shared = e
        return e
    }

    private func parity() throws -> Parity {
        try JSONDecoder().decode(
            Parity.self, from: Data(contentsOf: root.appendingPathComponent("Tests/Fixtures/minilm/parity.json")))
    }

    func testEmbeddingsMatchSentenceTransformers() throws {
        let p = try parity()
        XCTAssertEqual(p.max_seq_length, 256)
        let e = try encoder()
        let out = try e.encode(p.cases.map(\.text))
        XCTAssertEqual(out.count, p.cases.count * 384)
        for (k, c) in p.cases.enumerated() {
            let got = out[(k * 384)..<((k + 1) * 384)]
            let worst = zip(got, c.embedding).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-4, "case \(k) \(c.text.prefix(40).debugDescription): max |Δ| \(worst)")
            let norm = got.reduce(0) { $0 + $1 * $1 }.squareRoot()
            XCTAssertEqual(norm, 1, accuracy: 1e-5, "case \(k) norm")
        }
    }

    /// A text alone and the same text packed with others give the same vector (no padding, no cross-talk).
    func testPackingDoesNotChangeVectors() throws {
        let p = try parity()
        let e = try encoder()
        let ids = p.cases.map(\.input_ids)
        let packed = e.encode(tokenized: ids)
        for k in [0, 2, 20, 40] {
            let alone = e.encode(tokenized: [ids[k]])
            let worst = zip(alone, packed[(k * 384)..<((k + 1) * 384)]).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-6, "case \(k)")
        }
    }

    func testLongTextIsTruncatedTo256Tokens() throws {
        let e = try encoder()
        let long = Array(repeating: "recommendation", count: 400).joined(separator: " ")
        XCTAssertEqual(e.tokenizer.encode(long).count, 256)
        let a = try e.encode([long])
        let b = try e.encode([long + " and then some more words at the end"])
        XCTAssertEqual(a, b, "words past token 256 must not change the vector")
    }

    func testKernelsAgainstLibm() {
        // GELU (rational erf) and softmax (Cephes exp) against glibc's erff/expf over a grid: a few Float32 ULP.
        let xs = stride(from: Float(-8), through: 8, by: 0.001).map { $0 }
        var g = xs
        let zero = [Float](repeating: 0, count: xs.count)
        causa_bias_gelu(&g, 1, zero, xs.count)
        let worstGelu = zip(g, xs).map { abs($0 - 0.5 * $1 * (1 + erff($1 / Float(2).squareRoot()))) }.max()!
        XCTAssertLessThan(worstGelu, 2e-6)
        var worstSoftmax: Float = 0
        for columns in [1, 7, 16, 33, 256] {
            var rows = (0..<(2 * columns)).map { Float($0 % 13) * 1.7 - 9 }
            let expected = (0..<2).flatMap { r -> [Float] in
                let row = Array(rows[(r * columns)..<((r + 1) * columns)])
                let m = row.max()!
                let e = row.map { expf($0 - m) }
                let s = e.reduce(0, +)
                return e.map { $0 / s }
            }
            causa_softmax_rows(&rows, 2, columns)
            worstSoftmax = max(worstSoftmax, zip(rows, expected).map { abs($0 - $1) }.max()!)
        }
        XCTAssertLessThan(worstSoftmax, 1e-6)
        var x: [Float] = (0..<32).map { Float($0) }
        let gamma = [Float](repeating: 2, count: 32)
        let beta = [Float](repeating: 1, count: 32)
        causa_add_layernorm(&x, nil, nil, 1, 32, gamma, beta, 0)
        // mean 15.5, variance (32² − 1) / 12 = 85.25
        XCTAssertEqual(x[0], (0 - 15.5) / Float(85.25).squareRoot() * 2 + 1, accuracy: 1e-5)
        XCTAssertEqual(x[31], (31 - 15.5) / Float(85.25).squareRoot() * 2 + 1, accuracy: 1e-5)
    }

    func testMissingModelNamesTheSetupCommand() {
        XCTAssertThrowsError(try MiniLMEncoder(modelDirectory: "/nonexistent/model")) { error in
            XCTAssertTrue("\(error)".contains("scripts/fetch-model.sh"), "\(error)")
        }
    }
}
