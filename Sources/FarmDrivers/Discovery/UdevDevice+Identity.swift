extension UdevDevice {
    /// This device and all its ancestors, each given the `ID_*` properties udev's `path_id` and
    /// `usb_id` builtins would set, where they are missing.
    ///
    /// Without udevd (containers, minimal systems) libudev and sysfs report only the kernel's
    /// `uevent` keys; the builtins' results are pure functions of the device chain and its sysfs
    /// attributes, so they are computed here. Properties udev did set are kept as they are.
    public func withDerivedProperties() -> UdevDevice {
        var copy = self
        if let parent { copy.parent = parent.withDerivedProperties() }
        for (key, value) in copy.derivedProperties() where copy.properties[key] == nil {
            copy.properties[key] = value
        }
        return copy
    }

    /// The `ID_*` properties derived from the device chain: `ID_PATH`, `ID_PATH_TAG`, and for
    /// USB devices and what hangs from them `ID_BUS`, `ID_VENDOR`, `ID_VENDOR_ID`, `ID_MODEL`,
    /// `ID_MODEL_ID`, `ID_REVISION`, `ID_SERIAL`, `ID_SERIAL_SHORT`, `ID_USB_INTERFACE_NUM`,
    /// `ID_USB_DRIVER`.
    public func derivedProperties() -> [String: String] {
        var derived = usbProperties()
        if let path = composedPathID {
            derived["ID_PATH"] = path
            derived["ID_PATH_TAG"] = Self.pathTag(path)
        }
        return derived
    }

    /// `ID_PATH` as udev's `path_id` composes it from the device chain, such as
    /// `pci-0000:00:14.0-usb-0:1.2:1.0`; nil where `path_id` sets none (no PCI, platform, ACPI or
    /// Xen device above it, as for virtual devices).
    public var composedPathID: String? {
        var components: [String] = []
        var supportedParent = false
        var current: UdevDevice? = self
        while let device = current {
            var last = device
            switch device.subsystem {
            case "usb":
                // An interface `1-1.2:1.0` or device `1-1.2` gives `usb-0:1.2:1.0` / `usb-0:1.2`;
                // root hubs (`usb1`) have no port and add nothing.
                if device.deviceType == "usb_interface" || device.deviceType == "usb_device",
                    let dash = device.sysName.firstIndex(of: "-")
                {
                    components.insert("usb-0:" + device.sysName[device.sysName.index(after: dash)...], at: 0)
                    last = device.topmost(of: "usb")
                }
            case "pci":
                components.insert("pci-\(device.sysName)", at: 0)
                last = device.topmost(of: "pci")
                supportedParent = true
            case "platform", "acpi", "xen":
                components.insert("\(device.subsystem ?? "")-\(device.sysName)", at: 0)
                last = device.topmost(of: device.subsystem ?? "")
                supportedParent = true
            case "serio":
                let number = String(device.sysName.reversed().prefix(while: \.isNumber).reversed())
                if !number.isEmpty {
                    components.insert("serio-\(number)", at: 0)
                    last = device.topmost(of: "serio")
                }
            case "virtio":
                last = device.topmost(of: "virtio")
            default:
                break
            }
            current = last.parent
        }
        guard !components.isEmpty, supportedParent else { return nil }
        return components.joined(separator: "-")
    }

    /// The highest device of the unbroken run of `subsystem` starting at this one.
    private func topmost(of subsystem: String) -> UdevDevice {
        var device = self
        while let parent = device.parent, parent.subsystem == subsystem { device = parent }
        return device
    }

    /// `ID_PATH_TAG`: the path with every run of characters other than letters, digits and `-`
    /// replaced by one `_`, and no `_` at either end.
    static func pathTag(_ path: String) -> String {
        var tag = ""
        for character in path {
            if character.isASCII && (character.isLetter || character.isNumber || character == "-") {
                tag.append(character)
            } else if !tag.isEmpty && tag.last != "_" {
                tag.append("_")
            }
        }
        while tag.last == "_" { tag.removeLast() }
        return tag
    }

    /// What `usb_id` sets for a USB device, interface, or a device hanging from an interface.
    private func usbProperties() -> [String: String] {
        guard let usbDevice else { return [:] }
        var properties = ["ID_BUS": "usb"]
        if let interface = usbInterface {
            properties["ID_USB_INTERFACE_NUM"] = interface.attributes["bInterfaceNumber"]
            properties["ID_USB_DRIVER"] = interface.driver
        }
        let vendorID = usbDevice.attributes["idVendor"]
        let modelID = usbDevice.attributes["idProduct"]
        properties["ID_VENDOR_ID"] = vendorID
        properties["ID_MODEL_ID"] = modelID
        properties["ID_REVISION"] = usbDevice.attributes["bcdDevice"]
        let vendor = usbDevice.attributes["manufacturer"].map(Self.udevSafe).flatMap { $0.isEmpty ? nil : $0 } ?? vendorID
        let model = usbDevice.attributes["product"].map(Self.udevSafe).flatMap { $0.isEmpty ? nil : $0 } ?? modelID
        properties["ID_VENDOR"] = vendor
        properties["ID_MODEL"] = model
        let serial = usbDevice.attributes["serial"].map(Self.udevSafe).flatMap { $0.isEmpty ? nil : $0 }
        properties["ID_SERIAL_SHORT"] = serial
        if let vendor, let model {
            properties["ID_SERIAL"] = [vendor, model, serial].compactMap { $0 }.joined(separator: "_")
        }
        return properties
    }

    /// `text` as udev stores USB strings: surrounding white space dropped, inner runs of white
    /// space turned into one `_`, and ASCII characters other than letters, digits and `#+-.:=@_` into `_`.
    public static func udevSafe(_ text: String) -> String {
        let allowedPunctuation = Set("#+-.:=@_")
        var result = ""
        var pendingSpace = false
        for character in trimmed(text) {
            if character.isWhitespace {
                pendingSpace = true
                continue
            }
            if pendingSpace {
                result.append("_")
                pendingSpace = false
            }
            // As udev: ASCII letters, digits and a few marks stay; other ASCII becomes `_`;
            // non-ASCII text (valid UTF-8 by construction) stays.
            let allowed = !character.isASCII || character.isLetter || character.isNumber || allowedPunctuation.contains(character)
            result.append(allowed ? character : "_")
        }
        return result
    }

    /// `text` without leading and trailing white space (newlines included).
    static func trimmed(_ text: String) -> Substring {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }), let last = text.lastIndex(where: { !$0.isWhitespace }) else {
            return ""
        }
        return text[first...last]
    }
}
