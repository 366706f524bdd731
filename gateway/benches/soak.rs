//! The soak: a real `portal serve` process (release build) under a steady mixed load at a fixed rate for ten
//! minutes, with its resident memory sampled every second. Memory should be flat: caches are bounded (aggregates,
//! keys, rate limiters) and nothing else may grow with the number of requests served.
//!
//! The mix, by request number modulo 20: transcript queries (6), calendar queries (4), attendance recorded by
//! staff for a new (learner, activity) pair (4), `me` (2), sign-ins with argon2id (2), registrations (1), and a new
//! activity (1) so that attendance always has pairs left. Requests are sent on schedule whatever the answers do;
//! latency counts from each request's scheduled time.
//!
//! Run: `cargo bench -p portal-gateway --bench soak`. SOAK_SECONDS (default 600), SOAK_RATE requests per second
//! (default 50), BENCH_DATABASE_URL. Results: a table per minute on stdout, JSON in target/bench-soak.json.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portal_commands::testing::bench::{self, percentile, BenchDatabase};
use portal_gateway::demo::{DEMO_CODE, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD};
use serde_json::{json, Value};
use uuid::Uuid;

mod common;
use common::{caught_up, in_minutes, resident_kib, serve, sign_in, Client, PASSWORD};

const LEARNERS: usize = 20;

struct Mix {
    client: Client,
    staff: String,
    learners: Vec<(String, String, String)>,
    activities: Mutex<Vec<String>>,
    pairs: Mutex<HashSet<(usize, usize)>>,
    registered: AtomicUsize,
    scheduled: AtomicUsize,
}

impl Mix {
    async fn schedule(&self) -> bool {
        let n = self.scheduled.fetch_add(1, Ordering::SeqCst);
        let answer = self
            .client
            .graphql(
                "mutation($input: ActivityInput!) { scheduleActivity(input: $input) { activityId } }",
                json!({ "input": {
                    "title": format!("Soak rounds {n}"), "code": format!("SOAK{n}"),
                    "startsAt": in_minutes(-5), "endsAt": in_minutes(600),
                    "credits": [{ "type": "AMA_PRA_CATEGORY_1", "amount": "1.00" }],
                } }),
                Some(&self.staff),
            )
            .await;
        match answer {
            Ok(data) => {
                if let Some(id) = data["scheduleActivity"]["activityId"].as_str() {
                    self.activities
                        .lock()
                        .expect("activities")
                        .push(id.to_owned());
                }
                true
            }
            Err(_) => false,
        }
    }

    /// A (learner, activity) pair not used yet, newest activities first.
    fn pair(&self) -> Option<(String, String)> {
        let activities = self.activities.lock().expect("activities");
        let mut pairs = self.pairs.lock().expect("pairs");
        for (a, activity) in activities.iter().enumerate().rev() {
            for (l, learner) in self.learners.iter().enumerate() {
                if pairs.insert((l, a)) {
                    return Some((learner.0.clone(), activity.clone()));
                }
            }
        }
        None
    }

    async fn one(&self, n: usize) -> bool {
        let learner = &self.learners[n % self.learners.len()];
        let result = match n % 20 {
            0..=5 => {
                self.client
                    .graphql(
                        "query { transcript { learnerId entries { title status amount } totals { year awarded } } }",
                        json!({}),
                        Some(&learner.1),
                    )
                    .await
            }
            6..=9 => {
                self.client
                    .graphql(
                        "query { calendar(first: 20) { edges { node { id title startsAt } } } }",
                        json!({}),
                        Some(&learner.1),
                    )
                    .await
            }
            10..=13 => {
                let Some((learner, activity)) = self.pair() else {
                    return false;
                };
                self.client
                    .graphql(
                        "mutation($input: RecordAttendanceForInput!) { recordAttendanceFor(input: $input) { status } }",
                        json!({ "input": { "learnerId": learner, "activityId": activity } }),
                        Some(&self.staff),
                    )
                    .await
            }
            14 | 15 => {
                self.client
                    .graphql("query { me { id } }", json!({}), Some(&learner.1))
                    .await
            }
            16 | 17 => {
                self.client
                    .graphql(
                        "mutation($input: SignInInput!) { signIn(input: $input) { token } }",
                        json!({ "input": { "organizationCode": DEMO_CODE, "email": learner.2, "password": PASSWORD } }),
                        None,
                    )
                    .await
            }
            18 => {
                let r = self.registered.fetch_add(1, Ordering::SeqCst);
                self.client
                    .graphql(
                        "mutation($input: RegisterAccountInput!) { registerAccount(input: $input) { message } }",
                        json!({ "input": { "organizationCode": DEMO_CODE, "firstName": "Sam", "lastName": "Soak",
                                           "email": format!("soak{r}@soak.example"), "password": PASSWORD } }),
                        None,
                    )
                    .await
            }
            _ => return self.schedule().await,
        };
        result.is_ok()
    }
}

/// One minute of the soak.
#[derive(Default)]
struct Minute {
    latencies_ms: Vec<f64>,
    failed: usize,
}

/// The least-squares slope of `points` (x, y).
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mx, my) = (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let covariance: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let variance: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if variance == 0.0 {
        0.0
    } else {
        covariance / variance
    }
}

