import Encoders
import Foundation
import Tabular

/// `causa embed`: JSONL texts in (`{"id": ..., "text": ...}` per line), JSONL vectors out
/// (`{"id": ..., "embedding": [...]}` per line, in input order).
public struct EmbedJob {
    public let input: String
    public let output: String
    public let encoder: TextEncoder
    /// Texts handed to the encoder at a time (the progress step).
    public let chunk: Int

    public init(input: String, output: String, encoder: TextEncoder, chunk: Int = 256) {
        self.input = input
        self.output = output
        self.encoder = encoder
        self.chunk = max(1, chunk)
    }

    /// What a run did.
    public struct Summary {
        public var texts: Int
        public var seconds: Double
    }

    /// Reads, embeds and writes (to a temporary file, then renamed).
    /// - Parameter progress: called after each chunk with (texts done, total).
    /// - Throws: `InputError` naming the input line (invalid UTF-8 or JSON, no string "text", no "id"); `EncoderError`;
    ///   `RunError` when the output cannot be written.
    public func run(progress: ((Int, Int) -> Void)? = nil) throws -> Summary {
        let started = Date()
        let records: [JSONLines.Record]
        do { records = try JSONLines.read(path: input) } catch let e as TabularError { throw InputError(e) }
        var ids: [Any] = []
        var texts: [String] = []
        for r in records {
            guard let id = r.object["id"] else {
                throw InputError(file: input, line: r.line, "no \"id\" in this object")
            }
            guard let text = r.object["text"] as? String else {
                throw InputError(file: input, line: r.line, "\"text\" must be a string")
            }
            ids.append(id)
            texts.append(text)
        }
        let tmp = output + ".tmp-\(getpid())"
        FileManager.default.createFile(atPath: tmp, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: tmp) else { throw RunError("cannot write \(tmp)") }
        defer { try? handle.close() }
        do {
            var done = 0
            let d = encoder.dimension
            while done < texts.count {
                let end = min(done + chunk, texts.count)
                let vectors = try encoder.encode(Array(texts[done..<end]))
                var text = ""
                for i in done..<end {
                    let idJSON = String(
                        decoding: try JSONSerialization.data(withJSONObject: ids[i], options: [.fragmentsAllowed]),
                        as: UTF8.self)
                    let row = vectors[((i - done) * d)..<((i - done + 1) * d)]
                    text += "{\"id\":\(idJSON),\"embedding\":[" + row.map { "\($0)" }.joined(separator: ",") + "]}\n"
                }
                handle.write(Data(text.utf8))
                done = end
                progress?(done, texts.count)
            }
            try handle.close()
            guard rename(tmp, output) == 0 else {
                throw RunError("cannot rename \(tmp) to \(output): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw error
        }
        return Summary(texts: texts.count, seconds: Date().timeIntervalSince(started))
    }
}
