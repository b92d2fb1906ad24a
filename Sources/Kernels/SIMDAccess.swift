// Unaligned 8-lane loads and stores, with partial (tail) variants, so every fast kernel
// handles any row length (1, 3, 17, 384, ...) with one code path.

@usableFromInline typealias V8 = SIMD8<Float>

@inlinable @inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inlinable @inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Loads `count` (< 8) values and fills the other lanes with `fill`.
@inlinable @inline(__always)
func loadPartial(_ p: UnsafePointer<Float>, _ count: Int, fill: Float) -> SIMD8<Float> {
    var v = SIMD8<Float>(repeating: fill)
    for i in 0..<count { v[i] = p[i] }
    return v
}

@inlinable @inline(__always)
func storePartial(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    for i in 0..<count { p[i] = v[i] }
}

/// Lanes [count, 8) set to zero; used to mask tails out of reductions.
@inlinable @inline(__always)
func zeroTail(_ v: SIMD8<Float>, keeping count: Int) -> SIMD8<Float> {
    var r = SIMD8<Float>(repeating: 0)
    for i in 0..<count { r[i] = v[i] }
    return r
}
