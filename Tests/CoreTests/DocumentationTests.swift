import Foundation
import XCTest

/// The repository's documentation is self-contained: nothing cites the
/// specification the project was built to (a file outside the repository,
/// which a user cannot look up), every `docs/….md` that the code, the tests,
/// the tools or the README mention exists, and every relative Markdown link of
/// the README and of `docs/` reaches an existing file and heading.
final class DocumentationTests: XCTestCase {
    /// The repository root: this file is `Tests/CoreTests/DocumentationTests.swift`.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Folders not walked: build products and VCS data, and generated binary
    /// data (golden fixtures, fuzzing seeds).
    static func isSkipped(folder relative: String) -> Bool {
        let name = (relative as NSString).lastPathComponent
        return name.hasPrefix(".build") || name == ".git" || name == ".swiftpm"
            || relative == "Tests/Fixtures" || relative == "fuzz/corpus"
    }

    /// Every UTF-8 text file of the repository (up to 1 MB) by path relative to the root.
    static func textFiles() throws -> [(path: String, text: String)] {
        var files: [(String, String)] = []
        var folders = [""]
        while let folder = folders.popLast() {
            let url = folder.isEmpty ? root : root.appendingPathComponent(folder)
            for name in try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() {
                let relative = folder.isEmpty ? name : folder + "/" + name
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: root.appendingPathComponent(relative).path,
                                                     isDirectory: &isFolder) else { continue }
                if isFolder.boolValue {
                    if !isSkipped(folder: relative) { folders.append(relative) }
                    continue
                }
                let data = try Data(contentsOf: root.appendingPathComponent(relative))
                guard data.count <= 1 << 20, !data.contains(0), let text = String(data: data, encoding: .utf8) else { continue }
                files.append((relative, text))
            }
        }
        return files
    }

    /// `(line number, line)` of the lines of `text` that match `pattern`.
    static func matches(_ pattern: NSRegularExpression, in text: String) -> [(line: Int, match: String)] {
        var found: [(Int, String)] = []
        for (number, line) in text.components(separatedBy: "\n").enumerated() {
            let range = NSRange(line.startIndex..., in: line)
            for match in pattern.matches(in: line, range: range) {
                found.append((number + 1, (line as NSString).substring(with: match.range)))
            }
        }
        return found
    }

    func testNothingCitesTheSpecificationOutsideTheRepository() throws {
        let files = try Self.textFiles()
        XCTAssertTrue(files.contains { $0.path == "README.md" }, "the walk from \(Self.root.path) found no README.md")
        // The word in capitals is how the outside specification was cited ("… §1", "….md").
        let citation = try NSRegularExpression(pattern: "RECIPE")
        let ownPath = String(#filePath.dropFirst(Self.root.path.count + 1))
        var offenders: [String] = []
        for (path, text) in files where path != ownPath {
            offenders += Self.matches(citation, in: text).map { "\(path):\($0.line)" }
        }
        XCTAssertEqual(offenders, [], "cite the pages under docs/ instead of a document outside the repository")
    }

    func testEveryMentionedDocsPageExists() throws {
        let page = try NSRegularExpression(pattern: "docs/[A-Za-z0-9_-]+\\.md")
        var missing: [String] = []
        var mentions = 0
        for (path, text) in try Self.textFiles() {
            for hit in Self.matches(page, in: text) {
                mentions += 1
                if !FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(hit.match).path) {
                    missing.append("\(path):\(hit.line) mentions \(hit.match)")
                }
            }
        }
        XCTAssertGreaterThan(mentions, 0, "no docs/….md mention found under \(Self.root.path)")
        XCTAssertEqual(missing, [], "pages mentioned but missing from docs/")
    }

    func testRelativeMarkdownLinksOfTheReadmeAndDocsResolve() throws {
        let link = try NSRegularExpression(pattern: "\\]\\(([^)\\s]+)\\)")
        let pages = try Self.textFiles().filter { $0.path == "README.md" || ($0.path.hasPrefix("docs/") && $0.path.hasSuffix(".md")) }
        XCTAssertGreaterThan(pages.count, 1, "expected README.md and pages under docs/")
        var headings: [String: Set<String>] = [:]
        for (path, text) in pages { headings[path] = Self.anchors(text) }
        var broken: [String] = []
        for (path, text) in pages {
            for hit in Self.matches(link, in: text) {
                let target = String(hit.match.dropFirst(2).dropLast())
                guard !target.contains("://"), !target.hasPrefix("mailto:") else { continue }
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let folder = (path as NSString).deletingLastPathComponent
                let file = parts[0].isEmpty ? path : ((folder as NSString).appendingPathComponent(parts[0]) as NSString).standardizingPath
                guard FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(file).path) else {
                    broken.append("\(path):\(hit.line): \(target) (no file \(file))")
                    continue
                }
                if parts.count == 2, let known = headings[file], !known.contains(parts[1]) {
                    broken.append("\(path):\(hit.line): \(target) (no heading #\(parts[1]) in \(file))")
                }
            }
        }
        XCTAssertEqual(broken, [], "broken relative links")
    }

    /// `Sources/Core/README.md` maps Core's folders: a table row per folder,
    /// and no row for a folder that is gone.
    func testCoreMapHasARowForEveryFolder() throws {
        let core = Self.root.appendingPathComponent("Sources/Core")
        let folders = try FileManager.default.contentsOfDirectory(atPath: core.path).filter { name in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: core.appendingPathComponent(name).path, isDirectory: &isFolder)
                && isFolder.boolValue
        }
        let map = try String(contentsOf: core.appendingPathComponent("README.md"), encoding: .utf8)
        let row = try NSRegularExpression(pattern: "^\\| `([A-Za-z]+)/` \\|")
        let rows = Self.matches(row, in: map).map { String($0.match.dropFirst(3).dropLast(4)) }
        XCTAssertGreaterThan(folders.count, 1, "no folders found under \(core.path)")
        XCTAssertEqual(Set(rows).sorted(), folders.sorted(), "Sources/Core/README.md rows against the folders of Sources/Core")
        XCTAssertEqual(rows.count, Set(rows).count, "Sources/Core/README.md has a folder twice: \(rows)")
    }

    /// GitHub's anchors of the headings of a Markdown text: lower case, spaces
    /// to hyphens, everything but letters, digits, `-` and `_` dropped.
    static func anchors(_ text: String) -> Set<String> {
        var anchors: Set<String> = []
        var inCode = false
        for line in text.components(separatedBy: "\n") {
            if line.hasPrefix("```") { inCode.toggle() }
            guard !inCode, line.hasPrefix("#") else { continue }
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
            anchors.insert(String(title.lowercased().compactMap { c -> Character? in
                if c == " " { return "-" }
                return c.isLetter || c.isNumber || c == "-" || c == "_" ? c : nil
            }))
        }
        return anchors
    }
}
