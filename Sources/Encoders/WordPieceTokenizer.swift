import Foundation

/// BERT's uncased WordPiece tokenizer, matching Hugging Face's `BertTokenizer` (the Python one: `BasicTokenizer` +
/// `WordpieceTokenizer`, `tokenize_chinese_chars=True`, `strip_accents=None`) as used by all-MiniLM-L6-v2.
///
/// Steps, in Hugging Face's order, all on Unicode scalars (Python iterates code points, not grapheme clusters):
/// 1. The special tokens `[PAD] [UNK] [CLS] [SEP] [MASK]` (those in the vocabulary) are matched case-sensitively in the
///    raw text and kept whole; the text between them goes through the steps below.
/// 2. Clean: drop U+0000, U+FFFD and every scalar of general category C* (Cc, Cf, Cs, Co, Cn: zero-width spaces and
///    joiners, BOM, bidi marks, private use, unassigned) except tab, LF and CR; those three and category Zs become
///    spaces. U+2028 and U+2029 also separate words (Python's `str.split()` splits on them).
/// 3. Each CJK ideograph (the ranges of Hugging Face's `_is_chinese_char`; not Hangul, kana or Thai) is a word.
/// 4. Lowercase scalar by scalar with the full, context-free mapping (Python's `str.lower()` on single characters:
///    `İ` → `i̇`, `Σ` → `σ` even at the end of a word, `ß` stays `ß`), then NFD and drop nonspacing marks (Mn).
///    With `lowercase: false` neither happens; the text is NFC-normalised instead.
/// 5. Split on punctuation: ASCII 33–47, 58–64, 91–96, 123–126 and Unicode categories P*; each such scalar is a word.
/// 6. WordPiece: greedy longest-match-first against the vocabulary, continuation pieces prefixed `##`; a word of more
///    than 100 scalars, or one with a position where no piece matches, becomes a single `[UNK]`.
///
/// Unicode versions: Hugging Face's slow tokenizer takes character properties from Python's `unicodedata` (Unicode
/// 14.0 in Python 3.11, which generated the fixtures), this one from the Swift runtime. Scalars assigned after
/// `unicodeVersion` (14.0; e.g. U+1FAE8 🫨, Unicode 15) are treated as unassigned and dropped, as Python 3.11 does,
/// whatever the toolchain's tables say. `BertTokenizerFast` differs from both on unassigned scalars: it keeps them
/// (as `[UNK]`).
///
/// The value is immutable and `Sendable`; `encode` may be called from any number of threads.
public struct WordPieceTokenizer: Sendable {
    /// The longest word (in Unicode scalars, after normalisation) that WordPiece splits; longer words are `[UNK]`.
    public static let maxInputCharsPerWord = 100

    public let lowercase: Bool
    /// Upper bound of `encode(_:)`'s result length, `[CLS]` and `[SEP]` included.
    public let maxSequenceLength: Int
    public let clsID: Int32
    public let sepID: Int32
    public let unkID: Int32

    /// id → token, as in the vocabulary file.
    private let tokens: [String]
    /// Word-initial pieces: every vocabulary entry, spelled out.
    private let initial: ScalarTrie
    /// Continuation pieces: entries starting with `##`, without the `##`.
    private let continuation: ScalarTrie
    /// Special tokens recognised inside the text, as scalars, with their ids.
    private let specials: [(scalars: [UInt32], id: Int32)]

