import Foundation
import Testing
@testable import Assistant

@Suite struct PromptLibraryTests {
    @Test func packagedTemplatesExistAndUseOnlyKnownPlaceholders() throws {
        let provided: [String: Set<String>] = [
            PromptLibrary.Name.askSystem: ["not_found"],
            PromptLibrary.Name.askUser: ["today", "context", "timeline", "question", "not_found"],
            PromptLibrary.Name.summarizeThread: ["subject", "participants", "transcript"],
            PromptLibrary.Name.summarizeSegment: ["part", "parts", "subject", "transcript"],
            PromptLibrary.Name.summarizeMerge: ["parts", "subject", "partials"],
        ]
        for name in PromptLibrary.Name.all {
            let template = try packagedLibrary.template(named: name)
            let values = Dictionary(uniqueKeysWithValues: (provided[name] ?? []).map { ($0, "X") })
            #expect(template.missingPlaceholders(values).isEmpty, "\(name) has unfilled placeholders")
            #expect(!template.render(values).contains("{{"), "\(name) renders with a visible placeholder")
        }
        let system = try packagedLibrary.template(named: PromptLibrary.Name.askSystem)
        let secondLook = system.removingLines(using: "not_found")
        #expect(system.placeholders.contains("not_found"))
        #expect(!secondLook.placeholders.contains("not_found"), "the second look does not offer the sentinel")
        #expect(secondLook.text.components(separatedBy: "\n").count == system.text.components(separatedBy: "\n").count - 1,
                "only the sentinel's line goes")
    }

    @Test func renderIsSinglePassAndLeavesUnknownPlaceholdersVisible() {
        let template = PromptTemplate(name: "t", text: "Q: {{question}} / {{ context }} / {{missing}} / {{not a name}}")
        let out = template.render(["question": "what is {{context}}?", "context": "C"])
        #expect(out == "Q: what is {{context}}? / C / {{missing}} / {{not a name}}")
        #expect(template.placeholders == ["question", "context", "missing"])
        #expect(template.missingPlaceholders(["question": "", "context": ""]) == ["missing"])
    }

    @Test func userOverrideWinsAndMissingTemplateNamesSearchedPaths() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("prompts-\(UUID().uuidString)")
        let user = root.appendingPathComponent("config/assist/prompts")
        try FileManager.default.createDirectory(at: user, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try "custom {{question}}".write(to: user.appendingPathComponent("ask-user.txt"), atomically: true, encoding: .utf8)

        let library = PromptLibrary.standard(
            environment: ["XDG_CONFIG_HOME": root.appendingPathComponent("config").path, "ASSIST_PROMPTS": packagedPrompts],
            executablePath: nil, currentDirectory: root.path)
        #expect(library.folders == [user.path, packagedPrompts])
        #expect(try library.template(named: "ask-user").text == "custom {{question}}")
        #expect(try library.template(named: "ask-system").source == packagedPrompts + "/ask-system.txt")

        do {
            _ = try library.template(named: "no-such-template")
            Issue.record("expected an error")
        } catch let error as AssistantError {
            guard case let .promptNotFound(name, searched) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(name == "no-such-template")
            #expect(searched == [user.path + "/no-such-template.txt", packagedPrompts + "/no-such-template.txt"])
            #expect(error.description.contains(packagedPrompts))
        }
    }

    @Test func packagedFolderIsFoundByWalkingUp() throws {
        let nested = URL(fileURLWithPath: packagedPrompts).deletingLastPathComponent()
            .appendingPathComponent("Sources/Assistant")
        let library = PromptLibrary.standard(
            environment: ["XDG_CONFIG_HOME": "/nonexistent-config"], executablePath: "/nonexistent/bin/assist",
            currentDirectory: nested.path)
        #expect(library.folders.last.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            == URL(fileURLWithPath: packagedPrompts).standardizedFileURL.path)
        #expect(library.folders.first == "/nonexistent-config/assist/prompts")
    }
}
