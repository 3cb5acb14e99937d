/// A token of patsy's formula language or of the Python expressions inside factors.
struct FormulaToken: Equatable {
    enum Kind: Equatable { case name, number, string, op, end }
    var kind: Kind
    var text: String
    /// 1-based character offset in the formula.
    var offset: Int
}

/// Splits formula text into Python-like tokens (names may contain dots: `np.log`).
enum FormulaLexer {
    static let multiCharOperators = ["**", "//", "==", "!=", "<=", ">=", "<<", ">>", "<>"]
    static let singleCharOperators = Set("~+-*/:()[]{},=<>%&|^!.")

    static func tokenize(_ text: String) throws -> [FormulaToken] {
        let chars = Array(text)
        var tokens: [FormulaToken] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace {
                i += 1
                continue
            }
            let start = i
            if c.isLetter || c == "_" {
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "." {
                    i += 1
                }
                tokens.append(.init(kind: .name, text: String(chars[start..<i]), offset: start + 1))
            } else if c.isNumber || (c == "." && i + 1 < chars.count && chars[i + 1].isNumber) {
                while i < chars.count, chars[i].isNumber || chars[i] == "." || chars[i] == "_" { i += 1 }
                if i < chars.count, chars[i] == "e" || chars[i] == "E" {
                    var j = i + 1
                    if j < chars.count, chars[j] == "+" || chars[j] == "-" { j += 1 }
                    if j < chars.count, chars[j].isNumber {
                        i = j
                        while i < chars.count, chars[i].isNumber { i += 1 }
                    }
                }
                tokens.append(.init(kind: .number, text: String(chars[start..<i]), offset: start + 1))
            } else if c == "\"" || c == "'" {
                i += 1
                var closed = false
                while i < chars.count {
                    if chars[i] == "\\" {
                        i += 2
                        continue
                    }
                    if chars[i] == c {
                        closed = true
                        i += 1
                        break
                    }
                    i += 1
                }
                guard closed else { throw FormulaError("unterminated string literal", at: start + 1) }
                tokens.append(.init(kind: .string, text: String(chars[start..<min(i, chars.count)]), offset: start + 1))
            } else {
                if i + 1 < chars.count, multiCharOperators.contains(String(chars[i...i + 1])) {
                    tokens.append(.init(kind: .op, text: String(chars[i...i + 1]), offset: start + 1))
                    i += 2
                } else if singleCharOperators.contains(c) {
                    tokens.append(.init(kind: .op, text: String(c), offset: start + 1))
                    i += 1
                } else {
                    throw FormulaError("unexpected character '\(c)'", at: start + 1)
                }
            }
        }
        tokens.append(.init(kind: .end, text: "", offset: chars.count + 1))
        return tokens
    }

    /// Joins Python tokens with patsy's spacing rules, so that factor names print as patsy prints them
    /// (`I(x==6)` becomes `I(x == 6)`).
    /// Source: patsy/tokens.py, `pretty_untokenize`.
    static func prettyUntokenize(_ tokens: [FormulaToken]) -> String {
        let spaceBoth = [
            "+", "-", "*", "/", "%", "&", "^", "|", "<", ">", "==", "<>", "!=", "<=", ">=", "<<", ">>", "**", "//"
        ]
        let spaceBefore = Set(spaceBoth + ["!", "~"])
        let spaceAfter = Set(spaceBoth + [",", ":"])
        var text = ""
        var prevWasSpaceDelim = false
        var prevWantsSpace = false
        var prevWasOpenParenOrComma = false
        var prevWasObjectLike = false
        var brackets: [String] = []
        for token in tokens where token.kind != .end {
            if token.kind != .op {
                if prevWantsSpace || prevWasSpaceDelim { text += " " }
                text += token.text
                prevWantsSpace = false
                prevWasSpaceDelim = true
            } else {
                let t = token.text
                if ["(", "[", "{"].contains(t) {
                    brackets.append(t)
                } else if !brackets.isEmpty, [")", "]", "}"].contains(t) {
                    brackets.removeLast()
                }
                var before = spaceBefore.contains(t)
                var after = spaceAfter.contains(t)
                if t == ":", brackets.last == "[" { after = false }
                if t == "*" || t == "**", prevWasOpenParenOrComma {
                    before = false
                    after = false
                }
                if t == "=", brackets.isEmpty {
                    before = true
                    after = true
                }
                if t == "+" || t == "-", !prevWasObjectLike {
                    before = false
                    after = false
                }
                if prevWantsSpace || before { text += " " }
                text += t
                prevWantsSpace = after
                prevWasSpaceDelim = false
            }
            prevWasObjectLike = token.kind != .op || token.text == ")"
            prevWasOpenParenOrComma = token.kind == .op && (token.text == "(" || token.text == ",")
        }
        return text
    }
}