#[tokio::main]
async fn main() {
    if !bench::measuring() {
        return;
    }
    let seconds: f64 = bench::setting("SOAK_SECONDS", 600.0);
    let rate: f64 = bench::setting("SOAK_RATE", 50.0);
    let database = BenchDatabase::create(8).await;
    let dir = std::env::temp_dir().join(format!("portal-soak-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let server = serve(&database.url, &dir);
    let pid = server.child.id();
    let client = Client {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .expect("http client"),
        base: server.base.clone(),
    };
    let mail = dir.join("mail");

    caught_up(&database.pool).await;
    let staff = sign_in(
        &client,
        json!({ "organizationCode": DEMO_CODE, "email": DEMO_STAFF_EMAIL, "password": DEMO_STAFF_PASSWORD }),
    )
    .await;
    let learners = common::learners(&client, &mail, LEARNERS, "soak.example").await;
    let mix = Arc::new(Mix {
        client: client.clone(),
        staff,
        learners,
        activities: Mutex::new(Vec::new()),
        pairs: Mutex::new(HashSet::new()),
        registered: AtomicUsize::new(0),
        scheduled: AtomicUsize::new(0),
    });
    for _ in 0..5 {
        mix.schedule().await;
    }
    let idle_kib = resident_kib(pid);
    println!(
        "soak: {seconds:.0} s at {rate:.0} requests/s; server resident memory after setup {:.1} MiB",
        idle_kib as f64 / 1024.0
    );

    // Memory every second; requests on schedule.
    let start = tokio::time::Instant::now();
    let memory = Arc::new(Mutex::new(Vec::<(f64, u64)>::new()));
    let sampler = {
        let memory = Arc::clone(&memory);
        tokio::spawn(async move {
            loop {
                memory
                    .lock()
                    .expect("memory")
                    .push((start.elapsed().as_secs_f64(), resident_kib(pid)));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };
    let minutes = (seconds / 60.0).ceil().max(1.0) as usize;
    let results = Arc::new(Mutex::new(
        (0..minutes).map(|_| Minute::default()).collect::<Vec<_>>(),
    ));
    let total = (rate * seconds) as usize;
    let mut tasks = Vec::with_capacity(total);
    for n in 0..total {
        let due = start + Duration::from_secs_f64(n as f64 / rate);
        tokio::time::sleep_until(due).await;
        let (mix, results) = (Arc::clone(&mix), Arc::clone(&results));
        tasks.push(tokio::spawn(async move {
            let ok = mix.one(n).await;
            let latency = due.elapsed().as_secs_f64() * 1000.0;
            let minute = ((due - start).as_secs_f64() / 60.0) as usize;
            let mut results = results.lock().expect("results");
            if let Some(m) = results.get_mut(minute.min(minutes - 1)) {
                if ok {
                    m.latencies_ms.push(latency);
                } else {
                    m.failed += 1;
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("request");
    }
    sampler.abort();
    let samples = memory.lock().expect("memory").clone();

    println!(
        "\n{:>6} {:>8} {:>7} {:>8} {:>8} {:>12} {:>9}",
        "minute", "answered", "failed", "p50 ms", "p99 ms", "RSS med MiB", "max MiB"
    );
    let mut rows = Vec::new();
    let mut medians = Vec::new();
    for (i, minute) in results.lock().expect("results").iter_mut().enumerate() {
        minute.latencies_ms.sort_by(f64::total_cmp);
        let (from, to) = (i as f64 * 60.0, (i + 1) as f64 * 60.0);
        // The median of the minute's samples: a hash in progress (argon2id holds 19 MiB while it runs) shows in the
        // maximum, not in the level.
        let mut rss: Vec<f64> = samples
            .iter()
            .filter(|(t, _)| *t > from && *t <= to)
            .map(|(_, kib)| *kib as f64 / 1024.0)
            .collect();
        rss.sort_by(f64::total_cmp);
        let (median, max) = (
            percentile(&rss, 0.5),
            rss.last().copied().unwrap_or_default(),
        );
        medians.push(((i + 1) as f64, median));
        let (p50, p99) = (
            percentile(&minute.latencies_ms, 0.5),
            percentile(&minute.latencies_ms, 0.99),
        );
        println!(
            "{:>6} {:>8} {:>7} {:>8.2} {:>8.2} {:>12.1} {:>9.1}",
            i + 1,
            minute.latencies_ms.len(),
            minute.failed,
            p50,
            p99,
            median,
            max
        );
        rows.push(json!({ "minute": i + 1, "answered": minute.latencies_ms.len(), "failed": minute.failed,
                          "p50_ms": p50, "p99_ms": p99, "rss_median_mib": median, "rss_max_mib": max }));
    }
    // The trend of the minutes' medians after the first (warm-up: pools, caches and allocator arenas fill).
    let warm: Vec<(f64, f64)> = medians.iter().skip(1).copied().collect();
    let growth = slope(&warm);
    let peak = samples.iter().map(|s| s.1).max().unwrap_or(0) as f64 / 1024.0;
    let first = medians.first().map(|m| m.1).unwrap_or_default();
    let last = medians.last().map(|m| m.1).unwrap_or_default();
    println!(
        "\nresident memory (median of each minute): {first:.1} MiB in the first minute, {last:.1} MiB in the last, \
         peak sample {peak:.1} MiB; trend of the medians after the first minute {growth:+.3} MiB/min"
    );
    let report: Value = json!({
        "seconds": seconds, "rate": rate, "minutes": rows,
        "rss_after_setup_mib": idle_kib as f64 / 1024.0, "rss_first_minute_median_mib": first,
        "rss_last_minute_median_mib": last,
        "rss_peak_mib": peak, "rss_trend_mib_per_minute": growth,
        "samples": samples.iter().map(|(t, kib)| json!([t, kib])).collect::<Vec<_>>(),
    });
    drop(server);
    database.drop_database().await;
    let _ = std::fs::remove_dir_all(&dir);
    let target = bench::write_results("bench-soak.json", &report);
    println!("results in {}", target.display());
}
