//! Prometheus metrics at `/metrics`, and the span every HTTP request runs in.
//!
//! Counted as they happen: HTTP requests (route template, method, status) and their latency; GraphQL mutations
//! (the command, and `ok` or the error code) and their latency; commits to the log (in `portal_commands::metrics`).
//! Read from the database at each scrape: projection lag, the outbox backlog, the log's head; from the pool: its
//! connections. Labels hold route templates, command names and error codes only: no ids, no personal data.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{ServerResult, Value as GqlValue};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use subtle::ConstantTimeEq;
use tracing::Instrument;
use uuid::Uuid;

use crate::app::AppState;
use crate::request::RequestContext;

/// The header that ties a request to its logs and to the events it caused.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    command: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandName {
    command: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProjectionLabels {
    projection: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboxLabels {
    channel: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

type Latencies<L> = Family<L, Histogram, fn() -> Histogram>;
type Seconds = Gauge<f64, AtomicU64>;

/// The server's metrics and the registry they are exposed from.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Latencies<RouteLabels>,
    commands: Family<CommandLabels, Counter>,
    command_seconds: Latencies<CommandName>,
    projection_lag_events: Family<ProjectionLabels, Gauge>,
    projection_lag_seconds: Family<ProjectionLabels, Seconds>,
    outbox: Family<OutboxLabels, Gauge>,
    outbox_overdue_seconds: Family<ChannelLabels, Seconds>,
    log_head: Gauge,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    pool_waiting: Gauge,
    database_up: Gauge,
    token: Option<String>,
}

impl Metrics {
    /// Metrics with their registry; `token`, when set, is required as `Authorization: Bearer` to scrape.
    pub fn new(token: Option<String>) -> Self {
        let latency = portal_commands::metrics::latency_histogram as fn() -> Histogram;
        let metrics = Metrics {
            registry: Registry::default(),
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency),
            commands: Family::default(),
            command_seconds: Family::new_with_constructor(latency),
            projection_lag_events: Family::default(),
            projection_lag_seconds: Family::default(),
            outbox: Family::default(),
            outbox_overdue_seconds: Family::default(),
            log_head: Gauge::default(),
            pool_connections: Family::default(),
            pool_max: Gauge::default(),
            pool_waiting: Gauge::default(),
            database_up: Gauge::default(),
            token: token.filter(|t| !t.is_empty()),
        };
        let mut registry = Registry::default();
        registry.register(
            "portal_http_requests",
            "HTTP requests answered, by route template, method and status",
            metrics.requests.clone(),
        );
        registry.register(
            "portal_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            metrics.request_seconds.clone(),
        );
        registry.register(
            "portal_commands",
            "GraphQL mutations run, by command and outcome (ok, or the error code)",
            metrics.commands.clone(),
        );
        registry.register(
            "portal_command_duration_seconds",
            "Time to run a GraphQL mutation, by command",
            metrics.command_seconds.clone(),
        );
        portal_commands::metrics::register(&mut registry);
        registry.register(
            "portal_projection_lag_events",
            "Events in the log that a projection has not applied yet",
            metrics.projection_lag_events.clone(),
        );
        registry.register(
            "portal_projection_lag_seconds",
            "How long the oldest event a projection has not applied has waited",
            metrics.projection_lag_seconds.clone(),
        );
        registry.register(
            "portal_outbox_messages",
            "Messages not sent: pending (due or not), held for texting hours, retrying, dead; by channel",
            metrics.outbox.clone(),
        );
        registry.register(
            "portal_outbox_overdue_seconds",
            "How long the oldest due message waits to be sent, by channel",
            metrics.outbox_overdue_seconds.clone(),
        );
        registry.register(
            "portal_log_head_position",
            "Position of the last event in the log",
            metrics.log_head.clone(),
        );
        registry.register(
            "portal_db_pool_connections",
            "Connections of this process's pool, in use or idle",
            metrics.pool_connections.clone(),
        );
        registry.register(
            "portal_db_pool_max_connections",
            "Size limit of this process's pool",
            metrics.pool_max.clone(),
        );
        registry.register(
            "portal_db_pool_waiting",
            "Requests waiting for a connection of the pool",
            metrics.pool_waiting.clone(),
        );
        registry.register(
            "portal_database_up",
            "1 when the database answered the last scrape's queries, else 0",
            metrics.database_up.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    fn observe_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    fn observe_command(&self, command: &str, outcome: &str, took: Duration) {
        self.commands
            .get_or_create(&CommandLabels {
                command: command.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
        self.command_seconds
            .get_or_create(&CommandName {
                command: command.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// Reads what lives in the database (projections, outbox, log head) and the pool's state.
    async fn refresh(&self, state: &AppState) {
        let pool = state.pool.status();
        self.pool_max.set(pool.max_size as i64);
        self.pool_waiting.set(pool.waiting as i64);
        self.pool_connections
            .get_or_create(&PoolLabels { state: "idle" })
            .set(pool.available as i64);
        self.pool_connections
            .get_or_create(&PoolLabels { state: "in_use" })
            .set(pool.size.saturating_sub(pool.available) as i64);
        let read = tokio::time::timeout(Duration::from_secs(2), self.read_database(state)).await;
        self.database_up.set(i64::from(matches!(read, Ok(Ok(())))));
        if let Ok(Err(error)) = read {
            tracing::warn!(%error, "metrics: could not read the database");
        }
    }

    async fn read_database(&self, state: &AppState) -> Result<(), String> {
        // One connection for every read; the projections' lags without who runs them (`status` adds that).
        let client = state.pool.get().await.map_err(|e| e.to_string())?;
        let (head, projections) = portal_projections::status::lags(&client)
            .await
            .map_err(|e| e.to_string())?;
        self.log_head.set(head);
        self.projection_lag_events.clear();
        self.projection_lag_seconds.clear();
        for p in projections {
            let labels = ProjectionLabels { projection: p.name };
            self.projection_lag_events
                .get_or_create(&labels)
                .set(p.lag_events);
            self.projection_lag_seconds
                .get_or_create(&labels)
                .set(p.lag_seconds);
        }
        let rows = client
            .query(
                "SELECT channel,
                        CASE WHEN status = 'dead' THEN 'dead' WHEN held THEN 'held'
                             WHEN attempts > 0 THEN 'retrying' ELSE 'pending' END,
                        count(*),
                        coalesce(extract(epoch FROM now() - min(due_at) FILTER (WHERE due_at <= now())), 0)::float8
                 FROM outbox WHERE status IN ('pending', 'dead') GROUP BY 1, 2",
                &[],
            )
            .await
            .map_err(|e| e.to_string())?;
        self.outbox.clear();
        self.outbox_overdue_seconds.clear();
        for channel in ["email", "sms"] {
            for state in ["pending", "held", "retrying", "dead"] {
                self.outbox
                    .get_or_create(&OutboxLabels {
                        channel: channel.to_owned(),
                        state: state.to_owned(),
                    })
                    .set(0);
            }
            self.outbox_overdue_seconds
                .get_or_create(&ChannelLabels {
                    channel: channel.to_owned(),
                })
                .set(0.0);
        }
        for row in rows {
            let channel: String = row.get(0);
            let state: String = row.get(1);
            let count: i64 = row.get(2);
            let overdue: f64 = row.get(3);
            self.outbox
                .get_or_create(&OutboxLabels {
                    channel: channel.clone(),
                    state: state.clone(),
                })
                .set(count);
            if state != "dead" {
                let gauge = self
                    .outbox_overdue_seconds
                    .get_or_create(&ChannelLabels { channel });
                if overdue > gauge.get() {
                    gauge.set(overdue);
                }
            }
        }
        Ok(())
    }

    fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.token else {
            return true;
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
    }
}

/// `GET /metrics`: the OpenMetrics text exposition.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let metrics = state.metrics();
    if !metrics.allows(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "send the metrics token as Authorization: Bearer <token>\n",
        )
            .into_response();
    }
    metrics.refresh(&state).await;
    let mut body = String::new();
    if let Err(error) = prometheus_client::encoding::text::encode(&mut body, &metrics.registry) {
        tracing::error!(%error, "metrics: could not encode");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Middleware around every route: settles the correlation id (the client's `X-Correlation-Id` when it is a UUID,
/// else a new one, also handed to the handler and returned in the answer), runs the request in a `request` span
/// carrying it, logs one line when answered, and counts the request.
pub async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().as_str().to_owned();
    let correlation = request
        .headers()
        .get(CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v).ok())
        .unwrap_or_else(Uuid::new_v4);
    let header_value = HeaderValue::from_str(&correlation.to_string())
        .unwrap_or_else(|_| HeaderValue::from_static(""));
    request
        .headers_mut()
        .insert(CORRELATION_HEADER, header_value.clone());
    let span = tracing::info_span!("request", %method, %route, correlation_id = %correlation);
    let mut response = next.run(request).instrument(span.clone()).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    response
        .headers_mut()
        .insert(CORRELATION_HEADER, header_value);
    state
        .metrics()
        .observe_request(&method, &route, status, took);
    let duration_ms = took.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        // Probes and scrapes come every few seconds: keep them out of the info log.
        if matches!(route.as_str(), "/healthz" | "/readyz" | "/metrics") {
            tracing::debug!(status, duration_ms, "answered");
        } else {
            tracing::info!(status, duration_ms, "answered");
        }
    });
    response
}

/// GraphQL extension: every mutation runs in a `command` span (inside its request's span, so with the correlation
/// id), is logged once with its outcome, and is counted.
pub struct CommandObserver;

impl ExtensionFactory for CommandObserver {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CommandObserver)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for CommandObserver {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<GqlValue>> {
        if info.path_node.parent.is_some() || info.parent_type != "Mutation" {
            return next.run(ctx, info).await;
        }
        let command = info.name.to_owned();
        let correlation = ctx
            .data_opt::<RequestContext>()
            .map(|r| r.correlation_id.to_string())
            .unwrap_or_default();
        let span = tracing::info_span!("command", %command, correlation_id = %correlation);
        let started = Instant::now();
        let result = next.run(ctx, info).instrument(span.clone()).await;
        let took = started.elapsed();
        let outcome = match &result {
            Ok(_) => "ok".to_owned(),
            Err(error) => error
                .extensions
                .as_ref()
                .and_then(|e| e.get("code"))
                .and_then(|code| match code {
                    GqlValue::String(code) => Some(code.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "ERROR".to_owned()),
        };
        if let Some(state) = ctx.data_opt::<AppState>() {
            state.metrics().observe_command(&command, &outcome, took);
        }
        span.in_scope(|| {
            tracing::info!(
                %outcome,
                duration_ms = took.as_secs_f64() * 1000.0,
                "command finished"
            )
        });
        result
    }
}
