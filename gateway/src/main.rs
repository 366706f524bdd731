//! The `portal` binary.

use anyhow::Context;
use clap::Parser;
use portal_commands::accounts::NewAccount;
use portal_commands::credentials::BreachedPasswords;
use portal_commands::handler::CommandContext;
use portal_commands::organizations;
use portal_domain::account::Role;
use portal_domain::values::{
    EmailAddress, NamePart, OrganizationCode, OrganizationName, Password, PersonName, PhoneNumber,
    SmsAccountId, TimeZone, Title,
};
use portal_gateway::app::{self, load_master_key};
use portal_gateway::cli::{
    Cli, Command, GlobalArgs, LogCommand, LogFormat, OrgCommand, ProjectionsCommand, ServeArgs,
    StaffCommand, StaffRoleArg,
};
use portal_gateway::{demo, staff};
use tracing_subscriber::EnvFilter;

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

async fn serve(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<()> {
    let database = portal_commands::db::parse_url(&global.database_url)?;
    let key = load_master_key(global.master_key.as_deref(), &global.master_key_file)?;
    let running = app::start(database, global.db_pool_size, key, &args)
        .await
        .context("starting the server")?;
    println!(
        "portal listening on http://{} (GraphiQL at http://{}/graphql)",
        running.addr, running.addr
    );
    if args.no_delivery {
        println!("messages are not delivered by this process (--no-delivery)");
    } else {
        println!("{}", delivery_summary(&args.delivery));
    }
    if args.demo {
        for line in demo::ensure(&running.state.store)
            .await
            .map_err(anyhow::Error::msg)?
        {
            println!("{line}");
        }
    }
    running.until(shutdown_signal()).await?;
    Ok(())
}

/// Where messages go, in one line (without the SMTP URL, which may hold a password).
fn delivery_summary(args: &portal_gateway::cli::DeliveryArgs) -> String {
    let email = if args.smtp_url.is_some() {
        "e-mail goes to the SMTP server".to_owned()
    } else {
        format!("e-mail is written to {}", args.mail_dir.display())
    };
    let texts = match &args.sms_api_url {
        Some(url) => format!("texts go to {url}"),
        None => format!("texts are written to {}", args.mail_dir.display()),
    };
    format!("{email}; {texts}")
}

/// `portal deliver`: the delivery worker alone, woken by every commit, until SIGTERM or Ctrl-C.
async fn deliver(
    global: &GlobalArgs,
    args: portal_gateway::cli::DeliverArgs,
) -> anyhow::Result<()> {
    let mut database = portal_commands::db::parse_url(&global.database_url)?;
    if database.get_application_name().is_none() {
        database.application_name("portal deliver");
    }
    let key = load_master_key(global.master_key.as_deref(), &global.master_key_file)?;
    let (_pool, store) = app::prepare(&database, 4, &key, "").await?;
    let worker = app::delivery(
        &database,
        &store,
        &args.delivery,
        std::sync::Arc::new(portal_commands::handler::now),
    )?;
    let wake = portal_projections::listener::spawn(database);
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(wake, stop_rx));
    println!(
        "portal deliver is running: {}",
        delivery_summary(&args.delivery)
    );
    shutdown_signal().await;
    let _ = stop.send(true);
    running.await?;
    Ok(())
}

/// `portal log ...`. Messages go to standard error, so that an export to standard output stays clean.
async fn log_command(global: &GlobalArgs, command: LogCommand) -> anyhow::Result<()> {
    use portal_commands::log::{integrity, portability};
    let database = portal_commands::db::parse_url(&global.database_url)?;
    let key = load_master_key(global.master_key.as_deref(), &global.master_key_file)?;
    let (pool, store) = app::prepare(&database, 2, &key, "").await?;
    match command {
        LogCommand::Verify => {
            let report = integrity::verify(&pool, &store.secrets).await?;
            eprintln!(
                "checked {} event(s) in {} stream(s) and {} checkpoint(s); {} event(s) after the last checkpoint",
                report.events, report.streams, report.checkpoints, report.unsealed
            );
            if let Some(finding) = report.finding {
                eprintln!("verify FAILED: {finding}");
                std::process::exit(1);
            }
            let access = portal_commands::access_log::verify(&pool, &store.secrets).await?;
            eprintln!(
                "checked {} access-log row(s) ({} written before the chain, not checked)",
                access.chained, access.unchained
            );
            if let Some(id) = access.broken_at {
                eprintln!(
                    "verify FAILED: access-log row {id} does not match its chain: it, or the row before it, was altered or removed"
                );
                std::process::exit(1);
            }
            eprintln!("verify OK");
        }
        LogCommand::Checkpoint => {
            let sealed = integrity::seal_all(&pool, &store.secrets).await?;
            eprintln!("sealed {sealed} checkpoint(s)");
        }
        LogCommand::Export {
            org,
            stream,
            output,
        } => {
            let scope = match (org, stream) {
                (Some(code), _) => {
                    let code = OrganizationCode::parse(&code)
                        .map_err(|e| anyhow::anyhow!("--org: {e}"))?;
                    let organization = organizations::find_by_code(&store, &code)
                        .await?
                        .ok_or_else(|| {
                            anyhow::anyhow!("--org: no organization has the code {}", code.as_str())
                        })?;
                    portability::Scope::Tenant(organization.id.0)
                }
                (None, Some(stream)) => portability::Scope::Stream(stream),
                (None, None) => portability::Scope::All,
            };
            let counts = match output {
                Some(path) => {
                    let file = std::fs::File::create(&path)
                        .with_context(|| format!("creating {}", path.display()))?;
                    let mut out = std::io::BufWriter::new(file);
                    portability::export(&pool, &scope, &mut out).await?
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut out = std::io::BufWriter::new(stdout.lock());
                    portability::export(&pool, &scope, &mut out).await?
                }
            };
            eprintln!(
                "exported {} event(s), {} key(s), {} claim(s), {} command record(s), {} checkpoint(s)",
                counts.events, counts.keys, counts.claims, counts.commands, counts.checkpoints
            );
        }
        LogCommand::Import { input } => {
            let counts = match input {
                Some(path) => {
                    let file = std::fs::File::open(&path)
                        .with_context(|| format!("opening {}", path.display()))?;
                    portability::import(&pool, &mut std::io::BufReader::new(file)).await?
                }
                None => {
                    let stdin = std::io::stdin();
                    portability::import(&pool, &mut stdin.lock()).await?
                }
            };
            eprintln!(
                "imported {} event(s), {} key(s), {} claim(s), {} command record(s), {} checkpoint(s)",
                counts.events, counts.keys, counts.claims, counts.commands, counts.checkpoints
            );
            let report = integrity::verify(&pool, &store.secrets).await?;
            if let Some(finding) = report.finding {
                eprintln!("verify FAILED after import: {finding}");
                std::process::exit(1);
            }
            eprintln!("verify OK ({} event(s))", report.events);
        }
    }
    Ok(())
}

