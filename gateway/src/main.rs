//! `sluicegate-gateway`: run, check or demo the gateway, and mint development tokens.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use sluicegate_gateway::config::Config;
use sluicegate_gateway::jwt::{DevToken, mint_dev_token};
use sluicegate_gateway::peer::TrustedProxies;
use sluicegate_gateway::server::{self, Gateway, GatewayOptions};

/// The allocator. Proxying allocates and frees many small buffers per request; with glibc's
/// malloc that was about a tenth of the gateway's profile, and mimalloc cut the gateway's CPU
/// time per proxied request by about 10% (28.3 against 31.3 us, three runs each of
/// `benches/gateway/compare.sh`'s gateway row).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// An API gateway configured like Kong, with JWT, exact rate limits and circuit breakers.
#[derive(Parser)]
#[command(name = "sluicegate-gateway", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a configuration.
    Run {
        /// The declarative configuration (YAML, `_format_version: "3.0"`).
        config: PathBuf,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Validate a configuration and exit: 0 if it would start, 1 with the reason if not.
    Check {
        /// The declarative configuration to validate.
        config: PathBuf,
    },
    /// Print a development RS256 token signed with the example's dev key.
    Token {
        /// The `sub` claim: the user the token speaks for.
        #[arg(long, default_value = "user-1")]
        sub: String,
        /// Scopes to grant, separated by spaces or commas (e.g. "orders:read admin").
        #[arg(long, default_value = "")]
        scopes: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
        /// The `iss` claim: the key of the consumer credential that verifies the token.
        #[arg(long, default_value = "sluicegate-dev")]
        iss: String,
        /// The RSA private key to sign with (PEM).
        #[arg(long, default_value = "examples/keys/dev-rsa-private.pem")]
        key: PathBuf,
    },
    /// The demo: start the users, orders and admin upstreams on 127.0.0.1:9101-9103 and the
    /// gateway on the example configuration, in one process.
    Demo {
        /// The configuration to serve.
        #[arg(long, default_value = "examples/gateway.yaml")]
        config: PathBuf,
        #[command(flatten)]
        serve: ServeArgs,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Proxies whose X-Forwarded-For is believed: addresses or networks, comma-separated.
    #[arg(long, default_value = "")]
    trusted_proxies: TrustedProxies,
    /// Gateway threads, each with its own runtime and listening socket (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config } => check(&config),
        Command::Token {
            sub,
            scopes,
            ttl,
            iss,
            key,
        } => token(&key, &iss, &sub, &scopes, ttl),
        Command::Run { config, serve } => serve_config(&config, serve, false),
        Command::Demo { config, serve } => serve_config(&config, serve, true),
    }
}

/// Finds a file named relative to the working directory, or else relative to the repository
/// (so `cargo run -p sluicegate-gateway -- demo` works from any directory of the checkout).
fn locate(path: &Path) -> PathBuf {
    if path.is_relative() && !path.exists() {
        let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
        if beside.exists() {
            return beside;
        }
    }
    path.to_owned()
}

fn load(path: &Path) -> Result<Config, String> {
    Config::load(locate(path)).map_err(|err| err.to_string())
}

fn check(path: &Path) -> ExitCode {
    let verdict = load(path).and_then(|config| {
        Gateway::new(&config, GatewayOptions::default())
            .map(|_| config)
            .map_err(|err| format!("{}: {err}", path.display()))
    });
    match verdict {
        Ok(config) => {
            let routes = config.routes().count();
            println!(
                "{}: OK (services: {}, routes: {routes}, consumers: {})",
                path.display(),
                config.services.len(),
                config.consumers.len()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}

fn token(key: &Path, issuer: &str, subject: &str, scopes: &str, ttl: u64) -> ExitCode {
    let pem = match std::fs::read_to_string(locate(key)) {
        Ok(pem) => pem,
        Err(err) => {
            eprintln!("cannot read the signing key {}: {err}", key.display());
            return ExitCode::FAILURE;
        }
    };
    let scopes = scopes
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>();
    let claims = DevToken::new(issuer, subject)
        .scopes(scopes)
        .lifetime(Duration::from_secs(ttl));
    match mint_dev_token(&pem, &claims) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("cannot mint a token with {}: {err}", key.display());
            ExitCode::FAILURE
        }
    }
}

fn serve_config(path: &Path, args: ServeArgs, demo: bool) -> ExitCode {
    tracing_subscriber::fmt()
        // Colours only for a person at a terminal, not in a log file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = match load(path) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let options = GatewayOptions {
        trusted_proxies: args.trusted_proxies,
    };
    let gateway = match Gateway::new(&config, options) {
        Ok(gateway) => gateway,
        Err(err) => {
            eprintln!("{}: {err}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    // The main thread only watches for signals (and runs the demo upstreams); the gateway has
    // threads of its own.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async {
        if demo {
            for (addr, _) in sluicegate_gateway::demo::start().await? {
                tracing::info!(%addr, "demo upstream listening");
            }
        }
        let running = server::spawn_workers(args.listen, gateway, workers, server::SHUTDOWN_GRACE)
            .map_err(|err| {
                std::io::Error::new(
                    err.kind(),
                    format!("cannot listen on {}: {err}", args.listen),
                )
            })?;
        tracing::info!(
            listen = %running.local_addr(),
            workers,
            config = %path.display(),
            "gateway listening"
        );
        server::shutdown_signal().await;
        tokio::task::spawn_blocking(move || running.shut_down())
            .await
            .map_err(std::io::Error::other)?
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
