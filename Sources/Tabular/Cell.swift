/// How Causa reads one field's text as a value.
///
/// Missing values follow pandas' default `na_values` (an empty field, `NA`, `NaN`, `nan`, `null`, …) and are
/// rejected by the jobs that read them: Causa never drops rows silently (statsmodels' formula API would).
public enum Cell {
    /// Texts that mean "no value".
    public static let missingMarkers: Set<String> = ["", "NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "null", "NULL", "None", "<NA>", "#N/A", "#NA"]

    /// Whether the text means a missing value.
    public static func isMissing(_ text: String) -> Bool { missingMarkers.contains(text) || missingMarkers.contains(text.trimmingCharacters(in: .whitespaces)) }

    /// The finite number the text spells (decimal, optional sign, fraction and exponent), or nil.
    /// Surrounding spaces are allowed; `inf`, hex and `nan` are not numbers here.
    public static func number(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let first = t.utf8.first, (first >= 48 && first <= 57) || first == 46 || first == 43 || first == 45 else { return nil }
        guard t.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 43 || $0 == 45 || $0 == 101 || $0 == 69 }) else { return nil }
        guard let x = Double(t), x.isFinite else { return nil }
        return x
    }

    /// Whether the text is a whole number written without a decimal point or exponent (`-12`, `7`).
    public static func isIntegerSyntax(_ text: String) -> Bool {
        let t = text.trimmingCharacters(in: .whitespaces)
        var bytes = Substring(t).utf8[...]
        if let f = bytes.first, f == 43 || f == 45 { bytes = bytes.dropFirst() }
        return !bytes.isEmpty && bytes.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}
