import Foundation

/// A read-only view of a `.safetensors` file: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw data. The file is memory-mapped; tensors are not copied.
///
/// Every offset and size in the header is checked against the file before any tensor is handed out, so a
/// truncated or mismatched file is an error, never a crash or garbage.
/// Source: Hugging Face safetensors format, https://github.com/huggingface/safetensors (README, "Format").
public final class SafeTensorsFile {
    /// One tensor's entry in the header.
    public struct Entry: Sendable, Equatable {
        public let dtype: String
        public let shape: [Int]
        /// Byte range relative to the start of the data section.
        public let begin: Int
        public let end: Int
    }

    public let path: String
    /// Tensor entries by name.
    public let entries: [String: Entry]
    private let data: Data
    private let dataStart: Int

    static let dtypeSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1
    ]

    /// Maps the file and validates its header.
    /// - Throws: `EncoderError` naming the file: missing, shorter than its header says, header not JSON, a tensor whose
    ///   byte range is outside the data or does not match its dtype and shape.
    public init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw EncoderError("\(path): no such file") }
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw EncoderError("\(path): cannot read (\(error.localizedDescription))")
        }
        guard data.count >= 8 else {
            throw EncoderError("\(path): truncated safetensors file (\(data.count) bytes, no header)")
        }
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        guard headerLength > 0, headerLength <= data.count - 8, headerLength < 100_000_000 else {
            throw EncoderError(
                "\(path): truncated or corrupt safetensors file (header length \(headerLength), file \(data.count) bytes)"
            )
        }
        dataStart = 8 + headerLength
        guard let json = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart)) as? [String: Any]
        else {
            throw EncoderError("\(path): the safetensors header is not a JSON object")
        }
        var entries: [String: Entry] = [:]
        let available = data.count - dataStart
        for (name, value) in json where name != "__metadata__" {
            guard let t = value as? [String: Any], let dtype = t["dtype"] as? String, let shape = t["shape"] as? [Int],
                let offsets = t["data_offsets"] as? [Int], offsets.count == 2
            else {
                throw EncoderError("\(path): malformed header entry for tensor '\(name)'")
            }
            guard let size = Self.dtypeSizes[dtype] else {
                throw EncoderError("\(path): tensor '\(name)' has unknown dtype \(dtype)")
            }
            // Sizes from the file: multiplied with overflow checks (a corrupt header must not trap).
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard d >= 0, !overflow, !product.multipliedReportingOverflow(by: size).overflow else {
                    throw EncoderError("\(path): tensor '\(name)' has an impossible shape \(shape)")
                }
                count = product
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= available else {
                throw EncoderError(
                    "\(path): tensor '\(name)' lies outside the file (bytes \(offsets[0])..<\(offsets[1]) of \(available)); the file is truncated"
                )
            }
            guard offsets[1] - offsets[0] == count * size else {
                throw EncoderError(
                    "\(path): tensor '\(name)' has \(offsets[1] - offsets[0]) bytes, but \(dtype) \(shape) needs \(count * size)"
                )
            }
            entries[name] = Entry(dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
        }
        self.entries = entries
    }

    /// A Float32 tensor, copied out of the map, after checking its dtype and shape.
    /// - Parameters:
    ///   - name: e.g. `encoder.layer.0.attention.self.query.weight`.
    ///   - shape: the expected shape (from config.json).
    /// - Returns: the values, row-major, count = product of `shape`.
    /// - Throws: `EncoderError` naming the tensor when it is missing, not F32, or of another shape.
    public func float32(_ name: String, shape: [Int]) throws -> [Float] {
        guard let e = entries[name] else { throw EncoderError("\(path): no tensor '\(name)' (is this a BERT model?)") }
        guard e.dtype == "F32" else { throw EncoderError("\(path): tensor '\(name)' is \(e.dtype), expected F32") }
        guard e.shape == shape else {
            throw EncoderError("\(path): tensor '\(name)' has shape \(e.shape), config.json implies \(shape)")
        }
        let count = shape.reduce(1, *)
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[(dataStart + e.begin)..<(dataStart + e.end)]))
            }
        }
        // safetensors stores little-endian; so does every platform Causa runs on.
        return out
    }
}
