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

/// What a `*` in front of a right-hand-side term says. Several may be chained (`0.6*lam2*x2`, `NA*a*x1`) or written
/// as repeated terms (`0.6*x2 + lam2*x2`): both forms merge into one parameter (`SEMParameterTable`).
public enum SEMModifier: Sendable, Equatable, Codable {
    /// `0.5*x`: the parameter is fixed at this value and not estimated.
    case fixed(Double)
    /// `a*x`: the parameter is named; every term with the same label is the same parameter.
    case label(String)
    /// `NA*x`: the parameter is free even where a default would fix it (the first loading of a latent variable).
    case free
    /// `start(0.5)*x`: the optimizer starts the parameter at this value (it stays free).
    case start(Double)
}

/// One parameter the user wrote: `lhs op rhs` with its modifiers and where each side stands in the text.
public struct SEMRelation: Sendable, Equatable, Codable {
    /// Left-hand side variable.
    public var lhs: String
    /// Operator; `.intercept` for `y ~ 1`.
    public var op: SEMOperator
    /// Right-hand side variable, "" for an intercept.
    public var rhs: String
    /// Modifiers in the order written (at most one value — fixed or `NA` —, one label and one start per term).
    public var modifiers: [SEMModifier]
    /// Position of the left-hand side name.
    public var lhsPosition: SEMSourcePosition
    /// Position of the right-hand side term (its variable name, or the `1` of an intercept).
    public var rhsPosition: SEMSourcePosition

    /// A relation.
    public init(
        lhs: String, op: SEMOperator, rhs: String, modifiers: [SEMModifier] = [],
        lhsPosition: SEMSourcePosition, rhsPosition: SEMSourcePosition
    ) {
        self.lhs = lhs
        self.op = op
        self.rhs = rhs
        self.modifiers = modifiers
        self.lhsPosition = lhsPosition
        self.rhsPosition = rhsPosition
    }
}

/// An arithmetic expression of parameter labels (`:=` and `==`): numbers, labels, `+ - * / ^`, unary minus,
/// parentheses and the functions `exp`, `log`, `sqrt`, `abs`. `^` binds tighter than unary minus (as in R: −2^2 = −4)
/// and is right-associative.
public indirect enum SEMExpression: Sendable, Equatable, Codable {
    /// A literal.
    case number(Double)
    /// A parameter label or an earlier defined parameter, with where it stands.
    case label(String, SEMSourcePosition)
    /// −e.
    case negate(SEMExpression)
    /// l op r for op in "+", "-", "*", "/", "^".
    case binary(String, SEMExpression, SEMExpression)
    /// f(e) for f in `SEMExpression.functions`.
    case function(String, SEMExpression, SEMSourcePosition)

    /// The functions an expression may call.
    public static let functions: Set<String> = ["exp", "log", "sqrt", "abs"]

    /// Every label the expression names, in text order with repeats.
    public var labels: [(String, SEMSourcePosition)] {
        switch self {
        case .number: return []
        case .label(let n, let p): return [(n, p)]
        case .negate(let e): return e.labels
        case .binary(_, let l, let r): return l.labels + r.labels
        case .function(_, let e, _): return e.labels
        }
    }
}

/// `name := expression`: a defined parameter (lavaan), estimated as a function of the labelled parameters with a
/// delta-method standard error.
public struct SEMDefinition: Sendable, Equatable, Codable {
    /// The new name.
    public var name: String
    /// Its expression.
    public var expression: SEMExpression
    /// The expression as written, whitespace removed (lavaan's `rhs` of the `:=` row).
    public var text: String
    /// Where the name stands.
    public var position: SEMSourcePosition
}

/// `lhs == rhs`: an equality constraint between expressions of labels; Causa takes linear ones (`a == b`,
/// `a == 2*b`, `a + b == 1`).
public struct SEMConstraint: Sendable, Equatable, Codable {
    /// Left side.
    public var lhs: SEMExpression
    /// Right side.
    public var rhs: SEMExpression
    /// The constraint as written, whitespace removed.
    public var text: String
    /// Where the `==` stands.
    public var position: SEMSourcePosition
}

