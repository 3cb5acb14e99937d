/// A 1-based line and column (counted in Unicode scalars) in the model text.
public struct SEMSourcePosition: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    /// Line, from 1.
    public var line: Int
    /// Column, from 1.
    public var column: Int

    /// A position.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// "line L, column C".
    public var description: String { "line \(line), column \(column)" }
}

/// The operators of lavaan's model syntax that Causa supports.
public enum SEMOperator: String, Sendable, Equatable, Codable, CaseIterable {
    /// `f =~ x`: latent f is measured by indicator x (a loading).
    case measuredBy = "=~"
    /// `y ~ x`: y is regressed on x.
    case regression = "~"
    /// `a ~~ b`: (residual) variance (a == b) or covariance.
    case covariance = "~~"
    /// `y ~ 1`: intercept (mean) of y.
    case intercept = "~1"
}

/// What a `*` in front of a right-hand-side term says: a fixed value or a label.
public enum SEMModifier: Sendable, Equatable, Codable {
    /// `0.5*x`: the parameter is fixed at this value and not estimated.
    case fixed(Double)
    /// `a*x`: the parameter is free and named; parameters with the same label are constrained equal.
    case label(String)
}

/// One parameter the user wrote: `lhs op rhs` with its modifier and where each side stands in the text.
public struct SEMRelation: Sendable, Equatable, Codable {
    /// Left-hand side variable.
    public var lhs: String
    /// Operator; `.intercept` for `y ~ 1`.
    public var op: SEMOperator
    /// Right-hand side variable, "" for an intercept.
    public var rhs: String
    /// Fixed value or label, if any.
    public var modifier: SEMModifier?
    /// Position of the left-hand side name.
    public var lhsPosition: SEMSourcePosition
    /// Position of the right-hand side term (its variable name, or the `1` of an intercept).
    public var rhsPosition: SEMSourcePosition
}

/// A parsed lavaan model: the relations in the order written (one per right-hand-side term and left-hand side).
///
/// ### Supported syntax (lavaan's, see https://lavaan.ugent.be/tutorial/syntax1.html)
/// - `f =~ x1 + x2 + x3` latent variables, `y ~ x1 + x2` regressions, `a ~~ b` variances and covariances,
///   `y ~ 1` intercepts (also inside a regression: `y ~ 1 + x`);
/// - modifiers `0*x`, `0.7*x`, `-1*x` (fixed values) and `a*x` (labels; equal labels mean equal parameters);
/// - several left-hand sides `y1 + y2 ~ x`;
/// - `#` and `!` comments to the end of the line, `;` between statements on one line, and right-hand sides that
///   continue on the next line after a trailing `+`, `*` or operator.
///
/// Not supported (a positioned syntax error): `:=`, `==`, `<`, `>`, `<~`, `|`, `c(…)`, `start(…)`, `NA*`.
public struct SEMModel: Sendable, Equatable, Codable {
    /// The relations in the order written.
    public var relations: [SEMRelation]

    /// Parses lavaan model syntax.
    /// - Parameter text: the model, e.g. `"sat =~ s1 + s2 + s3\nsat ~ quality + price"`.
    /// - Throws: `SEMError.syntax(line:column:message:)` at the first offending token; `SEMError.emptyModel`.
    /// - Complexity: O(length of text).
    public init(parsing text: String) throws {
        var parser = SEMParser(tokens: try SEMLexer.tokens(of: text))
        relations = try parser.parseModel()
        if relations.isEmpty { throw SEMError.emptyModel }
    }

    /// A model from relations built in code.
    public init(relations: [SEMRelation]) {
        self.relations = relations
    }
}

// MARK: - Lexer

enum SEMToken: Equatable {
    case name(String)
    case number(Double, text: String)
    case op(SEMOperator)  // =~, ~, ~~ (never .intercept)
    case star, plus, minus, semicolon, newline, end
}

struct SEMLexer {
    struct Located {
        var token: SEMToken
        var position: SEMSourcePosition
    }

