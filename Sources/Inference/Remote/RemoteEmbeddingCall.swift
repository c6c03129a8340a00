import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What the two remote embedders share: slicing texts into request-sized batches, posting each batch as
/// `{"model": …, "input": [...]}`, and checking the vectors that come back (count, dimension, unit length).
/// Each server's reply shape differs, so the embedder supplies `readVectors`, which turns the parsed reply
/// into one vector per input in input order.
struct RemoteEmbeddingCall: Sendable {
    /// Turns a reply object into `expected` vectors (unchecked), or throws with `malformed(detail)`.
    typealias VectorReader = @Sendable (
        _ reply: [String: Any], _ expected: Int, _ malformed: (String) -> RemoteBackendError
    ) throws -> [[Float]]

    let http: RemoteHTTP
    /// The endpoint path below the base URL, e.g. `/api/embed`.
    let path: String
    let model: String
    /// Fields beyond `model` and `input` the server wants in every request.
    let extraFields: [String: String]
    /// 0 while the size is still unknown (the probe call of `connect`), else the size every vector must have.
    let dimensions: Int
    let batchSize: Int
    let readVectors: VectorReader

    /// Blocks the calling thread; see the embedders' notes on when that is fine.
    func embed(_ texts: [String]) throws -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        for batch in RemoteText.batches(texts, size: batchSize) {
            vectors += try decode(try http.dataBlocking(for: try request(batch)), expected: batch.count)
        }
        return vectors
    }

    /// `embed` without blocking a thread.
    func embedAsync(_ texts: [String]) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        for batch in RemoteText.batches(texts, size: batchSize) {
            vectors += try decode(try await http.data(for: try request(batch)), expected: batch.count)
        }
        return vectors
    }

    /// Embeds one probe text to learn the vector size of a model whose metadata does not say.
    func probeDimensions() async throws -> Int {
        guard let first = try await embedAsync(["dimension probe"]).first, !first.isEmpty else {
            throw malformed("an empty embedding for the probe text")
        }
        return first.count
    }

    private func request(_ batch: [String]) throws -> URLRequest {
        var fields: [String: Any] = extraFields
        fields["model"] = model
        fields["input"] = batch
        let body = try JSONSerialization.data(withJSONObject: fields)
        return try http.request(path, body: body, timeout: http.timeouts.idle)
    }

    private func malformed(_ detail: String) -> RemoteBackendError {
        .malformedResponse(service: http.service, url: http.endpoint(path), detail: detail)
    }

    private func decode(_ body: Data, expected: Int) throws -> [[Float]] {
        guard let reply = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw malformed("the body is not a JSON object")
        }
        let vectors = try readVectors(reply, expected, malformed)
        guard vectors.count == expected else { throw malformed("\(vectors.count) embeddings for \(expected) inputs") }
        return try vectors.enumerated().map { index, vector in
            if dimensions > 0, vector.count != dimensions {
                throw malformed("embedding \(index) has \(vector.count) dimensions, expected \(dimensions)")
            }
            return RemoteText.normalized(vector)
        }
    }
}
