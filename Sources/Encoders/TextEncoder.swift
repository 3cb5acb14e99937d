/// Turns texts into fixed-size vectors.
///
/// Conformers: `MiniLMEncoder` (all-MiniLM-L6-v2, run natively) and `HashingEncoder` (dependency-free, for tests and
/// as a fast default). A worker holds one encoder and calls it from one thread.
public protocol TextEncoder: AnyObject {
    /// A stable identifier of the encoder and its settings, e.g. `minilm:all-MiniLM-L6-v2:256`; part of cache keys.
    var identifier: String { get }
    /// Output dimension d.
    var dimension: Int { get }
    /// Embeds texts.
    /// - Parameter texts: any number of texts.
    /// - Returns: [texts.count, d] row-major Float32, each row L2-normalised (a zero vector stays zero).
    func encode(_ texts: [String]) throws -> [Float]
}
