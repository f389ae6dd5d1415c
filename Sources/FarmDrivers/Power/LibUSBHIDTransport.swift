import CLibUSB
import Foundation

/// Reaches dcttech-style USB HID relay boards through libusb control transfers on endpoint 0.
///
/// `open(_:)` enumerates every device with VID 0x16C0 and PID 0x05DF whose product string starts
/// with `USBRelay`, detaches the kernel's HID driver from interface 0 (libusb reattaches it on
/// close), claims the interface, reads each board's feature report and keeps the one whose serial
/// matches, or the one at the bus address a udev match found just before. Lab files never give
/// bus addresses: those change when a board is plugged again.
public final class LibUSBHIDTransport: HIDRelayTransport, @unchecked Sendable {
    /// USB vendor id of dcttech relay boards (V-USB's shared id).
    public static let vendorID: UInt16 = 0x16C0
    /// USB product id of dcttech relay boards (V-USB's shared HID id).
    public static let productID: UInt16 = 0x05DF

    /// A relay board seen while enumerating.
    public struct Board: Sendable, Equatable {
        /// The serial in its feature report.
        public var serial: String
        /// Its USB product string, such as `USBRelay2`.
        public var product: String
        /// Report byte 7: bit n−1 set when channel n is on.
        public var stateBits: UInt8
    }

    /// Milliseconds one control transfer may take. Default 1000.
    public let transferTimeoutMilliseconds: UInt32

    // The context and handle are touched only under `lock`.
    private let lock = NSLock()
    private var context: OpaquePointer?
    private var handle: OpaquePointer?

    /// A transport with no board open yet.
    public init(transferTimeoutMilliseconds: UInt32 = 1000) {
        self.transferTimeoutMilliseconds = transferTimeoutMilliseconds
    }

    deinit { closeLocked() }

    /// Every relay board this machine's USB buses show that could be opened and read.
    public func boards() throws -> [Board] {
        let context = try Self.makeContext(what: "USB relay boards")
        defer { libusb_exit(context) }
        return scan(context: context, want: nil).boards
    }

    public func open(_ board: HIDRelayAddress) throws -> String {
        try lock.withLock {
            closeLocked()
            let what = "USB relay board \(board)"
            let context = try Self.makeContext(what: what)
            let scanned = scan(context: context, want: board)
            guard let match = scanned.match else {
                libusb_exit(context)
                var answer: String
                switch board {
                case .serial(let serial): answer = "no relay board with serial \(serial)"
                case .usb(let bus, let address): answer = "no relay board at bus \(bus) address \(address)"
                }
                let seen = scanned.boards.map { "\($0.serial) (\($0.product))" }
                answer += seen.isEmpty ? "; no USB HID relay board found" : "; found \(seen.joined(separator: ", "))"
                if !scanned.problems.isEmpty {
                    answer += "; could not read \(scanned.problems.joined(separator: ", "))"
                }
                throw PowerError.unexpectedAnswer(what: what, answer: answer)
            }
            self.context = context
            self.handle = match.handle
            return match.product
        }
    }

    public func getFeatureReport(length: Int) throws -> [UInt8] {
        try lock.withLock {
            guard let handle else { throw PowerError.unexpectedAnswer(what: "USB relay board", answer: "no board open") }
            return try Self.getReport(handle, length: length, timeoutMilliseconds: transferTimeoutMilliseconds)
        }
    }

    public func setFeatureReport(_ report: [UInt8]) throws {
        try lock.withLock {
            guard let handle else { throw PowerError.unexpectedAnswer(what: "USB relay board", answer: "no board open") }
            var data = report
            // SET_REPORT (class request 0x09 to the interface), report type feature (3), report id 0.
            let sent = libusb_control_transfer(
                handle, 0x21, 0x09, 0x0300, 0, &data, UInt16(clamping: data.count), transferTimeoutMilliseconds)
            guard sent == data.count else {
                throw PowerError.unexpectedAnswer(
                    what: "USB relay board SET_REPORT", answer: sent < 0 ? Self.errorName(sent) : "\(sent) of \(data.count) bytes sent")
            }
        }
    }

    public func close() {
        lock.withLock { closeLocked() }
    }

    private func closeLocked() {
        if let handle {
            libusb_release_interface(handle, 0)
            libusb_close(handle)
        }
        if let context { libusb_exit(context) }
        handle = nil
        context = nil
    }

    // MARK: - libusb calls

