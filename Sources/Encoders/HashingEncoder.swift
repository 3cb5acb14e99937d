import StableRandom

/// Signed feature hashing of words (or WordPiece tokens) into d dimensions, L2-normalised: a fast,
/// dependency-free encoder for tests and as a default when no model is installed.
///
/// Each token t adds ±1 to dimension h(t) mod d, the sign taken from the top bit of h(t), h = FNV-1a 64 of the token's
/// UTF-8. Without a tokenizer, tokens are the lowercased runs of letters and digits.
/// Source: Weinberger et al. (2009), "Feature hashing for large scale multitask learning", ICML.
public final class HashingEncoder: TextEncoder {
    public let dimension: Int
    public let identifier: String
    let tokenizer: WordPieceTokenizer?

    /// - Parameters:
    ///   - dimension: d ≥ 1.
    ///   - tokenizer: WordPiece tokens instead of words, when given.
    public init(dimension: Int = 384, tokenizer: WordPieceTokenizer? = nil) {
        precondition(dimension >= 1, "HashingEncoder: dimension must be positive")
        self.dimension = dimension
        self.tokenizer = tokenizer
        identifier = "hashing:\(dimension):\(tokenizer == nil ? "words" : "wordpiece")"
    }

    /// [texts.count, d] row-major Float32; a text without tokens gives a zero row.
    public func encode(_ texts: [String]) throws -> [Float] {
        var out = [Float](repeating: 0, count: texts.count * dimension)
        for (i, text) in texts.enumerated() {
            let tokens = tokenizer?.tokenize(text) ?? Self.words(text)
            var row = [Float](repeating: 0, count: dimension)
            for t in tokens {
                let h = FNV1a64.hash(t)
                row[Int(h % UInt64(dimension))] += (h >> 63) == 0 ? 1 : -1
            }
            let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { for j in 0..<dimension { out[i * dimension + j] = row[j] / norm } }
        }
        return out
    }

    static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        for ch in text.lowercased() {
            if ch.isLetter || ch.isNumber {
                current.append(ch)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
