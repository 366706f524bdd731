//! The server under load over HTTP: a real `portal serve` process (release build) on a fresh database, driven by
//! this load generator.
//!
//! For each workload it measures the most the server does with 16 requests in flight (closed loop), then sends
//! requests at a fixed rate of half that (open loop; latency counts from each request's scheduled time, so a slow
//! server cannot hide its queue) and reports throughput and p50/p99. Workloads: the mutations recordAttendance,
//! bookAppointment and signIn (argon2id included; the hash alone is measured beside it), and the queries
//! transcript, calendar and openSlots, each also answered by a minimal axum handler that runs the same read-model
//! SQL without the gateway (no GraphQL, no session check), at the same rate. During the fixed-rate recordAttendance
//! run an observer reads the transcript projection's checkpoint every millisecond: the live lag of an event is the
//! time from its mutation's answer to the first reading whose checkpoint covers it (the read model's rows commit
//! with the checkpoint, so from then on a query sees it). The server's resident memory is sampled every 100 ms.
//!
//! Run: `cargo bench -p portal-gateway --bench load`. BENCH_SECONDS per measurement (default 5), BENCH_DATABASE_URL
//! (default postgres://postgres@127.0.0.1:5432/postgres). Results: a table on stdout, JSON in target/bench-load.json.

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use deadpool_postgres::Pool;
use portal_commands::credentials::BreachedPasswords;
use portal_commands::credentials::PasswordHasher;
use portal_commands::testing::bench::{self, percentile, BenchDatabase};
use portal_domain::values::Password;
use portal_gateway::demo::{DEMO_CODE, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD};
use portal_projections::calendar::{self, CalendarFilter};
use portal_projections::schedule::{self, SlotSearch};
use portal_projections::transcript::{self, TranscriptFilter};
use serde_json::{json, Value};
use uuid::Uuid;

mod common;
use common::{
    caught_up, closed_loop, in_minutes, max_then_half, open_loop, resident_kib, serve, sign_in,
    stats, Client, Op, Row, PASSWORD,
};

/// The plain-SQL side: the read models' own query functions behind a minimal axum handler.
#[derive(Clone)]
struct Plain {
    pool: Pool,
    organization: Uuid,
    /// For requests with a bearer token: the server's own session check, before the query.
    store: portal_commands::Store<portal_commands::log::PgEventLog>,
}

/// The server's session check in front of the plain handlers, for requests that carry a token (requests without
/// one go straight to the query): 401 when it refuses.
async fn session_check(
    State(plain): State<Plain>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let token = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    if let Some(token) = token {
        let checked =
            portal_commands::sessions::authenticate(&plain.store, &token, chrono::Utc::now()).await;
        if checked.is_err() {
            return axum::http::StatusCode::UNAUTHORIZED.into_response();
        }
    }
    next.run(request).await
}

#[derive(serde::Deserialize)]
struct Who {
    id: Uuid,
}

async fn plain_transcript(State(plain): State<Plain>, Query(who): Query<Who>) -> Json<Value> {
    let filter = TranscriptFilter {
        learner: Some(who.id),
        ..TranscriptFilter::default()
    };
    // A failed read answers null, which the load generator counts as a failure, never as a fast success.
    let Ok(lines) = transcript::lines(&plain.pool, plain.organization, &filter).await else {
        return Json(Value::Null);
    };
    let Ok(totals) = transcript::totals(&plain.pool, plain.organization, who.id).await else {
        return Json(Value::Null);
    };
    Json(json!({
        "learnerId": who.id,
        "entries": lines.iter().map(|l| json!({ "title": l.title, "status": l.status, "amount": l.amount })).collect::<Vec<_>>(),
        "totals": totals.iter().map(|t| json!({ "year": t.year, "awarded": t.awarded })).collect::<Vec<_>>(),
    }))
}

async fn plain_calendar(State(plain): State<Plain>) -> Json<Value> {
    let Ok(rows) = calendar::page(
        &plain.pool,
        plain.organization,
        &CalendarFilter::default(),
        None,
        21,
    )
    .await
    else {
        return Json(Value::Null);
    };
    Json(json!(rows
        .iter()
        .take(20)
        .map(|r| json!({ "id": r.id, "title": r.title, "startsAt": r.starts_at }))
        .collect::<Vec<_>>()))
}

async fn plain_slots(State(plain): State<Plain>, Query(who): Query<Who>) -> Json<Value> {
    let search = SlotSearch {
        provider: Some(who.id),
        ..SlotSearch::default()
    };
    let Ok(rows) = schedule::open_slots(&plain.pool, plain.organization, &search, 50).await else {
        return Json(Value::Null);
    };
    Json(json!(rows
        .iter()
        .map(|r| json!({ "id": r.id, "startsAt": r.starts_at, "provider": r.provider, "location": r.location }))
        .collect::<Vec<_>>()))
}

