@_exported import CausaTestSupport
import Foundation
import XCTest

@testable import Encoders

private let repositoryRoot = Fixtures.repositoryRoot

/// all-MiniLM-L6-v2's tokenizer, or a test failure naming the set-up script when models/ has not been fetched.
private func miniLMTokenizer(file: StaticString = #filePath, line: UInt = #line) -> WordPieceTokenizer? {
    let path = Fixtures.miniLMDirectory.appendingPathComponent("vocab.txt").path
    guard FileManager.default.fileExists(atPath: path) else {
        XCTFail("missing \(path): run scripts/fetch-model.sh first", file: file, line: line)
        return nil
    }
    do {
        return try WordPieceTokenizer(vocabularyFile: path, lowercase: true, maxSequenceLength: 256)
    } catch {
        XCTFail("\(error)", file: file, line: line)
        return nil
    }
}

private struct TokenizerCase: Decodable {
    let text: String
    let input_ids: [Int32]
}

private struct TokenizerCases: Decodable {
    let cases: [TokenizerCase]
}

private func loadCases(_ relativePath: String) throws -> [TokenizerCase] {
    let url = repositoryRoot.appendingPathComponent(relativePath)
    return try JSONDecoder().decode(TokenizerCases.self, from: Data(contentsOf: url)).cases
}

final class WordPieceTokenizerMiniLMTests: XCTestCase {
    func testVocabulary() throws {
        guard let tokenizer = miniLMTokenizer() else { return }
        XCTAssertEqual(tokenizer.vocabularySize, 30522)
        XCTAssertEqual(tokenizer.clsID, 101)
        XCTAssertEqual(tokenizer.sepID, 102)
        XCTAssertEqual(tokenizer.unkID, 100)
    }

    /// The token ids of every case of the end-to-end parity fixture (sentence-transformers' own tokenisation).
    func testParityFixture() throws {
        guard let tokenizer = miniLMTokenizer() else { return }
        let cases = try loadCases("Tests/Fixtures/minilm/parity.json")
        XCTAssertGreaterThanOrEqual(cases.count, 40)
        for c in cases {
            XCTAssertEqual(tokenizer.encode(c.text), c.input_ids, "text: \(c.text.debugDescription)")
        }
    }

    /// Hugging Face BertTokenizer on tricky Unicode; see Tests/Fixtures/minilm/scripts/make_tokenizer_cases.py.
    func testTokenizerCasesFixture() throws {
        guard let tokenizer = miniLMTokenizer() else { return }
        let cases = try loadCases("Tests/Fixtures/minilm/tokenizer_cases.json")
        XCTAssertGreaterThanOrEqual(cases.count, 60)
        var failures = 0
        for c in cases {
            let ids = tokenizer.encode(c.text)
            if ids != c.input_ids {
                failures += 1
                XCTFail(
                    """
                    text: \(c.text.debugDescription)
                    got:  \(tokenizer.tokenize(c.text).prefix(40))
                    ids:  \(ids.prefix(40))
                    want: \(c.input_ids.prefix(40))
                    """)
            }
        }
        XCTAssertEqual(failures, 0)
    }

    /// Every assigned code point on which the slow and the fast (Rust) tokenizer disagree (759 of them: CJK Extension
    /// E, U+2B820–U+2B91F, which BERT's rule counts as CJK and the fast tokenizer's range skips, and 503 marks and
    /// punctuation of scripts added in Unicode 9–14): Causa gives the slow tokenizer's ids for each; see
    /// Tests/Fixtures/minilm/scripts/make_slow_fast_codepoints.py.
    func testSlowFastDisagreementsFollowTheSlowTokenizer() throws {
        guard let tokenizer = miniLMTokenizer() else { return }
        let cases = try loadCases("Tests/Fixtures/minilm/slow_fast_codepoints.json")
        XCTAssertEqual(cases.count, 759)
        let extensionE = cases.filter { $0.text.unicodeScalars.contains { (0x2B820...0x2B91F).contains($0.value) } }
        XCTAssertEqual(extensionE.count, 256)
        var failures: [String] = []
        for c in cases where tokenizer.encode(c.text) != c.input_ids {
            failures.append("\(c.text.debugDescription): got \(tokenizer.encode(c.text)), want \(c.input_ids)")
        }
        XCTAssertEqual(failures.count, 0, failures.prefix(20).joined(separator: "\n"))
    }

