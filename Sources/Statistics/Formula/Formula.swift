/// One factor of a model formula: a column, an expression, or a categorical wrapper `C(...)`.
///
/// Two factors are the same when their normalised code is the same (`I(x==1)` and `I(x == 1)` are one factor).
public struct Factor: Hashable, Sendable, CustomStringConvertible {
    /// The expression that gives the factor's value for a row.
    public let expression: FactorExpression
    /// Whether the factor is wrapped in `C(...)` (always categorical).
    public let forcedCategorical: Bool
    /// The reference level of `C(x, Treatment(reference=...))`, if given.
    public let reference: FactorValue?
    /// The factor's name as patsy prints it (its code with normalised spacing), e.g. `C(position)`.
    public let name: String
    /// 1-based character offset of the factor in the formula.
    public let offset: Int

    public var description: String { name }
    public static func == (a: Factor, b: Factor) -> Bool { a.name == b.name }
    public func hash(into h: inout Hasher) { h.combine(name) }
}

/// A term: an interaction of zero or more factors. The empty term is the intercept.
/// Two terms are equal when they have the same set of factors (`a:b` is `b:a`), as in patsy.
public struct Term: Hashable, Sendable, CustomStringConvertible {
    /// The factors, in the order they were first written.
    public let factors: [Factor]

    init(_ factors: [Factor]) {
        var unique: [Factor] = []
        for f in factors where !unique.contains(f) { unique.append(f) }
        self.factors = unique
    }

    /// Whether this is the intercept.
    public var isIntercept: Bool { factors.isEmpty }
    /// patsy's name of the term: `Intercept`, `a`, `a:b`.
    public var name: String { factors.isEmpty ? "Intercept" : factors.map(\.name).joined(separator: ":") }
    public var description: String { name }
    public static func == (a: Term, b: Term) -> Bool { Set(a.factors) == Set(b.factors) }
    public func hash(into h: inout Hasher) { h.combine(Set(factors)) }
}

/// A model formula in patsy/R syntax: `y ~ a + C(b) + a:c + C(b):a - 1`.
///
/// Supported: `+`, `-`, `:`, `*`, `/` (nesting), `**` (with a number), parentheses, `1`/`0`/`-1`/`+0` for the
/// intercept; factors are column names, `Q("odd name")`, `C(x)`, `C(x, Treatment(reference=v))`, `I(python
/// expression)`, and `np.log/np.exp/np.sqrt/np.abs(...)`. Term algebra follows patsy (terms deduplicated in order of
/// appearance; the right-hand side gets an intercept unless it is removed).
///
/// Source: patsy `desc.py` (`_eval_binary_plus`, `_eval_binary_minus`, `_interaction`, `_eval_any_tilde`).
public struct Formula: Sendable, CustomStringConvertible {
    /// The formula text as written.
    public let text: String
    /// The outcome (left-hand side) factor.
    public let outcome: Factor
    /// Right-hand side terms in the order of appearance, the intercept first when present.
    public let terms: [Term]

    public var description: String { text }
    /// Whether the model has an intercept.
    public var hasIntercept: Bool { terms.contains(where: \.isIntercept) }

    /// All factors of the right-hand side, in first-use order.
    public var factors: [Factor] {
        var out: [Factor] = []
        for t in terms { for f in t.factors where !out.contains(f) { out.append(f) } }
        return out
    }

    /// Data columns the formula reads (outcome first), in first-use order.
    public var columns: [String] {
        var out = outcome.expression.columns
        for f in factors { for c in f.expression.columns where !out.contains(c) { out.append(c) } }
        return out
    }

    /// Parses a formula.
    /// - Throws: `FormulaError` with the 1-based character offset of the problem.
    public init(_ text: String) throws {
        self.text = text
        let tokens = try FormulaLexer.tokenize(text)
        var parser = FormulaParser(tokens: tokens)
        let (lhs, rhs) = try parser.parseFormula()
        guard lhs.terms.count == 1, lhs.terms[0].factors.count == 1, !lhs.intercept else {
            throw FormulaError("the left-hand side must be one outcome column or expression, e.g. 'click ~ ...'", at: 1)
        }
        self.outcome = lhs.terms[0].factors[0]
        self.terms = (rhs.interceptRemoved ? [] : [Term([])]) + rhs.terms
    }
}

/// patsy's IntermediateExpr: terms plus the intercept bookkeeping.
struct TermSet {
    var intercept = false
    var interceptRemoved = false
    var terms: [Term] = []

    init(intercept: Bool = false, interceptRemoved: Bool = false, terms: [Term] = []) {
        self.intercept = intercept
        self.interceptRemoved = interceptRemoved
        var unique: [Term] = []
        for t in terms where !unique.contains(t) { unique.append(t) }
        self.terms = unique
    }
}

