import Foundation

/// Reads a JSON Lines file: one JSON object per line, blank lines skipped.
///
/// Each line is checked for UTF-8 and parsed on its own, so an error names its line (and, for JSON syntax errors,
/// the character where Foundation's parser stopped, when it says).
/// - Complexity: O(bytes); memory O(file size).
public enum JSONLines {
    /// One object and its line.
    public struct Record {
        /// 1-based line.
        public let line: Int
        public let object: [String: Any]
    }

    /// Reads every object of a file.
    /// - Throws: `TabularError` `.unreadable` (missing file), `.malformed` (invalid UTF-8 or JSON, or a line that is
    ///   not an object) with the line.
    public static func read(path: String) throws -> [Record] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
            let data = FileManager.default.contents(atPath: path)
        else {
            throw TabularError(.unreadable, "no such file (or it cannot be read)", file: path)
        }
        var records: [Record] = []
        let bytes = [UInt8](data)
        var start = 0
        var line = 1
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            var slice = bytes[start..<end]
            if slice.last == 0x0D { slice = slice.dropLast() }
            if line == 1, slice.starts(with: [0xEF, 0xBB, 0xBF]) { slice = slice.dropFirst(3) }
            if !slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                guard String(bytes: slice, encoding: .utf8) != nil else {
                    throw TabularError(.malformed, "invalid UTF-8", file: path, line: line)
                }
                let object: Any
                do { object = try JSONSerialization.jsonObject(with: Data(slice), options: [.fragmentsAllowed]) } catch
                {
                    let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "not valid JSON"
                    throw TabularError(.malformed, "not valid JSON: \(reason)", file: path, line: line)
                }
                guard let dict = object as? [String: Any] else {
                    throw TabularError(
                        .malformed, "expected a JSON object ({...}) on each line", file: path, line: line)
                }
                records.append(Record(line: line, object: dict))
            }
            start = end + 1
            line += 1
        }
        return records
    }
}
