//! Crash safety, end to end: nothing the server acknowledged is lost, nothing is applied twice.
//!
//! The test runs its own PostgreSQL cluster (initdb into a temporary folder, on a free port), so that it can crash
//! the database without disturbing other tests, and the real `portal` binary against it. Client tasks drive a steady
//! mixed load over HTTP: `registerAccount` (anonymous), `scheduleActivity` and `recordAttendanceFor` (staff). Every
//! command carries a `commandId`; a client retries the same command, with the same id, until it gets an answer
//! (a dropped connection, a 503, an `INTERNAL` or `DATABASE_UNAVAILABLE` error are all "no answer"). Meanwhile:
//!
//! 1. `portal` is killed with SIGKILL and restarted, KILLS times (default 5);
//! 2. PostgreSQL is crashed (`pg_ctl stop -m immediate`) and restarted after a few seconds, while `portal` runs on:
//!    it must answer 503 `DATABASE_UNAVAILABLE` meanwhile (GraphQL and `/readyz`) and serve again by itself;
//! 3. `portal` gets SIGTERM while requests are in flight: they must all be answered, and it must exit 0.
//!
//! Then `portal` runs once more until its projections have caught up, and the log and the read models are checked:
//! every acknowledged command is in the log in exactly one transaction, with the rows it produced in the read
//! models (accounts, calendar, transcript), and no command id of the whole log spans two transactions.
//!
//! `scripts/crash-test` (or `cargo test -p portal-gateway --test crash`). Settings: CRASH_KILLS (default 5),
//! CRASH_CLIENTS (default 6), CRASH_INTERVAL_MS between kills (default 2500). Needs PostgreSQL's server programs
//! (`pg_config --bindir`, or /usr/lib/postgresql/<version>/bin); as root it runs them as the `postgres` user.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portal_gateway::demo::{DEMO_CODE, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD};
use serde_json::{json, Value};
use uuid::Uuid;

const PASSWORD: &str = "violet tractor sings at noon";

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `program` (a PostgreSQL server program), as the `postgres` user when we are root (initdb refuses root).
fn pg_command(bin: &Path, program: &str, as_postgres: bool) -> Command {
    let path = bin.join(program);
    if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(path);
        command
    } else {
        Command::new(path)
    }
}

