//! What the benches that drive a real `portal serve` process over HTTP share: the process, a GraphQL client, the
//! fixed-rate (open-loop) driver and its statistics, and the setup steps (activation, sign-in, catching up).

#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use portal_commands::testing::bench::percentile;
use serde_json::{json, Value};

/// The password of every account the benches make.
pub const PASSWORD: &str = "violet tractor sings at noon";

pub type Op = Arc<dyn Fn(usize) -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// A `portal serve` process.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve(url: &str, dir: &std::path::Path) -> Server {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--sign-in-per-minute",
            "1000000",
            "--throttle-factor",
            "1000000",
        ])
        .arg("--mail-dir")
        .arg(dir.join("mail"))
        .env("DATABASE_URL", url)
        .env("PORTAL_MASTER_KEY_FILE", dir.join("master.key"))
        .env_remove("PORTAL_MASTER_KEY")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("portal starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("portal prints where it listens")
            .expect("stdout");
        if let Some(rest) = line.strip_prefix("portal listening on http://") {
            break format!(
                "http://{}",
                rest.split_whitespace().next().expect("address")
            );
        }
    };
    // The demo organization and its staff member are made after the server listens: wait for the last line.
    for line in lines.by_ref() {
        if line.expect("stdout").starts_with("Sign in with") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    Server { child, base }
}

pub fn resident_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

impl Client {
    /// A GraphQL call; the data, or the errors as Err.
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> Result<Value, Value> {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let answer: Value = match request.send().await {
            Ok(response) => response.json().await.unwrap_or(Value::Null),
            Err(error) => return Err(json!(error.to_string())),
        };
        match answer.get("errors") {
            Some(errors) => Err(errors.clone()),
            None => Ok(answer["data"].clone()),
        }
    }

    /// A GraphQL call by a proxy acting for `patient` (`X-Acting-For`); true when it answered without errors.
    pub async fn ok_acting_for(
        &self,
        query: &str,
        variables: Value,
        token: &str,
        patient: &str,
    ) -> bool {
        let request = self
            .http
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .header("x-acting-for", patient)
            .json(&json!({ "query": query, "variables": variables }));
        match request.send().await {
            Ok(response) => response
                .json::<Value>()
                .await
                .is_ok_and(|answer| answer.get("errors").is_none() && !answer["data"].is_null()),
            Err(_) => false,
        }
    }

    pub async fn must(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        self.graphql(query, variables, token)
            .await
            .unwrap_or_else(|errors| panic!("{query}: {errors}"))
    }
}

/// What one measurement saw.
#[derive(Clone, Copy, Default)]
pub struct Stats {
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub failed: usize,
}

pub fn stats(mut latencies_ms: Vec<f64>, failed: usize, seconds: f64) -> Stats {
    latencies_ms.sort_by(f64::total_cmp);
    Stats {
        per_second: latencies_ms.len() as f64 / seconds,
        p50_ms: percentile(&latencies_ms, 0.5),
        p99_ms: percentile(&latencies_ms, 0.99),
        failed,
    }
}

/// Requests sent at `rate` per second whatever the answers do; latency from each one's scheduled time.
pub async fn open_loop(op: Op, rate: f64, seconds: f64, counter: Arc<AtomicUsize>) -> Stats {
    let start = tokio::time::Instant::now();
    let total = (rate * seconds).max(1.0) as usize;
    let results = Arc::new(Mutex::new((Vec::with_capacity(total), 0_usize)));
    let mut tasks = Vec::with_capacity(total);
    for n in 0..total {
        let due = start + Duration::from_secs_f64(n as f64 / rate);
        tokio::time::sleep_until(due).await;
        let (op, counter, results) = (Arc::clone(&op), Arc::clone(&counter), Arc::clone(&results));
        tasks.push(tokio::spawn(async move {
            let ok = op(counter.fetch_add(1, Ordering::Relaxed)).await;
            let latency = due.elapsed().as_secs_f64() * 1000.0;
            let mut results = results.lock().expect("results");
            if ok {
                results.0.push(latency);
            } else {
                results.1 += 1;
            }
        }));
    }
    for task in tasks {
        task.await.expect("request");
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (latencies, failed) = std::mem::take(&mut *results.lock().expect("results"));
    stats(latencies, failed, elapsed)
}

/// Requests in flight in the closed-loop (maximum) measurements.
pub const CONCURRENCY: usize = 16;

/// `CONCURRENCY` workers, each sending its next request when the last is answered.
pub async fn closed_loop(op: Op, seconds: f64, counter: Arc<AtomicUsize>) -> Stats {
    let start = Instant::now();
    let window = Duration::from_secs_f64(seconds);
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (op, counter) = (Arc::clone(&op), Arc::clone(&counter));
            tokio::spawn(async move {
                let (mut latencies, mut failed) = (Vec::new(), 0);
                while start.elapsed() < window {
                    let began = Instant::now();
                    if op(counter.fetch_add(1, Ordering::Relaxed)).await {
                        latencies.push(began.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        failed += 1;
                    }
                }
                (latencies, failed)
            })
        })
        .collect();
    let (mut latencies, mut failed) = (Vec::new(), 0);
    for worker in workers {
        let (l, f) = worker.await.expect("worker");
        latencies.extend(l);
        failed += f;
    }
    stats(latencies, failed, start.elapsed().as_secs_f64())
}