struct FormulaParser {
    var tokens: [FormulaToken]
    var position = 0
    /// Parentheses and operators nested so far; past `maximumNesting` the formula is refused rather than parsed by a
    /// recursion that could overflow the stack (20,000 nested parentheses killed the process).
    var depth = 0
    /// The deepest nesting of parentheses and operators a formula may have (patsy has none but Python's recursion
    /// limit).
    static let maximumNesting = 64

    var current: FormulaToken { tokens[position] }

    mutating func parseFormula() throws -> (TermSet, TermSet) {
        guard let tilde = tokens.firstIndex(where: { $0.kind == .op && $0.text == "~" }) else {
            throw FormulaError("missing '~' between the outcome and the terms", at: 1)
        }
        if tilde == 0 { throw FormulaError("missing outcome before '~'", at: tokens[0].offset) }
        let lhs = try expression(minPrecedence: 0)
        guard current.kind == .op, current.text == "~" else {
            throw FormulaError("unexpected '\(current.text)'", at: current.offset)
        }
        position += 1
        if current.kind == .end { throw FormulaError("no terms after '~'", at: current.offset) }
        let rhs = try expression(minPrecedence: 0)
        guard current.kind == .end else {
            throw FormulaError("unexpected '\(current.text)'", at: current.offset)
        }
        return (lhs, rhs)
    }

    static let precedence: [String: Int] = ["+": 100, "-": 100, "*": 200, "/": 200, ":": 300, "**": 500]

    mutating func expression(minPrecedence: Int) throws -> TermSet {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumNesting else {
            throw FormulaError("the formula is nested more than \(Self.maximumNesting) levels deep", at: current.offset)
        }
        var left = try unary()
        while current.kind == .op, let p = Self.precedence[current.text], p >= minPrecedence {
            let op = current
            position += 1
            if op.text == "**" {
                guard current.kind == .number, let power = Int(current.text), power >= 1 else {
                    throw FormulaError("'**' needs a positive whole number on its right", at: current.offset)
                }
                position += 1
                left = try Self.power(left, power, at: op.offset)
                continue
            }
            let right = try expression(minPrecedence: p + 1)
            left = try Self.apply(op, left, right)
        }
        return left
    }

    mutating func unary() throws -> TermSet {
        let token = current
        if token.kind == .op, token.text == "-" || token.text == "+" {
            position += 1
            let operand = try expression(minPrecedence: 100 + 1)
            if token.text == "+" { return operand }
            // patsy: -1 removes the intercept, -0 adds it; anything else is an error.
            if operand.terms.isEmpty, operand.intercept { return TermSet(interceptRemoved: true) }
            if operand.terms.isEmpty, operand.interceptRemoved { return TermSet(intercept: true) }
            throw FormulaError("unary '-' only applies to 0 or 1", at: token.offset)
        }
        return try atom()
    }

    mutating func atom() throws -> TermSet {
        let token = current
        switch token.kind {
        case .number:
            position += 1
            if token.text == "1" { return TermSet(intercept: true) }
            if token.text == "0" { return TermSet(interceptRemoved: true) }
            throw FormulaError(
                "numbers in a formula must be 0 or 1 (for the intercept); use I(...) for arithmetic", at: token.offset)
        case .op where token.text == "(":
            position += 1
            let inner = try expression(minPrecedence: 0)
            guard current.kind == .op, current.text == ")" else {
                throw FormulaError(
                    "expected ')'"
                        + (current.kind == .end ? " before the end of the formula" : ", found '\(current.text)'"),
                    at: current.offset)
            }
            position += 1
            return inner
        case .name:
            let factor = try self.factor()
            return TermSet(terms: [Term([factor])])
        case .end:
            throw FormulaError("formula ends where a term was expected", at: token.offset)
        default:
            throw FormulaError("unexpected '\(token.text)' where a term was expected", at: token.offset)
        }
    }

