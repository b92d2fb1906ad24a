import Prometheus
import Synchronization

/// The Prometheus metrics `/metrics` exposes (swift-prometheus registry, text exposition format).
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let batchInputs: ValueHistogram
    let batchTokens: ValueHistogram
    let inference: DurationHistogram
    let tokensProcessed: Counter
    let pendingInputs: Gauge
    let inputsReceived: Counter

    private static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    public init() {
        batchInputs = registry.makeValueHistogram(
            descriptor: .init(namespace: "encoder", metricName: "batch_size", unitName: "inputs",
                              helpText: "Inputs per forward-pass batch formed by the dynamic batcher"),
            labels: [], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
        batchTokens = registry.makeValueHistogram(
            descriptor: .init(namespace: "encoder", metricName: "batch", unitName: "tokens",
                              helpText: "Tokens per forward-pass batch"),
            labels: [], buckets: [16, 64, 256, 1024, 4096, 16384, 65536])
        inference = registry.makeDurationHistogram(
            descriptor: .init(namespace: "encoder", metricName: "batch_duration", unitName: "seconds",
                              helpText: "Time of one batch's forward pass"),
            labels: [], buckets: Self.latencyBuckets)
        tokensProcessed = registry.makeCounter(
            descriptor: .init(namespace: "encoder", metricName: "tokens_processed", unitName: "total",
                              helpText: "Tokens embedded, special tokens included"),
            labels: [])
        pendingInputs = registry.makeGauge(
            descriptor: .init(namespace: "encoder", metricName: "queue_depth", unitName: "inputs",
                              helpText: "Inputs queued or being embedded"),
            labels: [])
        inputsReceived = registry.makeCounter(
            descriptor: .init(namespace: "encoder", metricName: "inputs", unitName: "total",
                              helpText: "Inputs accepted for embedding"),
            labels: [])
    }

    /// Counts a finished request by route and status, and records its latency.
    func recordRequest(route: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: .init(namespace: "encoder", subsystem: "http", metricName: "requests", unitName: "total",
                              helpText: "HTTP requests by route and status"),
            labels: [("route", route), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "encoder", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                              helpText: "HTTP request latency by route"),
            labels: [("route", route)], buckets: Self.latencyBuckets
        ).record(duration)
    }

    /// The text exposition.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
