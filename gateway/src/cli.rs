//! Command-line flags and environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// portal: event-sourced backend for continuing-education and patient portals.
#[derive(Debug, Parser)]
#[command(name = "portal", version, about)]
pub struct Cli {
    /// Settings every subcommand uses.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settings every subcommand uses.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// PostgreSQL URL. The database is created when missing.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/portal",
        global = true
    )]
    pub database_url: String,

    /// The 256-bit master key in base64 (wraps people's data keys). Overrides --master-key-file.
    #[arg(long, env = "PORTAL_MASTER_KEY", hide_env_values = true, global = true)]
    pub master_key: Option<String>,

    /// File holding the master key; created with a new random key when missing (development only).
    #[arg(
        long,
        env = "PORTAL_MASTER_KEY_FILE",
        default_value = ".portal/master.key",
        global = true
    )]
    pub master_key_file: PathBuf,

    /// Log format.
    #[arg(long, env = "PORTAL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Largest number of database connections.
    #[arg(long, env = "PORTAL_DB_POOL_SIZE", default_value_t = 16, global = true)]
    pub db_pool_size: usize,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the server (the default).
    Serve(Box<ServeArgs>),
    /// Creates the database if needed and applies pending migrations.
    Migrate,
    /// Delivers the outbox (e-mail and texts) without serving HTTP, until stopped; several may run.
    Deliver(DeliverArgs),
    /// Organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Projections (read models).
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Staff accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// The event log: verify, seal, export, import.
    #[command(subcommand)]
    Log(LogCommand),
    /// Prints the GraphQL schema (SDL), the API's contract: `schema.graphql` at the repository's root is this output.
    Schema,
    /// Asks a running server whether it is ready (exit 0) or not (exit 1): a container health check without curl.
    Probe {
        /// The readiness endpoint.
        #[arg(long, default_value = "http://127.0.0.1:8080/readyz")]
        url: String,
    },
}

/// Event-log subcommands.
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Recomputes every event's hash chain and every signed checkpoint; names the first event that does not match
    /// and exits with status 1.
    Verify,
    /// Seals a checkpoint over the events written since the last one.
    Checkpoint,
    /// Writes the log (or one organization's streams, or one stream) as NDJSON.
    Export {
        /// Only this organization's streams (its code).
        #[arg(long, conflicts_with = "stream")]
        org: Option<String>,
        /// Only this stream (`account-<uuid>`).
        #[arg(long)]
        stream: Option<String>,
        /// File to write (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Reads an export into an empty database (created and migrated when missing), then verifies it.
    Import {
        /// File to read (default: standard input).
        #[arg(long, short)]
        input: Option<PathBuf>,
    },
}

/// Staff subcommands.
#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Adds an active staff account to an organization (the first one; later ones are added by staff). The
    /// password is read from PORTAL_STAFF_PASSWORD or, if unset, from the first line of standard input.
    Add {
        /// The organization's code.
        #[arg(long)]
        org: String,
        /// Sign-in address.
        #[arg(long)]
        email: String,
        /// Given name.
        #[arg(long)]
        first_name: String,
        /// Family name.
        #[arg(long)]
        last_name: String,
        /// Courtesy title.
        #[arg(long)]
        title: Option<String>,
        /// `staff` (the default) or `auditor` (reads the history and the access log, changes nothing).
        #[arg(long, value_enum, default_value_t = StaffRoleArg::Staff)]
        role: StaffRoleArg,
    },
}

/// The roles `portal staff add` creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StaffRoleArg {
    /// A coordinator.
    Staff,
    /// An auditor.
    Auditor,
    /// A provider (a clinician of the care team).
    Provider,
}

/// `portal deliver` settings.
#[derive(Debug, Clone, Args)]
pub struct DeliverArgs {
    /// How messages are delivered.
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

/// Server settings.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PORTAL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// How messages are delivered.
    #[command(flatten)]
    pub delivery: DeliveryArgs,

    /// Do not deliver messages in this process (another runs `portal deliver`).
    #[arg(long, env = "PORTAL_NO_DELIVERY")]
    pub no_delivery: bool,

