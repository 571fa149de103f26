//! The `credplane` command: wiring only. See the crate docs for the layout.

use clap::{Parser, Subcommand};
use credplane::engine::cli::DeployArgs;
use credplane::engine::messages::Action;
use credplane::provider::Provider;
use credplane::{logging, rpc, schema_files};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// An infrastructure-as-code provider for cloud credentials, served over JSON-RPC.
#[derive(Parser)]
#[command(name = "credplane", version, about)]
struct Cli {
    /// Log as JSON lines instead of human-readable text (levels from RUST_LOG).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "CREDPLANE_LOG_FORMAT"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SchemaFormat {
    Pulumi,
    Terraform,
}

#[derive(Subcommand)]
enum Command {
    /// Serve JSON-RPC over stdio, or over HTTP and WebSocket.
    Serve {
        /// JSON-RPC over stdin/stdout, one message per line.
        #[arg(long, conflicts_with = "listen")]
        stdio: bool,
        /// Listen for HTTP and WebSocket on this address (loopback unless --allow-remote).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Allow a non-loopback --listen address (needs --tls-cert and --tls-key, or --insecure-plain-http).
        #[arg(long)]
        allow_remote: bool,
        /// Serve HTTPS with this PEM certificate chain.
        #[arg(long, requires = "tls_key", requires = "listen")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// With --allow-remote: serve plain HTTP anyway (the token and secrets cross the network in clear).
        #[arg(long, conflicts_with = "tls_cert")]
        insecure_plain_http: bool,
        /// Accept this host name in the Host header, besides loopback names and the listen address (repeatable).
        #[arg(long = "allow-host", value_name = "NAME")]
        allow_hosts: Vec<String>,
        /// The most concurrent HTTP and WebSocket connections.
        #[arg(long, default_value_t = std::num::NonZeroUsize::new(rpc::http::DEFAULT_MAX_CONNECTIONS).expect("non-zero"))]
        max_connections: std::num::NonZeroUsize,
        /// Start the cloud sandbox in-process and point every cloud at it (no cloud account needed).
        #[arg(long)]
        sandbox: bool,
    },
    /// Serve the emulated cloud APIs (AWS IAM, OCI Identity, Alibaba Cloud RAM and KMS).
    #[cfg(feature = "sandbox")]
    Sandbox {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8990")]
        listen: SocketAddr,
        /// Persist the emulated state to this file (mode 0600) and load it at start.
        #[arg(long)]
        state_file: Option<PathBuf>,
        /// Probability that a request is throttled.
        #[arg(long, default_value_t = 0.0)]
        throttle_rate: f64,
        /// Probability that a request fails with a 5xx.
        #[arg(long, default_value_t = 0.0)]
        error_rate: f64,
        /// Probability that a request takes effect but its reply is lost.
        #[arg(long, default_value_t = 0.0)]
        drop_rate: f64,
        /// Added latency per request, in milliseconds.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Let non-loopback clients use the admin API (`/_sandbox/*`; they still need the token).
        #[arg(long)]
        admin_allow_remote: bool,
    },
    /// Write the generated schema files (JSON Schema per resource type, OpenRPC).
    Schema {
        /// Output directory.
        #[arg(long, default_value = "schema")]
        out: PathBuf,
        /// Only check that the files in --out are current; exit 1 if not.
        #[arg(long)]
        check: bool,
        /// Print one document to stdout instead of writing --out: `pulumi` (a Pulumi package
        /// schema) or `terraform` (the `terraform providers schema -json` shape).
        #[arg(long, value_enum, conflicts_with = "check")]
        format: Option<SchemaFormat>,
    },
    /// Create, update and delete until the cloud matches the program: `credplane up -- python3 main.py`.
    Up(DeployCli),
    /// Show what `up` would do.
    Preview(DeployCli),
    /// Read every resource of the stack and record drift.
    Refresh(DeployCli),
    /// Delete every resource of the stack.
    Destroy(DeployCli),
    /// Manage stack states.
    #[command(subcommand)]
    Stack(StackCommand),
    /// Call one method and print its result as JSON.
    Call {
        /// The method, such as getSchema or check.
        method: String,
        /// The params, a JSON object.
        #[arg(default_value = "{}")]
        params: String,
        /// A running server's URL; without it the provider runs in-process.
        #[arg(long)]
        url: Option<String>,
        /// The server's bearer token.
        #[arg(long, env = "CREDPLANE_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
}

/// The options of `up`, `preview`, `refresh` and `destroy`.
#[derive(clap::Args)]
struct DeployCli {
    /// The stack name.
    #[arg(long, env = "CREDPLANE_STACK", default_value = "dev")]
    stack: String,
    /// The state: a directory, a `.json` file, `file:///dir`, or `s3://bucket/prefix`
    /// (default ./.credplane).
    #[arg(long, env = "CREDPLANE_STATE")]
    state: Option<String>,
    /// Provider calls at once (default 64).
    #[arg(long)]
    parallel: Option<usize>,
    /// Run against the in-process cloud sandbox.
    #[arg(long)]
    sandbox: bool,
    /// The program, after `--`; it gets the engine's address in CREDPLANE_ENGINE.
    #[arg(last = true)]
    program: Vec<String>,
}

/// `credplane stack ...`.
#[derive(Subcommand)]
enum StackCommand {
    /// List the stacks in a state directory or under an `s3://bucket/prefix`.
    Ls {
        /// The state directory or `s3://` URL.
        #[arg(long, env = "CREDPLANE_STATE")]
        state: Option<String>,
    },
    /// Print a stack's snapshot (secrets stay sealed).
    Export {
        /// The stack.
        #[arg(long, env = "CREDPLANE_STACK", default_value = "dev")]
        stack: String,
        /// The state location.
        #[arg(long, env = "CREDPLANE_STATE")]
        state: Option<String>,
    },
    /// Replace a stack's snapshot with a document from `stack export` (read from a file).
    Import {
        /// The file to import.
        file: PathBuf,
        /// The stack.
        #[arg(long, env = "CREDPLANE_STACK", default_value = "dev")]
        stack: String,
        /// The state location.
        #[arg(long, env = "CREDPLANE_STATE")]
        state: Option<String>,
    },
    /// Remove a stale lock on purpose (an S3 state's lock object; a local flock needs none).
    Unlock {
        /// The stack.
        #[arg(long, env = "CREDPLANE_STACK", default_value = "dev")]
        stack: String,
        /// The state location.
        #[arg(long, env = "CREDPLANE_STATE")]
        state: Option<String>,
    },
    /// Settle an interrupted create: adopt it by --id, or forget it (after checking the cloud).
    Resolve {
        /// The resource name.
        name: String,
        /// The id of the resource the interrupted create made, if it exists.
        #[arg(long)]
        id: Option<String>,
        /// The stack.
        #[arg(long, env = "CREDPLANE_STACK", default_value = "dev")]
        stack: String,
        /// The state location.
        #[arg(long, env = "CREDPLANE_STATE")]
        state: Option<String>,
        /// Use the in-process cloud sandbox.
        #[arg(long)]
        sandbox: bool,
    },
    /// Delete a stack's state (refused while it has resources).
    Rm {
        /// The stack.
        #[arg(long, env = "CREDPLANE_STACK", default_value = "dev")]
        stack: String,
        /// The state location.
        #[arg(long, env = "CREDPLANE_STATE")]
        state: Option<String>,
    },
}

/// The provider, on the in-process cloud sandbox when asked (it serves until the process ends).
async fn provider_for(sandbox: bool) -> Result<Provider, Box<dyn std::error::Error>> {
    Ok(if sandbox {
        Provider::new(in_process_sandbox().await?)
    } else {
        Provider::default()
    })
}

async fn run_deploy(action: Action, cli: DeployCli) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let provider = provider_for(cli.sandbox).await?;
    let args = DeployArgs {
        action,
        stack: cli.stack,
        state: cli.state,
        parallel: cli.parallel,
        program: cli.program,
    };
    match credplane::engine::cli::deploy(Arc::new(provider), args).await {
        Ok(plan) => {
            println!("{plan}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn run_stack(command: StackCommand) -> Result<ExitCode, Box<dyn std::error::Error>> {
    use serde_json::json;
    let (method, params) = match command {
        StackCommand::Ls { state } => ("engine.stacks", json!({"backend": state})),
        StackCommand::Export { stack, state } => ("engine.export", json!({"stack": stack, "backend": state})),
        StackCommand::Import { file, stack, state } => {
            let document: serde_json::Value = serde_json::from_slice(&std::fs::read(&file)?)?;
            (
                "engine.import",
                json!({"stack": stack, "backend": state, "document": document}),
            )
        }
        StackCommand::Unlock { stack, state } => {
            let unlocked = tokio::task::spawn_blocking(move || {
                credplane::engine::Engine::unlock(&stack, state.as_deref()).map_err(|e| e.message().to_string())
            })
            .await?;
            return match unlocked {
                Ok(said) => {
                    eprintln!("{said}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("credplane: {e}");
                    Ok(ExitCode::FAILURE)
                }
            };
        }
        StackCommand::Rm { stack, state } => ("engine.remove", json!({"stack": stack, "backend": state})),
        StackCommand::Resolve {
            name,
            id,
            stack,
            state,
            sandbox,
        } => {
            let provider = provider_for(sandbox).await?;
            let params = json!({"stack": stack, "backend": state, "name": name, "id": id});
            return print_result(credplane::engine::cli::stack(Arc::new(provider), "engine.resolve", params).await);
        }
    };
    print_result(credplane::engine::cli::stack(Arc::new(Provider::default()), method, params).await)
}

fn print_result(result: Result<serde_json::Value, String>) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match result {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("credplane: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(matches!(cli.log_format, LogFormat::Json));
    let runtime = match runtime_for(&cli.command) {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("credplane: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("credplane: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `serve --stdio` runs on one thread: it answers one client, a front-end that often spawns
/// it for a single call, and a multi-threaded runtime's start (a thread per core, and reading
/// the cgroup's CPU quota to count them) was an eighth of that cold start. Its engine work is
/// I/O-bound, and the journal and blocking work keep their own threads; `up` of 1,000 and
/// 10,000 resources measured the same on either runtime. The HTTP server and the CLI use every core.
fn runtime_for(command: &Command) -> std::io::Result<tokio::runtime::Runtime> {
    let one_client = matches!(command, Command::Serve { stdio, listen, .. } if *stdio || listen.is_none());
    let mut builder = if one_client {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all().build()
}

async fn run(command: Command) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match command {
        Command::Up(cli) => run_deploy(Action::Up, cli).await,
        Command::Preview(cli) => run_deploy(Action::Preview, cli).await,
        Command::Refresh(cli) => run_deploy(Action::Refresh, cli).await,
        Command::Destroy(cli) => run_deploy(Action::Destroy, cli).await,
        Command::Stack(command) => run_stack(command).await,
        Command::Serve {
            stdio,
            listen,
            allow_remote,
            tls_cert,
            tls_key,
            insecure_plain_http,
            allow_hosts,
            max_connections,
            sandbox,
        } => {
            let module = rpc::module(Arc::new(provider_for(sandbox).await?));
            if stdio || listen.is_none() {
                let stdin = tokio::io::BufReader::new(tokio::io::stdin());
                rpc::stdio::serve(module, stdin, tokio::io::stdout()).await?;
                return Ok(ExitCode::SUCCESS);
            }
            let token = match std::env::var("CREDPLANE_TOKEN") {
                Ok(token) if !token.is_empty() => rpc::auth::BearerToken::new(&token)?,
                _ => {
                    let token = rpc::auth::BearerToken::generate();
                    // Printed once, on purpose: the caller needs it and it is not a cloud secret.
                    eprintln!("credplane: bearer token: {token}");
                    rpc::auth::BearerToken::new(&token)?
                }
            };
            let tls = match (&tls_cert, &tls_key) {
                (Some(cert), Some(key)) => Some(rpc::tls::acceptor(cert, key)?),
                _ => None,
            };
            let scheme = if tls.is_some() { "https" } else { "http" };
            let options = rpc::http::HttpOptions {
                addr: listen.expect("checked above"),
                token,
                allow_remote,
                tls,
                insecure_plain_http,
                allowed_hosts: allow_hosts,
                max_connections: max_connections.get(),
            };
            let signal = rpc::http::ShutdownSignal::install()?;
            let (local, handle) = rpc::http::start(module, options).await?;
            eprintln!("credplane: listening on {scheme}://{local} (HTTP and WebSocket)");
            rpc::http::run_until_signal(handle, signal).await;
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox {
            listen,
            state_file,
            throttle_rate,
            error_rate,
            drop_rate,
            latency_ms,
            admin_allow_remote,
        } => {
            let faults = credplane::sandbox::faults::Faults {
                throttle_rate,
                error_rate,
                drop_rate,
                latency_ms,
                ..Default::default()
            };
            let options = credplane::sandbox::SandboxOptions {
                state_file,
                faults,
                admin_token: credplane::sandbox::admin::token_from_env()?,
                admin_allow_remote,
            };
            let handle = credplane::sandbox::start(listen, options).await?;
            eprintln!("credplane sandbox: listening on {}", handle.url);
            // Printed on purpose, like the provider's bearer token: the caller needs it.
            eprintln!("credplane sandbox: admin token: {}", handle.admin_token());
            // The seeded identities and their credentials: printed on purpose, they exist only here.
            eprintln!("fixtures: {}", serde_json::to_string_pretty(&handle.fixtures())?);
            eprintln!(
                "provider settings: {}",
                serde_json::to_string(&handle.provider_settings())?
            );
            tokio::signal::ctrl_c().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { out, check, format } => {
            let provider = Provider::default();
            if let Some(format) = format {
                let schema = provider.derived_schema();
                let document = match format {
                    SchemaFormat::Pulumi => credplane::export::pulumi::package(&schema),
                    SchemaFormat::Terraform => credplane::export::terraform::providers_schema(&schema),
                };
                println!("{}", serde_json::to_string_pretty(&document)?);
                return Ok(ExitCode::SUCCESS);
            }
            if check {
                let stale = schema_files::stale(&provider, &out);
                if !stale.is_empty() {
                    eprintln!(
                        "stale generated files in {}: {}\nregenerate with: {}",
                        out.display(),
                        stale.join(", "),
                        schema_files::REGENERATE
                    );
                    return Ok(ExitCode::FAILURE);
                }
                return Ok(ExitCode::SUCCESS);
            }
            schema_files::write(&provider, &out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Call {
            method,
            params,
            url,
            token,
        } => {
            let params: serde_json::Value =
                serde_json::from_str(&params).map_err(|e| format!("params are not JSON: {e}"))?;
            let request = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
            let reply: serde_json::Value = match url {
                Some(url) => {
                    let mut call = reqwest::Client::new().post(&url).json(&request);
                    if let Some(token) = token {
                        call = call.bearer_auth(token);
                    }
                    let response = call.send().await?;
                    let status = response.status();
                    let text = response.text().await?;
                    serde_json::from_str(&text).map_err(|_| format!("HTTP {status}: {text}"))?
                }
                None => {
                    let module = rpc::module(Arc::new(Provider::default()));
                    let text = rpc::stdio::handle_message(&module, &request.to_string())
                        .await
                        .unwrap_or_default();
                    serde_json::from_str(&text)?
                }
            };
            if let Some(error) = reply.get("error") {
                eprintln!("{}", serde_json::to_string_pretty(error)?);
                return Ok(ExitCode::FAILURE);
            }
            println!("{}", serde_json::to_string_pretty(&reply["result"])?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Starts the cloud sandbox in this process and returns the settings that point every cloud at it.
#[cfg(feature = "sandbox")]
async fn in_process_sandbox() -> Result<credplane::protocol::ConfigureRequest, Box<dyn std::error::Error>> {
    let options = credplane::sandbox::SandboxOptions {
        admin_token: credplane::sandbox::admin::token_from_env()?,
        ..Default::default()
    };
    let handle = credplane::sandbox::start(([127, 0, 0, 1], 0).into(), options).await?;
    eprintln!("credplane: cloud sandbox on {} (in-process)", handle.url);
    if handle.admin_token_generated() {
        eprintln!("credplane: sandbox admin token: {}", handle.admin_token());
    }
    Ok(serde_json::from_value(serde_json::Value::Object(
        handle.provider_settings(),
    ))?)
}

/// Without the `sandbox` feature there is no sandbox to start.
#[cfg(not(feature = "sandbox"))]
async fn in_process_sandbox() -> Result<credplane::protocol::ConfigureRequest, Box<dyn std::error::Error>> {
    Err("this build has no cloud sandbox (built without the `sandbox` feature)".into())
}
