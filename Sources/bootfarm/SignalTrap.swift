import Dispatch
import Foundation

/// Turns SIGINT and SIGTERM into an orderly stop: the first signal runs `onSignal` (cancel the
/// boot, which powers the board off); a second one exits at once (children die with us, see
/// `ChildProcess`).
final class SignalTrap: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var count = 0

    init(
        message: String = "bootfarm: stopping: powering the board off (press Ctrl-C again to quit at once)",
        onSignal: @escaping @Sendable () -> Void
    ) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                let seen = lock.withLock {
                    count += 1
                    return count
                }
                if seen == 1 {
                    printError(message)
                    onSignal()
                } else {
                    exit(130)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Restores default signal handling.
    func disarm() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
