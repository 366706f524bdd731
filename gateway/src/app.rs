//! Assembling and starting the server: database, projectors, mailer, HTTP.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use deadpool_postgres::Pool;
use portal_commands::credentials::PasswordHasher;
use portal_commands::db::{self, DbError};
use portal_commands::log::PgEventLog;
use portal_commands::personal_data::KeyRing;
use portal_commands::secrets::{self, KeyError, MasterKey, Secrets};
use portal_commands::{StartupError, Store};
use portal_projections::accounts::Accounts;
use portal_projections::calendar::Calendar;
use portal_projections::care::Care;
use portal_projections::lockout::Lockout;
use portal_projections::organizations::Organizations;
use portal_projections::patients::Patients;
use portal_projections::schedule::Schedule;
use portal_projections::transcript::Transcript;
use portal_projections::{listener, Projection, Runner, RunnerSettings, Source};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio_postgres::Config;

use crate::cli::{DeliveryArgs, ServeArgs};
use crate::delivery::{Delivery, DeliverySettings, EmailTransport, TextTransport};
use crate::graphql::{self, PortalSchema};
use crate::{exports, health, metrics, sms, ws};

/// Largest GraphQL request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The database could not be prepared.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The write side could not start.
    #[error(transparent)]
    Startup(#[from] StartupError),
    /// The master key is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A setting is wrong.
    #[error("{0}")]
    Config(String),
    /// A file or socket failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
    /// The write side.
    pub store: Store<PgEventLog>,
    /// Connections for read models.
    pub pool: Pool,
    /// This server's public address as outside systems call it (no trailing slash).
    pub api_url: String,
}

struct StateInner {
    schema: OnceLock<PortalSchema>,
    metrics: crate::metrics::Metrics,
    stopping: watch::Receiver<bool>,
    sign_in_limiter: SignInLimiter,
    sms_limiter: SmsLimiter,
    throttle: crate::throttle::Throttle,
    socket_slots: Arc<crate::ws::SocketSlots>,
    trusted_proxies: Vec<ipnet::IpNet>,
    trusted_documents: Option<crate::graphql::trusted::TrustedDocuments>,
    session_cookie: crate::cookies::SessionCookie,
    allowed_origins: Vec<String>,
    pinned_page: Option<axum::body::Bytes>,
    clock_offset_seconds: std::sync::atomic::AtomicI64,
    processor: crate::payments::stripe::Processor,
}

/// Sign-in attempts per client network (an IPv4 address or an IPv6 /64, see `throttle::client_key`).
pub type SignInLimiter = governor::DefaultKeyedRateLimiter<std::net::IpAddr>;

/// Texts handled per sender number (E.164), so that one phone cannot guess activity codes or addresses at speed.
pub type SmsLimiter = governor::DefaultKeyedRateLimiter<String>;

/// Texts one number may send per minute before they go unanswered.
pub const SMS_PER_MINUTE: u32 = 10;

impl AppState {
    /// The GraphQL schema.
    pub fn schema(&self) -> &PortalSchema {
        self.inner
            .schema
            .get()
            .unwrap_or_else(|| unreachable!("the schema is set before the server starts"))
    }

