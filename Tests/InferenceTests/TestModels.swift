import Foundation

/// Finds the real model files that tests run against, in the layout `assist models pull` writes.
///
/// Tests that need a model fail, not skip, when it is missing: CI pulls the models first, and a silently
/// skipped model test would pass without checking anything.
enum TestModels {
    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "model file \(path) is missing: run `assist models pull smollm2-135m` (or set ASSIST_MODELS)"
        }
    }

    static var directory: String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["ASSIST_MODELS"], !dir.isEmpty { return dir }
        if let home = env["ASSIST_HOME"], !home.isEmpty { return home + "/models" }
        if let data = env["XDG_DATA_HOME"], !data.isEmpty { return data + "/assist/models" }
        return NSHomeDirectory() + "/.local/share/assist/models"
    }

    static func path(_ relative: String) throws -> String {
        let path = directory + "/" + relative
        guard FileManager.default.fileExists(atPath: path) else { throw Missing(path: path) }
        return path
    }
}