    /// Loads `vocab.txt`: one token per line, id = line number from 0 (a line is everything up to `\n`, as in
    /// Hugging Face's `load_vocab`).
    /// - Throws: `EncoderError` naming the file if it cannot be read, is empty, or lacks `[CLS]`, `[SEP]` or `[UNK]`.
    public init(vocabularyFile: String, lowercase: Bool = true, maxSequenceLength: Int = 256) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: vocabularyFile))
        } catch {
            throw EncoderError("cannot read vocabulary \(vocabularyFile): \(error.localizedDescription)")
        }
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard !lines.isEmpty else { throw EncoderError("vocabulary \(vocabularyFile) is empty") }
        let vocabulary = lines.map { String(decoding: $0, as: UTF8.self) }
        for required in ["[CLS]", "[SEP]", "[UNK]"] where !vocabulary.contains(required) {
            throw EncoderError("vocabulary \(vocabularyFile) has no \(required) token")
        }
        self.init(vocabulary: vocabulary, lowercase: lowercase, maxSequenceLength: maxSequenceLength)
    }

    /// - Parameter vocabulary: tokens by id; must contain `[CLS]`, `[SEP]` and `[UNK]` (a precondition). If a token
    ///   occurs twice its last id wins, as in Hugging Face's dictionary.
    public init(vocabulary: [String], lowercase: Bool = true, maxSequenceLength: Int = 256) {
        self.lowercase = lowercase
        self.maxSequenceLength = maxSequenceLength
        self.tokens = vocabulary
        var initial = ScalarTrie()
        var continuation = ScalarTrie()
        var ids: [String: Int32] = [:]
        for (i, token) in vocabulary.enumerated() {
            let id = Int32(i)
            ids[token] = id
            let scalars = token.unicodeScalars.map(\.value)
            initial.insert(scalars[...], id: id)
            if scalars.count > 2, scalars[0] == 0x23, scalars[1] == 0x23 {
                continuation.insert(scalars[2...], id: id)
            }
        }
        guard let cls = ids["[CLS]"], let sep = ids["[SEP]"], let unk = ids["[UNK]"] else {
            preconditionFailure("WordPieceTokenizer: the vocabulary needs [CLS], [SEP] and [UNK] tokens")
        }
        self.clsID = cls
        self.sepID = sep
        self.unkID = unk
        self.initial = initial
        self.continuation = continuation
        self.specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].compactMap { name in
            ids[name].map { (name.unicodeScalars.map(\.value), $0) }
        }
    }

    /// Number of ids (lines of the vocabulary).
    public var vocabularySize: Int { tokens.count }

    /// Token ids: `[CLS]`, the wordpieces, `[SEP]`; wordpieces past `maxSequenceLength - 2` are dropped (Hugging
    /// Face's `truncation=True`), so the result has at most `max(maxSequenceLength, 2)` ids.
    public func encode(_ text: String) -> [Int32] {
        let limit = max(maxSequenceLength - 2, 0)
        var ids: [Int32] = []
        ids.reserveCapacity(min(limit, text.utf8.count + 1) + 2)
        ids.append(clsID)
        run(text, limit: limit) { ids.append($0) }
        ids.append(sepID)
        return ids
    }

    /// The wordpiece strings without `[CLS]`/`[SEP]` and without truncation (for tests and debugging); special tokens
    /// written in the text appear as themselves.
    public func tokenize(_ text: String) -> [String] {
        var out: [String] = []
        run(text, limit: Int.max) { out.append(tokens[Int($0)]) }
        return out
    }

    /// Wordpiece ids without specials and without truncation.
    public func tokenIDs(_ text: String) -> [Int32] {
        var out: [Int32] = []
        run(text, limit: Int.max) { out.append($0) }
        return out
    }

    // MARK: - Pipeline

    /// Calls `emit` for each wordpiece id, stopping after `limit` of them.
    private func run(_ text: String, limit: Int, _ emit: (Int32) -> Void) {
        guard limit > 0 else { return }
        var state = RunState(limit: limit)
        let scalars = text.unicodeScalars
        var word: [UInt32] = []
        word.reserveCapacity(64)
        var wordIsASCII = true

        func flush(_ state: inout RunState) {
            if !word.isEmpty {
                finishWord(word, isASCII: wordIsASCII, &state, emit)
                word.removeAll(keepingCapacity: true)
                wordIsASCII = true
            }
        }

        var i = scalars.startIndex
        while i != scalars.endIndex, !state.done {
            let scalar = scalars[i]
            let c = scalar.value
            if c == 0x5B, !specials.isEmpty, let (id, next) = matchSpecial(scalars, at: i) {  // "["
                flush(&state)
                state.append(id, emit)
                i = next
                continue
            }
            i = scalars.index(after: i)
            if c < 0x80 {
                switch c {
                case 0x09, 0x0A, 0x0D, 0x20:
                    flush(&state)
                case 0x00..<0x20, 0x7F:
                    break  // control: dropped
                case 0x41...0x5A:
                    word.append(lowercase ? c + 0x20 : c)
                default:
                    word.append(c)
                }
                continue
            }
            if !Self.isAssigned(scalar) { continue }  // Cn
            switch scalar.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned:
                continue
            case .spaceSeparator, .lineSeparator, .paragraphSeparator:
                flush(&state)
                continue
            default:
                break
            }
            if c == 0xFFFD { continue }
            if Self.isCJK(c) {
                flush(&state)
                word.append(c)
                wordIsASCII = false
                flush(&state)
                continue
            }
            wordIsASCII = false
            if lowercase, scalar.properties.changesWhenLowercased {
                for l in scalar.properties.lowercaseMapping.unicodeScalars { word.append(l.value) }
            } else {
                word.append(c)
            }
        }
        flush(&state)
    }

    private struct RunState {
        let limit: Int
        var count = 0
        var done: Bool { count >= limit }
        init(limit: Int) { self.limit = limit }
        mutating func append(_ id: Int32, _ emit: (Int32) -> Void) {
            guard count < limit else { return }
            emit(id)
            count += 1
        }
    }

    private func matchSpecial(_ scalars: String.UnicodeScalarView, at start: String.UnicodeScalarView.Index)
        -> (Int32, String.UnicodeScalarView.Index)?
    {
        outer: for special in specials {
            var j = start
            for expected in special.scalars {
                guard j != scalars.endIndex, scalars[j].value == expected else { continue outer }
                j = scalars.index(after: j)
            }
            return (special.id, j)
        }
        return nil
    }

    /// A whitespace-delimited word (already lowercased): normalise, split on punctuation, WordPiece each part.
    private func finishWord(_ raw: [UInt32], isASCII: Bool, _ state: inout RunState, _ emit: (Int32) -> Void) {
        if isASCII {
            splitOnPunctuation(raw[...], &state, emit)
            return
        }
        var view = String.UnicodeScalarView()
        for c in raw { view.append(Unicode.Scalar(c)!) }
        var normalized: [UInt32] = []
        normalized.reserveCapacity(raw.count + 8)
        if lowercase {
            for s in String(view).decomposedStringWithCanonicalMapping.unicodeScalars
            where s.properties.generalCategory != .nonspacingMark {
                normalized.append(s.value)
            }
        } else {
            for s in String(view).precomposedStringWithCanonicalMapping.unicodeScalars { normalized.append(s.value) }
        }
        splitOnPunctuation(normalized[...], &state, emit)
    }

    private func splitOnPunctuation(_ word: ArraySlice<UInt32>, _ state: inout RunState, _ emit: (Int32) -> Void) {
        var start = word.startIndex
        var i = word.startIndex
        while i < word.endIndex {
            if Self.isPunctuation(word[i]) {
                if start < i { wordPiece(word[start..<i], &state, emit) }
                wordPiece(word[i...i], &state, emit)
                start = i + 1
            }
            i += 1
        }
        if start < word.endIndex { wordPiece(word[start...], &state, emit) }
    }

    /// Greedy longest-match-first; the whole word is `[UNK]` if it is too long or some position has no piece.
    private func wordPiece(_ word: ArraySlice<UInt32>, _ state: inout RunState, _ emit: (Int32) -> Void) {
        if state.done { return }
        if word.count > Self.maxInputCharsPerWord {
            state.append(unkID, emit)
            return
        }
        guard let (firstID, firstEnd) = initial.longestPrefix(word) else {
            state.append(unkID, emit)
            return
        }
        if firstEnd == word.endIndex {
            state.append(firstID, emit)
            return
        }
        var pieces: [Int32] = [firstID]
        var start = firstEnd
        while start < word.endIndex {
            guard let (id, end) = continuation.longestPrefix(word[start...]) else {
                state.append(unkID, emit)
                return
            }
            pieces.append(id)
            start = end
        }
        for id in pieces { state.append(id, emit) }
    }

    // MARK: - Character classes (Hugging Face's definitions)

    /// The Unicode version whose repertoire counts as assigned: Python 3.11's `unicodedata`, which produced the
    /// fixtures. Newer scalars are treated as unassigned (category Cn, dropped), so token ids do not change when a
    /// Swift toolchain moves to newer Unicode tables.
    public static let unicodeVersion: Unicode.Version = (major: 14, minor: 0)

    static func isAssigned(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < unicodeVersion.major
            || (age.major == unicodeVersion.major && age.minor <= unicodeVersion.minor)
    }

    static func isCJK(_ c: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(c) || (0x3400...0x4DBF).contains(c) || (0x20000...0x2A6DF).contains(c)
            || (0x2A700...0x2B73F).contains(c) || (0x2B740...0x2B81F).contains(c) || (0x2B820...0x2CEAF).contains(c)
            || (0xF900...0xFAFF).contains(c) || (0x2F800...0x2FA1F).contains(c)
    }

    static func isPunctuation(_ c: UInt32) -> Bool {
        if c < 0x80 {
            return (33...47).contains(c) || (58...64).contains(c) || (91...96).contains(c) || (123...126).contains(c)
        }
        switch Unicode.Scalar(c)!.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }
}