    /// The time commands and sessions are judged at: the system clock, plus any offset set by
    /// [`AppState::advance_clock`].
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        portal_commands::handler::now()
            + chrono::Duration::seconds(self.inner.clock_offset_seconds.load(Ordering::SeqCst))
    }

    /// Moves the server's clock forward, for tests of expiry (an activation or reset link, a session, a cool-down).
    pub fn advance_clock(&self, by: chrono::Duration) {
        self.inner
            .clock_offset_seconds
            .fetch_add(by.num_seconds(), Ordering::SeqCst);
    }

    /// The per-address limiter of sign-in attempts.
    pub fn sign_in_limiter(&self) -> &SignInLimiter {
        &self.inner.sign_in_limiter
    }

    /// The budgets of the costly or guessable requests.
    pub fn throttle(&self) -> &crate::throttle::Throttle {
        &self.inner.throttle
    }

    /// The registered operations, when only they may run (`--trusted-documents`).
    pub fn trusted_documents(&self) -> Option<&crate::graphql::trusted::TrustedDocuments> {
        self.inner.trusted_documents.as_ref()
    }

    /// The browser session cookie of this deployment.
    pub fn session_cookie(&self) -> &crate::cookies::SessionCookie {
        &self.inner.session_cookie
    }

    /// The app's page naming the one organization this deployment is pinned to (`--organization`), if it is.
    pub fn pinned_page(&self) -> Option<&axum::body::Bytes> {
        self.inner.pinned_page.as_ref()
    }

    /// The origins whose pages may use the session cookie (the portals' own, and `--allowed-origins`).
    pub fn allowed_origins(&self) -> &[String] {
        &self.inner.allowed_origins
    }

    /// The open WebSockets of each session.
    pub fn socket_slots(&self) -> &Arc<crate::ws::SocketSlots> {
        &self.inner.socket_slots
    }

    /// The reverse proxies whose `X-Forwarded-For` is believed.
    pub fn trusted_proxies(&self) -> &[ipnet::IpNet] {
        &self.inner.trusted_proxies
    }

    /// The context of an HTTP request: who calls, from where, at what time.
    pub fn request_context(
        &self,
        headers: &axum::http::HeaderMap,
        peer: Option<SocketAddr>,
    ) -> crate::request::RequestContext {
        let mut context = crate::request::RequestContext::from_parts(
            headers,
            peer,
            self.trusted_proxies(),
            self.now(),
        );
        // A browser holds its session in the HttpOnly cookie; a bearer header, when given, wins.
        if context.bearer.is_none() {
            context.bearer = self.session_cookie().read(headers);
            context.cookie_session = context.bearer.is_some();
        }
        context
    }

    /// The payment processor's API.
    pub fn processor(&self) -> &crate::payments::stripe::Processor {
        &self.inner.processor
    }

    /// The per-number limiter of inbound texts.
    pub fn sms_limiter(&self) -> &SmsLimiter {
        &self.inner.sms_limiter
    }

    /// Turns true when the server begins to shut down (long-lived connections such as subscriptions then close).
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.inner.stopping.clone()
    }

    /// The server's metrics.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.inner.metrics
    }
}

/// Reads the master key: the value given, else the key file, which is created with a new key when missing.
pub fn load_master_key(value: Option<&str>, file: &Path) -> Result<MasterKey, AppError> {
    if let Some(value) = value {
        return Ok(MasterKey::from_base64(value)?);
    }
    match std::fs::read_to_string(file) {
        Ok(text) => Ok(MasterKey::from_base64(&text)?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKey::generate();
            if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            write_private(file, &key.to_base64())?;
            tracing::warn!(
                file = %file.display(),
                "created a new master key for development; in production set PORTAL_MASTER_KEY from a secret store"
            );
            Ok(key)
        }
        Err(error) => Err(error.into()),
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())
}

/// Creates the database when missing, applies migrations, checks the master key; returns the pool and store.
pub async fn prepare(
    database: &Config,
    pool_size: usize,
    master_key: &MasterKey,
    public_url: &str,
) -> Result<(Pool, Store<PgEventLog>), AppError> {
    if db::create_database_if_missing(database).await? {
        tracing::info!(
            database = database.get_dbname().unwrap_or_default(),
            "created database"
        );
    }
    let pool = db::pool(database.clone(), pool_size)?;
    db::migrate(&pool).await?;
    let secrets = Secrets::derive(master_key);
    secrets::verify_master_key(&pool, &secrets).await?;
    Ok((pool.clone(), store_on(pool, secrets, public_url)?))
}

/// Like [`prepare`], for the server: the owner migrates and checks the key on one connection, and the pool the
/// server then uses acts as the application's role (`portal_app`), which may not change or remove a row of the
/// audit trail. Returns the connection settings the server's other connections (projection locks, LISTEN, the
/// delivery worker) use.
pub async fn prepare_app(
    database: &Config,
    pool_size: usize,
    master_key: &MasterKey,
    public_url: &str,
) -> Result<(Pool, Store<PgEventLog>, Config), AppError> {
    let (owner, _) = prepare(database, 1, master_key, public_url).await?;
    drop(owner);
    let app = db::as_app(database);
    let pool = db::pool(app.clone(), pool_size)?;
    let store = store_on(pool.clone(), Secrets::derive(master_key), public_url)?;
    Ok((pool, store, app))
}