/// A parsed lavaan model: the relations in the order written (one per right-hand-side term and left-hand side), the
/// defined parameters and the equality constraints.
///
/// ### Supported syntax (lavaan's, see https://lavaan.ugent.be/tutorial/syntax1.html and syntax2.html)
/// - `f =~ x1 + x2 + x3` latent variables, `y ~ x1 + x2` regressions, `a ~~ b` variances and covariances,
///   `y ~ 1` intercepts (also inside a regression: `y ~ 1 + x`);
/// - modifiers `0*x`, `0.7*x`, `-1*x` (fixed values), `a*x` (labels: every term with one label is one parameter),
///   `NA*x` (free, e.g. a first loading) and `start(0.5)*x` (starting value), chained (`0.6*lam2*x2`) or as repeated
///   terms (`0.6*x2 + lam2*x2`);
/// - `name := expression` defined parameters and `expr == expr` linear equality constraints between labels
///   (`SEMExpression`);
/// - several left-hand sides `y1 + y2 ~ x`;
/// - `#` and `!` comments to the end of the line, `;` between statements on one line, and statements that
///   continue on the next line after a trailing `+`, `*`, operator or binary operator of an expression.
///
/// Not supported (a positioned syntax error): `<`, `>`, `<~`, `|`, `~*~`, `c(…)`, `label(…)`, `equal(…)`.
public struct SEMModel: Sendable, Equatable, Codable {
    /// The relations in the order written.
    public var relations: [SEMRelation]
    /// `:=` statements in the order written.
    public var definitions: [SEMDefinition]
    /// `==` statements in the order written.
    public var constraints: [SEMConstraint]

    /// Parses lavaan model syntax.
    /// - Parameter text: the model, e.g. `"sat =~ s1 + s2 + s3\nsat ~ quality + price"`.
    /// - Throws: `SEMError.syntax(line:column:message:)` at the first offending token; `SEMError.emptyModel`.
    /// - Complexity: O(length of text).
    public init(parsing text: String) throws {
        var parser = SEMParser(tokens: try SEMLexer.tokens(of: text))
        try parser.parseModel()
        relations = parser.relations
        definitions = parser.definitions
        constraints = parser.constraints
        if relations.isEmpty { throw SEMError.emptyModel }
    }

    /// A model from relations built in code.
    public init(relations: [SEMRelation], definitions: [SEMDefinition] = [], constraints: [SEMConstraint] = []) {
        self.relations = relations
        self.definitions = definitions
        self.constraints = constraints
    }
}

// MARK: - Lexer

enum SEMToken: Equatable {
    case name(String)
    case number(Double, text: String)
    case op(SEMOperator)  // =~, ~, ~~ (never .intercept)
    case define  // :=
    case equals  // ==
    case star, plus, minus, slash, caret, leftParen, rightParen, semicolon, newline, end
}

struct SEMLexer {
    struct Located {
        var token: SEMToken
        var position: SEMSourcePosition
    }