    /// Public address of the web front end, used in links sent by e-mail (default: http://<listen address>).
    #[arg(long, env = "PORTAL_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Base URL of the payment processor's API (Stripe's: Checkout Sessions and refunds); each organization pays
    /// in through its own account (setPaymentProcessor).
    #[arg(
        long,
        env = "PORTAL_PAYMENTS_API_URL",
        default_value = "https://api.stripe.com"
    )]
    pub payments_api_url: String,

    /// Public address of this server as SMS providers call it (their signatures cover the full URL; default:
    /// http://<listen address>).
    #[arg(long, env = "PORTAL_API_URL")]
    pub api_url: Option<String>,

    /// Answer introspection queries (off unless enabled: a schema map helps attackers more than clients, which
    /// ship with the schema; turn it on for development and GraphiQL's documentation).
    #[arg(long, env = "PORTAL_INTROSPECTION", default_value_t = false, action = clap::ArgAction::Set)]
    pub introspection: bool,

    /// Token that scrapers of /metrics must send as `Authorization: Bearer <token>` (default: none required;
    /// then keep /metrics off the public network).
    #[arg(long, env = "PORTAL_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Sign-in attempts allowed per client address per minute (on top of the per-account lockout).
    #[arg(long, env = "PORTAL_SIGN_IN_PER_MINUTE", default_value_t = 30)]
    pub sign_in_per_minute: u32,

    /// Networks of the reverse proxies in front of this server (CIDRs or addresses, comma-separated). Only a peer
    /// in one of them may name the client in `X-Forwarded-For`; every other peer is the client itself.
    #[arg(long, env = "PORTAL_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Pins the web portals to one organization (its code): `/` opens its portal, and no other is offered.
    #[arg(long, env = "PORTAL_ORGANIZATION", value_parser = parse_organization)]
    pub organization: Option<portal_domain::values::OrganizationCode>,

    /// Multiplies every per-client and per-target budget of the costly requests (registering, reset and
    /// activation e-mails, resets, attendance, current-password checks); benchmarks raise it. 1 in production.
    #[arg(long, env = "PORTAL_THROTTLE_FACTOR", default_value_t = 1)]
    pub throttle_factor: u32,

    /// Other origins (`https://portal.example.org`, comma-separated) whose pages may use the session cookie, besides
    /// the origins of --public-url and --api-url.
    #[arg(long, env = "PORTAL_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Run only the operations registered in this manifest (JSON: GraphQL Codegen's persisted documents or Apollo's
    /// persisted-query manifest), named by their SHA-256; introspection is then off. For production with
    /// first-party clients.
    #[arg(long, env = "PORTAL_TRUSTED_DOCUMENTS")]
    pub trusted_documents: Option<PathBuf>,

    /// Also create a demo organization with a staff account, and print how to sign in.
    #[arg(long)]
    pub demo: bool,

    /// Seconds between the log's signed checkpoints (each covers the events written since the last).
    #[arg(long, env = "PORTAL_CHECKPOINT_SECONDS", default_value_t = 10)]
    pub checkpoint_seconds: u64,

    /// Registrations never activated are erased after this many days (0: never).
    #[arg(
        long,
        env = "PORTAL_ERASE_UNACTIVATED_AFTER_DAYS",
        default_value_t = 30
    )]
    pub erase_unactivated_after_days: u32,
}

/// A network in CIDR notation, or one address.
fn parse_organization(text: &str) -> Result<portal_domain::values::OrganizationCode, String> {
    portal_domain::values::OrganizationCode::parse(text.trim())
        .map_err(|error| format!("`{text}` is not an organization code: {error}"))
}