    static func tokens(of text: String) throws -> [Located] {
        let scalars = Array(text.unicodeScalars)
        var out: [Located] = []
        var i = 0, line = 1, lineStart = 0
        func here(_ index: Int) -> SEMSourcePosition { SEMSourcePosition(line: line, column: index - lineStart + 1) }
        func isNameStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c == "." || c.properties.isAlphabetic }
        func isNamePart(_ c: Unicode.Scalar) -> Bool { isNameStart(c) || ("0"..."9").contains(c) }
        while i < scalars.count {
            let c = scalars[i]
            switch c {
            case " ", "\t", "\r":
                i += 1
            case "\n":
                out.append(Located(token: .newline, position: here(i)))
                i += 1
                line += 1
                lineStart = i
            case "#", "!":
                while i < scalars.count && scalars[i] != "\n" { i += 1 }
            case "=":
                guard i + 1 < scalars.count, scalars[i + 1] == "~" else {
                    let what = i + 1 < scalars.count && scalars[i + 1] == "=" ? "'==' (equality constraints) is not supported" : "unexpected '='; did you mean '=~'?"
                    throw SEMError.syntax(line: line, column: i - lineStart + 1, message: what)
                }
                out.append(Located(token: .op(.measuredBy), position: here(i)))
                i += 2
            case "~":
                if i + 1 < scalars.count && scalars[i + 1] == "~" {
                    out.append(Located(token: .op(.covariance), position: here(i)))
                    i += 2
                } else if i + 1 < scalars.count && scalars[i + 1] == "*" {
                    throw SEMError.syntax(line: line, column: i - lineStart + 1, message: "'~*~' (scaling factors) is not supported")
                } else {
                    out.append(Located(token: .op(.regression), position: here(i)))
                    i += 1
                }
            case "*":
                out.append(Located(token: .star, position: here(i)))
                i += 1
            case "+":
                out.append(Located(token: .plus, position: here(i)))
                i += 1
            case "-":
                out.append(Located(token: .minus, position: here(i)))
                i += 1
            case ";":
                out.append(Located(token: .semicolon, position: here(i)))
                i += 1
            case "0"..."9":
                let start = i
                while i < scalars.count && (("0"..."9").contains(scalars[i]) || scalars[i] == ".") { i += 1 }
                if i < scalars.count && (scalars[i] == "e" || scalars[i] == "E") {
                    var j = i + 1
                    if j < scalars.count && (scalars[j] == "+" || scalars[j] == "-") { j += 1 }
                    if j < scalars.count && ("0"..."9").contains(scalars[j]) {
                        i = j
                        while i < scalars.count && ("0"..."9").contains(scalars[i]) { i += 1 }
                    }
                }
                let text = String(String.UnicodeScalarView(scalars[start..<i]))
                guard let value = Double(text) else {
                    throw SEMError.syntax(line: line, column: start - lineStart + 1, message: "malformed number '\(text)'")
                }
                out.append(Located(token: .number(value, text: text), position: here(start)))
            default:
                if isNameStart(c) {
                    let start = i
                    while i < scalars.count && isNamePart(scalars[i]) { i += 1 }
                    let name = String(String.UnicodeScalarView(scalars[start..<i]))
                    out.append(Located(token: .name(name), position: here(start)))
                } else {
                    let message: String
                    switch c {
                    case ":": message = "':=' (defined parameters) is not supported"
                    case "<": message = "'<' and '<~' are not supported"
                    case ">": message = "'>' (inequality constraints) is not supported"
                    case "|": message = "'|' (thresholds) is not supported"
                    case "(", ")": message = "unexpected '\(c)': modifiers such as c(…) and start(…) are not supported"
                    default: message = "unexpected character '\(c)'"
                    }
                    throw SEMError.syntax(line: line, column: i - lineStart + 1, message: message)
                }
            }
        }
        out.append(Located(token: .end, position: here(i)))
        return out
    }
}

// MARK: - Parser

struct SEMParser {
    let tokens: [SEMLexer.Located]
    var index = 0

    init(tokens: [SEMLexer.Located]) { self.tokens = tokens }

    var current: SEMLexer.Located { tokens[index] }

    mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    /// Skips newlines (inside a statement after '+', '*' or an operator, a newline continues the statement).
    mutating func skipNewlines() { while current.token == .newline { advance() } }

    func fail(_ at: SEMLexer.Located, _ message: String) -> SEMError {
        SEMError.syntax(line: at.position.line, column: at.position.column, message: message)
    }

