import Foundation
import Index
import Inference
import MCP
import Testing

@testable import Server

extension ServerSuite {
    /// The MCP tools, called directly and through the official Python MCP client over stdio.
    @Suite(.serialized)
    struct MCPTests {
        func text(_ result: CallTool.Result) -> String {
            result.content.compactMap { content -> String? in
                if case .text(let text, _, _) = content { return text }
                return nil
            }.joined()
        }

        @Test func toolsSearchReadAndReportErrors() async throws {
            let scratch = try Scratch()
            let store = try makeIndex(in: scratch)
            let tools = MCPTools(library: store, models: nil, ask: standardAskHandler(retriever: store))
            #expect(MCPTools.definitions.map(\.name) == ["search_notes_and_mail", "ask", "get_document", "index_status"])
            for tool in MCPTools.definitions {
                #expect(tool.inputSchema.objectValue?["type"] == .string("object"))
            }

            let search = await tools.call("search_notes_and_mail", arguments: ["query": "projector", "limit": 2])
            #expect(search.isError == false)
            #expect(text(search).contains("Message-ID <venue-2@example.org>"))
            let results = search.structuredContent?.objectValue?["results"]?.arrayValue
            #expect(results?.first?.objectValue?["message_id"] == .string("venue-2@example.org"))

            let note = await tools.call("get_document", arguments: ["path": .string(scratch.path("notes/bike.md"))])
            #expect(note.isError == false)
            #expect(text(note).contains("Chain oil: every 300 km."))
            #expect(text(note).contains("Title: Bike maintenance"))
            let message = await tools.call("get_document", arguments: ["message_id": "<venue-1@example.org>"])
            #expect(text(message).contains("Old Library hall"))
            #expect(message.structuredContent?.objectValue?["from"] == .string("Ana Silva <ana@example.org>"))

            let status = await tools.call("index_status", arguments: [:])
            #expect(status.isError == false)
            #expect(status.structuredContent?.objectValue?["documents"]?.objectValue?["notes"] == .int(3))
            #expect(status.structuredContent?.objectValue?["documents"]?.objectValue?["mail"] == .int(2))

            // Every bad call is a tool error with a message, not a thrown error.
            let failures: [(String, [String: Value])] = [
                ("search_notes_and_mail", [:]),
                ("search_notes_and_mail", ["query": "x", "limit": "many"]),
                ("search_notes_and_mail", ["query": "x", "source": "fax"]),
                ("get_document", [:]),
                ("get_document", ["path": "/nowhere.md"]),
                ("get_document", ["path": "/a.md", "message_id": "b"]),
                ("ask", ["question": "Where is the meetup?"]),
                ("no_such_tool", [:]),
            ]
            for (name, arguments) in failures {
                let result = await tools.call(name, arguments: arguments)
                #expect(result.isError == true, "\(name) \(arguments)")
                #expect(!text(result).isEmpty)
            }
        }

        static let script = #"""
            import asyncio, json, os, sys
            from mcp import ClientSession, StdioServerParameters
            from mcp.client.stdio import stdio_client

            def wire(result):
                return result.model_dump(by_alias=True, mode="json", exclude_none=True)

            async def main():
                # The server inherits this environment: the models folder and the chosen models come from it.
                params = StdioServerParameters(command=sys.argv[1], args=sys.argv[2:], env=dict(os.environ))
                async with stdio_client(params) as (read, write):
                    async with ClientSession(read, write) as session:
                        init = wire(await session.initialize())
                        listed = wire(await session.list_tools())
                        out = {
                            "server": init["serverInfo"]["name"],
                            "tools": {tool["name"]: tool["inputSchema"] for tool in listed["tools"]},
                            "search": wire(await session.call_tool("search_notes_and_mail", {"query": "tomato seedlings", "limit": 2})),
                            "document": wire(await session.call_tool("get_document", {"message_id": "venue-1@example.org"})),
                            "status": wire(await session.call_tool("index_status", {})),
                            "bad": wire(await session.call_tool("search_notes_and_mail", {"limit": 2})),
                            "ask": wire(await session.call_tool("ask", {"question": "Who will bring the projector?", "source": "mail"})),
                        }
                print(json.dumps(out))

            asyncio.run(main())
            """#

        /// The `assist` binary built next to the test bundle (`swift build` puts all products in one folder).
        static func assistBinary() throws -> String {
            let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            let candidates = [
                bundleFolder.appendingPathComponent("assist").path,
                FileManager.default.currentDirectoryPath + "/.build/debug/assist",
            ]
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw Unexpected("assist is not built (looked in \(candidates)): run `swift build` first")
            }
            return found
        }

        @Test func pythonClientOverStdio() async throws {
            let scratch = try Scratch()
            let store = try makeIndex(in: scratch)
            let db = store.path
            let models = URL(fileURLWithPath: try TestModels.path("minilm-l6-v2")).deletingLastPathComponent().path
            // The real `assist mcp`, configured by environment only (no config file of the machine).
            let output = try await runPython(
                Self.script, arguments: [try Self.assistBinary(), "mcp", "--db", db], in: scratch,
                environment: [
                    "ASSIST_MODELS": models, "ASSIST_CHAT_BACKEND": "builtin", "ASSIST_CHAT_MODEL": "smollm2-135m",
                    "ASSIST_EMBED_BACKEND": "builtin", "ASSIST_EMBED_MODEL": "minilm-l6-v2",
                    "XDG_CONFIG_HOME": scratch.path("config"),
                ])
            let result = try #require(
                try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "script printed: \(output)")
            #expect(result["server"] as? String == AssistMCPServer.serverName)
            let schemas = try #require(result["tools"] as? [String: [String: Any]])
            #expect(Set(schemas.keys) == ["search_notes_and_mail", "ask", "get_document", "index_status"])
            #expect(schemas["search_notes_and_mail"]?["required"] as? [String] == ["query"])
            #expect(schemas["ask"]?["required"] as? [String] == ["question"])

            func content(_ key: String) -> (text: String, isError: Bool, structured: [String: Any]?) {
                let call = result[key] as? [String: Any] ?? [:]
                let text = (call["content"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }.joined()
                return (text, call["isError"] as? Bool ?? false, call["structuredContent"] as? [String: Any])
            }
            let search = content("search")
            #expect(!search.isError)
            #expect(search.text.contains("garden.md"))
            let document = content("document")
            #expect(!document.isError)
            #expect(document.text.contains("Old Library hall"))
            #expect(content("status").structured?["chunks"] as? Int ?? 0 > 0)
            let bad = content("bad")
            #expect(bad.isError)
            #expect(bad.text.contains("query"))
            let ask = content("ask")
            #expect(!ask.isError, "\(ask.text)")
            #expect(ask.structured?["answer"] is String)
            #expect(ask.structured?["found"] is Bool)
        }
    }
}