    func testExamples() throws {
        guard let tokenizer = miniLMTokenizer() else { return }
        XCTAssertEqual(tokenizer.tokenize("unaffable"), ["una", "##ffa", "##ble"])
        XCTAssertEqual(tokenizer.tokenize("İstanbul Straße ÉCOLE"), ["istanbul", "st", "##raße", "ecole"])
        XCTAssertEqual(tokenizer.tokenize("Hello [SEP] world [sep]"), ["hello", "[SEP]", "world", "[", "sep", "]"])
        XCTAssertEqual(tokenizer.tokenize("a\u{200B}b c\u{00A0}d"), ["ab", "c", "d"])
        XCTAssertEqual(tokenizer.encode(""), [101, 102])
        XCTAssertEqual(tokenizer.tokenize("ΟΔΟΣ"), ["ο", "##δ", "##ο", "##σ"])  // no final-sigma rule
    }

    /// U+1FAE8 (Unicode 15) and U+0378 (unassigned) are category Cn for Python 3.11's unicodedata: BertTokenizer drops
    /// them, whatever the Swift runtime's Unicode version (BertTokenizerFast would give [UNK]).
    func testUnassignedAndNewerThanUnicode14AreDropped() throws {
        guard let tokenizer = miniLMTokenizer() else { return }
        XCTAssertEqual(tokenizer.tokenize("\u{1FAE8} shaking a\u{0378}b"), ["shaking", "ab"])
        XCTAssertEqual(tokenizer.tokenize("\u{1FAE0}"), ["[UNK]"])  // melting face, Unicode 14.0: kept
    }

    func testTruncationLength() throws {
        guard let tokenizer = miniLMTokenizer() else { return }
        let long = Array(repeating: "unaffable", count: 200).joined(separator: " ")
        let ids = tokenizer.encode(long)
        XCTAssertEqual(ids.count, 256)
        XCTAssertEqual(ids.first, 101)
        XCTAssertEqual(ids.last, 102)
        XCTAssertEqual(Array(ids[1..<255]), Array(tokenizer.tokenIDs(long).prefix(254)))
    }

    func testMissingVocabularyFileThrowsNamingIt() {
        let path = "/nonexistent/dir/vocab.txt"
        XCTAssertThrowsError(try WordPieceTokenizer(vocabularyFile: path)) { error in
            XCTAssertTrue(error is EncoderError)
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
    }
}

/// Hand-derived cases on tiny vocabularies.
final class WordPieceTokenizerUnitTests: XCTestCase {
    /// Hugging Face's own test vocabulary (tests/models/bert/test_tokenization_bert.py) plus a few entries.
    let vocabulary = [
        "[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un", "runn", "##ing", ",", "low", "lowest",
        "[PAD]", "[MASK]", "##aff", "##able", "a", "aa", "##a", "##aa", "ab", "##bc", "!", "é", "##é", "日", "本"
    ]
    var tokenizer: WordPieceTokenizer { WordPieceTokenizer(vocabulary: vocabulary) }

    func testSpecialIDsComeFromTheVocabulary() {
        XCTAssertEqual(tokenizer.clsID, 1)
        XCTAssertEqual(tokenizer.sepID, 2)
        XCTAssertEqual(tokenizer.unkID, 0)
        XCTAssertEqual(tokenizer.vocabularySize, vocabulary.count)
    }

    func testHuggingFaceExample() {
        XCTAssertEqual(tokenizer.tokenize(""), [])
        XCTAssertEqual(tokenizer.tokenize("unwanted running"), ["un", "##want", "##ed", "runn", "##ing"])
        XCTAssertEqual(tokenizer.tokenize("unwantedX running"), ["[UNK]", "runn", "##ing"])
        XCTAssertEqual(tokenizer.tokenize("UNwant\u{00E9}d,running"), ["un", "##want", "##ed", ",", "runn", "##ing"])
        XCTAssertEqual(tokenizer.encode("UNwant\u{00E9}d,running"), [1, 7, 4, 5, 10, 8, 9, 2])
    }

    func testGreedyLongestMatchFirst() {
        XCTAssertEqual(tokenizer.tokenize("unaffable"), ["un", "##aff", "##able"])
        XCTAssertEqual(tokenizer.tokenize("aaa"), ["aa", "##a"])
        XCTAssertEqual(tokenizer.tokenize("aaaa"), ["aa", "##aa"])
        XCTAssertEqual(tokenizer.tokenize("aaaaa"), ["aa", "##aa", "##a"])
        XCTAssertEqual(tokenizer.tokenize("lowest low"), ["lowest", "low"])
        // No backtracking: "ab" is taken first, then "c" has no "##c", so the whole word is [UNK] even though
        // "a" + "##bc" would have worked.
        XCTAssertEqual(tokenizer.tokenize("abc"), ["[UNK]"])
        XCTAssertEqual(tokenizer.tokenize("ab"), ["ab"])
    }

