import Foundation

/// A value of a factor expression for one row: a number, a string or a truth value (as in Python).
public enum FactorValue: Hashable, Sendable, CustomStringConvertible {
    case number(Double)
    case string(String)
    case bool(Bool)

    /// The level's text in a column name, as patsy prints it with `%s` (`2`, `2.5`, `abc`, `True`).
    /// - Parameter integral: print whole numbers without a decimal point (the column was integer-typed).
    public func levelText(integral: Bool) -> String {
        switch self {
        case .string(let s): return s
        case .bool(let b): return b ? "True" : "False"
        case .number(let x):
            if integral, x.rounded() == x, abs(x) < 1e15 { return String(Int64(x)) }
            return Self.pythonRepr(x)
        }
    }

    public var description: String { levelText(integral: false) }

    /// Python's `repr(float)`: shortest round-trip digits, `1e-05` style exponents, `2.0` for whole numbers.
    static func pythonRepr(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        let swift = "\(x)"  // shortest round-trip, e.g. "2.0", "0.0125", "1e-05", "1.5e+20"
        return swift
    }

    /// Sort order of levels: numbers numerically, strings bytewise (UTF-8), False before True.
    public static func levelOrder(_ a: FactorValue, _ b: FactorValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x < y
        case (.string(let x), .string(let y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        case (.bool(let x), .bool(let y)): return !x && y
        case (.bool, _): return true
        case (.number, .string): return true
        default: return false
        }
    }
}

/// The Python subset allowed inside `I(...)`, `C(...)` and function factors.
///
/// Operators: `+ - * / // % **`, comparisons `== != < <= > >=`, unary `-`/`+`; literals: numbers, strings,
/// `True`, `False`; functions `np.log`, `np.exp`, `np.sqrt`, `np.abs` (also without `np.`); columns by
/// name or `Q("name")`.
public indirect enum FactorExpression: Hashable, Sendable {
    case column(String)
    case literal(FactorValue)
    case unary(String, FactorExpression)
    case binary(String, FactorExpression, FactorExpression)
    case call(String, FactorExpression)

    /// Data columns the expression reads, in first-use order.
    public var columns: [String] {
        switch self {
        case .column(let c): return [c]
        case .literal: return []
        case .unary(_, let e), .call(_, let e): return e.columns
        case .binary(_, let l, let r):
            var out = l.columns
            for c in r.columns where !out.contains(c) { out.append(c) }
            return out
        }
    }

    /// Whether the expression yields a truth value (a comparison), making the factor categorical.
    public var isBoolean: Bool {
        switch self {
        case .binary(let op, _, _): return ["==", "!=", "<", "<=", ">", ">="].contains(op)
        case .literal(.bool): return true
        default: return false
        }
    }

    /// Evaluates the expression for one row.
    /// - Parameter lookup: the row's value of a column (numbers for numeric columns, strings otherwise).
    /// - Throws: `FormulaError` for arithmetic on a string.
    public func evaluate(_ lookup: (String) throws -> FactorValue) throws -> FactorValue {
        switch self {
        case .column(let c): return try lookup(c)
        case .literal(let v): return v
        case .unary(let op, let e):
            let x = try Self.number(try e.evaluate(lookup), op)
            return .number(op == "-" ? -x : x)
        case .call(let name, let e):
            let x = try Self.number(try e.evaluate(lookup), name)
            switch name {
            case "log": return .number(Foundation.log(x))
            case "exp": return .number(Foundation.exp(x))
            case "sqrt": return .number(x.squareRoot())
            case "abs": return .number(Swift.abs(x))
            default: throw FormulaError("unknown function \(name)")
            }
        case .binary(let op, let l, let r):
            let a = try l.evaluate(lookup)
            let b = try r.evaluate(lookup)
            switch op {
            case "==": return .bool(Self.equal(a, b))
            case "!=": return .bool(!Self.equal(a, b))
            case "<", "<=", ">", ">=":
                let x = try Self.number(a, op)
                let y = try Self.number(b, op)
                switch op {
                case "<": return .bool(x < y)
                case "<=": return .bool(x <= y)
                case ">": return .bool(x > y)
                default: return .bool(x >= y)
                }
            default:
                let x = try Self.number(a, op)
                let y = try Self.number(b, op)
                switch op {
                case "+": return .number(x + y)
                case "-": return .number(x - y)
                case "*": return .number(x * y)
                case "/": return .number(x / y)
                case "//": return .number((x / y).rounded(.down))
                case "%": return .number(x - y * (x / y).rounded(.down))
                case "**": return .number(Foundation.pow(x, y))
                default: throw FormulaError("unsupported operator \(op)")
                }
            }
        }
    }

    private static func number(_ v: FactorValue, _ op: String) throws -> Double {
        switch v {
        case .number(let x): return x
        case .bool(let b): return b ? 1 : 0
        case .string(let s): throw FormulaError("'\(op)' needs numbers, got the string '\(s)'")
        }
    }

    private static func equal(_ a: FactorValue, _ b: FactorValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.bool(let x), .number(let y)), (.number(let y), .bool(let x)): return (x ? 1.0 : 0.0) == y
        default: return false
        }
    }
}