fn parse_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{text}` is not a network (10.0.0.0/8) or an address"))
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            delivery: DeliveryArgs::default(),
            no_delivery: false,
            public_url: None,
            payments_api_url: "https://api.stripe.com".to_owned(),
            api_url: None,
            introspection: false,
            metrics_token: None,
            sign_in_per_minute: 30,
            trusted_proxies: vec![],
            organization: None,
            throttle_factor: 1,
            trusted_documents: None,
            allowed_origins: vec![],
            demo: false,
            checkpoint_seconds: 10,
            erase_unactivated_after_days: 30,
        }
    }
}

/// Delivery settings, for `portal serve` and `portal deliver`.
#[derive(Debug, Clone, Args)]
pub struct DeliveryArgs {
    /// Folder where e-mail (.eml) and texts (.sms) are written when no SMTP server or SMS provider is set
    /// (development).
    #[arg(long, env = "PORTAL_MAIL_DIR", default_value = "mail")]
    pub mail_dir: PathBuf,

    /// Sender of e-mail for organizations that have not set their own.
    #[arg(
        long,
        env = "PORTAL_MAIL_FROM",
        default_value = "portal <no-reply@portal.localhost>"
    )]
    pub mail_from: String,

    /// SMTP server: smtp://host:25, smtp://user:password@host:587?tls=required (STARTTLS),
    /// smtps://user:password@host:465 (TLS). Unset: e-mail is written to --mail-dir.
    #[arg(long, env = "PORTAL_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// A PEM root certificate to trust for the SMTP server's TLS (a private relay's own authority).
    #[arg(long, env = "PORTAL_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,

    /// Base URL of the SMS provider's API (Twilio's Messages API: https://api.twilio.com); each organization
    /// sends from its own account (configureSms). Unset: texts are written to --mail-dir.
    #[arg(long, env = "PORTAL_SMS_API_URL")]
    pub sms_api_url: Option<String>,

    /// Messages sent at the same time by this process.
    #[arg(long, env = "PORTAL_DELIVERY_LANES", default_value_t = 4)]
    pub delivery_lanes: usize,

    /// Attempts before a message that keeps failing is dead-lettered.
    #[arg(long, env = "PORTAL_DELIVERY_MAX_ATTEMPTS", default_value_t = 8)]
    pub delivery_max_attempts: i32,

    /// Wait after a message's first failure, in milliseconds; it doubles with each further failure.
    #[arg(long, env = "PORTAL_DELIVERY_BACKOFF_MS", default_value_t = 30_000)]
    pub delivery_backoff_ms: u64,

    /// Longest wait between two attempts, in milliseconds.
    #[arg(
        long,
        env = "PORTAL_DELIVERY_MAX_BACKOFF_MS",
        default_value_t = 3_600_000
    )]
    pub delivery_max_backoff_ms: u64,
}

impl Default for DeliveryArgs {
    fn default() -> Self {
        Self {
            mail_dir: PathBuf::from("mail"),
            mail_from: "portal <no-reply@portal.localhost>".to_owned(),
            smtp_url: None,
            smtp_ca_file: None,
            sms_api_url: None,
            delivery_lanes: 4,
            delivery_max_attempts: 8,
            delivery_backoff_ms: 30_000,
            delivery_max_backoff_ms: 3_600_000,
        }
    }
}

/// Organization subcommands.
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Creates an organization.
    Create {
        /// The code people type in the mobile app (2 to 32 lower-case letters, digits, hyphens).
        #[arg(long)]
        code: String,
        /// The display name.
        #[arg(long)]
        name: String,
    },
    /// Changes an organization's settings: the calendar's time zone, and the number learners text. The SMS
    /// provider's auth token is read from PORTAL_SMS_AUTH_TOKEN (never from the command line, where `ps` shows it).
    Settings {
        /// The organization's code.
        #[arg(long)]
        code: String,
        /// IANA time zone of the calendar (America/Chicago).
        #[arg(long)]
        time_zone: Option<String>,
        /// The number learners text (E.164); needs PORTAL_SMS_AUTH_TOKEN.
        #[arg(long)]
        sms_number: Option<String>,
        /// The SMS provider account (Twilio's Account SID, AC...) that sends the organization's texts; with
        /// --sms-number, or alone to change the account of a number already set up.
        #[arg(long)]
        sms_account_sid: Option<String>,
    },
}

/// Projection subcommands.
#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Shows each projection's position, lag in events and seconds, state, and the process running it.
    Status,
    /// Rebuilds a projection from the log into fresh tables while the live ones keep answering, then switches
    /// over at once. NAME is one of accounts, organizations, lockout, calendar, patients, schedule, transcript.
    Rebuild {
        /// The projection.
        name: String,
        /// Events per transaction while rebuilding.
        #[arg(long, default_value_t = 2000)]
        batch_size: usize,
    },
}