fn store_on(pool: Pool, secrets: Secrets, public_url: &str) -> Result<Store<PgEventLog>, AppError> {
    let passwords = PasswordHasher::new().map_err(|e| AppError::Config(e.to_string()))?;
    let store = Store {
        log: PgEventLog::new(pool.clone()),
        keys: KeyRing::postgres(pool.clone(), secrets.clone()),
        secrets,
        passwords: Arc::new(passwords),
        activity: portal_commands::session_activity::SessionActivity::Postgres(pool.clone()),
        public_url: public_url.trim_end_matches('/').to_owned(),
        aggregates: portal_commands::aggregates::AggregateCache::default(),
    };
    Ok(store)
}

/// A running server.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Shared state (for in-process callers such as the demo and tests).
    pub state: AppState,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting, finishes requests in flight, stops background tasks at a batch boundary.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        self.server
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    /// Waits until the server stops by itself (it does not, short of an error) or `signal` resolves.
    pub async fn until(self, signal: impl std::future::Future<Output = ()>) -> std::io::Result<()> {
        signal.await;
        self.shutdown().await
    }
}

fn spawn_runner<P: Projection>(
    projection: P,
    source: &Source,
    pool: &Pool,
    config: &Config,
    wake: &Arc<Notify>,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let runner = Runner::new(
        projection,
        source.clone(),
        pool.clone(),
        config.clone(),
        RunnerSettings::default(),
        wake.clone(),
    );
    tokio::spawn(async move {
        if let Err(error) = runner.run(stop).await {
            tracing::error!(%error, "projection runner stopped");
        }
    })
}

/// The origins whose pages may use the session cookie: the public web address's, the API's, and any given.
fn allowed_origins(public_url: &str, args: &ServeArgs) -> Vec<String> {
    let mut origins: Vec<String> = std::iter::once(public_url)
        .chain(args.api_url.as_deref())
        .chain(args.allowed_origins.iter().map(String::as_str))
        .filter_map(crate::cookies::origin_of)
        .collect();
    origins.sort();
    origins.dedup();
    origins
}

