import Assistant
import Foundation
import Hummingbird
import Index
import NIOCore

/// `assist`'s own routes over the user's index: `POST /v1/assist/search` and `POST /v1/assist/ask`.
///
/// Both take `{"query"|"question", "limit", "source", "since", "until", "from", "path", "tag"}` and answer
/// in the shapes of `assist search --json` and `assist ask --json` (CLI.md). `ask` with `"stream": true`
/// sends newline-delimited JSON events instead: `{"event":"retrieved","results":[…]}`, then
/// `{"event":"token","text":…}` lines, then `{"event":"finished","result":{…ask JSON…}}`.
enum AssistRoutes {
    static func add(to router: Router<AssistRequestContext>, services: ServerServices) {
        let limit = services.configuration.maxBodyBytes
        router.post("/v1/assist/search") { request, _ in
            let body = try await JSONBody.decode(SearchRequest.self, from: request, limit: limit)
            guard let retriever = services.retriever else {
                throw APIError.notConfigured("this server has no index to search (start it with an index)")
            }
            let query = body.query.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !query.isEmpty else { throw APIError.badRequest("query must not be empty") }
            let searchQuery: SearchQuery
            do {
                searchQuery = try body.filters.searchQuery(text: query)
            } catch let error as FilterError {
                throw APIError.badRequest(error.description)
            }
            let hits = try await BlockingWork.run { try retriever.search(searchQuery) }
            return try JSONBody.response(SearchResultsJSON(hits))
        }
        router.post("/v1/assist/ask") { request, _ in
            let body = try await JSONBody.decode(AskBody.self, from: request, limit: limit)
            guard let ask = services.ask else {
                throw APIError.notConfigured("this server has no index to answer from (start it with an index)")
            }
            let question = body.question.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !question.isEmpty else { throw APIError.badRequest("question must not be empty") }
            let askRequest: AskRequest
            do {
                askRequest = AskRequest(
                    question: question,
                    limit: body.filters.limit == nil ? nil : try body.filters.checkedLimit(fallback: 8),
                    filters: try body.filters.askFilters())
            } catch let error as FilterError {
                throw APIError.badRequest(error.description)
            }
            let generator = try await services.generator(for: body.model)
            guard body.stream == true else {
                return try JSONBody.response(try await Asker.result(of: ask(askRequest, generator)))
            }
            return streamedAnswer(ask(askRequest, generator))
        }
    }

    static func streamedAnswer(_ events: AsyncThrowingStream<AskEvent, Error>) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                func send(_ event: StreamedEvent) async throws {
                    var buffer = ByteBuffer(bytes: try JSONBody.bytes(event))
                    buffer.writeString("\n")
                    try await writer.write(buffer)
                }
                do {
                    for try await event in events {
                        switch event {
                        case .retrieved(let hits): try await send(.retrieved(SearchResultsJSON(hits).results))
                        case .token(let text): try await send(.token(text))
                        case .finished(let result): try await send(.finished(result))
                        }
                    }
                } catch {
                    try? await send(.error(APIError.from(error, path: "/v1/assist/ask").message))
                }
                try await writer.finish(nil)
            })
    }

    enum StreamedEvent: Encodable {
        case retrieved([SearchResultJSON])
        case token(String)
        case finished(AskResult)
        case error(String)

        enum CodingKeys: String, CodingKey { case event, results, text, result, error }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .retrieved(let results):
                try container.encode("retrieved", forKey: .event)
                try container.encode(results, forKey: .results)
            case .token(let text):
                try container.encode("token", forKey: .event)
                try container.encode(text, forKey: .text)
            case .finished(let result):
                try container.encode("finished", forKey: .event)
                try container.encode(result, forKey: .result)
            case .error(let message):
                try container.encode("error", forKey: .event)
                try container.encode(message, forKey: .error)
            }
        }
    }

    /// Filter fields as JSON sends them.
    struct FilterBody: Decodable {
        var filters: FilterFields

        enum CodingKeys: String, CodingKey { case limit, source, since, until, from, path, tag }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            filters = FilterFields(
                limit: try container.decodeIfPresent(Int.self, forKey: .limit),
                source: try container.decodeIfPresent(String.self, forKey: .source),
                since: try container.decodeIfPresent(String.self, forKey: .since),
                until: try container.decodeIfPresent(String.self, forKey: .until),
                from: try container.decodeIfPresent(String.self, forKey: .from),
                path: try container.decodeIfPresent(String.self, forKey: .path),
                tag: try container.decodeIfPresent(String.self, forKey: .tag))
        }
    }

    struct SearchRequest: Decodable {
        var query: String
        var filters: FilterFields

        enum CodingKeys: String, CodingKey { case query }

        init(from decoder: any Decoder) throws {
            query = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .query)
            filters = try FilterBody(from: decoder).filters
        }
    }

    struct AskBody: Decodable {
        var question: String
        var model: String?
        var stream: Bool?
        var filters: FilterFields

        enum CodingKeys: String, CodingKey { case question, model, stream }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            question = try container.decode(String.self, forKey: .question)
            model = try container.decodeIfPresent(String.self, forKey: .model)
            stream = try container.decodeIfPresent(Bool.self, forKey: .stream)
            filters = try FilterBody(from: decoder).filters
        }
    }
}