fn postgres_bindir() -> PathBuf {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .find(|dir| dir.join("initdb").exists())
        .unwrap_or_else(|| {
            panic!("the crash test needs PostgreSQL's server programs (initdb, pg_ctl): install PostgreSQL 15+ or put pg_config on PATH")
        })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A PostgreSQL cluster of the test's own; stopped and removed on drop.
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    fn create(dir: &Path) -> Self {
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let bin = postgres_bindir();
        let data = dir.join("pgdata");
        std::fs::create_dir_all(&data).expect("data folder");
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(dir)
                .status()
                .expect("chown");
            assert!(status.success(), "chown of the cluster's folder failed");
        }
        let output = pg_command(&bin, "initdb", as_postgres)
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .output()
            .expect("initdb runs");
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let cluster = Cluster {
            bin,
            dir: dir.to_path_buf(),
            port: free_port(),
            as_postgres,
        };
        cluster.start();
        cluster
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let output = pg_command(&self.bin, "pg_ctl", self.as_postgres)
            .args(["-w", "-t", "60", "-D"])
            .arg(self.dir.join("pgdata"))
            .arg("-l")
            .arg(self.dir.join("postgres.log"))
            .args(["-o", &options, "start"])
            .output()
            .expect("pg_ctl runs");
        assert!(
            output.status.success(),
            "PostgreSQL did not start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Stops the server the way a crash would: no checkpoint, no goodbye to clients (recovery replays the WAL).
    fn crash(&self) {
        let _ = pg_command(&self.bin, "pg_ctl", self.as_postgres)
            .args(["-w", "-D"])
            .arg(self.dir.join("pgdata"))
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.crash();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A `portal serve` process on a fixed port, so that clients find it again after a restart.
struct Portal {
    child: Child,
}

impl Portal {
    fn start(url: &str, port: u16, dir: &Path) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("portal.log"))
            .expect("portal log");
        let child = Command::new(env!("CARGO_BIN_EXE_portal"))
            .args([
                "serve",
                "--demo",
                "--sign-in-per-minute",
                "1000000",
                "--throttle-factor",
                "1000000",
            ])
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--mail-dir")
            .arg(dir.join("mail"))
            .env("DATABASE_URL", url)
            .env("PORTAL_MASTER_KEY_FILE", dir.join("master.key"))
            .env_remove("PORTAL_MASTER_KEY")
            .env("RUST_LOG", "warn")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("portal starts");
        Portal { child }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit status (None when it did not exit within 30 seconds).
    fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
}

/// What one attempt got.
enum Answer {
    /// Data, no errors.
    Done(Value),
    /// No answer worth keeping: retry the same command.
    Retry(&'static str),
    /// A refusal (error code).
    Refused(String),
}

impl Client {
    async fn attempt(&self, query: &str, variables: &Value, token: Option<&str>) -> Answer {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(_) => return Answer::Retry("connection"),
        };
        let status = response.status().as_u16();
        let Ok(body) = response.json::<Value>().await else {
            return Answer::Retry("connection");
        };
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .map(str::to_owned);
        match (status, code) {
            (200, None) => Answer::Done(body["data"].clone()),
            (503, Some(code)) if code == "DATABASE_UNAVAILABLE" => {
                Answer::Retry("503 DATABASE_UNAVAILABLE")
            }
            (503, _) => Answer::Retry("503 other"),
            (_, Some(code)) if code == "DATABASE_UNAVAILABLE" => {
                Answer::Retry("DATABASE_UNAVAILABLE not 503")
            }
            (_, Some(code)) if code == "INTERNAL" => Answer::Retry("INTERNAL"),
            (_, Some(code)) if code == "SERVICE_UNAVAILABLE" => {
                Answer::Retry("SERVICE_UNAVAILABLE")
            }
            (_, Some(code)) if code == "CONCURRENCY_CONFLICT" => {
                Answer::Retry("CONCURRENCY_CONFLICT")
            }
            (_, Some(code)) => Answer::Refused(code),
            (status, None) => Answer::Retry(if status >= 500 { "5xx" } else { "other status" }),
        }
    }

    async fn ready(&self) -> (u16, Value) {
        match self.http.get(format!("{}/readyz", self.base)).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                (status, response.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.ready().await.0 != 200 {
            assert!(
                Instant::now() < deadline,
                "portal did not become ready in 120 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// An acknowledged command: its id, what it was, and what to find in the read models.
#[derive(Clone, Debug)]
enum Acknowledged {
    Registered {
        command: Uuid,
        email: String,
    },
    Scheduled {
        command: Uuid,
        activity: Uuid,
        title: String,
    },
    Attended {
        command: Uuid,
        learner: Uuid,
        activity: Uuid,
    },
}

impl Acknowledged {
    fn command(&self) -> Uuid {
        match self {
            Acknowledged::Registered { command, .. }
            | Acknowledged::Scheduled { command, .. }
            | Acknowledged::Attended { command, .. } => *command,
        }
    }
}

struct Load {
    client: Client,
    staff: String,
    learners: Vec<Uuid>,
    /// Activities acknowledged so far, for attendance.
    activities: Mutex<Vec<Uuid>>,
    acknowledged: Mutex<Vec<Acknowledged>>,
    refused: Mutex<Vec<String>>,
    seen: Mutex<HashMap<&'static str, usize>>,
    /// Set: finish the command in hand, start no other.
    draining: AtomicBool,
    sequence: AtomicUsize,
    /// Commands answered since the last reset, to see that the server serves again.
    answered: AtomicUsize,
    /// (learner, activity) pairs given out: each attendance is recorded by one command only.
    pairs: Mutex<std::collections::HashSet<(Uuid, Uuid)>>,
    /// Requests sent and not yet answered.
    in_progress: AtomicUsize,
    /// When SIGTERM was sent.
    sigterm_at: Mutex<Option<Instant>>,
    /// Requests sent well before SIGTERM whose connection was cut instead of answered.
    cut: AtomicUsize,
}

/// A command given up because the server was stopped for good (not a refusal).
const STOPPED: &str = "STOPPED";

fn in_minutes(minutes: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339()
}

impl Load {
    /// Sends the command until it is answered; every "no answer" is counted by kind. After SIGTERM nothing is
    /// retried, and a request cut although it was sent well before the signal is counted.
    async fn send(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> Result<Value, String> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let began = Instant::now();
            self.in_progress.fetch_add(1, Ordering::SeqCst);
            let answer = self.client.attempt(query, &variables, token).await;
            self.in_progress.fetch_sub(1, Ordering::SeqCst);
            match answer {
                Answer::Done(data) => return Ok(data),
                Answer::Refused(code) => return Err(code),
                Answer::Retry(why) => {
                    if let Some(sigterm) = *self.sigterm_at.lock().expect("sigterm") {
                        if why == "connection" && began + Duration::from_millis(10) < sigterm {
                            self.cut.fetch_add(1, Ordering::SeqCst);
                        }
                        return Err(STOPPED.to_owned());
                    }
                    *self.seen.lock().expect("seen").entry(why).or_default() += 1;
                    if Instant::now() > deadline {
                        return Err(format!("no answer in 120 s (last: {why})"));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// A (learner, activity) pair not given out yet, newest activities first.
    fn next_pair(&self) -> Option<(Uuid, Uuid)> {
        let activities = self.activities.lock().expect("activities");
        let mut pairs = self.pairs.lock().expect("pairs");
        for activity in activities.iter().rev() {
            for learner in &self.learners {
                if pairs.insert((*learner, *activity)) {
                    return Some((*learner, *activity));
                }
            }
        }
        None
    }

    async fn one(&self) {
        let n = self.sequence.fetch_add(1, Ordering::SeqCst);
        let command = Uuid::new_v4();
        let attended = if n % 3 == 2 { self.next_pair() } else { None };
        let outcome = match (n % 3, attended) {
            (0, _) => {
                let email = format!("crash{n}@crash.example");
                self.send(
                        "mutation($input: RegisterAccountInput!) { registerAccount(input: $input) { message } }",
                        json!({ "input": { "organizationCode": DEMO_CODE, "firstName": "Ada", "lastName": "Crash",
                                           "email": email, "password": PASSWORD, "commandId": command } }),
                        None,
                    )
                    .await
                    .map(|_| Acknowledged::Registered { command, email })
            }
            (2, Some((learner, activity))) => self
                .send(
                    "mutation($input: RecordAttendanceForInput!) { recordAttendanceFor(input: $input) { status } }",
                    json!({ "input": { "learnerId": learner, "activityId": activity, "commandId": command } }),
                    Some(&self.staff),
                )
                .await
                .map(|_| Acknowledged::Attended { command, learner, activity }),
            _ => {
                let title = format!("Crash rounds {n}");
                self.send(
                        "mutation($input: ActivityInput!) { scheduleActivity(input: $input) { activityId } }",
                        json!({ "input": {
                            "title": title, "code": format!("CR{n}"),
                            "startsAt": in_minutes(-5), "endsAt": in_minutes(600),
                            "credits": [{ "type": "AMA_PRA_CATEGORY_1", "amount": "1.00" }],
                            "commandId": command,
                        } }),
                        Some(&self.staff),
                    )
                    .await
                    .map(|data| {
                        let activity = data["scheduleActivity"]["activityId"]
                            .as_str()
                            .and_then(|id| Uuid::parse_str(id).ok())
                            .expect("an activity id");
                        self.activities.lock().expect("activities").push(activity);
                        Acknowledged::Scheduled { command, activity, title }
                    })
            }
        };
        match outcome {
            Ok(ack) => {
                self.answered.fetch_add(1, Ordering::SeqCst);
                self.acknowledged.lock().expect("acknowledged").push(ack);
            }
            Err(code) if code == STOPPED => {}
            Err(code) => self.refused.lock().expect("refused").push(code),
        }
    }
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("the test connects to its cluster");
    tokio::spawn(connection);
    client
}

/// Checks the log and the read models against what was acknowledged; returns (lost, duplicated) with reasons.
async fn verify(
    db: &tokio_postgres::Client,
    acknowledged: &[Acknowledged],
) -> (Vec<String>, Vec<String>) {
    let mut lost = Vec::new();
    let mut duplicated = Vec::new();
    let rows = db
        .query(
            "SELECT (metadata->>'command_id')::uuid, count(*), count(DISTINCT transaction_id)
             FROM events WHERE metadata->>'command_id' IS NOT NULL GROUP BY 1",
            &[],
        )
        .await
        .expect("log read");
    let in_log: HashMap<Uuid, (i64, i64)> = rows
        .iter()
        .map(|r| (r.get::<_, Uuid>(0), (r.get(1), r.get(2))))
        .collect();
    for (command, (_, transactions)) in &in_log {
        if *transactions > 1 {
            duplicated.push(format!(
                "command {command} is in {transactions} transactions of the log"
            ));
        }
    }
    for ack in acknowledged {
        if !in_log.contains_key(&ack.command()) {
            lost.push(format!("{ack:?}: no event carries its command id"));
            continue;
        }
        let (found, what): (i64, String) = match ack {
            Acknowledged::Registered { email, .. } => (
                db.query_one("SELECT count(*) FROM accounts WHERE email = $1", &[email])
                    .await
                    .expect("accounts")
                    .get(0),
                "accounts".into(),
            ),
            Acknowledged::Scheduled { activity, title, .. } => (
                db.query_one(
                    "SELECT count(*) FROM calendar_activities WHERE id = $1 AND title = $2",
                    &[activity, title],
                )
                .await
                .expect("calendar")
                .get(0),
                "calendar_activities".into(),
            ),
            Acknowledged::Attended { learner, activity, .. } => (
                db.query_one(
                    "SELECT count(*) FROM transcript_entries WHERE learner_id = $1 AND activity_id = $2",
                    &[learner, activity],
                )
                .await
                .expect("transcript")
                .get(0),
                "transcript_entries".into(),
            ),
        };
        match found {
            0 => lost.push(format!("{ack:?}: not in {what}")),
            1 => {}
            n => duplicated.push(format!("{ack:?}: {n} rows in {what}")),
        }
    }
    (lost, duplicated)
}

async fn caught_up(db: &tokio_postgres::Client) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let behind: i64 = db
            .query_one(
                "SELECT count(*) FROM projection_checkpoints c, events e
                 WHERE (e.transaction_id, e.position) > (c.transaction_id::text::xid8, c.position)",
                &[],
            )
            .await
            .expect("checkpoints")
            .get(0);
        if behind == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "projections did not catch up in 120 s ({behind} behind)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn run(dir: &Path) -> Result<String, String> {
    let kills = setting("CRASH_KILLS", 5) as usize;
    let clients = setting("CRASH_CLIENTS", 6) as usize;
    let interval = Duration::from_millis(setting("CRASH_INTERVAL_MS", 2500));
    let started = Instant::now();
    let cluster = Cluster::create(&dir.join("cluster"));
    let url = cluster.url("portal_crash");
    let port = free_port();
    let client = Client {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| e.to_string())?,
        base: format!("http://127.0.0.1:{port}"),
    };
    let mut portal = Portal::start(&url, port, dir);
    client.wait_ready().await;
    // The demo organization and its staff member are made just after the server is ready.
    let staff = {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let answer = client
                .attempt(
                    "mutation($input: SignInInput!) { signIn(input: $input) { token } }",
                    &json!({ "input": { "organizationCode": DEMO_CODE, "email": DEMO_STAFF_EMAIL,
                                        "password": DEMO_STAFF_PASSWORD } }),
                    None,
                )
                .await;
            if let Answer::Done(data) = answer {
                break data["signIn"]["token"].as_str().expect("token").to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "the demo staff member cannot sign in"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    // Learners whose attendance staff record.
    for n in 0..8 {
        let input = json!({ "input": { "organizationCode": DEMO_CODE, "firstName": "Lee", "lastName": "Learner",
                                       "email": format!("learner{n}@crash.example"), "password": PASSWORD } });
        let deadline = Instant::now() + Duration::from_secs(60);
        while !matches!(
            client
                .attempt(
                    "mutation($input: RegisterAccountInput!) { registerAccount(input: $input) { message } }",
                    &input,
                    None,
                )
                .await,
            Answer::Done(_)
        ) {
            if Instant::now() > deadline {
                return Err("setup: a learner could not register".into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let db = connect(&url).await;
    caught_up(&db).await;
    let learners: Vec<Uuid> = db
        .query(
            "SELECT id FROM accounts WHERE email LIKE 'learner%@crash.example'",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|r| r.get(0))
        .collect();
    drop(db);
    if learners.len() != 8 {
        return Err(format!(
            "setup: {} learners in the read model, expected 8",
            learners.len()
        ));
    }

    let load = Arc::new(Load {
        client: client.clone(),
        staff,
        learners,
        activities: Mutex::new(Vec::new()),
        acknowledged: Mutex::new(Vec::new()),
        refused: Mutex::new(Vec::new()),
        seen: Mutex::new(HashMap::new()),
        draining: AtomicBool::new(false),
        sequence: AtomicUsize::new(0),
        answered: AtomicUsize::new(0),
        pairs: Mutex::new(std::collections::HashSet::new()),
        in_progress: AtomicUsize::new(0),
        sigterm_at: Mutex::new(None),
        cut: AtomicUsize::new(0),
    });
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let load = Arc::clone(&load);
            tokio::spawn(async move {
                while !load.draining.load(Ordering::SeqCst) {
                    load.one().await;
                }
            })
        })
        .collect();

    // 1. SIGKILL, restart, KILLS times.
    for _ in 0..kills {
        tokio::time::sleep(interval).await;
        portal.kill();
        portal = Portal::start(&url, port, dir);
        client.wait_ready().await;
    }

    // 2. The database crashes under a running server, and comes back.
    tokio::time::sleep(interval).await;
    let pid_before = portal.child.id();
    cluster.crash();
    let mut ready_while_away = Vec::new();
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        ready_while_away.push(client.ready().await);
    }
    cluster.start();
    load.answered.store(0, Ordering::SeqCst);
    let back = Instant::now();
    while load.answered.load(Ordering::SeqCst) < 10 {
        if back.elapsed() > Duration::from_secs(60) {
            return Err(
                "the server did not serve commands again within 60 s of the database's return"
                    .into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovered_in = back.elapsed();
    if portal.child.try_wait().ok().flatten().is_some() || portal.child.id() != pid_before {
        return Err("portal exited while the database was away".into());
    }
    client.wait_ready().await;
    tokio::time::sleep(interval).await;

    // 3. SIGTERM with requests in flight: they are answered, and the process exits 0.
    load.draining.store(true, Ordering::SeqCst);
    let in_flight = load.in_progress.load(Ordering::SeqCst);
    *load.sigterm_at.lock().expect("sigterm") = Some(Instant::now());
    let status = tokio::task::spawn_blocking(move || {
        let status = portal.terminate();
        (portal, status)
    })
    .await
    .map_err(|e| e.to_string())?;
    let (portal, exit) = status;
    for worker in workers {
        worker.await.map_err(|e| e.to_string())?;
    }
    drop(portal);
    let exit = exit.ok_or("portal did not exit within 30 s of SIGTERM")?;

    // 4. Once more until the read models have caught up, then the checks.
    let _portal = Portal::start(&url, port, dir);
    client.wait_ready().await;
    let db = connect(&url).await;
    caught_up(&db).await;
    let acknowledged = load.acknowledged.lock().expect("acknowledged").clone();
    let (lost, duplicated) = verify(&db, &acknowledged).await;
    let refused = load.refused.lock().expect("refused").clone();
    let seen = load.seen.lock().expect("seen").clone();
    let events: i64 = db
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .map_err(|e| e.to_string())?
        .get(0);

    let mut report = format!(
        "crash test: {kills} SIGKILLs, 1 database crash, 1 SIGTERM in {:.1} s with {clients} clients\n\
         acknowledged commands: {} (registerAccount {}, scheduleActivity {}, recordAttendanceFor {}); \
         {events} events in the log\n\
         lost: {}   duplicated: {}   refused on retry: {}\n\
         unanswered attempts retried: {:?}\n\
         /readyz while the database was away: {:?}\n\
         commands served again {:.1} s after the database's return; SIGTERM with {} request(s) in flight, {} cut: exit {:?}\n",
        started.elapsed().as_secs_f64(),
        acknowledged.len(),
        acknowledged.iter().filter(|a| matches!(a, Acknowledged::Registered { .. })).count(),
        acknowledged.iter().filter(|a| matches!(a, Acknowledged::Scheduled { .. })).count(),
        acknowledged.iter().filter(|a| matches!(a, Acknowledged::Attended { .. })).count(),
        lost.len(),
        duplicated.len(),
        refused.len(),
        seen,
        ready_while_away.iter().map(|(s, body)| format!("{s} {}", body["code"].as_str().unwrap_or("-"))).collect::<Vec<_>>(),
        recovered_in.as_secs_f64(),
        in_flight,
        load.cut.load(Ordering::SeqCst),
        exit.code(),
    );
    let mut failures = Vec::new();
    failures.extend(lost.iter().take(10).map(|l| format!("LOST {l}")));
    failures.extend(
        duplicated
            .iter()
            .take(10)
            .map(|d| format!("DUPLICATED {d}")),
    );
    failures.extend(
        refused
            .iter()
            .take(10)
            .map(|r| format!("a retried command was refused: {r}")),
    );
    if acknowledged.len() < 30 {
        failures.push(format!(
            "only {} commands were acknowledged: the load did not run",
            acknowledged.len()
        ));
    }
    if !seen.contains_key("503 DATABASE_UNAVAILABLE") {
        failures.push(
            "no GraphQL request was answered 503 DATABASE_UNAVAILABLE while the database was away"
                .into(),
        );
    }
    if seen.contains_key("DATABASE_UNAVAILABLE not 503") {
        failures.push("DATABASE_UNAVAILABLE was answered with another status than 503".into());
    }
    if !ready_while_away
        .iter()
        .any(|(s, body)| *s == 503 && body["code"] == "DATABASE_UNAVAILABLE")
    {
        failures.push("/readyz never said DATABASE_UNAVAILABLE while the database was away".into());
    }
    if load.cut.load(Ordering::SeqCst) > 0 {
        failures.push("requests in flight at SIGTERM were cut instead of answered".into());
    }
    if exit.code() != Some(0) {
        failures.push(format!("portal exited with {exit} after SIGTERM, not 0"));
    }
    if failures.is_empty() {
        report.push_str("crash test OK: zero lost, zero duplicated\n");
        Ok(report)
    } else {
        report.push_str(&failures.join("\n"));
        Err(report)
    }
}

fn main() -> ExitCode {
    // libtest's arguments (a filter, --list) mean nothing here; listing shows the one test.
    if std::env::args().any(|a| a == "--list") {
        println!("crash: test");
        return ExitCode::SUCCESS;
    }
    let dir = std::env::temp_dir().join(format!("portal-crash-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let outcome = runtime.block_on(run(&dir));
    let code = match outcome {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(report) => {
            eprintln!("{report}");
            let log = std::fs::read_to_string(dir.join("portal.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- last lines of portal.log ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
            ExitCode::FAILURE
        }
    };
    drop(runtime);
    let _ = std::fs::remove_dir_all(&dir);
    code
}