    static func describe(_ token: SEMToken) -> String {
        switch token {
        case .name(let n): return "'\(n)'"
        case .number(_, let text): return "'\(text)'"
        case .op(let op): return "'\(op.rawValue)'"
        case .star: return "'*'"
        case .plus: return "'+'"
        case .minus: return "'-'"
        case .semicolon: return "';'"
        case .newline: return "the end of the line"
        case .end: return "the end of the model"
        }
    }

    mutating func parseModel() throws -> [SEMRelation] {
        var relations: [SEMRelation] = []
        while true {
            while current.token == .newline || current.token == .semicolon { advance() }
            if current.token == .end { return relations }
            relations += try parseStatement()
            switch current.token {
            case .newline, .semicolon, .end: break
            default:
                throw fail(current, "expected '+', ';' or a new line, found \(Self.describe(current.token))")
            }
        }
    }

    mutating func parseStatement() throws -> [SEMRelation] {
        // Left-hand sides: name ('+' name)*.
        var lhs: [(String, SEMSourcePosition)] = []
        while true {
            guard case .name(let n) = current.token else {
                if lhs.isEmpty {
                    throw fail(current, "expected a variable name at the start of a statement, found \(Self.describe(current.token))")
                }
                throw fail(current, "expected a variable name after '+', found \(Self.describe(current.token))")
            }
            lhs.append((n, current.position))
            advance()
            if current.token == .plus { advance(); skipNewlines(); continue }
            break
        }
        guard case .op(let op) = current.token else {
            throw fail(current, "expected an operator (=~, ~ or ~~) after '\(lhs.last!.0)', found \(Self.describe(current.token))")
        }
        advance()
        skipNewlines()
        var terms: [(SEMOperator, String, SEMModifier?, SEMSourcePosition)] = []
        while true {
            terms.append(try parseTerm(op: op))
            if current.token == .plus { advance(); skipNewlines(); continue }
            break
        }
        var out: [SEMRelation] = []
        for (name, position) in lhs {
            for (termOp, rhs, modifier, rhsPosition) in terms {
                out.append(SEMRelation(lhs: name, op: termOp, rhs: rhs, modifier: modifier,
                                       lhsPosition: position, rhsPosition: rhsPosition))
            }
        }
        return out
    }

    /// term := [modifier '*'] (name | '1'); modifier := ['-'] number | name.
    mutating func parseTerm(op: SEMOperator) throws -> (SEMOperator, String, SEMModifier?, SEMSourcePosition) {
        var modifier: SEMModifier?
        let start = current
        // A signed number or a name followed by '*' is a modifier.
        if current.token == .minus {
            advance()
            guard case .number(let v, _) = current.token else {
                throw fail(current, "expected a number after '-', found \(Self.describe(current.token))")
            }
            advance()
            guard current.token == .star else {
                throw fail(current, "expected '*' after the fixed value \(-v), found \(Self.describe(current.token))")
            }
            modifier = .fixed(-v)
            advance()
            skipNewlines()
        } else if index + 1 < tokens.count, tokens[index + 1].token == .star {
            switch current.token {
            case .number(let v, _): modifier = .fixed(v)
            case .name(let n):
                if n == "NA" { throw fail(current, "'NA*' (freeing a parameter) is not supported") }
                modifier = .label(n)
            default: throw fail(current, "expected a fixed value or a label before '*', found \(Self.describe(current.token))")
            }
            advance()
            advance()
            skipNewlines()
        }
        switch current.token {
        case .name(let n):
            let position = current.position
            advance()
            return (op, n, modifier, position)
        case .number(let v, let text):
            guard op == .regression, v == 1, text.allSatisfy({ $0 == "1" || $0 == "." || $0 == "0" }) else {
                if op == .regression {
                    throw fail(current, "expected a variable name or 1 (an intercept), found \(Self.describe(current.token))")
                }
                throw fail(current, "expected a variable name, found \(Self.describe(current.token))")
            }
            let position = current.position
            advance()
            return (.intercept, "", modifier, position)
        default:
            let what = modifier == nil ? "expected a variable name" : "expected a variable name after '*'"
            _ = start
            throw fail(current, "\(what), found \(Self.describe(current.token))")
        }
    }
}
