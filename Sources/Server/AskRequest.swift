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

    /// `base` with this request's limit (when given) and filters.
    public func options(_ base: AskOptions = AskOptions()) -> AskOptions {
        var options = base
        if let limit { options.limit = limit }
        options.filters = filters
        return options
    }
}

/// Answers an `AskRequest` with a given generator, streaming `AskEvent`s (`Asker.ask` does this).
///
/// The generator handed in is the server's queued one, so answers wait their turn with chat requests.
public typealias AskHandler = @Sendable (AskRequest, any TextGenerator) -> AsyncThrowingStream<AskEvent, Error>

/// The standard answerer: an `Asker` over `retriever` with default prompts and the request's limit and filters.
public func standardAskHandler(retriever: any Retriever, options: AskOptions = AskOptions()) -> AskHandler {
    { request, generator in
        Asker(retriever: retriever, generator: generator, options: request.options(options)).ask(request.question)
    }
}
