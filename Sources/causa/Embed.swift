import ArgumentParser
import Encoders
import Foundation
import Jobs

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Embed texts with the built-in MiniLM encoder (or the hashing encoder).",
        discussion:
            "Input lines {\"id\": ..., \"text\": ...}; output lines {\"id\": ..., \"embedding\": [...]} in input order, L2-normalised Float32."
    )

    enum EncoderKind: String, ExpressibleByArgument, CaseIterable { case minilm, hashing }

    @Option(
        help: "The encoder: minilm (all-MiniLM-L6-v2, 384 dimensions) or hashing (feature hashing, 384 dimensions).")
    var encoder: EncoderKind = .minilm
    @Option(
        name: .customLong("in"),
        help: ArgumentHelp("JSONL input, one {\"id\", \"text\"} object per line.", valueName: "texts.jsonl"))
    var input: String
    @Option(
        name: .customLong("out"),
        help: ArgumentHelp("JSONL output (written to a temporary file, then renamed).", valueName: "vectors.jsonl"))
    var output: String
    @Option(help: "Texts per packed batch.") var batchSize = 32
    @Option(help: "OpenBLAS threads for this process.") var threads = 1
    @Option(
        help: ArgumentHelp(
            "Folder with config.json, vocab.txt and model.safetensors (default: models/all-MiniLM-L6-v2, fetched by scripts/fetch-model.sh).",
            valueName: "dir"))
    var modelDir: String?
    @Option(help: ArgumentHelp("Folder of the embedding cache (SQLite).", valueName: "dir")) var cacheDir: String?
    @Flag(help: "Do not read or write the embedding cache.") var noCache = false
    @Option(help: "Tokens kept per text, [CLS] and [SEP] included (sentence-transformers uses 256 for this model).")
    var maxSeqLength = 256
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize).") }
        guard (1...256).contains(threads) else {
            throw ValidationError("--threads must be in 1...256, got \(threads).")
        }
        guard (2...512).contains(maxSeqLength) else {
            throw ValidationError("--max-seq-length must be in 2...512, got \(maxSeqLength).")
        }
    }

    func run() throws {
        _ = common.bootstrap()
        try guarded {
            var base: TextEncoder
            switch encoder {
            case .minilm:
                base = try MiniLMEncoder(
                    modelDirectory: ModelLocator.minilm(modelDir), maxSequenceLength: maxSeqLength,
                    batchSize: batchSize, threads: threads)
            case .hashing:
                base = HashingEncoder(dimension: 384)
            }
            if !noCache {
                let dir = cacheDir ?? ModelLocator.defaultCacheDirectory()
                base = CachingEncoder(
                    base: base,
                    cache: try EmbeddingCache(
                        path: URL(fileURLWithPath: dir).appendingPathComponent("embeddings.sqlite").path))
            }
            let terminal = isatty(STDERR_FILENO) == 1
            let started = Date()
            let summary = try EmbedJob(input: input, output: output, encoder: base, chunk: max(batchSize * 8, 64)).run {
                done, total in
                guard terminal else { return }
                let width = 30
                let filled = total > 0 ? width * done / total : width
                let rate = Double(done) / max(Date().timeIntervalSince(started), 1e-9)
                FileHandle.standardError.write(
                    Data(
                        String(
                            format: "\r[%@%@] %d/%d texts  %.1f texts/s", String(repeating: "=", count: filled),
                            String(repeating: " ", count: width - filled), done, total, rate
                        ).utf8))
                if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
            }
            var line = String(
                format: "embedded %d texts in %.2f s (%.1f texts/s)", summary.texts, summary.seconds,
                Double(summary.texts) / max(summary.seconds, 1e-9))
            if let c = base as? CachingEncoder {
                line +=
                    "; cache: \(c.hits) hits, \(c.misses) misses\(c.cache.rebuilt ? " (the cache file was corrupt and has been rebuilt)" : "")"
            }
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}
