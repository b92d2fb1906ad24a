#if canImport(Glibc)
import Glibc
#endif

/// How the process's allocator treats large blocks, set once before any work.
enum MemoryPolicy {
    /// glibc's malloc serves large blocks as their own mappings, returned to the system when freed,
    /// but after such a block is freed it raises its threshold to that block's size (up to 32 MiB):
    /// from then on the large, short-lived buffers of the work (hidden states of a batch, a chunk's
    /// pooled rows, a scratch that grew) come from the heaps of the worker threads, whose freed
    /// space stays resident. A fixed threshold keeps them mappings. At glibc's 128 KiB default,
    /// oneDNN's int8 GEMM, which allocates 128 KiB-1 MiB of packing buffers on every call, ran
    /// the short set 35% slower (a mapping and its page faults per call), so the threshold is
    /// 1 MiB, and heap tops are trimmed past 4 MiB rather than 128 KiB for the same reason.
    /// Measured with `encoder run` on the 2,758 STS-B sentences into .npy (peak RSS, texts/s,
    /// 4 runs each, alternating; the same settings from the environment, MALLOC_MMAP_THRESHOLD_
    /// and MALLOC_TRIM_THRESHOLD_): FP32 104-109 -> 103 MB, int8 74-77 -> 71 MB, texts/s within
    /// the runs' noise (int8 medians 1,743 and 1,780). Elsewhere (not glibc) it does nothing.
    static func keepLargeBlocksMapped() {
        #if canImport(Glibc)
        // mallopt is in <malloc.h>, which the Glibc module does not import; RTLD_DEFAULT is NULL.
        guard let symbol = dlsym(nil, "mallopt") else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let M_TRIM_THRESHOLD: Int32 = -1, M_MMAP_THRESHOLD: Int32 = -3
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 4 << 20)
        #endif
    }
}
