#!/usr/bin/env python3
"""Writes a synthetic serial-console boot log for the console benchmark.

    console_gen.py SIZE_MB OUT [--seed N]

The log is what a farm board's serial console records over many boot cycles: a U-Boot
banner, kernel messages with "[    1.234567] " timestamps from many subsystems, systemd-style
status lines with ANSI colours, getty login prompts (the prompt has no newline; whatever comes
next continues the same line), and now and then a kernel WARNING block, an Oops, a BUG and,
rarely, a panic followed by a reboot. Lines end in CRLF; a few line-noise bytes (invalid UTF-8)
appear, as on a real UART.

Output is deterministic for a given seed and size. SIZE_MB is in units of 10^6 bytes; the file
ends at the first line boundary past that size, with a final login prompt (no newline).

On stdout, one JSON object: the byte and line counts and, for each benchmark pattern, how many
times it occurs, counted the way `expect([patterns..., EOF])` in a loop counts them (earliest
match first, non-overlapping). Every occurrence is placed deliberately; filler text never
contains a pattern.
"""

import argparse
import json
import random
import re
import sys

PATTERNS = [
    r"WARNING: CPU: \d+ PID: \d+",
    "Kernel panic - not syncing",
    "Oops",
    "BUG: ",
    "login: ",
]
WARNING, PANIC, OOPS, BUG, LOGIN = range(len(PATTERNS))

# Mean spacing of events, in lines.
WARNING_EVERY = 2000
OOPS_EVERY = 5000
BUG_EVERY = 5000
LOGIN_EVERY = 3000
PANIC_EVERY = 70000
NOISE_EVERY = 9000

SUBSYSTEMS = [
    "usb 1-1", "usb 2-1.3", "mmc0", "mmc1", "eth0", "brcmfmac", "dwc2 3f980000.usb",
    "xhci-hcd xhci-hcd.0.auto", "EXT4-fs (mmcblk0p2)", "systemd[1]", "random", "clk",
    "cpufreq", "thermal thermal_zone0", "i2c i2c-1", "spi-bcm2835 3f204000.spi", "vc4-drm gpu",
    "sdhci-iproc 3f300000.mmc", "bcm2835-dma 3f007000.dma", "NET", "TCP", "IPv6", "audit",
    "input", "hid-generic 0003:046D:C52B.0001", "snd-soc-dummy", "rtc-pcf8523 1-0068",
    "fec 30be0000.ethernet eth0", "imx-sdma 30bd0000.dma-controller", "nvme nvme0", "ata1",
    "scsi host0", "sd 0:0:0:0", "pci 0000:00:00.0", "PCI", "ACPI", "smp", "Freeing",
]

MESSAGES = [
    "new high-speed USB device number {n} using dwc2",
    "New USB device found, idVendor={h4}, idProduct={h4}, bcdDevice= {n}.{n2}",
    "Product: USB2.0 Hub",
    "new ultra high speed DDR50 SDIO card at address {h4}",
    "registered new interface driver {drv}",
    "link becomes ready",
    "Link is Up - 1Gbps/Full - flow control rx/tx",
    "mounted filesystem with ordered data mode. Quota mode: none.",
    "crng init done",
    "clock {drv} rate {n}000000 Hz",
    "CPU{c}: shutdown",
    "cpu{c}: frequency changed to {n}00 MHz",
    "trip point {c} temperature {n}000",
    "probe of {drv} failed with error -{n2}",
    "deferred probe pending",
    "DMA channel {c} allocated for {drv}",
    "bound {drv} (ops {drv}_ops)",
    "Initialized vc4 0.0.0 20140616 for gpu on minor {c}",
    "Firmware: BCM4345/6 wl0: Oct 28 2019 version 7.45.202 FWID 01-{h8}",
    "using random self ethernet address",
    "Registered protocol family {n2}",
    "Segment Routing with IPv6",
    "type=1130 audit({n}.{n3}:{n2}): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='unit=systemd-udevd'",
    "input: Logitech USB Receiver as /devices/platform/soc/3f980000.usb/usb1/1-1/1-1.{c}/input/input{n2}",
    "attached scsi generic sg{c} type 0",
    "[sda] {n}000 512-byte logical blocks: ({n2}.{n} GB/{n2}.{n} GiB)",
    "[sda] Write Protect is off",
    "reg 0x10: [mem 0x{h8}-0x{h8} 64bit]",
    "bridge window [mem 0x{h8}-0x{h8}]: assigned",
    "Brought up {c} nodes, {c} CPUs",
    "unused kernel memory: {n}K",
    "mmcblk0: p1 p2",
    "SError Interrupt on CPU{c}, code 0x{h8} -- SError",
    "hw csum failure",
    "rx timeout, resetting",
    "watchdog: initialized (timeout={n2}s)",
    "ath10k_pci 0000:01:00.0: qca988x hw2.0 target 0x{h8} chip_id 0x{h8}",
    "nf_conntrack: default automatic helper assignment has been turned off for security reasons",
    "Adding {n}k swap on /dev/zram0.  Priority:100 extents:1 across:{n}k SS",
]