    /// A factor: NAME, or NAME( ... ) with balanced parentheses; the Python code inside is parsed separately.
    mutating func factor() throws -> Factor {
        let start = position
        let head = current
        position += 1
        var codeTokens = [head]
        if current.kind == .op, current.text == "(" {
            var depth = 0
            repeat {
                let t = current
                if t.kind == .end {
                    throw FormulaError("unclosed '(' in \(head.text)(...)", at: tokens[start + 1].offset)
                }
                if t.kind == .op, t.text == "(" { depth += 1 }
                if t.kind == .op, t.text == ")" { depth -= 1 }
                codeTokens.append(t)
                position += 1
            } while depth > 0
        }
        let name = FormulaLexer.prettyUntokenize(codeTokens)
        let inner = Array(codeTokens.dropFirst(2).dropLast())
        switch head.text {
        case "C" where codeTokens.count > 1:
            // C(expr) or C(expr, Treatment) or C(expr, Treatment(reference=v)) / Treatment(v)
            var depth = 0
            var split: Int? = nil
            for (i, t) in inner.enumerated() {
                if t.kind == .op, t.text == "(" { depth += 1 }
                if t.kind == .op, t.text == ")" { depth -= 1 }
                if depth == 0, t.kind == .op, t.text == "," {
                    split = i
                    break
                }
            }
            let exprTokens = split.map { Array(inner[..<$0]) } ?? inner
            guard !exprTokens.isEmpty else { throw FormulaError("C() needs a column", at: head.offset) }
            var p = ExpressionParser(exprTokens)
            let expr = try p.parseComplete()
            var reference: FactorValue? = nil
            if let split {
                let contrast = Array(inner[(split + 1)...])
                guard let first = contrast.first, first.kind == .name, first.text == "Treatment" else {
                    throw FormulaError(
                        "only Treatment contrasts are supported in C(...)", at: contrast.first?.offset ?? head.offset)
                }
                if contrast.count > 1 {
                    var args = Array(contrast.dropFirst())
                    guard args.first?.text == "(", args.last?.text == ")" else {
                        throw FormulaError("expected Treatment(reference=...)", at: first.offset)
                    }
                    args = Array(args.dropFirst().dropLast())
                    if args.count >= 2, args[0].kind == .name, args[0].text == "reference", args[1].text == "=" {
                        args = Array(args.dropFirst(2))
                    }
                    var rp = ExpressionParser(args)
                    guard case .literal(let v) = try rp.parseComplete() else {
                        throw FormulaError(
                            "the reference level must be a literal", at: args.first?.offset ?? first.offset)
                    }
                    reference = v
                }
            }
            return Factor(
                expression: expr, forcedCategorical: true, reference: reference, name: name, offset: head.offset)
        case "I" where codeTokens.count > 1:
            var p = ExpressionParser(inner)
            guard !inner.isEmpty else { throw FormulaError("I() is empty", at: head.offset) }
            return Factor(
                expression: try p.parseComplete(), forcedCategorical: false, reference: nil, name: name,
                offset: head.offset)
        default:
            var p = ExpressionParser(codeTokens)
            return Factor(
                expression: try p.parseComplete(), forcedCategorical: false, reference: nil, name: name,
                offset: head.offset)
        }
    }

    static func apply(_ op: FormulaToken, _ left: TermSet, _ right: TermSet) throws -> TermSet {
        switch op.text {
        case "+":
            if right.intercept { return TermSet(intercept: true, terms: left.terms + right.terms) }
            if right.interceptRemoved { return TermSet(interceptRemoved: true, terms: left.terms + right.terms) }
            return TermSet(
                intercept: left.intercept, interceptRemoved: left.interceptRemoved, terms: left.terms + right.terms)
        case "-":
            let kept = left.terms.filter { !right.terms.contains($0) }
            if right.intercept { return TermSet(interceptRemoved: true, terms: kept) }
            if right.interceptRemoved { throw FormulaError("'- 0' is not supported; write '+ 1'", at: op.offset) }
            return TermSet(intercept: left.intercept, interceptRemoved: left.interceptRemoved, terms: kept)
        case ":":
            try checkInteractable(left, right, op)
            return TermSet(terms: interaction(left, right))
        case "*":
            try checkInteractable(left, right, op)
            return TermSet(terms: left.terms + right.terms + interaction(left, right))
        case "/":
            // patsy `_eval_binary_div`: a/b = a + (all factors of a):b
            if left.intercept || right.intercept { throw FormulaError("the intercept cannot be nested", at: op.offset) }
            var leftFactors: [Factor] = []
            for t in left.terms { leftFactors += t.factors }
            let whole = TermSet(terms: [Term(leftFactors)])
            return TermSet(terms: left.terms + interaction(whole, right))
        default:
            throw FormulaError("unexpected operator '\(op.text)'", at: op.offset)
        }
    }

    static func checkInteractable(_ l: TermSet, _ r: TermSet, _ op: FormulaToken) throws {
        if l.intercept || r.intercept {
            throw FormulaError("the intercept cannot interact with anything else", at: op.offset)
        }
    }

    static func interaction(_ l: TermSet, _ r: TermSet) -> [Term] {
        var out: [Term] = []
        for a in l.terms { for b in r.terms { out.append(Term(a.factors + b.factors)) } }
        return out
    }

    static func power(_ base: TermSet, _ n: Int, at offset: Int) throws -> TermSet {
        if base.intercept { throw FormulaError("the intercept cannot be raised to a power", at: offset) }
        var all = base.terms
        var big = base
        // Beyond the number of terms a power adds nothing (a term times itself is itself), so a huge power from the
        // formula stops there; a power that could expand into more than 10000 terms (Σₖ C(t, k), k ≤ power) is
        // refused before it is expanded.
        let t = base.terms.count
        let m = max(1, min(n, t))
        var bound = 0
        var choose = 1
        for k in 1...m {
            choose = choose * (t - k + 1) / k  // C(t, k), exact at each step
            bound += choose
            if bound > 10_000 {
                throw FormulaError(
                    "'**' expands into more than 10000 terms; use a smaller power or fewer terms",
                    at: offset)
            }
        }
        for _ in 1..<m {
            big = TermSet(terms: interaction(base, big))
            all += big.terms
        }
        return TermSet(terms: all)
    }
}
