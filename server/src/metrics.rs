//! Prometheus metrics, one registry per server so tests can run several at once.

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub changesets: IntCounterVec,
    pub changes_applied: IntCounterVec,
    pub conflicts_opened: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("jingzhun".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by route")
                .buckets(vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
            &["route"],
        )?;
        let changesets =
            IntCounterVec::new(Opts::new("sync_changesets_total", "Pushed change sets by outcome"), &["status"])?;
        let changes_applied =
            IntCounterVec::new(Opts::new("sync_changes_total", "Pushed changes by entity"), &["entity"])?;
        let conflicts_opened =
            IntCounterVec::new(Opts::new("sync_conflicts_total", "Conflicts opened by entity"), &["entity"])?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(changesets.clone()))?;
        registry.register(Box::new(changes_applied.clone()))?;
        registry.register(Box::new(conflicts_opened.clone()))?;
        Ok(Metrics { registry, http_requests, http_duration, changesets, changes_applied, conflicts_opened })
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let encoder = TextEncoder::new();
        if encoder.encode(&self.registry.gather(), &mut buffer).is_err() {
            return String::new();
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}