/// The most `op` does with 16 in flight, then a fixed rate of half that: two rows of the table.
pub async fn max_then_half(
    rows: &mut Vec<Row>,
    workload: &str,
    op: &Op,
    seconds: f64,
    counter: &Arc<AtomicUsize>,
) {
    let max = closed_loop(Arc::clone(op), seconds, Arc::clone(counter)).await;
    let half = open_loop(
        Arc::clone(op),
        max.per_second / 2.0,
        seconds,
        Arc::clone(counter),
    )
    .await;
    for (mode, stats) in [
        ("max, 16 in flight", max),
        ("fixed rate, half of max", half),
    ] {
        rows.push(Row {
            workload: workload.to_owned(),
            mode,
            stats,
            reference: None,
        });
    }
}

/// Prints the rows as a table (with each one's p50 and p99 ratios to its reference, if any); their JSON.
pub fn table(rows: &[Row]) -> Vec<Value> {
    println!(
        "{:<38} {:<32} {:>9} {:>9} {:>9} {:>7} {:>10} {:>10}",
        "workload", "mode", "req/s", "p50 ms", "p99 ms", "failed", "p50 ratio", "p99 ratio"
    );
    let mut results = Vec::new();
    for row in rows {
        let (p50_ratio, p99_ratio) = row.reference.map_or((None, None), |r| {
            (
                Some(row.stats.p50_ms / r.p50_ms),
                Some(row.stats.p99_ms / r.p99_ms),
            )
        });
        let show = |v: Option<f64>| v.map_or("".to_owned(), |v| format!("{v:.2}"));
        println!(
            "{:<38} {:<32} {:>9.0} {:>9.2} {:>9.2} {:>7} {:>10} {:>10}",
            row.workload,
            row.mode,
            row.stats.per_second,
            row.stats.p50_ms,
            row.stats.p99_ms,
            row.stats.failed,
            show(p50_ratio),
            show(p99_ratio)
        );
        results.push(json!({
            "workload": row.workload, "mode": row.mode, "per_second": row.stats.per_second,
            "p50_ms": row.stats.p50_ms, "p99_ms": row.stats.p99_ms, "failed": row.stats.failed,
            "p50_ratio_to_plain": p50_ratio, "p99_ratio_to_plain": p99_ratio,
        }));
    }
    results
}

/// A row of a bench's table: a workload, how it was driven, what it did, and what to compare it with.
pub struct Row {
    pub workload: String,
    pub mode: &'static str,
    pub stats: Stats,
    pub reference: Option<Stats>,
}

