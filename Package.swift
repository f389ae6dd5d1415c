// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "bootfarm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bootfarm", targets: ["bootfarm"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibUSB", pkgConfig: "libusb-1.0", providers: [.apt(["libusb-1.0-0-dev"])]),
        .systemLibrary(name: "CLibUDev", pkgConfig: "libudev", providers: [.apt(["libudev-dev"])]),
        .target(name: "CFarmShims"),
        .target(
            name: "FarmCore",
            dependencies: ["CFarmShims", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "FarmDrivers",
            dependencies: ["FarmCore", "CFarmShims", "CLibUSB", "CLibUDev", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "FarmSim", dependencies: ["FarmCore", "FarmDrivers"]),
        .target(name: "FarmStore", dependencies: ["FarmCore", "CSQLite"]),
        .target(name: "FarmReports", dependencies: ["FarmCore", "FarmStore"]),
        .target(
            name: "FarmAgent",
            dependencies: ["FarmCore", "FarmDrivers", "FarmStore", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "FarmServer",
            dependencies: [
                "FarmCore", "FarmStore", "FarmReports",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "bootfarm",
            dependencies: [
                "FarmCore", "FarmDrivers", "FarmStore", "FarmAgent", "FarmReports", "FarmSim", "FarmServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "FarmCoreTests", dependencies: ["FarmCore"]),
        .testTarget(name: "FarmDriversTests", dependencies: ["FarmDrivers", "FarmCore"]),
        .testTarget(name: "FarmSimTests", dependencies: ["FarmSim", "FarmDrivers", "FarmCore"]),
        .testTarget(name: "FarmStoreTests", dependencies: ["FarmStore", "FarmCore"]),
        .testTarget(
            name: "FarmAgentTests",
            dependencies: [
                "FarmAgent", "FarmStore", "FarmCore", "FarmServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "FarmReportsTests", dependencies: ["FarmReports", "FarmStore", "FarmCore"], exclude: ["Golden"]),
        .testTarget(
            name: "FarmServerTests",
            dependencies: [
                "FarmServer", "FarmStore", "FarmCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "BootfarmCLITests", dependencies: ["FarmCore", "FarmStore"], exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v6]
)