    static func tokens(of text: String) throws -> [Located] {
        let scalars = Array(text.unicodeScalars)
        var out: [Located] = []
        var i = 0
        var line = 1
        var lineStart = 0
        func here(_ index: Int) -> SEMSourcePosition { SEMSourcePosition(line: line, column: index - lineStart + 1) }
        func isNameStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c == "." || c.properties.isAlphabetic }
        func isNamePart(_ c: Unicode.Scalar) -> Bool { isNameStart(c) || ("0"..."9").contains(c) }
        func next(_ c: Unicode.Scalar) -> Bool { i + 1 < scalars.count && scalars[i + 1] == c }
        func single(_ token: SEMToken) {
            out.append(Located(token: token, position: here(i)))
            i += 1
        }
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
                if next("~") {
                    out.append(Located(token: .op(.measuredBy), position: here(i)))
                } else if next("=") {
                    out.append(Located(token: .equals, position: here(i)))
                } else {
                    throw SEMError.syntax(
                        line: line, column: i - lineStart + 1,
                        message: "unexpected '='; did you mean '=~' or '=='?")
                }
                i += 2
            case ":":
                guard next("=") else {
                    throw SEMError.syntax(
                        line: line, column: i - lineStart + 1,
                        message: "unexpected ':'; did you mean ':=' (a defined parameter)?")
                }
                out.append(Located(token: .define, position: here(i)))
                i += 2
            case "~":
                if next("~") {
                    out.append(Located(token: .op(.covariance), position: here(i)))
                    i += 2
                } else if next("*") {
                    throw SEMError.syntax(
                        line: line, column: i - lineStart + 1, message: "'~*~' (scaling factors) is not supported")
                } else {
                    single(.op(.regression))
                }
            case "*": single(.star)
            case "+": single(.plus)
            case "-": single(.minus)
            case "/": single(.slash)
            case "^": single(.caret)
            case "(": single(.leftParen)
            case ")": single(.rightParen)
            case ";": single(.semicolon)
            case "0"..."9",
                "." where c != "." || (i + 1 < scalars.count && ("0"..."9").contains(scalars[i + 1])):
                // A number: digits, or a '.' followed by a digit (".5", as R reads it).
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
                guard let value = Double(text), value.isFinite else {
                    let why = Double(text) == nil ? "malformed number" : "number out of range"
                    throw SEMError.syntax(line: line, column: start - lineStart + 1, message: "\(why) '\(text)'")
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
                    case "<": message = "'<' and '<~' are not supported"
                    case ">": message = "'>' (inequality constraints) is not supported"
                    case "|": message = "'|' (thresholds) is not supported"
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
    var relations: [SEMRelation] = []
    var definitions: [SEMDefinition] = []
    var constraints: [SEMConstraint] = []

    init(tokens: [SEMLexer.Located]) { self.tokens = tokens }

    var current: SEMLexer.Located { tokens[index] }

    func peek(_ offset: Int) -> SEMToken { tokens[min(index + offset, tokens.count - 1)].token }

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
        case .define: return "':='"
        case .equals: return "'=='"
        case .star: return "'*'"
        case .plus: return "'+'"
        case .minus: return "'-'"
        case .slash: return "'/'"
        case .caret: return "'^'"
        case .leftParen: return "'('"
        case .rightParen: return "')'"
        case .semicolon: return "';'"
        case .newline: return "the end of the line"
        case .end: return "the end of the model"
        }
    }

    /// The token as written (for the text of `:=` and `==` rows).
    static func spelling(_ token: SEMToken) -> String {
        switch token {
        case .name(let n): return n
        case .number(_, let text): return text
        case .op(let op): return op.rawValue
        case .define: return ":="
        case .equals: return "=="
        case .star: return "*"
        case .plus: return "+"
        case .minus: return "-"
        case .slash: return "/"
        case .caret: return "^"
        case .leftParen: return "("
        case .rightParen: return ")"
        case .semicolon, .newline, .end: return ""
        }
    }

    func text(_ range: Range<Int>) -> String { range.map { Self.spelling(tokens[$0].token) }.joined() }

    mutating func parseModel() throws {
        while true {
            while current.token == .newline || current.token == .semicolon { advance() }
            if current.token == .end { return }
            if case .name = current.token, peek(1) == .define {
                try parseDefinition()
            } else if statementHasEquals() {
                try parseConstraint()
            } else {
                relations += try parseStatement()
            }
            switch current.token {
            case .newline, .semicolon, .end: break
            default:
                throw fail(current, "expected '+', ';' or a new line, found \(Self.describe(current.token))")
            }
        }
    }

    /// Whether a '==' comes before the end of the current line or statement.
    func statementHasEquals() -> Bool {
        var k = index
        while k < tokens.count {
            switch tokens[k].token {
            case .equals: return true
            case .newline, .semicolon, .end: return false
            default: k += 1
            }
        }
        return false
    }

    /// Longest expression (tokens) and deepest parenthesis nesting of a `:=` or `==` side: expressions are evaluated
    /// recursively, so their depth is bounded.
    static let maxExpressionTokens = 256, maxNesting = 32
    var nesting = 0

    /// Refuses an expression longer than `maxExpressionTokens` tokens, which began at token `first`.
    func checkLength(from first: Int) throws {
        guard index - first <= Self.maxExpressionTokens else {
            throw fail(
                tokens[first],
                "expression too long (more than \(Self.maxExpressionTokens) symbols); "
                    + "split it into several definitions")
        }
    }

    mutating func parseDefinition() throws {
        guard case .name(let name) = current.token else { return }
        let position = current.position
        advance()  // name
        advance()  // :=
        skipNewlines()
        let first = index
        let expression = try parseExpression()
        try checkLength(from: first)
        definitions.append(
            SEMDefinition(
                name: name, expression: expression, text: text(first..<index),
                position: position))
    }

    mutating func parseConstraint() throws {
        let first = index
        let lhs = try parseExpression()
        try checkLength(from: first)
        guard current.token == .equals else {
            throw fail(
                current,
                "expected '==' after the left side of a constraint, found \(Self.describe(current.token))")
        }
        let position = current.position
        advance()
        skipNewlines()
        let rhs = try parseExpression()
        try checkLength(from: first)
        constraints.append(SEMConstraint(lhs: lhs, rhs: rhs, text: text(first..<index), position: position))
    }

    // expr := term (('+' | '-') term)*; term := unary (('*' | '/') unary)*; unary := '-' unary | power;
    // power := primary ('^' unary)?; primary := number | label | function '(' expr ')' | '(' expr ')'.
    mutating func parseExpression() throws -> SEMExpression {
        var left = try parseProduct()
        while current.token == .plus || current.token == .minus {
            let op = current.token == .plus ? "+" : "-"
            advance()
            skipNewlines()
            left = .binary(op, left, try parseProduct())
        }
        return left
    }

    mutating func parseProduct() throws -> SEMExpression {
        var left = try parseUnary()
        while current.token == .star || current.token == .slash {
            let op = current.token == .star ? "*" : "/"
            advance()
            skipNewlines()
            left = .binary(op, left, try parseUnary())
        }
        return left
    }

    mutating func parseUnary() throws -> SEMExpression {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Self.maxNesting * 4 else {
            throw fail(current, "expression nested too deeply (more than \(Self.maxNesting) levels)")
        }
        if current.token == .minus {
            advance()
            return .negate(try parseUnary())
        }
        if current.token == .plus {
            advance()
            return try parseUnary()
        }
        let base = try parsePrimary()
        if current.token == .caret {
            advance()
            skipNewlines()
            return .binary("^", base, try parseUnary())
        }
        return base
    }

    mutating func parsePrimary() throws -> SEMExpression {
        let at = current
        switch at.token {
        case .number(let v, _):
            advance()
            return .number(v)
        case .name(let n):
            advance()
            guard current.token == .leftParen else { return .label(n, at.position) }
            guard SEMExpression.functions.contains(n) else {
                let known = SEMExpression.functions.sorted().joined(separator: ", ")
                throw fail(at, "unknown function '\(n)' (expressions may use \(known))")
            }
            advance()
            skipNewlines()
            let argument = try parseExpression()
            guard current.token == .rightParen else {
                throw fail(current, "expected ')' to close \(n)(, found \(Self.describe(current.token))")
            }
            advance()
            return .function(n, argument, at.position)
        case .leftParen:
            guard nesting <= Self.maxNesting else {
                throw fail(at, "expression nested too deeply (more than \(Self.maxNesting) levels)")
            }
            advance()
            skipNewlines()
            let inner = try parseExpression()
            guard current.token == .rightParen else {
                throw fail(current, "expected ')', found \(Self.describe(current.token))")
            }
            advance()
            return inner
        default:
            throw fail(at, "expected a number, a label or '(' in an expression, found \(Self.describe(at.token))")
        }
    }

    mutating func parseStatement() throws -> [SEMRelation] {
        // Left-hand sides: name ('+' name)*.
        var lhs: [(String, SEMSourcePosition)] = []
        while true {
            guard case .name(let n) = current.token else {
                if lhs.isEmpty {
                    throw fail(
                        current,
                        "expected a variable name at the start of a statement, found \(Self.describe(current.token))")
                }
                throw fail(current, "expected a variable name after '+', found \(Self.describe(current.token))")
            }
            lhs.append((n, current.position))
            advance()
            if current.token == .plus {
                advance()
                skipNewlines()
                continue
            }
            break
        }
        guard case .op(let op) = current.token else {
            if current.token == .define {
                throw fail(current, "a defined parameter takes one name before ':='")
            }
            throw fail(
                current,
                "expected an operator (=~, ~, ~~, := or ==) after '\(lhs.last!.0)', "
                    + "found \(Self.describe(current.token))")
        }
        advance()
        skipNewlines()
        var terms: [(SEMOperator, String, [SEMModifier], SEMSourcePosition)] = []
        while true {
            terms.append(try parseTerm(op: op))
            if current.token == .plus {
                advance()
                skipNewlines()
                continue
            }
            break
        }
        var out: [SEMRelation] = []
        for (name, position) in lhs {
            for (termOp, rhs, modifiers, rhsPosition) in terms {
                out.append(
                    SEMRelation(
                        lhs: name, op: termOp, rhs: rhs, modifiers: modifiers,
                        lhsPosition: position, rhsPosition: rhsPosition))
            }
        }
        return out
    }

    /// term := (modifier '*')* (name | '1');
    /// modifier := ['-'] number | 'NA' | label | 'start' '(' ['-'] number ')'.
    /// A term carries at most one value (a number or NA), one label and one start.
    mutating func parseTerm(op: SEMOperator) throws -> (SEMOperator, String, [SEMModifier], SEMSourcePosition) {
        var modifiers: [SEMModifier] = []
        var value: (SEMLexer.Located, SEMModifier)?
        var label: (SEMLexer.Located, String)?
        var start: SEMLexer.Located?
        func describe(_ m: SEMModifier) -> String {
            switch m {
            case .fixed(let v): return "the fixed value \(SEMParser.format(v))"
            case .free: return "NA"
            case .label(let l): return "the label '\(l)'"
            case .start(let v): return "start(\(SEMParser.format(v)))"
            }
        }
        while true {
            let at = current
            var modifier: SEMModifier
            if current.token == .minus {
                advance()
                guard case .number(let v, _) = current.token else {
                    throw fail(current, "expected a number after '-', found \(Self.describe(current.token))")
                }
                advance()
                guard current.token == .star else {
                    throw fail(
                        current,
                        "expected '*' after the fixed value \(Self.format(-v)), found \(Self.describe(current.token))")
                }
                modifier = .fixed(-v)
            } else if case .name(let n) = current.token, peek(1) == .leftParen {
                guard n == "start" else {
                    throw fail(
                        current,
                        "unexpected '\(n)(': of lavaan's modifier functions only start(…) is "
                            + "supported (c(…), label(…), equal(…) are not)")
                }
                advance()
                advance()
                var sign = 1.0
                if current.token == .minus {
                    sign = -1
                    advance()
                }
                guard case .number(let v, _) = current.token else {
                    throw fail(current, "expected a number in start(…), found \(Self.describe(current.token))")
                }
                advance()
                guard current.token == .rightParen else {
                    throw fail(
                        current,
                        "expected ')' after start(\(Self.format(sign * v)), "
                            + "found \(Self.describe(current.token))")
                }
                advance()
                guard current.token == .star else {
                    throw fail(
                        current,
                        "expected '*' after start(\(Self.format(sign * v))), "
                            + "found \(Self.describe(current.token))")
                }
                modifier = .start(sign * v)
            } else if peek(1) == .star {
                switch current.token {
                case .number(let v, _): modifier = .fixed(v)
                case .name(let n): modifier = n == "NA" ? .free : .label(n)
                default:
                    throw fail(
                        current,
                        "expected a fixed value or a label before '*', found \(Self.describe(current.token))")
                }
                advance()
            } else {
                break
            }
            // `current` is the '*'.
            switch modifier {
            case .fixed, .free:
                if let (first, m) = value {
                    throw fail(
                        at,
                        "\(describe(modifier)) and \(describe(m)) (column \(first.position.column)) "
                            + "on one term: a parameter has one value")
                }
                value = (at, modifier)
            case .label(let l):
                if let (first, other) = label {
                    throw fail(
                        at,
                        "two labels ('\(other)' at column \(first.position.column) and '\(l)') "
                            + "on one term: a parameter has one label")
                }
                label = (at, l)
            case .start:
                if start != nil { throw fail(at, "two start(…) values on one term") }
                start = at
            }
            modifiers.append(modifier)
            advance()
            skipNewlines()
        }
        switch current.token {
        case .name(let n):
            let position = current.position
            advance()
            return (op, n, modifiers, position)
        case .number(let v, let text):
            guard op == .regression, v == 1, text.allSatisfy({ $0 == "1" || $0 == "." || $0 == "0" }) else {
                if op == .regression {
                    throw fail(
                        current, "expected a variable name or 1 (an intercept), found \(Self.describe(current.token))")
                }
                throw fail(current, "expected a variable name, found \(Self.describe(current.token))")
            }
            let position = current.position
            advance()
            return (.intercept, "", modifiers, position)
        default:
            let what = modifiers.isEmpty ? "expected a variable name" : "expected a variable name after '*'"
            throw fail(current, "\(what), found \(Self.describe(current.token))")
        }
    }

    /// A value as a user would write it (0.6, -1, 2.5e-08).
    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)"
    }
}