/// A trie over Unicode scalars with all edges in one hash table, for longest-prefix lookups without building strings.
struct ScalarTrie: Sendable {
    /// (node << 21 | scalar) → child node. Node 0 is the root.
    private var edges: [UInt64: Int32] = [:]
    /// Token id ending at each node, or -1.
    private var values: [Int32] = [-1]
    /// Children of the root for ASCII scalars (the common case), or -1.
    private var rootASCII = [Int32](repeating: -1, count: 128)

    mutating func insert(_ scalars: ArraySlice<UInt32>, id: Int32) {
        guard !scalars.isEmpty else { return }
        var node: Int32 = 0
        for c in scalars {
            if let child = child(node, c) {
                node = child
            } else {
                let child = Int32(values.count)
                values.append(-1)
                if node == 0, c < 128 { rootASCII[Int(c)] = child } else { edges[Self.key(node, c)] = child }
                node = child
            }
        }
        values[Int(node)] = id
    }

    /// The longest prefix of `word` that is a token: its id and the index after it.
    func longestPrefix(_ word: ArraySlice<UInt32>) -> (Int32, Int)? {
        var node: Int32 = 0
        var best: (Int32, Int)?
        var i = word.startIndex
        while i < word.endIndex, let next = child(node, word[i]) {
            node = next
            i += 1
            let v = values[Int(node)]
            if v >= 0 { best = (v, i) }
        }
        return best
    }

    @inline(__always) private func child(_ node: Int32, _ c: UInt32) -> Int32? {
        if node == 0, c < 128 {
            let r = rootASCII[Int(c)]
            return r >= 0 ? r : nil
        }
        return edges[Self.key(node, c)]
    }

    @inline(__always) private static func key(_ node: Int32, _ c: UInt32) -> UInt64 {
        UInt64(UInt32(bitPattern: node)) << 21 | UInt64(c)
    }
}