DRIVERS = ["hub", "usbhid", "uas", "usb-storage", "r8152", "cdc_ether", "ftdi_sio", "pl2303",
           "brcmfmac", "bcm2835-codec", "v3d", "dw_hdmi", "stmmac", "i2c_bcm2835", "lan78xx"]

WARN_SITES = [
    "drivers/gpu/drm/drm_atomic_helper.c:1682 drm_atomic_helper_wait_for_vblanks+0x1c4/0x1d0",
    "drivers/base/dd.c:568 really_probe+0x2c8/0x3a0",
    "drivers/usb/dwc2/hcd_queue.c:1450 dwc2_hcd_qh_unlink+0x58/0x70",
    "drivers/net/wireless/broadcom/brcm80211/brcmfmac/core.c:1105 brcmf_netdev_wait_pend8021x+0xd8/0xf0",
    "drivers/clk/clk.c:1054 clk_core_disable+0xa4/0xb0",
    "drivers/mmc/host/sdhci.c:1645 sdhci_send_command+0x2e8/0x3c0",
    "drivers/regulator/core.c:2396 _regulator_disable+0x1d4/0x1e0",
    "drivers/dma/bcm2835-dma.c:701 bcm2835_dma_terminate_all+0x120/0x130",
]

BUG_LINES = [
    "BUG: scheduling while atomic: kworker/{c}:1/{n}/0x00000002",
    "BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580",
    "BUG: spinlock bad magic on CPU#{c}, swapper/{c}/0",
    "BUG: workqueue lockup - pool cpus={c} node=0 flags=0x0 nice=0 stuck for {n2}s!",
    "BUG: KASAN: slab-out-of-bounds in dwc2_hc_start_transfer+0x1b4/0x5e0",
    "BUG: kernel NULL pointer dereference, address: 0000000000000008",
]

PANIC_REASONS = [
    "Attempted to kill init! exitcode=0x0000000b",
    "VFS: Unable to mount root fs on unknown-block(179,2)",
    "Fatal exception in interrupt",
    "Oops: Fatal exception",  # an Oops inside the panic line: counted as both
    "hung_task: blocked tasks",
]

SYSTEMD_UNITS = [
    "Mounted Kernel Debug File System", "Started Journal Service", "Reached target Local File Systems",
    "Started Network Time Synchronization", "Started udev Kernel Device Manager", "Reached target Network",
    "Started OpenSSH Daemon", "Started Serial Getty on ttyS0", "Reached target Multi-User System",
    "Finished Apply Kernel Variables", "Started D-Bus System Message Bus", "Started Load Kernel Modules",
]

PLACEHOLDER = re.compile(r"\{(\w+)\}")

HOSTS = ["rpi4-07", "imx8mm-evk-2", "bbb-03", "rock5b-1", "qemu-arm64"]


