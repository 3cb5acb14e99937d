import Encoders
import Foundation

/// The text encoders of a process, made once per (encoder, model folder, cache) and shared by its jobs.
public enum TextEncoders {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: [String: TextEncoder] = [:]

    /// The encoder a `[text]` table asks for: MiniLM from `modelDirectory` (else `ModelLocator.minilm(nil)`), or
    /// the hashing encoder (384 dimensions); wrapped in the embedding cache unless `cache = false` (the file is
    /// `cache_dir/embeddings.sqlite`, by default `ModelLocator.defaultCacheDirectory()`, shared with `causa embed`).
    /// One OpenBLAS thread and batches of 32, as a worker runs it.
    /// - Throws: `EncoderError` when the model files cannot be read or the cache cannot be opened.
    public static func encoder(for text: TextSpec) throws -> TextEncoder {
        let folder = ModelLocator.minilm(text.modelDirectory)
        let cacheFile =
            text.cache
            ? URL(fileURLWithPath: text.cacheDirectory ?? ModelLocator.defaultCacheDirectory())
                .appendingPathComponent("embeddings.sqlite").path : ""
        let key = "\(text.encoder.rawValue)\u{1F}\(text.encoder == .minilm ? folder : "")\u{1F}\(cacheFile)"
        lock.lock()
        defer { lock.unlock() }
        if let e = made[key] { return e }
        var encoder: TextEncoder
        switch text.encoder {
        case .minilm: encoder = try MiniLMEncoder(modelDirectory: folder)
        case .hashing: encoder = HashingEncoder(dimension: 384)
        }
        if !cacheFile.isEmpty { encoder = CachingEncoder(base: encoder, cache: try EmbeddingCache(path: cacheFile)) }
        made[key] = encoder
        return encoder
    }
}