/// Recursive-descent parser for the Python subset of `FactorExpression`, over formula tokens.
struct ExpressionParser {
    var tokens: [FormulaToken]
    var position = 0
    /// Nesting so far (every recursion passes through `unary`); see `FormulaParser.maximumNesting`.
    var depth = 0

    init(_ tokens: [FormulaToken]) {
        self.tokens = tokens + [FormulaToken(kind: .end, text: "", offset: (tokens.last?.offset ?? 0) + 1)]
    }

    var current: FormulaToken { tokens[position] }

    mutating func parseComplete() throws -> FactorExpression {
        let e = try comparison()
        guard current.kind == .end else { throw FormulaError("unexpected '\(current.text)'", at: current.offset) }
        return e
    }

    mutating func comparison() throws -> FactorExpression {
        var left = try additive()
        while current.kind == .op, ["==", "!=", "<", "<=", ">", ">="].contains(current.text) {
            let op = current.text
            position += 1
            left = .binary(op, left, try additive())
        }
        return left
    }

    mutating func additive() throws -> FactorExpression {
        var left = try multiplicative()
        while current.kind == .op, current.text == "+" || current.text == "-" {
            let op = current.text
            position += 1
            left = .binary(op, left, try multiplicative())
        }
        return left
    }

    mutating func multiplicative() throws -> FactorExpression {
        var left = try unary()
        while current.kind == .op, ["*", "/", "//", "%"].contains(current.text) {
            let op = current.text
            position += 1
            left = .binary(op, left, try unary())
        }
        return left
    }

    mutating func unary() throws -> FactorExpression {
        depth += 1
        defer { depth -= 1 }
        guard depth <= FormulaParser.maximumNesting else {
            throw FormulaError(
                "the expression is nested more than \(FormulaParser.maximumNesting) levels deep", at: current.offset)
        }
        if current.kind == .op, current.text == "-" || current.text == "+" {
            let op = current.text
            position += 1
            return .unary(op, try unary())
        }
        return try power()
    }

    mutating func power() throws -> FactorExpression {
        let base = try atom()
        if current.kind == .op, current.text == "**" {
            position += 1
            return .binary("**", base, try unary())
        }
        return base
    }

    mutating func atom() throws -> FactorExpression {
        let token = current
        switch token.kind {
        case .number:
            position += 1
            guard let x = Double(token.text.replacingOccurrences(of: "_", with: "")) else {
                throw FormulaError("bad number '\(token.text)'", at: token.offset)
            }
            return .literal(.number(x))
        case .string:
            position += 1
            return .literal(.string(Self.unquote(token.text)))
        case .name:
            position += 1
            if token.text == "True" { return .literal(.bool(true)) }
            if token.text == "False" { return .literal(.bool(false)) }
            if current.kind == .op, current.text == "(" {
                position += 1
                if token.text == "Q" {
                    guard current.kind == .string else {
                        throw FormulaError("Q() takes a quoted column name", at: current.offset)
                    }
                    let name = Self.unquote(current.text)
                    position += 1
                    try expect(")")
                    return .column(name)
                }
                let function = token.text.hasPrefix("np.") ? String(token.text.dropFirst(3)) : token.text
                guard ["log", "exp", "sqrt", "abs"].contains(function) else {
                    throw FormulaError(
                        "unknown function '\(token.text)' (supported: np.log, np.exp, np.sqrt, np.abs, I, C, Q)",
                        at: token.offset)
                }
                let argument = try comparison()
                try expect(")")
                return .call(function, argument)
            }
            return .column(token.text)
        case .op where token.text == "(":
            position += 1
            let e = try comparison()
            try expect(")")
            return e
        default:
            throw FormulaError(
                token.kind == .end ? "expression ends too early" : "unexpected '\(token.text)'", at: token.offset)
        }
    }

    mutating func expect(_ text: String) throws {
        guard current.kind == .op, current.text == text else {
            throw FormulaError(
                "expected '\(text)'" + (current.kind == .end ? "" : ", found '\(current.text)'"), at: current.offset)
        }
        position += 1
    }

    static func unquote(_ literal: String) -> String {
        var s = String(literal.dropFirst().dropLast())
        s = s.replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\'", with: "'")
            .replacingOccurrences(of: "\\\\", with: "\\")
        return s
    }
}
