import Foundation
import Inference
import Testing

@testable import Server

extension ServerSuite {
    /// One generation per model at a time, in order, with a bounded line.
    @Suite(.serialized)
    struct QueueTests {
        /// Waits (bounded) until `condition` holds.
        func eventually(_ what: String, _ condition: () async -> Bool) async throws {
            for _ in 0..<2000 {
                if await condition() { return }
                try await Task.sleep(for: .milliseconds(5))
            }
            throw Unexpected("timed out waiting until \(what)")
        }

        @Test func gateLetsOneThroughAndBoundsTheLine() async throws {
            let gate = ExclusiveGate(limit: 1)
            try await gate.acquire()
            let order = OrderLog()
            let waiter = Task {
                try await gate.withExclusiveAccess { order.append("waiter") }
            }
            try await eventually("the waiter is queued") { await gate.waiting == 1 }
            // The line holds one: a third caller is refused rather than queued.
            await #expect(throws: ExclusiveGate.Full.self) { try await gate.acquire() }
            order.append("holder")
            await gate.release()
            try await waiter.value
            #expect(order.entries == ["holder", "waiter"])
            // Free again.
            try await gate.acquire()
            await gate.release()
        }

        @Test func cancelledWaiterLeavesTheLine() async throws {
            let gate = ExclusiveGate(limit: 4)
            try await gate.acquire()
            let waiter = Task { try await gate.acquire() }
            try await eventually("the waiter is queued") { await gate.waiting == 1 }
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            #expect(await gate.waiting == 0)
            await gate.release()
            // The cancelled waiter never took the gate, so it is free now.
            try await gate.acquire()
            await gate.release()
        }

        @Test func concurrentRequestsToOneModelRunOneAtATime() async throws {
            let observed = ConcurrencyProbe()
            let base = try TestModels.chatGenerator()
            try await withServer(generator: { _ in ObservedGenerator(base: base, probe: observed) }) { _, client in
                let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    for index in 0..<3 {
                        group.addTask {
                            let reply = try await client.post(
                                "/api/generate",
                                json: ["prompt": "Count to \(index + 3).", "stream": index % 2 == 0, "options": ["num_predict": 6]])
                            return (reply.status, reply.text)
                        }
                    }
                    var all: [(Int, String)] = []
                    for try await status in group { all.append(status) }
                    return all
                }
                #expect(statuses.count == 3)
                #expect(statuses.allSatisfy { $0.0 == 200 }, "\(statuses)")
            }
            #expect(observed.started == 3)
            #expect(observed.maximum == 1)
        }
    }
}

/// Records entries from several tasks in order.
final class OrderLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func append(_ entry: String) { lock.withLock { list.append(entry) } }
    var entries: [String] { lock.withLock { list } }
}

/// Counts generations in progress and the most seen at once.
final class ConcurrencyProbe: @unchecked Sendable {
    private let lock = NSLock()
    private var active = 0
    private(set) var maximumSeen = 0
    private var startedCount = 0
    func enter() {
        lock.withLock {
            active += 1
            startedCount += 1
            maximumSeen = max(maximumSeen, active)
        }
    }
    func leave() { lock.withLock { active -= 1 } }
    var maximum: Int { lock.withLock { maximumSeen } }
    var started: Int { lock.withLock { startedCount } }
}

/// The real generator, with each generation reported to a probe from start to end.
struct ObservedGenerator: TextGenerator {
    let base: any TextGenerator
    let probe: ConcurrencyProbe
    var modelID: String { base.modelID }
    var contextLength: Int { base.contextLength }
    func countTokens(_ text: String) throws -> Int { try base.countTokens(text) }
    func generate(_ messages: [ChatMessage], options: SamplingOptions) -> AsyncThrowingStream<GeneratedPiece, Error> {
        let base = self.base
        let probe = self.probe
        return AsyncThrowingStream { continuation in
            let task = Task {
                probe.enter()
                do {
                    for try await piece in base.generate(messages, options: options) { continuation.yield(piece) }
                    probe.leave()
                    continuation.finish()
                } catch {
                    probe.leave()
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
