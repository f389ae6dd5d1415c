import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension DeviceDiscovery {
    /// Devices of `subsystems` read from the sysfs tree at `root`, as libudev would report them
    /// without udevd: the `uevent` keys plus `DEVPATH` and `SUBSYSTEM` as properties, `DEVNAME`
    /// made a `/dev` path, and the parent chain up to (not including) `devices/`.
    ///
    /// Devices are found through `class/SUBSYSTEM/*` and `bus/SUBSYSTEM/devices/*`, whose entries
    /// are symbolic links into `devices/`; a device folder is one holding a `uevent` file, and its
    /// subsystem and driver are the names its `subsystem` and `driver` links point to.
    static func sysfsDevices(root: String, subsystems: [String]) throws(DiscoveryError) -> [UdevDevice] {
        guard let resolvedRoot = resolvedPath(root), isDirectory("\(resolvedRoot)/devices") else {
            throw .sysfsMissing(root: root)
        }
        var cache: [String: UdevDevice] = [:]
        var seen: Set<String> = []
        var devices: [UdevDevice] = []
        for subsystem in subsystems {
            for folder in ["\(resolvedRoot)/class/\(subsystem)", "\(resolvedRoot)/bus/\(subsystem)/devices"] {
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
                for entry in entries.sorted() {
                    guard let path = resolvedPath("\(folder)/\(entry)"), path.hasPrefix("\(resolvedRoot)/devices/"),
                        seen.insert(path).inserted,
                        let device = sysfsDevice(at: path, root: resolvedRoot, cache: &cache)
                    else { continue }
                    devices.append(device)
                }
            }
        }
        return devices
    }

    /// The device whose folder is `path` (absolute, resolved), with its parents; nil when the
    /// folder has no `uevent` file. Parents are shared through `cache`.
    static func sysfsDevice(at path: String, root: String, cache: inout [String: UdevDevice]) -> UdevDevice? {
        if let cached = cache[path] { return cached }
        guard let uevent = readSysfsFile("\(path)/uevent") else { return nil }
        var properties = parseUevent(uevent)
        let subsystem = linkName("\(path)/subsystem")
        let driver = linkName("\(path)/driver")
        let devicePath = String(path.dropFirst(root.count))
        properties["DEVPATH"] = devicePath
        if let subsystem { properties["SUBSYSTEM"] = subsystem }
        var devNode: String?
        if let name = properties["DEVNAME"], !name.isEmpty {
            let node = name.hasPrefix("/") ? name : "/dev/\(name)"
            properties["DEVNAME"] = node
            devNode = node
        }
        let deviceType = properties["DEVTYPE"]
        let names = attributeNames(subsystem: subsystem, deviceType: deviceType) {
            (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        }
        var attributes: [String: String] = [:]
        for name in names {
            if let value = readSysfsFile("\(path)/\(name)") { attributes[name] = value }
        }
        let parent = parentFolder(of: path, root: root).flatMap { sysfsDevice(at: $0, root: root, cache: &cache) }
        let device = UdevDevice(
            subsystem: subsystem, deviceType: deviceType, sysPath: path, devicePath: devicePath, devNode: devNode, driver: driver,
            properties: properties, attributes: attributes, parent: parent)
        cache[path] = device
        return device
    }

    /// The nearest folder above `path` that is a device (holds `uevent`), below `root/devices`.
    /// Folders without one, such as the `tty/` above `ttyUSB0`, are class folders and skipped.
    static func parentFolder(of path: String, root: String) -> String? {
        let top = "\(root)/devices"
        var folder = (path as NSString).deletingLastPathComponent
        while folder.hasPrefix("\(top)/") {
            if FileManager.default.fileExists(atPath: "\(folder)/uevent") { return folder }
            folder = (folder as NSString).deletingLastPathComponent
        }
        return nil
    }

    /// `KEY=VALUE` lines of a `uevent` file.
    static func parseUevent(_ text: String) -> [String: String] {
        var properties: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            properties[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return properties
    }

    /// The last component of the symbolic link at `path`'s target (`ftdi_sio` for a `driver`
    /// link), nil when there is no link.
    static func linkName(_ path: String) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else { return nil }
        let name = (target as NSString).lastPathComponent
        return name.isEmpty ? nil : name
    }

    /// The contents of a sysfs file without trailing newlines; nil when it cannot be read (absent,
    /// not permitted, or the driver refuses, as some do for attributes of a busy device).
    ///
    /// Read with plain `read(2)` until end of file: sysfs reports every attribute as 4096 bytes
    /// long whatever it holds.
    static func readSysfsFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
            if bytes.count > 1 << 20 { break }
        }
        var text = String(decoding: bytes, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// `path` with every symbolic link resolved, or nil when it does not exist.
    static func resolvedPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}
