/// Console output recorded from an arm64 board (QEMU's `virt` machine with Debian's U-Boot
/// 2023.01, Linux 6.1 and a busybox initramfs), replayed by scripted boards. Every board shares
/// these bytes and keeps only its offset into them. Lines end in `\r\n`, as on a serial console.
enum RecordedBootLog {
    /// Which recorded kernel run a board replays.
    enum Run: Sendable {
        /// The kernel boots to busybox's `/ # ` prompt.
        case good
        /// init exits and the kernel panics.
        case panic

        /// The run's bytes, from the kernel's first line to its last.
        var bytes: [UInt8] {
            switch self {
            case .good: RecordedBootLog.goodRun
            case .panic: RecordedBootLog.panicRun
            }
        }
    }

    /// What U-Boot prints from power-on up to its autoboot countdown, which starts at 2 s.
    static let bootloaderBanner = Array("\r\n\r\n".utf8) + serial(bannerText) + Array("Hit any key to stop autoboot:  2 ".utf8)

    /// What `booti`, `bootz` or `bootm` print before the kernel starts, with a ramdisk.
    static let deviceTreeHandOffWithRamdisk = serial(handOffText(ramdisk: true))
    /// What `booti`, `bootz` or `bootm` print before the kernel starts, without a ramdisk.
    static let deviceTreeHandOffWithoutRamdisk = serial(handOffText(ramdisk: false))
    /// What `zboot` prints before the kernel starts.
    static let plainHandOff = serial("\nStarting kernel ...\n")

    /// The good run: kernel, init, busybox's banner, ending at the shell prompt `/ # `.
    static let goodRun = serial(kernelText) + serial(userspaceText) + Array("/ # ".utf8)
    /// The panic run: the same kernel, then init exits and the kernel panics.
    static let panicRun = serial(kernelText) + serial(panicText)

    /// Where a hanging kernel stops printing: after the line that ends past 60 % of the kernel's
    /// output, well before init starts.
    static let hangOffset = lineEnd(after: serial(kernelText).count * 6 / 10)
    /// Where a board whose console adapter goes away stops: after the line that ends past 35 %.
    static let disconnectOffset = lineEnd(after: serial(kernelText).count * 35 / 100)

    /// The first offset past a line end at or after `offset` in the good run.
    private static func lineEnd(after offset: Int) -> Int {
        var index = offset
        while index < goodRun.count && goodRun[index] != UInt8(ascii: "\n") { index += 1 }
        return min(index + 1, goodRun.count)
    }

