import Index
import Inference

/// The index keeps summaries keyed by thread, content hash and model: exactly what `Summarizer` needs.
extension IndexStore: SummaryCache {}

extension Asker {
    /// An asker over the index, judging relevance with the index's own embedder when it has one.
    public init(
        store: IndexStore, generator: any TextGenerator, prompts: PromptLibrary = .standard(),
        options: AskOptions = AskOptions()
    ) {
        self.init(
            retriever: store, generator: generator, prompts: prompts, options: options,
            scorer: store.embedder.map { EmbeddingRelevanceScorer(embedder: $0) })
    }
}
