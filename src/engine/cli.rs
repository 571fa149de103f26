//! `credplane up|preview|refresh|destroy -- <program>` and `credplane stack ...`: the engine
//! served on a loopback port, the program started with its address in the environment (the way
//! Pulumi starts a language host), live progress while it runs (see [`super::progress`]), the
//! plan at the end.

use super::messages::Action;
use crate::provider::Provider;
use crate::rpc;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

/// What `credplane up` and friends were asked.
pub struct DeployArgs {
    /// What to do.
    pub action: Action,
    /// The stack.
    pub stack: String,
    /// The state URL or path.
    pub state: Option<String>,
    /// Provider calls at once.
    pub parallel: Option<usize>,
    /// The program command.
    pub program: Vec<String>,
}

/// The engine as the CLI talks to it: in-process, or through the loopback server the program uses.
enum Engine {
    InProcess(crate::rpc::Service),
    Http { url: String, token: String },
}

async fn call(engine: &Engine, method: &str, params: Value) -> Result<Value, String> {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let text = match engine {
        Engine::InProcess(module) => rpc::stdio::handle_message(module, &request.to_string())
            .await
            .unwrap_or_default(),
        Engine::Http { url, token } => {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&request)
                .send()
                .await;
            response
                .map_err(|e| e.to_string())?
                .text()
                .await
                .map_err(|e| e.to_string())?
        }
    };
    let reply: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    match reply.get("error") {
        Some(err) => {
            let plan = err
                .pointer("/data/plan")
                .and_then(Value::as_str)
                .map(|p| format!("{p}\n"))
                .unwrap_or_default();
            let errors = err.pointer("/data/errors").and_then(Value::as_array).map(|e| {
                e.iter()
                    .filter_map(Value::as_str)
                    .map(|m| format!("  error: {m}\n"))
                    .collect::<String>()
            });
            Err(format!(
                "{plan}{}{}",
                errors.unwrap_or_default(),
                err["message"].as_str().unwrap_or("failed")
            ))
        }
        None => Ok(reply["result"].clone()),
    }
}

/// Runs one deployment with a program; returns the rendered plan.
pub async fn deploy(provider: Arc<Provider>, args: DeployArgs) -> Result<String, String> {
    let started = Instant::now();
    let token = rpc::auth::BearerToken::generate();
    let options = rpc::http::HttpOptions {
        addr: ([127, 0, 0, 1], 0).into(),
        token: rpc::auth::BearerToken::new(&token)?,
        allow_remote: false,
        tls: None,
        insecure_plain_http: false,
        allowed_hosts: vec![],
        max_connections: rpc::http::DEFAULT_MAX_CONNECTIONS,
    };
    let (events, received) = tokio::sync::mpsc::unbounded_channel();
    let engine = super::Engine::new(provider.clone()).with_progress(events);
    let (stop, shown) = show_progress(received);
    let (local, handle) = rpc::http::start(rpc::module_with_engine(provider, engine), options)
        .await
        .map_err(|e| e.to_string())?;
    let result = run(&args, local, &token).await;
    let _ = handle.stop();
    // Every step has ended (close or cancel returned): the last events are queued already.
    let _ = stop.send(());
    let _ = shown.await;
    let plan = result?;
    Ok(format!("{plan}\nDuration: {:.1}s", started.elapsed().as_secs_f64()))
}

/// Shows the engine's events as they come; on `stop`, the ones still queued, then the summary.
fn show_progress(
    mut received: tokio::sync::mpsc::UnboundedReceiver<super::progress::Event>,
) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let shown = tokio::spawn(async move {
        let mut progress = super::progress::Progress::stderr();
        loop {
            tokio::select! {
                event = received.recv() => match event {
                    Some(event) => progress.show(&event),
                    None => break,
                },
                _ = &mut stopped => {
                    while let Ok(event) = received.try_recv() {
                        progress.show(&event);
                    }
                    break;
                }
            }
        }
        progress.finish();
    });
    (stop, shown)
}

/// Opens the deployment, runs the program, closes; returns the plan text.
async fn run(args: &DeployArgs, local: std::net::SocketAddr, token: &str) -> Result<String, String> {
    let url = format!("http://{local}");
    let module = Engine::Http {
        url: url.clone(),
        token: token.to_string(),
    };
    let mut params = json!({"stack": args.stack, "action": args.action.as_str()});
    if let Some(state) = &args.state {
        params["backend"] = json!(state);
    }
    if let Some(n) = args.parallel {
        params["parallelism"] = json!(n);
    }
    let opened = call(&module, "engine.open", params).await?;
    for w in opened["warnings"].as_array().into_iter().flatten() {
        eprintln!("warning: {}", w.as_str().unwrap_or_default());
    }
    let deployment = opened["deployment"].as_str().unwrap_or_default().to_string();
    let program_needed = matches!(args.action, Action::Up | Action::Preview);
    if program_needed && args.program.is_empty() {
        call(&module, "engine.cancel", json!({"deployment": deployment}))
            .await
            .ok();
        return Err("give the program to run after --, e.g. credplane up -- python3 main.py".into());
    }
    if program_needed {
        eprintln!(
            "{} stack {}: running {}",
            args.action.as_str(),
            args.stack,
            args.program.join(" ")
        );
        let status = tokio::process::Command::new(&args.program[0])
            .args(&args.program[1..])
            .env("CREDPLANE_ENGINE", &url)
            .env("CREDPLANE_ENGINE_TOKEN", token)
            .env("CREDPLANE_DEPLOYMENT", &deployment)
            .env("CREDPLANE_STACK", &args.stack)
            .status()
            .await;
        match status {
            Ok(s) if s.success() => {}
            other => {
                call(&module, "engine.cancel", json!({"deployment": deployment}))
                    .await
                    .ok();
                let why = match other {
                    Ok(s) => format!("the program exited with {s}"),
                    Err(e) => format!("cannot start {}: {e}", args.program[0]),
                };
                return Err(format!("{why}; nothing more was applied (the steps done are recorded)"));
            }
        }
    }
    let closed = call(&module, "engine.close", json!({"deployment": deployment})).await?;
    Ok(closed["plan"].as_str().unwrap_or_default().to_string())
}

/// `credplane stack ls|export|import|unlock|rm`.
pub async fn stack(provider: Arc<Provider>, method: &str, params: Value) -> Result<Value, String> {
    call(&Engine::InProcess(rpc::module(provider)), method, params).await
}
