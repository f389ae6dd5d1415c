#if canImport(Glibc)
    import Glibc
#endif

/// Which processors a thread may run on, for keeping a sampling thread and its standby apart.
///
/// Linux only, through the C library's `sched_getaffinity` and `sched_setaffinity`, looked up
/// when first used (Swift's view of the C library leaves out its GNU extensions). Elsewhere, or
/// where they cannot be found, nothing is known and nothing is pinned.
enum ProcessorAffinity {
    private typealias Affinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32

    /// Room for 1024 processors, as glibc's `cpu_set_t`.
    private static let maskWords = 16

    private static let functions: (get: Affinity, set: Affinity)? = {
        #if os(Linux)
            guard let library = dlopen(nil, RTLD_NOW), let get = dlsym(library, "sched_getaffinity"),
                let set = dlsym(library, "sched_setaffinity")
            else { return nil }
            return (unsafeBitCast(get, to: Affinity.self), unsafeBitCast(set, to: Affinity.self))
        #else
            return nil
        #endif
    }()

    /// The processors the calling thread may run on, in increasing order; empty when unknown.
    static func allowedProcessors() -> [Int] {
        guard let functions else { return [] }
        var mask = [UInt64](repeating: 0, count: maskWords)
        let result = mask.withUnsafeMutableBytes { functions.get(0, $0.count, $0.baseAddress) }
        guard result == 0 else { return [] }
        var processors: [Int] = []
        for (index, word) in mask.enumerated() {
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 { processors.append(index * 64 + bit) }
        }
        return processors
    }

    /// Keeps the calling thread on `processor`; false where that cannot be done.
    @discardableResult
    static func pinCurrentThread(to processor: Int) -> Bool {
        guard let functions, processor >= 0, processor < maskWords * 64 else { return false }
        var mask = [UInt64](repeating: 0, count: maskWords)
        mask[processor / 64] = 1 << UInt64(processor % 64)
        return mask.withUnsafeMutableBytes { functions.set(0, $0.count, $0.baseAddress) } == 0
    }
}
