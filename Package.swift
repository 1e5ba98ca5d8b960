// swift-tools-version:6.0
import PackageDescription

// SIMD kernels need a target CPU: Swift emits SSE2-only code otherwise.
// `CLIF_TARGET_CPU` overrides the default (e.g. `native`, or `x86-64` for a
// heterogeneous cluster).
import Foundation
let targetCPU = ProcessInfo.processInfo.environment["CLIF_TARGET_CPU"] ?? "haswell"
// Kernels hand raw pointers to worker threads (each index writes only its
// own memory), which Swift 6's strict Sendable checking cannot see; the
// Swift 5 language mode keeps those checks as warnings.
let fastMath: [SwiftSetting] = [
    .unsafeFlags(["-O", "-target-cpu", targetCPU]),
    .swiftLanguageMode(.v5),
]

let package = Package(
    name: "clif-mpi",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "clif-mpi", targets: ["clif-mpi"]),
        .library(name: "Core", targets: ["Core"]),
        .library(name: "Distributed", targets: ["Distributed"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CRuntime"),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        // Debian's serial HDF5 (libhdf5-dev): headers and library live under hdf5/serial.
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
        .target(name: "Core", dependencies: ["CBLAS", "CZlib", "CRuntime", "CTurboJPEG", "CHDF5"],
                exclude: ["README.md", "Data/Resources/DIGITS-README.md"],
                resources: [.embedInCode("Data/Resources/digits.csv.gz")],
                swiftSettings: fastMath),
        .target(name: "Distributed", dependencies: ["Core", "CMPI"], swiftSettings: fastMath),
        .executableTarget(
            name: "clif-mpi",
            dependencies: [
                "Core", "Distributed",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: fastMath),
        .testTarget(name: "CoreTests", dependencies: ["Core"],
                    resources: [.copy("../Fixtures")]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "Core", "CHDF5"]),
    ]
)
