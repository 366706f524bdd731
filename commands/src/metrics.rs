//! Metrics of the write side, one set per process (every store adds to it): commits to the log by outcome and how
//! long each took. The gateway registers them beside its own at `/metrics`.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::log::AppendError;

/// The outcome of one commit.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AppendLabels {
    /// `appended`, `replayed` (a retry of a command already appended), `conflict` (a stream moved; the command
    /// retries), `claim_taken`, `command_id_reused` or `error`.
    pub outcome: &'static str,
}

type Latencies = Family<AppendLabels, Histogram, fn() -> Histogram>;

/// Latency buckets from half a millisecond to about 16 seconds.
pub fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

fn appends() -> &'static Latencies {
    static APPENDS: OnceLock<Latencies> = OnceLock::new();
    APPENDS.get_or_init(|| Family::new_with_constructor(latency_histogram as fn() -> Histogram))
}

/// Counts one commit and how long it took.
pub fn observe_append<T>(result: &Result<T, AppendError>, replayed: bool, took: Duration) {
    let outcome = match result {
        Ok(_) if replayed => "replayed",
        Ok(_) => "appended",
        Err(AppendError::WrongExpectedVersion { .. }) => "conflict",
        Err(AppendError::ClaimTaken { .. }) => "claim_taken",
        Err(AppendError::CommandIdReused(_)) => "command_id_reused",
        Err(_) => "error",
    };
    appends()
        .get_or_create(&AppendLabels { outcome })
        .observe(took.as_secs_f64());
}

/// Adds the write side's metrics to `registry`.
pub fn register(registry: &mut Registry) {
    registry.register(
        "portal_append_duration_seconds",
        "Commits to the event log, by outcome, and how long each took",
        appends().clone(),
    );
}