/// Prepares the database and starts everything; the server listens on `args.listen` (port 0 picks one).
pub async fn start(
    database: Config,
    pool_size: usize,
    master_key: MasterKey,
    args: &ServeArgs,
) -> Result<Running, AppError> {
    // Named, so that `portal projections status` can tell which process runs a projection.
    let mut database = database;
    if database.get_application_name().is_none() {
        database.application_name("portal");
    }
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    // The server answers from the start: while migrations run, /healthz says the process is up and everything else
    // (/readyz included) says 503 STARTING, instead of leaving connections hanging.
    let (stop, stop_rx) = watch::channel(false);
    let serving: Arc<OnceLock<Router>> = Arc::new(OnceLock::new());
    let front = Router::new()
        .fallback(dispatch)
        .with_state(Arc::clone(&serving));
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            front.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = server_stop.wait_for(|stopped| *stopped).await;
        })
        .await
    });
    // With port 0 the real port is known only now; links must point at it.
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let trusted_documents = match &args.trusted_documents {
        Some(path) => match crate::graphql::trusted::TrustedDocuments::load(path) {
            Ok(documents) => Some(documents),
            Err(error) => {
                let _ = stop.send(true);
                let _ = server.await;
                return Err(AppError::Config(error.to_string()));
            }
        },
        None => None,
    };
    let prepared = prepare_app(&database, pool_size, &master_key, &public_url).await;
    let (pool, store, database) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            let _ = stop.send(true);
            let _ = server.await;
            return Err(error);
        }
    };
    let state = AppState {
        inner: Arc::new(StateInner {
            schema: OnceLock::new(),
            metrics: crate::metrics::Metrics::new(args.metrics_token.clone()),
            stopping: stop_rx.clone(),
            clock_offset_seconds: std::sync::atomic::AtomicI64::new(0),
            processor: crate::payments::stripe::Processor::new(&args.payments_api_url)
                .map_err(AppError::Config)?,
            sms_limiter: governor::RateLimiter::keyed(governor::Quota::per_minute(
                std::num::NonZeroU32::new(SMS_PER_MINUTE).unwrap_or(std::num::NonZeroU32::MIN),
            )),
            sign_in_limiter: governor::RateLimiter::keyed(governor::Quota::per_minute(
                std::num::NonZeroU32::new(args.sign_in_per_minute)
                    .unwrap_or(std::num::NonZeroU32::MIN),
            )),
            throttle: crate::throttle::Throttle::new(args.throttle_factor),
            socket_slots: Arc::default(),
            trusted_proxies: args.trusted_proxies.clone(),
            trusted_documents,
            session_cookie: crate::cookies::SessionCookie::for_url(&public_url),
            pinned_page: args.organization.as_ref().and_then(crate::web::pinned_page),
            allowed_origins: allowed_origins(&public_url, args),
        }),
        store: store.clone(),
        pool: pool.clone(),
        api_url: args
            .api_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_owned(),
    };
    let schema = graphql::schema(state.clone(), args.introspection);
    let _ = state.inner.schema.set(schema);

    let wake = listener::spawn(database.clone());
    let source = Source {
        log: store.log.clone(),
        keys: store.keys.clone(),
    };
    let mut tasks = vec![
        spawn_runner(Accounts, &source, &pool, &database, &wake, stop_rx.clone()),
        spawn_runner(
            Organizations,
            &source,
            &pool,
            &database,
            &wake,
            stop_rx.clone(),
        ),
        spawn_runner(Lockout, &source, &pool, &database, &wake, stop_rx.clone()),
        spawn_runner(Calendar, &source, &pool, &database, &wake, stop_rx.clone()),
        spawn_runner(Patients, &source, &pool, &database, &wake, stop_rx.clone()),
        spawn_runner(Schedule, &source, &pool, &database, &wake, stop_rx.clone()),
        spawn_runner(Care, &source, &pool, &database, &wake, stop_rx.clone()),
        spawn_runner(
            Transcript,
            &source,
            &pool,
            &database,
            &wake,
            stop_rx.clone(),
        ),
    ];
    // Last-use times of sessions past the longest possible lifetime serve no one: drop them hourly.
    let activity_pool = pool.clone();
    let mut activity_stop = stop_rx.clone();
    tasks.push(tokio::spawn(async move {
        loop {
            if let Ok(client) = activity_pool.get().await {
                let purged = client
                    .execute(
                        "DELETE FROM session_activity WHERE last_seen_at < now() - make_interval(hours => $1)",
                        &[&(portal_domain::organization::MAX_SESSION_HOURS as i32 + 1)],
                    )
                    .await;
                if let Err(error) = purged {
                    tracing::warn!(%error, "could not purge session activity");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
                _ = activity_stop.changed() => return,
            }
        }
    }));
    // Wait-list offers lapse on time: every 30 seconds, the offers whose time is up go to the next in line; quiet
    // conversations close and results due for release are released (see `care_timers`).
    let sweep_state = state.clone();
    let mut sweep_stop = stop_rx.clone();
    tasks.push(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {
                    sweep_offers(&sweep_state).await;
                    crate::care_timers::sweep(&sweep_state).await;
                    if let Err(error) =
                        portal_commands::outbox::forget_expired(&sweep_state.pool, sweep_state.now()).await
                    {
                        tracing::warn!(%error, "could not forget the outbox's expired links and codes");
                    }
                }
                _ = sweep_stop.changed() => return,
            }
        }
    }));
    // The log's signed checkpoints: every few seconds, the events written since the last one are sealed. Every
    // process may try; the checkpoint's sequence number lets only one of them write each.
    let seal_pool = pool.clone();
    let seal_secrets = store.secrets.clone();
    let mut seal_stop = stop_rx.clone();
    let seal_every = args.checkpoint_seconds.max(1);
    tasks.push(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(seal_every)) => {
                    if let Err(error) =
                        portal_commands::log::integrity::seal_all(&seal_pool, &seal_secrets).await
                    {
                        tracing::warn!(%error, "could not seal a log checkpoint");
                    }
                }
                _ = seal_stop.changed() => return,
            }
        }
    }));
    // Retention: registrations nobody activated are erased once they are old enough, hourly.
    if args.erase_unactivated_after_days > 0 {
        let retention_state = state.clone();
        let days = args.erase_unactivated_after_days;
        let mut retention_stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {
                        crate::retention::erase_unactivated(&retention_state, days).await;
                    }
                    _ = retention_stop.changed() => return,
                }
            }
        }));
    }
    // Forget addresses that have been quiet long enough, so the limiter does not grow without bound.
    let limiter_state = state.clone();
    let mut limiter_stop = stop_rx.clone();
    tasks.push(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {
                    limiter_state.sign_in_limiter().retain_recent();
                    limiter_state.sms_limiter().retain_recent();
                    limiter_state.throttle().prune();
                }
                _ = limiter_stop.changed() => return,
            }
        }
    }));
    if !args.no_delivery {
        let clock_state = state.clone();
        let worker = delivery(
            &database,
            &store,
            &args.delivery,
            Arc::new(move || clock_state.now()),
        )?;
        tasks.push(tokio::spawn(worker.run(wake.clone(), stop_rx.clone())));
    }

    let _ = serving.set(router(state.clone()));
    tracing::info!(%addr, "portal is listening");
    Ok(Running {
        addr,
        state,
        stop,
        tasks,
        server,
    })
}

