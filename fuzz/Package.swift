// swift-tools-version:6.0
// Fuzz targets for clif-mpi's file parsers (see fuzz/README.md). Every folder
// under Targets/ is one libFuzzer executable; build with fuzz/run.sh.
import Foundation
import PackageDescription

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let targetNames = ((try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Targets").path)) ?? [])
    .filter { !$0.hasPrefix(".") }.sorted()

let package = Package(
    name: "clif-mpi-fuzz",
    dependencies: [.package(name: "clif-mpi", path: "..")],
    targets: [
        .target(name: "CFuzzDriver", path: "Support/CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"], path: "Support/FuzzSupport"),
    ] + targetNames.map { name in
        .executableTarget(name: name,
                          dependencies: ["FuzzSupport", .product(name: "Core", package: "clif-mpi")],
                          path: "Targets/\(name)",
                          swiftSettings: [.swiftLanguageMode(.v5)])
    }
)
