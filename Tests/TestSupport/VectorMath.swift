/// Cosine similarity in double precision.
public func cosine<A: Collection<Float>, B: Collection<Float>>(_ a: A, _ b: B) -> Double {
    precondition(a.count == b.count, "cosine of vectors of \(a.count) and \(b.count) values")
    var dot = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) {
        dot += Double(x) * Double(y)
        na += Double(x) * Double(x)
        nb += Double(y) * Double(y)
    }
    return dot / (na.squareRoot() * nb.squareRoot())
}

/// ||a - b|| / ||b||: catches small systematic errors (gelu vs its tanh approximation, a LayerNorm
/// eps) that leave the cosine above 0.99999.
public func relativeL2Error<A: Collection<Float>, B: Collection<Float>>(_ a: A, _ b: B) -> Double {
    var diff = 0.0, norm = 0.0
    for (x, y) in zip(a, b) {
        diff += (Double(x) - Double(y)) * (Double(x) - Double(y))
        norm += Double(y) * Double(y)
    }
    return (diff / max(norm, 1e-300)).squareRoot()
}
