/// How Causa reads one field's text as a value.
///
/// Missing values follow pandas' default `na_values` (an empty field, `NA`, `NaN`, `nan`, `null`, …) and are
/// rejected by the jobs that read them: Causa never drops rows silently (statsmodels' formula API would).
/// These run once per cell of a job, so they look at UTF-8 bytes and avoid Foundation.
public enum Cell {
    /// Texts that mean "no value".
    public static let missingMarkers: Set<String> = [
        "", "NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "null", "NULL", "None", "<NA>", "#N/A", "#NA"
    ]

    /// Whether the text means a missing value (surrounding spaces ignored).
    public static func isMissing(_ text: String) -> Bool {
        let t = trimmed(text)
        guard let first = t.utf8.first else { return true }
        // Every marker starts with a letter, '#', '<' or '-'; numbers never reach the set lookup.
        guard (first >= 65 && first <= 90) || (first >= 97 && first <= 122) || first == 35 || first == 60 || first == 45
        else { return false }
        return missingMarkers.contains(String(t))
    }

    /// The finite number the text spells (decimal, optional sign, fraction and exponent), or nil.
    /// Surrounding spaces are allowed; `inf`, hex, `nan` and digit separators are not numbers here.
    public static func number(_ text: String) -> Double? {
        let t = trimmed(text)
        var sawDigit = false
        for b in t.utf8 {
            switch b {
            case 48...57: sawDigit = true
            case 46, 43, 45, 101, 69: continue  // . + - e E
            default: return nil
            }
        }
        guard sawDigit, let x = Double(t), x.isFinite else { return nil }
        return x
    }

    /// Whether the text is a whole number written without a decimal point or exponent (`-12`, `7`).
    public static func isIntegerSyntax(_ text: String) -> Bool {
        var bytes = trimmed(text).utf8[...]
        if let f = bytes.first, f == 43 || f == 45 { bytes = bytes.dropFirst() }
        return !bytes.isEmpty && bytes.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    /// The text without leading and trailing ASCII spaces and tabs.
    static func trimmed(_ text: String) -> Substring {
        let u = text.utf8
        guard let f = u.first, let l = u.last, f == 32 || f == 9 || l == 32 || l == 9 else { return text[...] }
        var s = text[...]
        while let c = s.utf8.first, c == 32 || c == 9 { s = s.dropFirst() }
        while let c = s.utf8.last, c == 32 || c == 9 { s = s.dropLast() }
        return s
    }
}