#[tokio::main]
async fn main() {
    if !bench::measuring() {
        return;
    }
    let seconds: f64 = bench::setting("BENCH_SECONDS", 5.0);
    let database = BenchDatabase::create(8).await;
    let dir = std::env::temp_dir().join(format!("portal-load-{}", Uuid::new_v4().simple()));
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
    let memory = Arc::new(Mutex::new(Vec::<(f64, u64)>::new()));
    let sampler = {
        let memory = Arc::clone(&memory);
        let started = Instant::now();
        tokio::spawn(async move {
            loop {
                let kib = resident_kib(pid);
                memory
                    .lock()
                    .expect("memory")
                    .push((started.elapsed().as_secs_f64(), kib));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let idle_kib = resident_kib(pid);

    // Setup: the demo organization's staff member, activities in progress, learners, a clinic with open slots and
    // patients. The volumes cover every request the measurements below can send.
    let setup = Instant::now();
    caught_up(&database.pool).await;
    let staff = sign_in(
        &client,
        json!({ "organizationCode": DEMO_CODE, "email": DEMO_STAFF_EMAIL, "password": DEMO_STAFF_PASSWORD }),
    )
    .await;
    let learners_n = 40;
    // Enough (learner, activity) pairs for 2,500 recordAttendance a second, and slots for 1,400 bookings a second,
    // over both measurements: when they run out, requests fail for want of data, not of the server. (More slots
    // than needed would slow openSlots: with 20,900 open slots it took 220 ms in plain SQL, against 2 ms with 5,700.)
    let activities_n = ((seconds * 4000.0) as usize / learners_n).max(10);
    let mut activities = Vec::new();
    for n in 0..activities_n {
        client
            .must(
                "mutation($input: ActivityInput!) { scheduleActivity(input: $input) { activityId } }",
                json!({ "input": {
                    "title": format!("Grand Rounds {n}"), "code": format!("LOAD{n}"),
                    "startsAt": in_minutes(-5), "endsAt": in_minutes(600), "minutesBefore": 15, "minutesAfter": 30,
                    "credits": [{ "type": "AMA_PRA_CATEGORY_1", "amount": "1.00" }],
                } }),
                Some(&staff),
            )
            .await;
        activities.push(format!("load{n}"));
    }
    let learners = common::learners(&client, &mail, learners_n, "load.example").await;
    let common::Catalogue {
        location,
        provider,
        reason,
    } = common::catalogue(&client, &staff).await;
    let hours = common::every_day("00:00", "23:45");
    // A publication makes at most 500 slots: five days of 95 quarter hours each.
    let publications = ((seconds * 1400.0) / 475.0).ceil() as i64 + 1;
    for publication in 0..publications {
        let from = (chrono::Utc::now() + chrono::Duration::days(2 + 5 * publication)).date_naive();
        client
            .must(
                "mutation($input: PublishSlotsInput!) { publishSlots(input: $input) { created } }",
                json!({ "input": { "providerId": provider, "locationId": location, "from": from,
                                   "to": from + chrono::Duration::days(4), "slotMinutes": 15, "hours": hours } }),
                Some(&staff),
            )
            .await;
    }
    let mut patients = Vec::new();
    for n in 0..10 {
        patients.push(common::patient(&client, &mail, &staff, ("LD", "load"), n).await);
    }
    // Everything set up is in the read models before anything is measured.
    caught_up(&database.pool).await;
    let setup_pool = database.pool.clone();
    let slots: Vec<Uuid> = setup_pool
        .get()
        .await
        .expect("connection")
        .query(
            "SELECT id FROM slots WHERE status = 'open' ORDER BY starts_at",
            &[],
        )
        .await
        .expect("slots")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let organization: Uuid = setup_pool
        .get()
        .await
        .expect("connection")
        .query_one(
            "SELECT id FROM organizations WHERE code = $1",
            &[&DEMO_CODE],
        )
        .await
        .expect("organization")
        .get(0);
    println!(
        "setup: {} activities, {learners_n} learners, {} open slots, {} patients in {:.1} s; server resident memory idle {} MiB",
        activities.len(),
        slots.len(),
        patients.len(),
        setup.elapsed().as_secs_f64(),
        idle_kib / 1024
    );

    // The plain-SQL server, in this process, on its own pool of the same size as the server's.
    let plain_pool = portal_commands::db::pool(database.config.clone(), 16).expect("pool");
    let key =
        portal_gateway::app::load_master_key(None, &dir.join("master.key")).expect("master key");
    let (_, store) = portal_gateway::app::prepare(&database.config, 16, &key, "http://localhost")
        .await
        .expect("store");
    let plain = Plain {
        pool: plain_pool,
        organization,
        store,
    };
    let router = Router::new()
        .route("/transcript", get(plain_transcript))
        .route("/calendar", get(plain_calendar))
        .route("/slots", get(plain_slots))
        .route_layer(axum::middleware::from_fn_with_state(
            plain.clone(),
            session_check,
        ))
        .with_state(plain);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let plain_base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await });

    let mut rows: Vec<Row> = Vec::new();
    let learners = Arc::new(learners);
    let activities = Arc::new(activities);

    // recordAttendance: each request a new (learner, activity) pair.
    let pairs = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(Mutex::new(Vec::<(i64, Instant)>::new()));
    let record: Op = {
        let (client, learners, activities, acknowledged) = (
            client.clone(),
            Arc::clone(&learners),
            Arc::clone(&activities),
            Arc::clone(&acknowledged),
        );
        Arc::new(move |n| {
            let (client, learners, activities, acknowledged) = (
                client.clone(),
                Arc::clone(&learners),
                Arc::clone(&activities),
                Arc::clone(&acknowledged),
            );
            Box::pin(async move {
                let (learner, activity) = (n % learners.len(), n / learners.len());
                let Some(code) = activities.get(activity) else {
                    return false;
                };
                let answer = client
                    .graphql(
                        "mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) { status position } }",
                        json!({ "input": { "code": code } }),
                        Some(&learners[learner].1),
                    )
                    .await;
                match answer {
                    Ok(data) => {
                        if let Some(position) = data["recordAttendance"]["position"].as_i64() {
                            acknowledged
                                .lock()
                                .expect("acknowledged")
                                .push((position, Instant::now()));
                        }
                        true
                    }
                    Err(_) => false,
                }
            })
        })
    };
    let max = closed_loop(Arc::clone(&record), seconds, Arc::clone(&pairs)).await;
    rows.push(Row {
        workload: "recordAttendance".into(),
        mode: "max, 16 in flight",
        stats: max,
        reference: None,
    });
    acknowledged.lock().expect("acknowledged").clear();
    // The observer of the transcript projection's checkpoint, during the fixed-rate run.
    let observed = Arc::new(Mutex::new(Vec::<(Instant, i64, i64)>::new()));
    let observer = {
        let (pool, observed) = (database.pool.clone(), Arc::clone(&observed));
        tokio::spawn(async move {
            let client = pool.get().await.expect("connection");
            let statement = client
                .prepare("SELECT transaction_id::text::bigint, position FROM projection_checkpoints WHERE name = 'transcript'")
                .await
                .expect("prepare");
            let mut last = (0, 0);
            loop {
                if let Ok(row) = client.query_one(&statement, &[]).await {
                    let now = (row.get::<_, i64>(0), row.get::<_, i64>(1));
                    if now != last {
                        observed
                            .lock()
                            .expect("observed")
                            .push((Instant::now(), now.0, now.1));
                        last = now;
                    }
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let half = open_loop(
        Arc::clone(&record),
        max.per_second / 2.0,
        seconds,
        Arc::clone(&pairs),
    )
    .await;
    rows.push(Row {
        workload: "recordAttendance".into(),
        mode: "fixed rate, half of max",
        stats: half,
        reference: None,
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    observer.abort();
    let lag = {
        let acknowledged = std::mem::take(&mut *acknowledged.lock().expect("acknowledged"));
        let observed = observed.lock().expect("observed").clone();
        let client = database.pool.get().await.expect("connection");
        let positions: Vec<i64> = acknowledged.iter().map(|(p, _)| *p).collect();
        let transactions: std::collections::HashMap<i64, i64> = client
            .query(
                "SELECT position, transaction_id::text::bigint FROM events WHERE position = ANY($1)",
                &[&positions],
            )
            .await
            .expect("transactions")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let mut lags: Vec<f64> = acknowledged
            .iter()
            .filter_map(|(position, acked)| {
                let transaction = transactions.get(position)?;
                let (seen, _, _) = observed
                    .iter()
                    .find(|(_, t, p)| (*t, *p) >= (*transaction, *position))?;
                Some(seen.saturating_duration_since(*acked).as_secs_f64() * 1000.0)
            })
            .collect();
        let covered = lags.len();
        lags.sort_by(f64::total_cmp);
        (
            percentile(&lags, 0.5),
            percentile(&lags, 0.99),
            covered,
            acknowledged.len(),
        )
    };

    // bookAppointment by staff for a patient: each request a new slot.
    let booked = Arc::new(AtomicUsize::new(0));
    let slots = Arc::new(slots);
    let patients = Arc::new(patients);
    let book: Op = {
        let (client, slots, patients, staff, reason) = (
            client.clone(),
            Arc::clone(&slots),
            Arc::clone(&patients),
            staff.clone(),
            reason.clone(),
        );
        Arc::new(move |n| {
            let (client, slots, patients, staff, reason) = (
                client.clone(),
                Arc::clone(&slots),
                Arc::clone(&patients),
                staff.clone(),
                reason.clone(),
            );
            Box::pin(async move {
                let Some(slot) = slots.get(n) else {
                    return false;
                };
                client
                    .graphql(
                        "mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { id position } }",
                        json!({ "input": { "slotId": slot, "reasonId": reason, "patientId": patients[n % patients.len()] } }),
                        Some(&staff),
                    )
                    .await
                    .is_ok()
            })
        })
    };
    max_then_half(&mut rows, "bookAppointment", &book, seconds, &booked).await;

    // signIn, argon2id included; and the hash alone, in this process, with the server's parameters.
    let sign_in_op: Op = {
        let (client, learners) = (client.clone(), Arc::clone(&learners));
        Arc::new(move |n| {
            let (client, learners) = (client.clone(), Arc::clone(&learners));
            Box::pin(async move {
                let email = &learners[n % learners.len()].2;
                client
                    .graphql(
                        "mutation($input: SignInInput!) { signIn(input: $input) { token } }",
                        json!({ "input": { "organizationCode": DEMO_CODE, "email": email, "password": PASSWORD } }),
                        None,
                    )
                    .await
                    .is_ok()
            })
        })
    };
    let counter = Arc::new(AtomicUsize::new(0));
    max_then_half(
        &mut rows,
        "signIn (argon2id included)",
        &sign_in_op,
        seconds,
        &counter,
    )
    .await;
    let argon2 = {
        let hasher = PasswordHasher::new().expect("hasher");
        let password = Password::parse(PASSWORD, &BreachedPasswords).expect("password");
        let hash = hasher.hash(&password).expect("hash");
        let mut latencies = Vec::new();
        let started = Instant::now();
        while started.elapsed().as_secs_f64() < seconds.min(3.0) {
            let began = Instant::now();
            assert!(hasher.verify(&hash, PASSWORD));
            latencies.push(began.elapsed().as_secs_f64() * 1000.0);
        }
        stats(latencies, 0, started.elapsed().as_secs_f64())
    };
    rows.push(Row {
        workload: "argon2id verify alone (1 thread)".into(),
        mode: "in process",
        stats: argon2,
        reference: None,
    });

    // Queries through GraphQL and the same read-model SQL through the plain handler, at the same fixed rate.
    let (learner_id, learner_token) = (learners[0].0.clone(), learners[0].1.clone());
    let queries: Vec<(&str, String, Value, String)> = vec![
        (
            "transcript",
            "query { transcript { learnerId entries { title status amount } totals { year awarded } } }".into(),
            json!({}),
            format!("{plain_base}/transcript?id={learner_id}"),
        ),
        (
            "calendar (first 20)",
            "query { calendar(first: 20) { edges { node { id title startsAt } } } }".into(),
            json!({}),
            format!("{plain_base}/calendar"),
        ),
        (
            "openSlots (50)",
            "query($p: ID) { openSlots(providerId: $p, first: 50) { id startsAt provider location } }".into(),
            json!({ "p": provider }),
            format!("{plain_base}/slots?id={provider}"),
        ),
    ];
    let mut overheads = Vec::new();
    for (name, query, variables, plain_url) in queries {
        let graphql_op: Op = {
            let (client, query, variables, token) = (
                client.clone(),
                query.clone(),
                variables.clone(),
                learner_token.clone(),
            );
            Arc::new(move |_| {
                let (client, query, variables, token) = (
                    client.clone(),
                    query.clone(),
                    variables.clone(),
                    token.clone(),
                );
                Box::pin(async move {
                    client
                        .graphql(&query, variables, Some(&token))
                        .await
                        .is_ok()
                })
            })
        };
        let plain = |token: Option<String>| -> Op {
            let (http, url) = (client.http.clone(), plain_url.clone());
            Arc::new(move |_| {
                let (http, url, token) = (http.clone(), url.clone(), token.clone());
                Box::pin(async move {
                    let mut request = http.get(&url);
                    if let Some(token) = token {
                        request = request.bearer_auth(token);
                    }
                    match request.send().await {
                        Ok(response) => response.json::<Value>().await.is_ok_and(|b| !b.is_null()),
                        Err(_) => false,
                    }
                })
            })
        };
        let plain_op = plain(None);
        let checked_op = plain(Some(learner_token.clone()));
        let counter = Arc::new(AtomicUsize::new(0));
        let graphql_max = closed_loop(Arc::clone(&graphql_op), seconds, Arc::clone(&counter)).await;
        let plain_max = closed_loop(Arc::clone(&plain_op), seconds, Arc::clone(&counter)).await;
        rows.push(Row {
            workload: format!("{name}, GraphQL"),
            mode: "max, 16 in flight",
            stats: graphql_max,
            reference: Some(plain_max),
        });
        rows.push(Row {
            workload: format!("{name}, plain SQL handler"),
            mode: "max, 16 in flight",
            stats: plain_max,
            reference: None,
        });
        let rate = graphql_max.per_second / 2.0;
        let graphql_half =
            open_loop(Arc::clone(&graphql_op), rate, seconds, Arc::clone(&counter)).await;
        let plain_half =
            open_loop(Arc::clone(&plain_op), rate, seconds, Arc::clone(&counter)).await;
        let checked_half =
            open_loop(Arc::clone(&checked_op), rate, seconds, Arc::clone(&counter)).await;
        rows.push(Row {
            workload: format!("{name}, GraphQL"),
            mode: "fixed rate, half of GraphQL max",
            stats: graphql_half,
            reference: Some(plain_half),
        });
        rows.push(Row {
            workload: format!("{name}, plain SQL handler"),
            mode: "fixed rate, half of GraphQL max",
            stats: plain_half,
            reference: None,
        });
        overheads.push(json!({
            "query": name, "graphql_p50_ms": graphql_half.p50_ms, "graphql_p99_ms": graphql_half.p99_ms,
            "p50_ratio_to_plain": graphql_half.p50_ms / plain_half.p50_ms,
            "p99_ratio_to_plain": graphql_half.p99_ms / plain_half.p99_ms,
            "p50_ratio_to_plain_with_session_check": graphql_half.p50_ms / checked_half.p50_ms,
            "p99_ratio_to_plain_with_session_check": graphql_half.p99_ms / checked_half.p99_ms,
        }));
        rows.push(Row {
            workload: format!("{name}, plain + session check"),
            mode: "fixed rate, half of GraphQL max",
            stats: checked_half,
            reference: Some(plain_half),
        });
    }
    sampler.abort();
    let samples = memory.lock().expect("memory").clone();
    let peak_kib = samples.iter().map(|(_, kib)| *kib).max().unwrap_or(0);
    let end_kib = resident_kib(pid);

    println!("\nthe server over HTTP, {seconds} s per measurement");
    let results = common::table(&rows);
    for overhead in &overheads {
        println!(
            "{}: GraphQL at a fixed rate, p50 {:.2} x the plain handler's ({:.2} x with the session check), p99 {:.2} x ({:.2} x); target 1.3",
            overhead["query"].as_str().unwrap_or_default(),
            overhead["p50_ratio_to_plain"].as_f64().unwrap_or_default(),
            overhead["p50_ratio_to_plain_with_session_check"].as_f64().unwrap_or_default(),
            overhead["p99_ratio_to_plain"].as_f64().unwrap_or_default(),
            overhead["p99_ratio_to_plain_with_session_check"].as_f64().unwrap_or_default(),
        );
    }
    println!(
        "\nlive lag of the transcript projection at half the maximum recordAttendance rate: p50 {:.1} ms, p99 {:.1} ms \
         ({} of {} acknowledged events observed; target p99 < 50 ms)",
        lag.0, lag.1, lag.2, lag.3
    );
    println!(
        "server resident memory: idle {} MiB, peak under load {} MiB, at the end {} MiB ({} samples)",
        idle_kib / 1024,
        peak_kib / 1024,
        end_kib / 1024,
        samples.len()
    );
    drop(server);
    database.drop_database().await;
    let _ = std::fs::remove_dir_all(&dir);
    let target = bench::write_results(
        "bench-load.json",
        &json!({
            "seconds": seconds, "rows": results, "graphql_overhead": overheads,
            "live_lag": { "p50_ms": lag.0, "p99_ms": lag.1, "observed": lag.2, "acknowledged": lag.3, "target_p99_ms": 50 },
            "memory_kib": { "idle": idle_kib, "peak": peak_kib, "end": end_kib,
                            "samples": samples.iter().map(|(t, kib)| json!([t, kib])).collect::<Vec<_>>() },
        }),
    );
    println!("results written to {}", target.display());
}