    private static func makeContext(what: String) throws -> OpaquePointer {
        var context: OpaquePointer?
        let status = libusb_init(&context)
        guard status == 0, let context else {
            throw PowerError.unexpectedAnswer(what: what, answer: "libusb_init failed: \(errorName(status))")
        }
        return context
    }

    /// Enumerates relay boards; when `want` is given, the board it names stays open and claimed.
    private func scan(context: OpaquePointer, want: HIDRelayAddress?) -> (
        boards: [Board], match: (handle: OpaquePointer, product: String)?, problems: [String]
    ) {
        var boards: [Board] = []
        var problems: [String] = []
        var match: (handle: OpaquePointer, product: String)?
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(context, &list)
        guard count >= 0, let list else {
            return ([], nil, ["device list: \(Self.errorName(Int32(clamping: count)))"])
        }
        defer { libusb_free_device_list(list, 1) }
        for index in 0..<Int(count) {
            guard let device = list[index] else { continue }
            var descriptor = libusb_device_descriptor()
            guard libusb_get_device_descriptor(device, &descriptor) == 0,
                descriptor.idVendor == Self.vendorID, descriptor.idProduct == Self.productID
            else { continue }
            let bus = Int(libusb_get_bus_number(device))
            let address = Int(libusb_get_device_address(device))
            // A board wanted at one address: the others are not opened.
            if case .usb(let wantedBus, let wantedAddress) = want, (bus, address) != (wantedBus, wantedAddress) { continue }
            let label = "bus \(bus) device \(address)"
            var opened: OpaquePointer?
            let status = libusb_open(device, &opened)
            guard status == 0, let handle = opened else {
                problems.append("\(label): \(Self.errorName(status))")
                continue
            }
            do {
                let product = try Self.productString(handle, index: descriptor.iProduct)
                // VID/PID 16C0:05DF is shared by many V-USB HID devices; the product string tells relays apart.
                guard product.hasPrefix("USBRelay") else {
                    libusb_close(handle)
                    continue
                }
                libusb_set_auto_detach_kernel_driver(handle, 1)
                let claimed = libusb_claim_interface(handle, 0)
                guard claimed == 0 else { throw PowerError.unexpectedAnswer(what: label, answer: "claim: \(Self.errorName(claimed))") }
                let report = try Self.getReport(
                    handle, length: HIDRelayPowerSwitch.reportLength, timeoutMilliseconds: transferTimeoutMilliseconds)
                let board = Board(serial: HIDRelayPowerSwitch.serial(in: report), product: product, stateBits: report[7])
                boards.append(board)
                let wanted: Bool
                switch want {
                case .serial(let serial)?: wanted = board.serial == serial
                case .usb?: wanted = true
                case nil: wanted = false
                }
                if match == nil, wanted {
                    match = (handle, product)
                } else {
                    libusb_release_interface(handle, 0)
                    libusb_close(handle)
                }
            } catch {
                problems.append("\(label): \(error)")
                libusb_release_interface(handle, 0)
                libusb_close(handle)
            }
        }
        return (boards, match, problems)
    }

    private static func productString(_ handle: OpaquePointer, index: UInt8) throws -> String {
        guard index != 0 else { return "" }
        var buffer = [UInt8](repeating: 0, count: 128)
        let length = libusb_get_string_descriptor_ascii(handle, index, &buffer, Int32(buffer.count))
        guard length >= 0 else { throw PowerError.unexpectedAnswer(what: "product string", answer: errorName(length)) }
        return String(decoding: buffer.prefix(Int(length)), as: UTF8.self)
    }

    /// GET_REPORT (class request 0x01 from the interface), report type feature (3), report id 0.
    private static func getReport(_ handle: OpaquePointer, length: Int, timeoutMilliseconds: UInt32) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: length)
        let received = libusb_control_transfer(handle, 0xA1, 0x01, 0x0300, 0, &buffer, UInt16(clamping: length), timeoutMilliseconds)
        guard received >= 0 else { throw PowerError.unexpectedAnswer(what: "USB relay board GET_REPORT", answer: errorName(received)) }
        guard received == length else {
            throw PowerError.unexpectedAnswer(what: "USB relay board GET_REPORT", answer: "\(received) of \(length) bytes")
        }
        return buffer
    }

    private static func errorName(_ status: Int32) -> String {
        guard let name = libusb_error_name(status) else { return "libusb error \(status)" }
        return String(cString: name)
    }
}