class Writer:
    def __init__(self, out, limit):
        self.out = out
        self.limit = limit
        self.size = 0
        self.lines = 0
        self.pending = []
        self.pending_size = 0
        self.counts = [0] * len(PATTERNS)

    def raw(self, data):
        self.pending.append(data)
        self.pending_size += len(data)
        if self.pending_size >= 1 << 20:
            self.flush()

    def line(self, text, **found):
        data = text.encode("latin-1") if isinstance(text, str) else text
        self.raw(data + b"\r\n")
        self.lines += 1
        self.size += len(data) + 2
        for name, count in found.items():
            self.counts[globals()[name.upper()]] += count

    def flush(self):
        self.out.write(b"".join(self.pending))
        self.pending = []
        self.pending_size = 0

    @property
    def full(self):
        return self.size >= self.limit


class Board:
    def __init__(self, rng, writer):
        self.rng = rng
        self.w = writer
        self.clock = 0.0
        self.host = rng.choice(HOSTS)
        self.schedule()

    def next_in(self, mean):
        # Spacing jittered to +-50% of the mean, so events drift across chunk boundaries.
        return self.w.lines + int(mean * self.rng.uniform(0.5, 1.5))

    def schedule(self):
        self.at_warning = self.next_in(WARNING_EVERY)
        self.at_oops = self.next_in(OOPS_EVERY)
        self.at_bug = self.next_in(BUG_EVERY)
        self.at_login = self.next_in(LOGIN_EVERY)
        self.at_panic = self.next_in(PANIC_EVERY)
        self.at_noise = self.next_in(NOISE_EVERY)

    def fill(self, template):
        # Each placeholder gets a fresh value, even when a name repeats in the template.
        r = self.rng
        values = {
            "n": lambda: str(r.randint(1, 9999)), "n2": lambda: str(r.randint(1, 99)),
            "n3": lambda: str(r.randint(100, 999)), "c": lambda: str(r.randint(0, 3)),
            "h4": lambda: "%04x" % r.getrandbits(16), "h8": lambda: "%08x" % r.getrandbits(32),
            "drv": lambda: r.choice(DRIVERS),
        }
        return PLACEHOLDER.sub(lambda m: values[m.group(1)](), template)

    def stamp(self):
        self.clock += self.rng.expovariate(1 / 0.004)
        seconds = int(self.clock)
        return "[%5d.%06d] " % (seconds, int((self.clock - seconds) * 1e6))

    def klog(self, text, **found):
        self.w.line(self.stamp() + text, **found)

    def uboot(self):
        r, w = self.rng, self.w
        w.line("")
        w.line("U-Boot SPL 2023.04-%s (Oct 02 2023 - 11:42:07 +0000)" % "%07x" % r.getrandbits(28))
        w.line("DRAM:  %d MiB" % r.choice([1024, 2048, 4096]))
        w.line("Trying to boot from MMC1")
        w.line("")
        w.line("U-Boot 2023.04 (Oct 02 2023 - 11:42:07 +0000)")
        w.line("")
        w.line("Model: %s" % r.choice(["Raspberry Pi 4 Model B Rev 1.4", "NXP i.MX8MMini EVK board",
                                        "TI AM335x BeagleBone Black", "Radxa ROCK 5B"]))
        w.line("MMC:   mmc@7e300000: 3, emmc2@7e340000: 0")
        w.line("Loading Environment from FAT... OK")
        w.line("In:    serial")
        w.line("Out:   serial")
        w.line("Err:   serial")
        w.line("Net:   eth0: ethernet@7d580000")
        w.line("Hit any key to stop autoboot:  2 \x08\x08\x08 1 \x08\x08\x08 0 ")
        w.line("switch to partitions #0, OK")
        w.line("mmc0 is current device")
        w.line("Scanning mmc 0:1...")
        w.line("Found U-Boot script /boot.scr")
        w.line("%d bytes read in %d ms (%d.%d MiB/s)" % (r.randint(20000000, 30000000), r.randint(900, 1300),
                                                     r.randint(15, 25), r.randint(0, 9)))
        w.line("## Flattened Device Tree blob at 2eff2e00")
        w.line("   Booting using the fdt blob at 0x2eff2e00")
        w.line("   Loading Device Tree to 000000003af3f000, end 000000003af4f7ff ... OK")
        w.line("")
        w.line("Starting kernel ...")
        w.line("")

    def kernel_start(self):
        self.clock = 0.0
        self.klog("Booting Linux on physical CPU 0x0000000000 [0x410fd083]")
        self.klog("Linux version 6.1.55-v8+ (builder@farm) (aarch64-linux-gnu-gcc (GCC) 12.2.0, "
                  "GNU ld (GNU Binutils) 2.40) #1 SMP PREEMPT Mon Oct  2 11:40:01 UTC 2023")
        self.klog("Machine model: Raspberry Pi 4 Model B Rev 1.4")
        self.klog("earlycon: pl11 at MMIO32 0x00000000fe201000 (options '')")
        self.klog("printk: bootconsole [pl11] enabled")
        self.klog("Kernel command line: console=ttyS0,115200 root=/dev/mmcblk0p2 rootwait rw")

    def userspace_start(self):
        for unit in self.rng.sample(SYSTEMD_UNITS, 8):
            self.w.line("[\x1b[0;32m  OK  \x1b[0m] %s." % unit)
        self.w.line("")
        self.w.line("Welcome to Buildroot 2023.02 (ttyS0)")
        self.w.line("")

    def login_prompt(self):
        # getty prints the prompt without a newline; the next console output continues the line.
        text = "%s login: " % self.host
        self.w.raw(text.encode())
        self.w.size += len(text)
        self.w.counts[LOGIN] += 1

    def warning_block(self):
        r = self.rng
        cpu, pid = r.randint(0, 3), r.choice([1, r.randint(2, 32767)])
        self.klog("------------[ cut here ]------------")
        self.klog("WARNING: CPU: %d PID: %d at %s" % (cpu, pid, r.choice(WARN_SITES)), warning=1)
        self.klog("Modules linked in: brcmfmac brcmutil vc4 cec drm_kms_helper snd_soc_core v3d gpu_sched")
        self.klog("CPU: %d PID: %d Comm: kworker/%d:2 Tainted: G        W          6.1.55-v8+ #1" % (cpu, pid, cpu))
        self.klog("Hardware name: Raspberry Pi 4 Model B Rev 1.4 (DT)")
        self.klog("pstate: 60000005 (nZCv daif -PAN -UAO -TCO -DIT -SSBS BTYPE=--)")
        self.klog("pc : really_probe+0x2c8/0x3a0")
        self.klog("lr : really_probe+0x2c8/0x3a0")
        self.klog("sp : ffffffc00a0dbb90")
        self.klog("Call trace:")
        for frame in r.sample(["really_probe+0x2c8/0x3a0", "__driver_probe_device+0x84/0x140",
                               "driver_probe_device+0x44/0x120", "__device_attach_driver+0xc4/0x160",
                               "bus_for_each_drv+0x80/0xe0", "process_one_work+0x1f4/0x490",
                               "worker_thread+0x284/0x440", "kthread+0x108/0x114",
                               "ret_from_fork+0x10/0x20"], 6):
            self.klog(" " + frame)
        self.klog("---[ end trace %016x ]---" % r.getrandbits(64))

    def oops_block(self):
        r = self.rng
        self.klog("Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008")
        self.klog("Mem abort info:")
        self.klog("  ESR = 0x0000000096000004")
        self.klog("  EC = 0x25: DABT (current EL), IL = 32 bits")
        if r.random() < 0.3:
            # 32-bit ARM spells a BUG() trap this way: one line, both patterns.
            self.klog("Internal error: Oops - BUG: 0 [#%d] SMP ARM" % r.randint(1, 3), oops=1, bug=1)
        else:
            self.klog("Internal error: Oops: 0000000096000004 [#%d] PREEMPT SMP" % r.randint(1, 3), oops=1)
        self.klog("Modules linked in: brcmfmac brcmutil vc4 cec drm_kms_helper")
        self.klog("CPU: %d PID: %d Comm: kworker/%d:1 Not tainted 6.1.55-v8+ #1" % (r.randint(0, 3), r.randint(2, 999), 0))
        self.klog("pc : dwc2_hc_start_transfer+0x1b4/0x5e0")
        self.klog("Code: f9400a60 b40000e0 f9401000 b40000a0 (f9400400)")
        self.klog("---[ end trace %016x ]---" % r.getrandbits(64))

    def bug_line(self):
        self.klog(self.fill(self.rng.choice(BUG_LINES)), bug=1)
        self.klog("CPU: %d PID: %d Comm: swapper/%d Tainted: G      D W" % (0, 0, 0))

    def panic(self):
        reason = self.rng.choice(PANIC_REASONS)
        oops = 1 if "Oops" in reason else 0
        self.klog("Kernel panic - not syncing: %s" % reason, panic=1, oops=oops)
        self.klog("SMP: stopping secondary CPUs")
        self.klog("Kernel Offset: disabled")
        self.klog("CPU features: 0x00000000,01000000,0000420b")
        self.klog("Memory Limit: none")
        # The end marker repeats the message: a second occurrence.
        self.klog("---[ end Kernel panic - not syncing: %s ]---" % reason, panic=1, oops=oops)

    def noise(self):
        # UART line noise: bytes that are not valid UTF-8, sometimes mid-line.
        garbage = bytes(self.rng.choice([0xff, 0xfe, 0xc0, 0x80, 0xe2, 0xf8]) for _ in range(self.rng.randint(1, 4)))
        self.w.line(self.stamp().encode() + b"serial8250: too much work for irq" + garbage + b" 29")

    def boot(self):
        w, r = self.w, self.rng
        self.uboot()
        self.kernel_start()
        for _ in range(r.randint(300, 600)):
            self.klog("%s: %s" % (r.choice(SUBSYSTEMS), self.fill(r.choice(MESSAGES))))
        self.userspace_start()
        self.login_prompt()
        # Running: kernel messages and periodic events until a panic (reboot) or the size limit.
        while not w.full:
            if w.lines >= self.at_panic:
                self.panic()
                self.schedule()
                return True
            if w.lines >= self.at_warning:
                self.warning_block()
                self.at_warning = self.next_in(WARNING_EVERY)
            elif w.lines >= self.at_oops:
                self.oops_block()
                self.at_oops = self.next_in(OOPS_EVERY)
            elif w.lines >= self.at_bug:
                self.bug_line()
                self.at_bug = self.next_in(BUG_EVERY)
            elif w.lines >= self.at_login:
                # getty re-spawned: a fresh prompt; now and then someone logged in.
                if r.random() < 0.25:
                    w.line("Last login: Thu Jan  1 00:%02d:%02d UTC 1970 on ttyS0" % (r.randint(0, 59), r.randint(0, 59)),
                           login=1)
                w.line("")
                w.line("Welcome to Buildroot 2023.02 (ttyS0)")
                w.line("")
                self.login_prompt()
                self.at_login = self.next_in(LOGIN_EVERY)
            elif w.lines >= self.at_noise:
                self.noise()
                self.at_noise = self.next_in(NOISE_EVERY)
            elif r.random() < 0.02:
                w.line("[\x1b[0;32m  OK  \x1b[0m] %s." % r.choice(SYSTEMD_UNITS))
            else:
                self.klog("%s: %s" % (r.choice(SUBSYSTEMS), self.fill(r.choice(MESSAGES))))
        return False


def main():
    parser = argparse.ArgumentParser(description="Write a synthetic serial-console boot log.")
    parser.add_argument("size_mb", type=float, help="size in MB (10^6 bytes)")
    parser.add_argument("out", help="output file")
    parser.add_argument("--seed", type=int, default=20231002)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    with open(args.out, "wb") as out:
        writer = Writer(out, int(args.size_mb * 1e6))
        board = Board(rng, writer)
        while board.boot():
            pass
        # The log ends at a login prompt, with no newline after it.
        writer.line("")
        writer.line("Welcome to Buildroot 2023.02 (ttyS0)")
        writer.line("")
        board.login_prompt()
        writer.flush()

    json.dump({
        "bytes": writer.size,
        "lines": writer.lines + 1,
        "seed": args.seed,
        "patterns": PATTERNS,
        "expected": dict(zip(PATTERNS, writer.counts)),
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
