/// Why a model could not be found, fetched, imported or removed.
public enum ModelStoreError: Error, CustomStringConvertible, Sendable, Equatable {
    case unknownModel(name: String, known: [String])
    case notPulled(name: String, path: String)
    case notRemovable(name: String, source: String)
    case alreadyExists(name: String, path: String)
    case toolFailed(command: String, status: Int32, output: String)
    case partMissing(package: String, part: String)
    case checksumMismatch(file: String, expected: String, actual: String)
    case invalidModelFile(path: String, reason: String)
    case io(path: String, reason: String)
    case corruptManifest(path: String, reason: String)

    public var description: String {
        switch self {
        case .unknownModel(let name, let known):
            "no model called '\(name)': use one of \(known.joined(separator: ", ")), a path to a .gguf file, or a name from `assist models list`"
        case .notPulled(let name, let path):
            "model '\(name)' is not in the store (looked for \(path)): run `assist models pull \(name)`"
        case .notRemovable(let name, let source):
            "model '\(name)' was not pulled or imported by assist (\(source)); remove it with the tool that installed it"
        case .alreadyExists(let name, let path):
            "a model called '\(name)' already exists at \(path); remove it first or import under another name"
        case .toolFailed(let command, let status, let output):
            "`\(command)` failed with status \(status): \(output.isEmpty ? "no output" : output)"
        case .partMissing(let package, let part):
            "package \(package) does not contain \(part); the package may have changed — check the catalog"
        case .checksumMismatch(let file, let expected, let actual):
            "\(file): SHA-256 is \(actual), expected \(expected); the download is corrupt or was tampered with — nothing was installed, pull again"
        case .invalidModelFile(let path, let reason):
            "\(path) is not a usable model file: \(reason)"
        case .io(let path, let reason):
            "\(path): \(reason)"
        case .corruptManifest(let path, let reason):
            "\(path): the model manifest cannot be read (\(reason)); fix or delete it and pull the models again"
        }
    }
}
