import Assistant
import Foundation
import Index
import Inference

/// A question to answer from the user's notes and mail, as the HTTP API and the MCP `ask` tool receive it.
public struct AskRequest: Sendable, Equatable {
    public var question: String
    /// Hits to retrieve; nil keeps the asker's default.
    public var limit: Int?
    public var filters: AskFilters

    public init(question: String, limit: Int? = nil, filters: AskFilters = AskFilters()) {
        self.question = question
        self.limit = limit
        self.filters = filters
    }
}

/// Answers an `AskRequest` with a given generator, streaming `AskEvent`s (`Asker.ask` does this).
///
/// The generator handed in is the server's queued one, so answers wait their turn with chat requests.
public typealias AskHandler = @Sendable (AskRequest, any TextGenerator) -> AsyncThrowingStream<AskEvent, Error>

/// The standard answerer: an `Asker` over `retriever` with default prompts and the request's limit and filters.
public func standardAskHandler(retriever: any Retriever, options: AskOptions = AskOptions()) -> AskHandler {
    { request, generator in
        var options = options
        if let limit = request.limit { options.limit = limit }
        options.filters = request.filters
        return Asker(retriever: retriever, generator: generator, options: options).ask(request.question)
    }
}