    /// `text` as a serial console carries it: every line, the last included, ended by `\r\n`.
    static func serial(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + text.utf8.count / 32)
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\r")) }
            bytes.append(byte)
        }
        return bytes + [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
    }

    private static func handOffText(ramdisk: Bool) -> String {
        var lines = [
            "## Flattened Device Tree blob at 5edb6db0", "   Booting using the fdt blob at 0x5edb6db0", "Working FDT set to 5edb6db0",
        ]
        if ramdisk { lines.append("   Loading Ramdisk to 5dcbe000, end 5ddaee43 ... OK") }
        lines += [
            "   Loading Device Tree to 000000005dbbb000, end 000000005dcbdfff ... OK", "Working FDT set to 5dbbb000", "",
            "Starting kernel ...", "",
        ]
        return lines.joined(separator: "\n")
    }

    /// U-Boot's banner, from its version line to the network line.
    private static let bannerText = #"""
        U-Boot 2023.01+dfsg-2+deb12u3 (Jun 22 2026 - 08:38:07 +0000)

        DRAM:  512 MiB
        Core:  47 devices, 13 uclasses, devicetree: board
        Flash: 64 MiB
        Loading Environment from Flash... *** Warning - bad CRC, using default environment

        In:    pl011@9000000
        Out:   pl011@9000000
        Err:   pl011@9000000
        Net:   eth0: virtio-net#32
        """#

    /// The kernel, from its first line to the line before it starts init.
    private static let kernelText = #"""
        [    0.000000] Booting Linux on physical CPU 0x0000000000 [0x411fd070]
        [    0.000000] Linux version 6.1.0-57-arm64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP Debian 6.1.192-3 (2026-11-26)
        [    0.000000] random: crng init done
        [    0.000000] Machine model: linux,dummy-virt
        [    0.000000] efi: UEFI not found.
        [    0.000000] NUMA: No NUMA configuration found
        [    0.000000] NUMA: Faking a node at [mem 0x0000000040000000-0x000000005fffffff]
        [    0.000000] NUMA: NODE_DATA [mem 0x5fef0380-0x5fef2fff]
        [    0.000000] Zone ranges:
        [    0.000000]   DMA      [mem 0x0000000040000000-0x000000005fffffff]
        [    0.000000]   DMA32    empty
        [    0.000000]   Normal   empty
        [    0.000000] Movable zone start for each node
        [    0.000000] Early memory node ranges
        [    0.000000]   node   0: [mem 0x0000000040000000-0x000000005fffffff]
        [    0.000000] Initmem setup node 0 [mem 0x0000000040000000-0x000000005fffffff]
        [    0.000000] cma: Reserved 64 MiB at 0x0000000059a00000
        [    0.000000] psci: probing for conduit method from DT.
        [    0.000000] psci: PSCIv1.1 detected in firmware.
        [    0.000000] psci: Using standard PSCI v0.2 function IDs
        [    0.000000] psci: Trusted OS migration not required
        [    0.000000] psci: SMC Calling Convention v1.0
        [    0.000000] percpu: Embedded 31 pages/cpu s87272 r8192 d31512 u126976
        [    0.000000] Detected PIPT I-cache on CPU0
        [    0.000000] CPU features: detected: Spectre-v2
        [    0.000000] CPU features: detected: Spectre-v3a
        [    0.000000] CPU features: detected: Spectre-v4
        [    0.000000] CPU features: detected: Spectre-BHB
        [    0.000000] CPU features: kernel page table isolation forced ON by KASLR
        [    0.000000] CPU features: detected: Kernel page table isolation (KPTI)
        [    0.000000] CPU features: detected: ARM erratum 834220
        [    0.000000] CPU features: detected: ARM erratum 1742098
        [    0.000000] CPU features: detected: ARM erratum 832075
        [    0.000000] CPU features: detected: ARM errata 1165522, 1319367, or 1530923
        [    0.000000] alternatives: applying boot alternatives
        [    0.000000] Fallback order for Node 0: 0
        [    0.000000] Built 1 zonelists, mobility grouping on.  Total pages: 129024
        [    0.000000] Policy zone: DMA
        [    0.000000] Kernel command line: console=ttyAMA0,115200
        [    0.000000] Dentry cache hash table entries: 65536 (order: 7, 524288 bytes, linear)
        [    0.000000] Inode-cache hash table entries: 32768 (order: 6, 262144 bytes, linear)
        [    0.000000] mem auto-init: stack:all(zero), heap alloc:on, heap free:off
        [    0.000000] Memory: 98324K/524288K available (13248K kernel code, 2806K rwdata, 9524K rodata, 6464K init, 627K bss, 44040K reserved, 65536K cma-reserved)
        [    0.000000] SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=1, Nodes=1
        [    0.000000] ftrace: allocating 44279 entries in 173 pages
        [    0.000000] ftrace: allocated 173 pages with 5 groups
        [    0.000000] trace event string verifier disabled
        [    0.000000] rcu: Hierarchical RCU implementation.
        [    0.000000] rcu: 	RCU restricting CPUs from NR_CPUS=256 to nr_cpu_ids=1.
        [    0.000000] 	Rude variant of Tasks RCU enabled.
        [    0.000000] 	Tracing variant of Tasks RCU enabled.
        [    0.000000] rcu: RCU calculated value of scheduler-enlistment delay is 25 jiffies.
        [    0.000000] rcu: Adjusting geometry for rcu_fanout_leaf=16, nr_cpu_ids=1
        [    0.000000] NR_IRQS: 64, nr_irqs: 64, preallocated irqs: 0
        [    0.000000] Root IRQ handler: gic_handle_irq
        [    0.000000] GICv2m: range[mem 0x08020000-0x08020fff], SPI[80:143]
        [    0.000000] rcu: srcu_init: Setting srcu_struct sizes based on contention.
        [    0.000000] arch_timer: cp15 timer(s) running at 62.50MHz (virt).
        [    0.000000] clocksource: arch_sys_counter: mask: 0x1ffffffffffffff max_cycles: 0x1cd42e208c, max_idle_ns: 881590405314 ns
        [    0.000075] sched_clock: 57 bits at 63MHz, resolution 16ns, wraps every 4398046511096ns
        [    0.007602] Console: colour dummy device 80x25
        [    0.009668] Calibrating delay loop (skipped), value calculated using timer frequency.. 125.00 BogoMIPS (lpj=250000)
        [    0.009854] pid_max: default: 32768 minimum: 301
        [    0.010812] LSM: Security Framework initializing
        [    0.011682] landlock: Up and running.
        [    0.011704] Yama: disabled by default; enable with sysctl kernel.yama.*
        [    0.014545] AppArmor: AppArmor initialized
        [    0.014608] TOMOYO Linux initialized
        [    0.015202] LSM support for eBPF active
        [    0.016893] Mount-cache hash table entries: 1024 (order: 1, 8192 bytes, linear)
        [    0.016928] Mountpoint-cache hash table entries: 1024 (order: 1, 8192 bytes, linear)
        [    0.062226] cblist_init_generic: Setting adjustable number of callback queues.
        [    0.062265] cblist_init_generic: Setting shift to 0 and lim to 1 rcu_task_cpu_ids=1.
        [    0.062557] cblist_init_generic: Setting adjustable number of callback queues.
        [    0.062568] cblist_init_generic: Setting shift to 0 and lim to 1 rcu_task_cpu_ids=1.
        [    0.069800] rcu: Hierarchical SRCU implementation.
        [    0.069841] rcu: 	Max phase no-delay instances is 1000.
        [    0.075527] EFI services will not be available.
        [    0.077725] smp: Bringing up secondary CPUs ...
        [    0.077825] smp: Brought up 1 node, 1 CPU
        [    0.077848] SMP: Total of 1 processors activated.
        [    0.077924] CPU features: detected: 32-bit EL0 Support
        [    0.077939] CPU features: detected: 32-bit EL1 Support
        [    0.077992] CPU features: detected: CRC32 instructions
        [    0.079768] CPU: All CPU(s) started at EL1
        [    0.079935] alternatives: applying system-wide alternatives
        [    0.095237] node 0 deferred pages initialised in 4ms
        [    0.118170] devtmpfs: initialized
        [    0.130591] Registered cp15_barrier emulation handler
        [    0.130665] Registered setend emulation handler
        [    0.131924] clocksource: jiffies: mask: 0xffffffff max_cycles: 0xffffffff, max_idle_ns: 7645041785100000 ns
        [    0.132103] futex hash table entries: 256 (order: 2, 16384 bytes, linear)
        [    0.137488] pinctrl core: initialized pinctrl subsystem
        [    0.151713] DMI not present or invalid.
        [    0.159212] NET: Registered PF_NETLINK/PF_ROUTE protocol family
        [    0.177018] DMA: preallocated 128 KiB GFP_KERNEL pool for atomic allocations
        [    0.177578] DMA: preallocated 128 KiB GFP_KERNEL|GFP_DMA pool for atomic allocations
        [    0.177868] DMA: preallocated 128 KiB GFP_KERNEL|GFP_DMA32 pool for atomic allocations
        [    0.178123] audit: initializing netlink subsys (disabled)
        [    0.183359] audit: type=2000 audit(0.144:1): state=initialized audit_enabled=0 res=1
        [    0.185126] thermal_sys: Registered thermal governor 'fair_share'
        [    0.185162] thermal_sys: Registered thermal governor 'bang_bang'
        [    0.185182] thermal_sys: Registered thermal governor 'step_wise'
        [    0.185187] thermal_sys: Registered thermal governor 'user_space'
        [    0.185191] thermal_sys: Registered thermal governor 'power_allocator'
        [    0.185546] cpuidle: using governor ladder
        [    0.185679] cpuidle: using governor menu
        [    0.186511] hw-breakpoint: found 6 breakpoint and 4 watchpoint registers.
        [    0.186932] ASID allocator initialised with 32768 entries
        [    0.188840] Serial: AMBA PL011 UART driver
        [    0.218836] 9000000.pl011: ttyAMA0 at MMIO 0x9000000 (irq = 13, base_baud = 0) is a PL011 rev1
        [    0.228804] printk: console [ttyAMA0] enabled
        [    0.238493] KASLR enabled
        [    0.268135] HugeTLB: registered 1.00 GiB page size, pre-allocated 0 pages
        [    0.268388] HugeTLB: 0 KiB vmemmap can be freed for a 1.00 GiB page
        [    0.268588] HugeTLB: registered 32.0 MiB page size, pre-allocated 0 pages
        [    0.268747] HugeTLB: 0 KiB vmemmap can be freed for a 32.0 MiB page
        [    0.268880] HugeTLB: registered 2.00 MiB page size, pre-allocated 0 pages
        [    0.269019] HugeTLB: 0 KiB vmemmap can be freed for a 2.00 MiB page
        [    0.269164] HugeTLB: registered 64.0 KiB page size, pre-allocated 0 pages
        [    0.269291] HugeTLB: 0 KiB vmemmap can be freed for a 64.0 KiB page
        [    0.306324] ACPI: Interpreter disabled.
        [    0.308305] iommu: Default domain type: Translated
        [    0.308423] iommu: DMA domain TLB invalidation policy: strict mode
        [    0.309410] pps_core: LinuxPPS API ver. 1 registered
        [    0.309520] pps_core: Software ver. 5.3.6 - Copyright 2005-2007 Rodolfo Giometti <giometti@linux.it>
        [    0.309814] PTP clock support registered
        [    0.310110] EDAC MC: Ver: 3.0.0
        [    0.325435] NetLabel: Initializing
        [    0.325579] NetLabel:  domain hash size = 128
        [    0.325699] NetLabel:  protocols = UNLABELED CIPSOv4 CALIPSO
        [    0.326668] NetLabel:  unlabeled traffic allowed by default
        [    0.327414] vgaarb: loaded
        [    0.330685] clocksource: Switched to clocksource arch_sys_counter
        [    0.419804] VFS: Disk quotas dquot_6.6.0
        [    0.420095] VFS: Dquot-cache hash table entries: 512 (order 0, 4096 bytes)
        [    0.433118] AppArmor: AppArmor Filesystem Enabled
        [    0.433592] pnp: PnP ACPI: disabled
        [    0.450135] NET: Registered PF_INET protocol family
        [    0.451545] IP idents hash table entries: 8192 (order: 4, 65536 bytes, linear)
        [    0.458137] tcp_listen_portaddr_hash hash table entries: 256 (order: 0, 4096 bytes, linear)
        [    0.458537] Table-perturb hash table entries: 65536 (order: 6, 262144 bytes, linear)
        [    0.458863] TCP established hash table entries: 4096 (order: 3, 32768 bytes, linear)
        [    0.459212] TCP bind hash table entries: 4096 (order: 5, 131072 bytes, linear)
        [    0.459473] TCP: Hash tables configured (established 4096 bind 4096)
        [    0.461064] MPTCP token hash table entries: 512 (order: 2, 12288 bytes, linear)
        [    0.461437] UDP hash table entries: 256 (order: 1, 8192 bytes, linear)
        [    0.461744] UDP-Lite hash table entries: 256 (order: 1, 8192 bytes, linear)
        [    0.463658] NET: Registered PF_UNIX/PF_LOCAL protocol family
        [    0.464130] NET: Registered PF_XDP protocol family
        [    0.464388] PCI: CLS 0 bytes, default 64
        [    0.469204] Trying to unpack rootfs image as initramfs...
        [    0.475187] hw perfevents: enabled with armv8_pmuv3 PMU driver, 7 counters available
        [    0.476358] kvm [1]: HYP mode not available
        [    0.495927] Initialise system trusted keyrings
        [    0.504193] Key type blacklist registered
        [    0.505234] workingset: timestamp_bits=42 max_order=17 bucket_order=0
        [    0.529129] zbud: loaded
        [    0.537995] integrity: Platform Keyring initialized
        [    0.538369] integrity: Machine keyring initialized
        [    0.538495] Key type asymmetric registered
        [    0.538626] Asymmetric key parser 'x509' registered
        [    0.556086] Freeing initrd memory: 960K
        [    0.587636] alg: self-tests for CTR-KDF (hmac(sha256)) passed
        [    0.588127] Block layer SCSI generic (bsg) driver version 0.4 loaded (major 247)
        [    0.588999] io scheduler mq-deadline registered
        [    0.605096] shpchp: Standard Hot Plug PCI Controller Driver version: 0.4
        [    0.606336] pci-host-generic 4010000000.pcie: host bridge /pcie@10000000 ranges:
        [    0.607608] pci-host-generic 4010000000.pcie:       IO 0x003eff0000..0x003effffff -> 0x0000000000
        [    0.608165] pci-host-generic 4010000000.pcie:      MEM 0x0010000000..0x003efeffff -> 0x0010000000
        [    0.608379] pci-host-generic 4010000000.pcie:      MEM 0x8000000000..0xffffffffff -> 0x8000000000
        [    0.608970] pci-host-generic 4010000000.pcie: Memory resource size exceeds max for 32 bits
        [    0.609579] pci-host-generic 4010000000.pcie: ECAM at [mem 0x4010000000-0x401fffffff] for [bus 00-ff]
        [    0.611370] pci-host-generic 4010000000.pcie: PCI host bridge to bus 0000:00
        [    0.611799] pci_bus 0000:00: root bus resource [bus 00-ff]
        [    0.611976] pci_bus 0000:00: root bus resource [io  0x0000-0xffff]
        [    0.612118] pci_bus 0000:00: root bus resource [mem 0x10000000-0x3efeffff]
        [    0.612219] pci_bus 0000:00: root bus resource [mem 0x8000000000-0xffffffffff]
        [    0.613796] pci 0000:00:00.0: [1b36:0008] type 00 class 0x060000
        [    0.617784] pci 0000:00:01.0: [1af4:1000] type 00 class 0x020000
        [    0.619168] pci 0000:00:01.0: BAR 0 [io  0x1000-0x101f]
        [    0.620096] pci 0000:00:01.0: BAR 1 [mem 0x10000000-0x10000fff]
        [    0.622429] pci 0000:00:01.0: BAR 4 [mem 0x10004000-0x10007fff 64bit pref]
        [    0.624121] pci 0000:00:01.0: ROM [mem 0x10040000-0x1007ffff pref]
        [    0.628625] pci 0000:00:01.0: ROM [mem 0x10000000-0x1003ffff pref]: assigned
        [    0.629223] pci 0000:00:01.0: BAR 4 [mem 0x8000000000-0x8000003fff 64bit pref]: assigned
        [    0.631461] pci 0000:00:01.0: BAR 1 [mem 0x10040000-0x10040fff]: assigned
        [    0.632210] pci 0000:00:01.0: BAR 0 [io  0x1000-0x101f]: assigned
        [    0.661868] Serial: 8250/16550 driver, 4 ports, IRQ sharing enabled
        [    0.669366] Serial: AMBA driver
        [    0.669630] SuperH (H)SCI(F) driver initialized
        [    0.671334] msm_serial: driver initialized
        [    0.689634] mousedev: PS/2 mouse device common for all mice
        [    0.700911] rtc-pl031 9010000.pl031: registered as rtc0
        [    0.702021] rtc-pl031 9010000.pl031: setting system clock to 2026-11-29T19:43:24 UTC (1795981404)
        [    0.710515] ledtrig-cpu: registered to indicate activity on CPUs
        [    0.800672] NET: Registered PF_INET6 protocol family
        [    0.814971] Segment Routing with IPv6
        [    0.815302] In-situ OAM (IOAM) with IPv6
        [    0.815872] mip6: Mobile IPv6
        [    0.816224] NET: Registered PF_PACKET protocol family
        [    0.816825] mpls_gso: MPLS GSO support
        [    0.819640] registered taskstats version 1
        [    0.820036] Loading compiled-in X.509 certificates
        [    0.892284] Loaded X.509 cert 'Build time autogenerated kernel key: 8c5b6340b80d57d853d764471fb235388c687292'
        [    0.897643] zswap: loaded using pool lzo/zbud
        [    0.899442] Key type .fscrypt registered
        [    0.899617] Key type fscrypt-provisioning registered
        [    0.910410] Key type encrypted registered
        [    0.910843] AppArmor: AppArmor sha1 policy hashing enabled
        [    0.911531] ima: No TPM chip found, activating TPM-bypass!
        [    0.911756] ima: Allocated hash algorithm: sha256
        [    0.913402] ima: No architecture policies found
        [    0.913969] evm: Initialising EVM extended attributes:
        [    0.914077] evm: security.selinux
        [    0.914153] evm: security.SMACK64 (disabled)
        [    0.914227] evm: security.SMACK64EXEC (disabled)
        [    0.914297] evm: security.SMACK64TRANSMUTE (disabled)
        [    0.914364] evm: security.SMACK64MMAP (disabled)
        [    0.914423] evm: security.apparmor
        [    0.914467] evm: security.ima
        [    0.914508] evm: security.capability
        [    0.914622] evm: HMAC attrs: 0x1
        [    1.201208] clk: Disabling unused clocks
        [    1.214275] uart-pl011 9000000.pl011: no DMA platform data
        [    1.299111] Freeing unused kernel memory: 6464K
        [    1.312562] Checked W+X mappings: passed, no W+X pages found
        """#

    /// init starting, busybox's banner, and the empty line before the prompt.
    private static let userspaceText = #"""
        [    1.312986] Run /init as init process
        bootfarm: userspace up


        BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) built-in shell (ash)
        Enter 'help' for a list of built-in commands.

        """#

    /// init exiting and the kernel panic that follows, to its end marker.
    private static let panicText = #"""
        [    1.372099] Run /init as init process
        bootfarm: init exiting
        [    1.436415] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100
        [    1.436953] CPU: 0 PID: 1 Comm: init Not tainted 6.1.0-57-arm64 #1  Debian 6.1.192-3
        [    1.437269] Hardware name: linux,dummy-virt (DT)
        [    1.437580] Call trace:
        [    1.437926]  dump_backtrace+0xe4/0x140
        [    1.438184]  show_stack+0x20/0x30
        [    1.438272]  dump_stack_lvl+0x64/0x80
        [    1.438356]  dump_stack+0x18/0x34
        [    1.438480]  panic+0x184/0x364
        [    1.438535]  do_exit+0x9ec/0x9f0
        [    1.438590]  do_group_exit+0x3c/0xa0
        [    1.438655]  __wake_up_parent+0x0/0x40
        [    1.438724]  invoke_syscall+0x68/0xe0
        [    1.438784]  el0_svc_common.constprop.0+0x4c/0xf4
        [    1.438853]  do_el0_svc+0x2c/0x9c
        [    1.438904]  el0_svc+0x34/0xdc
        [    1.438958]  el0t_64_sync_handler+0xf4/0x120
        [    1.439035]  el0t_64_sync+0x18c/0x190
        [    1.439616] Kernel Offset: 0x439539200000 from 0xffff800008000000
        [    1.439723] PHYS_OFFSET: 0xffffa29800000000
        [    1.439851] CPU features: 0x022000,2033c080,0000421b
        [    1.440088] Memory Limit: none
        [    1.440420] ---[ end Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100 ]---
        """#
}