    func testUnknownWordIsOneUNK() {
        XCTAssertEqual(tokenizer.tokenize("unaffablex want"), ["[UNK]", "want"])
        XCTAssertEqual(tokenizer.tokenize("zzz"), ["[UNK]"])
        XCTAssertEqual(tokenizer.tokenize("##want"), ["[UNK]", "[UNK]", "want"])  // '#' is punctuation; not in vocab
    }

    func testMaxInputCharsPerWord() {
        XCTAssertEqual(
            tokenizer.tokenize(String(repeating: "a", count: 100)), ["aa"] + Array(repeating: "##aa", count: 49))
        XCTAssertEqual(tokenizer.tokenize(String(repeating: "a", count: 101)), ["[UNK]"])
        // counted after accent stripping: 100 "á" are 200 scalars in NFD, 100 after dropping the marks
        XCTAssertEqual(tokenizer.tokenize(String(repeating: "\u{00E1}", count: 100)).count, 50)
        // punctuation splits a long run into short words
        XCTAssertEqual(
            tokenizer.tokenize(String(repeating: "a", count: 60) + "!" + String(repeating: "a", count: 60)).count, 61)
    }

    func testPunctuationAndWhitespace() {
        XCTAssertEqual(tokenizer.tokenize("a!!a"), ["a", "!", "!", "a"])
        XCTAssertEqual(tokenizer.tokenize(" \ta\n\r\u{00A0}a\u{3000}"), ["a", "a"])
        XCTAssertEqual(tokenizer.tokenize("a\u{0000}a\u{FFFD}a\u{200D}a"), ["aa", "##aa"])  // dropped, not split
        XCTAssertEqual(tokenizer.tokenize("a\u{000B}a"), ["aa"])  // vertical tab is a control, not whitespace
        XCTAssertEqual(tokenizer.tokenize("a\u{2028}a"), ["a", "a"])
    }

    func testChineseCharactersAreWords() {
        XCTAssertEqual(tokenizer.tokenize("a日本a"), ["a", "日", "本", "a"])
        XCTAssertEqual(tokenizer.tokenize("日日"), ["日", "日"])
    }

    func testLowercaseAndAccents() {
        XCTAssertEqual(tokenizer.tokenize("AA \u{00C1}A A\u{0301}A"), ["aa", "aa", "aa"])
        XCTAssertEqual(tokenizer.tokenize("\u{0301}"), [])  // a lone combining mark vanishes
        let cased = WordPieceTokenizer(vocabulary: vocabulary, lowercase: false)
        XCTAssertEqual(cased.tokenize("AA aa \u{00E9} e\u{0301}"), ["[UNK]", "aa", "é", "é"])  // NFC, no stripping
    }

    func testSpecialTokensInText() {
        XCTAssertEqual(
            tokenizer.tokenize("a[SEP]a [MASK] [mask]"), ["a", "[SEP]", "a", "[MASK]", "[UNK]", "[UNK]", "[UNK]"])
        XCTAssertEqual(tokenizer.encode("[CLS]"), [1, 1, 2])
    }

    func testTruncation() {
        let short = WordPieceTokenizer(vocabulary: vocabulary, maxSequenceLength: 5)
        XCTAssertEqual(short.encode("a a a a a"), [1, 17, 17, 17, 2])
        XCTAssertEqual(short.encode("a a"), [1, 17, 17, 2])
        let four = WordPieceTokenizer(vocabulary: vocabulary, maxSequenceLength: 4)
        XCTAssertEqual(four.encode("unaffable"), [1, 7, 15, 2])  // cut inside a word, [SEP] kept
        let two = WordPieceTokenizer(vocabulary: vocabulary, maxSequenceLength: 2)
        XCTAssertEqual(two.encode("a a"), [1, 2])
    }

    func testDuplicateTokenLastIDWins() {
        let t = WordPieceTokenizer(vocabulary: ["[UNK]", "[CLS]", "[SEP]", "x", "x"])
        XCTAssertEqual(t.encode("x"), [1, 4, 2])
    }

    func testVocabularyFileLinesAndErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wordpiece-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("vocab.txt")
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\n\nhello\n##s\n".write(to: file, atomically: true, encoding: .utf8)
        let t = try WordPieceTokenizer(vocabularyFile: file.path)
        XCTAssertEqual(t.vocabularySize, 7)  // the empty line is an id too
        XCTAssertEqual(t.encode("Hellos"), [2, 5, 6, 3])

        try "[PAD]\nhello\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try WordPieceTokenizer(vocabularyFile: file.path)) { error in
            XCTAssertTrue("\(error)".contains(file.path), "\(error)")
        }
    }
}