/// Activates a registered account from the e-mailed link; its id.
pub async fn activate(client: &Client, mail: &std::path::Path, email: &str) -> String {
    let mut token = None;
    for _ in 0..400 {
        token = std::fs::read_dir(mail).ok().and_then(|entries| {
            entries.filter_map(Result::ok).find_map(|entry| {
                let text = std::fs::read_to_string(entry.path()).ok()?;
                if !text.contains(&format!("To: {email}")) {
                    return None;
                }
                let line = text.lines().find(|l| l.contains("/activate?token="))?;
                Some(line.split("token=").nth(1)?.trim().to_owned())
            })
        });
        if token.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let token = token.unwrap_or_else(|| panic!("no activation e-mail to {email}"));
    let activated = client
        .must(
            "mutation($t: String!) { activateAccount(input: { token: $t }) { accountId } }",
            json!({ "t": token }),
            None,
        )
        .await;
    activated["activateAccount"]["accountId"]
        .as_str()
        .expect("account id")
        .to_owned()
}

pub async fn sign_in(client: &Client, input: Value) -> String {
    client
        .must(
            "mutation($input: SignInInput!) { signIn(input: $input) { token } }",
            json!({ "input": input }),
            None,
        )
        .await["signIn"]["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// Waits until every projection has applied every event in the log.
pub async fn caught_up(pool: &Pool) {
    loop {
        let (_, statuses) = portal_projections::status::status(pool)
            .await
            .expect("projection status");
        let running = statuses
            .iter()
            .filter(|s| portal_projections::NAMES.contains(&s.name.as_str()))
            .collect::<Vec<_>>();
        if running.len() == portal_projections::NAMES.len()
            && running.iter().all(|s| s.lag_events == 0)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn in_minutes(minutes: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339()
}

/// `count` learners of the demo organization, registered, activated from the e-mailed link and signed in:
/// (account id, session token, e-mail address) each.
pub async fn learners(
    client: &Client,
    mail: &std::path::Path,
    count: usize,
    domain: &str,
) -> Vec<(String, String, String)> {
    let mut learners = Vec::new();
    for n in 0..count {
        let email = format!("learner{n}@{domain}");
        client
            .must(
                "mutation($input: RegisterAccountInput!) { registerAccount(input: $input) { message } }",
                json!({ "input": { "organizationCode": portal_gateway::demo::DEMO_CODE, "firstName": "Ada",
                                   "lastName": format!("Learner{n}"), "email": email, "password": PASSWORD } }),
                None,
            )
            .await;
        let account = activate(client, mail, &email).await;
        let token = sign_in(
            client,
            json!({ "organizationCode": portal_gateway::demo::DEMO_CODE, "email": email, "password": PASSWORD }),
        )
        .await;
        learners.push((account, token, email));
    }
    learners
}

/// A clinic's catalogue, made by its staff member: a location, a department, a provider serving both, and a
/// 15-minute visit reason of the department.
pub struct Catalogue {
    pub location: String,
    pub provider: String,
    pub reason: String,
}

pub async fn catalogue(client: &Client, staff: &str) -> Catalogue {
    let id = |data: Value, field: &str| data[field]["id"].as_str().expect("id").to_owned();
    let location = id(
        client
            .must("mutation { putLocation(name: \"Gonda Building\", address: \"200 First St SW\") { id } }", json!({}), Some(staff))
            .await,
        "putLocation",
    );
    let department = id(
        client
            .must(
                "mutation { putDepartment(name: \"Cardiology\") { id } }",
                json!({}),
                Some(staff),
            )
            .await,
        "putDepartment",
    );
    let provider = id(
        client
            .must(
                "mutation($d: [ID!]!, $l: [ID!]!) { putProvider(name: \"Dr. Ada Lovelace\", departmentIds: $d, locationIds: $l) { id } }",
                json!({ "d": [department], "l": [location] }),
                Some(staff),
            )
            .await,
        "putProvider",
    );
    let reason = id(
        client
            .must(
                "mutation($d: [ID!]) { putVisitReason(name: \"Follow-up visit\", minutes: 15, departmentIds: $d) { id } }",
                json!({ "d": [department] }),
                Some(staff),
            )
            .await,
        "putVisitReason",
    );
    Catalogue {
        location,
        provider,
        reason,
    }
}

/// The same opening hours every day of the week, for `publishSlots`.
pub fn every_day(opens: &str, closes: &str) -> Vec<Value> {
    [
        "MONDAY",
        "TUESDAY",
        "WEDNESDAY",
        "THURSDAY",
        "FRIDAY",
        "SATURDAY",
        "SUNDAY",
    ]
    .iter()
    .map(|d| json!({ "weekday": d, "opens": opens, "closes": closes }))
    .collect()
}

/// Patient `n` of the demo clinic: registered by `staff` (clinic number `<clinic><n>`), signed up as
/// `<site>patient<n>` with `patient<n>@<site>.example`, and activated from the e-mailed link; the account's id.
pub async fn patient(
    client: &Client,
    mail: &std::path::Path,
    staff: &str,
    (clinic, site): (&str, &str),
    n: usize,
) -> String {
    let email = format!("patient{n}@{site}.example");
    let number = format!("{clinic}{n:06}");
    client
        .must(
            "mutation($input: RegisterPatientInput!) { registerPatient(input: $input) { patientId } }",
            json!({ "input": { "clinicNumber": number, "firstName": "Pat", "lastName": format!("Number{n}"),
                               "dateOfBirth": "1970-01-01" } }),
            Some(staff),
        )
        .await;
    client
        .must(
            "mutation($input: SignUpPatientInput!) { signUpPatient(input: $input) { position } }",
            json!({ "input": { "organizationCode": portal_gateway::demo::DEMO_CODE, "clinicNumber": number,
                               "dateOfBirth": "1970-01-01", "username": format!("{site}patient{n}"), "email": email,
                               "password": PASSWORD } }),
            None,
        )
        .await;
    activate(client, mail, &email).await
}