/// The delivery worker these settings describe. It claims messages on connections of its own (one per lane): a
/// lane holds its claim while it reads the organization through the store, so sharing one pool could leave every
/// connection held by a lane waiting for another.
pub fn delivery(
    database: &Config,
    store: &Store<PgEventLog>,
    args: &DeliveryArgs,
    clock: crate::delivery::Clock,
) -> Result<Delivery, AppError> {
    let email = match &args.smtp_url {
        Some(url) => {
            let ca = args
                .smtp_ca_file
                .as_ref()
                .map(std::fs::read)
                .transpose()
                .map_err(|e| AppError::Config(format!("cannot read --smtp-ca-file: {e}")))?;
            EmailTransport::smtp(url, ca.as_deref()).map_err(AppError::Config)?
        }
        None => EmailTransport::Folder(args.mail_dir.clone()),
    };
    let texts = match &args.sms_api_url {
        Some(url) => TextTransport::twilio(url).map_err(AppError::Config)?,
        None => TextTransport::Folder(args.mail_dir.clone()),
    };
    let settings = DeliverySettings {
        lanes: args.delivery_lanes.max(1),
        max_attempts: args.delivery_max_attempts.max(1),
        backoff: std::time::Duration::from_millis(args.delivery_backoff_ms),
        max_backoff: std::time::Duration::from_millis(
            args.delivery_max_backoff_ms.max(args.delivery_backoff_ms),
        ),
    };
    let claims = db::pool(database.clone(), settings.lanes)?;
    Delivery::new(
        claims,
        store.clone(),
        email,
        texts,
        &args.mail_from,
        settings,
        clock,
    )
    .map_err(AppError::Config)
}

/// Lapses the wait-list offers whose time is up, organization by organization.
pub async fn sweep_offers(state: &AppState) {
    let organizations =
        match portal_projections::schedule::lapsed_offer_organizations(&state.pool, state.now())
            .await
        {
            Ok(ids) => ids,
            Err(error) => {
                tracing::warn!(%error, "could not look for lapsed wait-list offers");
                return;
            }
        };
    for id in organizations {
        let Ok(Some(organization)) = portal_commands::organizations::find_by_id(
            &state.store,
            portal_domain::OrganizationId(id),
        )
        .await
        else {
            continue;
        };
        let ctx = portal_commands::handler::CommandContext {
            now: state.now(),
            ..portal_commands::handler::CommandContext::system()
        };
        if let Err(error) =
            portal_commands::waitlist::sweep(&state.store, &organization, &ctx).await
        {
            tracing::warn!(%error, "could not lapse wait-list offers");
        }
    }
}

/// Every request goes to the full router once the server is prepared; before, only /healthz answers 200.
async fn dispatch(
    axum::extract::State(serving): axum::extract::State<Arc<OnceLock<Router>>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use tower::ServiceExt;
    match serving.get() {
        Some(router) => match router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        None if request.uri().path() == "/healthz" => health::healthz().await,
        None => health::starting().into_response(),
    }
}

/// The HTTP routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/graphql",
            get(graphql::http::get).post(graphql::http::post),
        )
        .route("/healthz", get(health::healthz))
        .route("/graphql/ws", get(ws::graphql_ws))
        .route("/graphiql/{file}", get(crate::graphiql::asset))
        .route("/sms/inbound", axum::routing::post(sms::inbound))
        .route(
            "/payments/webhook/{code}",
            axum::routing::post(crate::payments::webhook),
        )
        .route("/transcript.csv", get(exports::transcript_csv))
        .route("/o/{code}/calendar.ics", get(crate::ical::public_calendar))
        .route(
            "/o/{code}/my-activities.ics",
            get(crate::ical::my_activities),
        )
        .route(
            "/reports/board-completions.csv",
            get(exports::board_completions_csv),
        )
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::scrape))
        // Everything else is the web portals: their files, and their pages for the app's routes.
        .fallback(crate::web::serve)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::observe,
        ))
        .with_state(state)
}