/// glibc's allocator moves its mmap threshold up to the largest block freed (up to 32 MiB), after which argon2id's
/// 19 MiB blocks come from the heap arenas and stay resident once freed, in every arena a hashing thread used: the
/// soak saw resident memory climb by such steps (docs/benchmarks.md). A fixed threshold keeps large blocks mapped
/// and returns them when freed; two arenas keep the threads' heaps from fragmenting apart.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets allocator parameters; it runs before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> anyhow::Result<()> {
    tune_allocator();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.global.log_format);
    let global = cli.global;
    match cli.command.unwrap_or(Command::Serve(Box::default())) {
        Command::Serve(args) => serve(&global, *args).await,
        Command::Deliver(args) => deliver(&global, args).await,
        Command::Migrate => {
            let database = portal_commands::db::parse_url(&global.database_url)?;
            portal_commands::db::create_database_if_missing(&database).await?;
            let pool = portal_commands::db::pool(database, 2)?;
            let applied = portal_commands::db::migrate(&pool).await?;
            println!("{} migration(s) applied", applied.len());
            Ok(())
        }
        Command::Org(OrgCommand::Create { code, name }) => {
            let code =
                OrganizationCode::parse(&code).map_err(|e| anyhow::anyhow!("--code: {e}"))?;
            let name =
                OrganizationName::parse(&name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
            let database = portal_commands::db::parse_url(&global.database_url)?;
            let key = load_master_key(global.master_key.as_deref(), &global.master_key_file)?;
            let (_pool, store) = app::prepare(&database, 2, &key, "").await?;
            let (id, position) =
                organizations::create(&store, code.clone(), name, &CommandContext::system())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created organization {} ({id}) at log position {position}",
                code.as_str()
            );
            Ok(())
        }
        Command::Org(OrgCommand::Settings {
            code,
            time_zone,
            sms_number,
            sms_account_sid,
        }) => {
            let code =
                OrganizationCode::parse(&code).map_err(|e| anyhow::anyhow!("--code: {e}"))?;
            let time_zone = time_zone
                .map(|z| TimeZone::parse(&z))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--time-zone: {}", e.rule))?;
            let sms = sms_number
                .map(|n| {
                    let number =
                        PhoneNumber::parse(&n).map_err(|e| anyhow::anyhow!("--sms-number: {e}"))?;
                    let token = std::env::var("PORTAL_SMS_AUTH_TOKEN")
                        .map_err(|_| anyhow::anyhow!("--sms-number needs PORTAL_SMS_AUTH_TOKEN"))?;
                    Ok::<_, anyhow::Error>((number, token))
                })
                .transpose()?;
            let account = sms_account_sid
                .map(|a| SmsAccountId::parse(&a))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--sms-account-sid: {}", e.rule))?;
            let database = portal_commands::db::parse_url(&global.database_url)?;
            let key = load_master_key(global.master_key.as_deref(), &global.master_key_file)?;
            let (_pool, store) = app::prepare(&database, 2, &key, "").await?;
            let organization = organizations::find_by_code(&store, &code)
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!("--code: no organization has the code {}", code.as_str())
                })?;
            if let Some(zone) = time_zone {
                organizations::set_time_zone(
                    &store,
                    organization.id,
                    zone,
                    None,
                    &CommandContext::system(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("{} shows its calendar in {}", code.as_str(), zone.name());
            }
            match (sms, account) {
                (Some((number, token)), account) => {
                    organizations::configure_sms(
                        &store,
                        organization.id,
                        number.clone(),
                        token.trim(),
                        account,
                        None,
                        &CommandContext::system(),
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("{} receives texts at {number}", code.as_str());
                }
                (None, Some(account)) => {
                    organizations::set_sms_account(
                        &store,
                        organization.id,
                        account,
                        None,
                        &CommandContext::system(),
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("{} sends texts from its SMS account", code.as_str());
                }
                (None, None) => {}
            }
            Ok(())
        }
        Command::Staff(StaffCommand::Add {
            org,
            email,
            first_name,
            last_name,
            title,
            role,
        }) => {
            let code = OrganizationCode::parse(&org).map_err(|e| anyhow::anyhow!("--org: {e}"))?;
            let email = EmailAddress::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let first =
                NamePart::parse(&first_name).map_err(|e| anyhow::anyhow!("--first-name: {e}"))?;
            let last =
                NamePart::parse(&last_name).map_err(|e| anyhow::anyhow!("--last-name: {e}"))?;
            let title = title
                .map(|t| Title::parse(t.as_str()))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--title: {e}"))?;
            let raw = match std::env::var("PORTAL_STAFF_PASSWORD") {
                Ok(password) => password,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("reading the password from standard input")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let password = Password::parse(&raw, &BreachedPasswords)
                .map_err(|e| anyhow::anyhow!("password: {e}"))?;
            let database = portal_commands::db::parse_url(&global.database_url)?;
            let key = load_master_key(global.master_key.as_deref(), &global.master_key_file)?;
            let (_pool, store) = app::prepare(&database, 2, &key, "").await?;
            let organization = organizations::find_by_code(&store, &code)
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!("--org: no organization has the code {}", code.as_str())
                })?;
            let input = NewAccount {
                name: PersonName {
                    title,
                    first,
                    middle: None,
                    last,
                },
                email,
                password,
                role: match role {
                    StaffRoleArg::Staff => Role::Staff,
                    StaffRoleArg::Auditor => Role::Auditor,
                    StaffRoleArg::Provider => Role::Provider,
                },
            };
            let account = staff::add_active(&store, &organization, input)
                .await
                .map_err(anyhow::Error::msg)?;
            println!("added staff account {account} to {}", code.as_str());
            Ok(())
        }
        Command::Log(command) => log_command(&global, command).await,
        Command::Schema => {
            print!("{}", portal_gateway::graphql::sdl());
            Ok(())
        }
        Command::Probe { url } => {
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(3))
                .build()?;
            match client.get(&url).send().await {
                Ok(response) if response.status().is_success() => Ok(()),
                Ok(response) => {
                    let status = response.status();
                    let body = response.text().await.unwrap_or_default();
                    eprintln!("not ready: {status} {body}");
                    std::process::exit(1)
                }
                Err(error) => {
                    eprintln!("not ready: {error}");
                    std::process::exit(1)
                }
            }
        }
        Command::Projections(ProjectionsCommand::Status) => {
            let database = portal_commands::db::parse_url(&global.database_url)?;
            portal_commands::db::create_database_if_missing(&database).await?;
            let pool = portal_commands::db::pool(database, 2)?;
            portal_commands::db::migrate(&pool).await?;
            let (head, projections) = portal_projections::status::status(&pool).await?;
            println!("log head position: {head}");
            println!(
                "{:<16} {:>12} {:>10} {:>10}  {:<8} {:<32} updated",
                "projection", "position", "lag", "lag (s)", "state", "runner"
            );
            for p in projections {
                println!(
                    "{:<16} {:>12} {:>10} {:>10.1}  {:<8} {:<32} {}",
                    p.name,
                    p.position,
                    p.lag_events,
                    p.lag_seconds,
                    p.state,
                    p.runner.as_deref().unwrap_or("-"),
                    p.updated_at.to_rfc3339()
                );
            }
            Ok(())
        }
        Command::Projections(ProjectionsCommand::Rebuild { name, batch_size }) => {
            if !portal_projections::NAMES.contains(&name.as_str()) {
                anyhow::bail!(
                    "NAME: no projection is called {name:?}; the projections are {}",
                    portal_projections::NAMES.join(", ")
                );
            }
            let database = portal_commands::db::parse_url(&global.database_url)?;
            let key = load_master_key(global.master_key.as_deref(), &global.master_key_file)?;
            let (pool, store) = app::prepare(&database, 4, &key, "").await?;
            let source = portal_projections::Source {
                log: store.log.clone(),
                keys: store.keys.clone(),
            };
            let started = std::time::Instant::now();
            let rebuilt =
                portal_projections::rebuild_named(&name, &source, &pool, batch_size.max(1))
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("NAME: no projection is called {name:?}"))?;
            println!(
                "rebuilt {name} from {} event(s) in {:.1} s and switched over at position {}",
                rebuilt.events,
                started.elapsed().as_secs_f64(),
                rebuilt.cursor.position
            );
            Ok(())
        }
    }
}
