import Testing

@testable import Kernels

// CSmallGemm's kernel (few rows, AVX2, nothing packed) and the OpenBLAS path it stands in for,
// each against the naive reference, on every edge of its 3 x 4 blocking and 8-wide inner loop.

@Suite(.enabled(if: Gemm.smallKernelAvailable, "CSmallGemm's kernel needs AVX2 and FMA; without them every GEMM is OpenBLAS's"))
struct SmallGemmTests {
    enum Path: CaseIterable { case small, openBLAS }

    /// `columns` of x · Wᵀ (+ b) by `path`, into rows of stride m + 2 first filled with 42; returns
    /// the whole buffer.
    static func run(
        _ path: Path, x: [Float], rows n: Int, k: Int, w: [Float], m: Int, bias: [Float]?, columns: Range<Int>
    ) -> [Float] {
        let ldy = m + 2
        var y = [Float](repeating: 42, count: n * ldy)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    func go(_ bp: UnsafeBufferPointer<Float>?) {
                        let layer = LinearLayer(weight: wp, outFeatures: m, bias: bp, into: yp.baseAddress!, ldy: ldy)
                        switch path {
                        case .small: layer.runSmall(xp.baseAddress!, columns: columns, rows: n, inFeatures: k)
                        case .openBLAS: layer.runOpenBLAS(xp.baseAddress!, columns: columns, rows: n, inFeatures: k)
                        }
                    }
                    if let bias { bias.withUnsafeBufferPointer { go($0) } } else { go(nil) }
                }
            }
        }
        return y
    }

    /// Rows 1-7 and past the 3-row blocks, columns 1-5 and past the 4-column blocks, K below, at
    /// and past the 8-wide loop, with and without bias, all columns and a range not starting at 0:
    /// the computed entries within float rounding of the reference, every other entry untouched.
    @Test(arguments: Path.allCases)
    func matchesReferenceOnEveryEdge(path: Path) {
        var cases = 0
        for n in [1, 2, 3, 4, 5, 7, 16, 33] {
            for m in [1, 2, 3, 4, 5, 7, 16, 19] {
                for k in [1, 7, 8, 9, 33, 384] {
                    let x = randomFloats(n * k, seed: UInt64(n * 1000 + k))
                    let w = randomFloats(m * k, seed: UInt64(m * 1000 + k + 7))
                    let b = randomFloats(m, seed: UInt64(m + 99))
                    for bias in [Optional(b), nil] {
                        let expected = Reference.linear(x, rows: n, inFeatures: k, weight: w, outFeatures: m, bias: bias)
                        for columns in [0..<m, min(3, m - 1)..<m] {
                            let y = Self.run(path, x: x, rows: n, k: k, w: w, m: m, bias: bias, columns: columns)
                            let ldy = m + 2
                            var worst: Float = 0
                            var untouched = true
                            for r in 0..<n {
                                for c in 0..<ldy {
                                    if columns.contains(c) {
                                        worst = max(worst, abs(y[r * ldy + c] - expected[r * m + c]))
                                    } else {
                                        untouched = untouched && y[r * ldy + c] == 42
                                    }
                                }
                            }
                            #expect(worst <= 1e-5 * Float(k + 1), "\(path) N=\(n) M=\(m) K=\(k) bias=\(bias != nil) columns=\(columns)")
                            #expect(untouched, "\(path) N=\(n) M=\(m) K=\(k) wrote outside columns \(columns)")
                            cases += 1
                        }
                    }
                }
            }
        }
        #expect(cases == 8 * 8 * 6 * 2 * 2)
    }

    /// The kernel sums each output in one order whatever the block it falls in: a row computed
    /// alone, and columns computed in ranges (as the threads of one text split them), equal the
    /// whole product bit for bit. So a text's vector does not depend on what shares its batch.
    @Test func eachOutputIsIndependentOfItsNeighbours() {
        let (n, m, k) = (7, 38, 45)
        let x = randomFloats(n * k, seed: 5), w = randomFloats(m * k, seed: 6), b = randomFloats(m, seed: 7)
        let whole = Self.run(.small, x: x, rows: n, k: k, w: w, m: m, bias: b, columns: 0..<m)
        let ldy = m + 2
        for r in 0..<n {
            let alone = Self.run(.small, x: Array(x[(r * k)..<((r + 1) * k)]), rows: 1, k: k, w: w, m: m, bias: b, columns: 0..<m)
            #expect(Array(alone[0..<m]) == Array(whole[(r * ldy)..<(r * ldy + m)]), "row \(r)")
        }
        var pieces = [Float](repeating: 42, count: n * ldy)
        for columns in [0..<5, 5..<16, 16..<17, 17..<m] {
            let part = Self.run(.small, x: x, rows: n, k: k, w: w, m: m, bias: b, columns: columns)
            for r in 0..<n { for c in columns { pieces[r * ldy + c] = part[r * ldy + c] } }
        }
        #expect(pieces == whole)
    }

    /// `Gemm.linear` takes the kernel up to `smallKernelRows` rows and OpenBLAS past it; both sides
    /// of the boundary match the reference.
    @Test func linearUsesEitherSideOfTheRowBoundary() {
        let (k, m) = (40, 24)
        for n in [Gemm.smallKernelRows, Gemm.smallKernelRows + 1] {
            let x = randomFloats(n * k, seed: 8), w = randomFloats(m * k, seed: 9), b = randomFloats(m, seed: 10)
            let expected = Reference.linear(x, rows: n, inFeatures: k, weight: w, outFeatures: m, bias: b)
            var y = [Float](repeating: .nan, count: n * m)
            x.withUnsafeBufferPointer { xp in
                w.withUnsafeBufferPointer { wp in
                    b.withUnsafeBufferPointer { bp in
                        y.withUnsafeMutableBufferPointer { yp in
                            Gemm.linear(xp, rows: n, inFeatures: k, weight: wp, outFeatures: m, bias: bp, into: yp)
                        }
                    }
                }
            }
            #expect(maxAbsDiff(y, expected) <= 1e-5 * Float(k + 1), "N=\(n)")
        }
    }
}
