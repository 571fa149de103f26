//! `credplane-bench`: the Rust half of `scripts/bench.sh`. Each subcommand measures one group of
//! figures and prints them as one JSON object on stdout; the script runs the Python-side figures,
//! merges everything into `target/bench/results.json` and prints the table.

mod bare_server;
mod load;
mod moto;
mod process;

use clap::{Parser, Subcommand};
use process::median;
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Token given to `credplane serve --listen` (and sent to the bare server too, which ignores it).
const TOKEN: &str = "credplane-bench-token-0123456789abcdef";

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the bare jsonrpsee baseline until killed.
    BareServer {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// The result to answer every `check` with (JSON).
        #[arg(long)]
        check_reply: Option<String>,
        /// The result to answer every `diff` with (JSON).
        #[arg(long)]
        diff_reply: Option<String>,
    },
    /// The cold-start floor: a tokio process that reads one line and answers a fixed reply.
    EchoStdio,
    /// cold_start_ms: median of spawning `credplane serve --stdio`, one `check`, exit.
    ColdStart {
        #[arg(long)]
        credplane: PathBuf,
        #[arg(long, default_value_t = 30)]
        runs: usize,
    },
    /// idle_rss_mb: RSS of `credplane serve --listen` after start, idle (and of the bare server).
    IdleRss {
        #[arg(long)]
        credplane: PathBuf,
    },
    /// check_vs_bare, diff_vs_bare: HTTP requests/s, credplane over bare, A B A B, medians.
    Http {
        #[arg(long)]
        credplane: PathBuf,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// IAM access keys created and deleted per second through `credplane serve --stdio` on moto.
    Moto {
        #[arg(long)]
        credplane: PathBuf,
        #[arg(long)]
        endpoint: String,
        #[arg(long)]
        user: String,
        #[arg(long, default_value_t = 50)]
        pairs: usize,
    },
}

fn main() {
    // `cargo bench` appends `--bench`; it means nothing here.
    let args = std::env::args().filter(|a| a != "--bench");
    let cli = Cli::parse_from(args);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(run(cli.command)) {
        Ok(()) => {}
        Err(err) => {
            eprintln!("credplane-bench: {err}");
            std::process::exit(1);
        }
    }
}

fn serve_stdio(credplane: &PathBuf) -> Command {
    let mut command = Command::new(credplane);
    command.args(["serve", "--stdio"]);
    command
}

async fn run(command: Cmd) -> Result<(), String> {
    match command {
        Cmd::BareServer {
            listen,
            check_reply,
            diff_reply,
        } => {
            let parse = |reply: Option<String>| {
                reply
                    .map(|text| serde_json::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string()))
                    .transpose()
            };
            bare_server::run(listen, parse(check_reply)?, parse(diff_reply)?)
                .await
                .map_err(|e| e.to_string())
        }
        Cmd::EchoStdio => {
            use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
            let mut line = String::new();
            tokio::io::BufReader::new(tokio::io::stdin())
                .read_line(&mut line)
                .await
                .map_err(|e| e.to_string())?;
            let mut out = tokio::io::stdout();
            out.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n")
                .await
                .map_err(|e| e.to_string())?;
            out.flush().await.map_err(|e| e.to_string())
        }
        Cmd::ColdStart { credplane, runs } => {
            let request = String::from_utf8(load::body("check", load::check_params())).expect("utf-8");
            let own = std::env::current_exe().map_err(|e| e.to_string())?;
            let (mut ours, mut floor) = (Vec::new(), Vec::new());
            // Alternate the two so that machine noise falls on both alike.
            for _ in 0..runs {
                ours.push(process::spawn_answer_exit(serve_stdio(&credplane), &request)?.as_secs_f64() * 1e3);
                let mut echo = Command::new(&own);
                echo.arg("echo-stdio");
                floor.push(process::spawn_answer_exit(echo, &request)?.as_secs_f64() * 1e3);
            }
            print(
                json!({"cold_start_ms": median(&mut ours), "cold_start_floor_ms": median(&mut floor),
                "cold_start_runs": runs}),
            );
            Ok(())
        }
        Cmd::IdleRss { credplane } => {
            let mut command = Command::new(&credplane);
            command
                .args(["serve", "--listen", "127.0.0.1:0"])
                .env("CREDPLANE_TOKEN", TOKEN);
            let ours = process::start_server(command, true)?;
            let bare = start_bare(&[])?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let rss = process::proc_status_mb(ours.child.id(), "VmRSS")?;
            let bare_rss = process::proc_status_mb(bare.child.id(), "VmRSS")?;
            print(json!({"idle_rss_mb": rss, "bare_idle_rss_mb": bare_rss}));
            Ok(())
        }
        Cmd::Http {
            credplane,
            rounds,
            seconds,
            concurrency,
        } => {
            let mut command = Command::new(&credplane);
            command
                .args(["serve", "--listen", "127.0.0.1:0"])
                .env("CREDPLANE_TOKEN", TOKEN);
            let ours = process::start_server(command, true)?;
            let ours_url = format!("http://{}", ours.addr);
            let client = reqwest::Client::new();
            // The bare server answers exactly what credplane answered, so that the two differ only
            // in the work done per request, not in the size of what they write.
            let mut replies = Vec::new();
            for (method, params) in [("check", load::check_params()), ("diff", load::diff_params())] {
                let reply = load::call_once(&client, &ours_url, TOKEN, &load::body(method, params)).await?;
                replies.push(format!("--{method}-reply={}", reply["result"]));
            }
            let bare = start_bare(&replies)?;
            let bare_url = format!("http://{}", bare.addr);
            let mut result = serde_json::Map::new();
            for (method, params, min) in [
                ("check", load::check_params(), "check_vs_bare"),
                ("diff", load::diff_params(), "diff_vs_bare"),
            ] {
                let body = load::body(method, params);
                // Both must answer the request, alike, before any timing.
                let ours_reply = load::call_once(&client, &ours_url, TOKEN, &body).await?;
                let bare_reply = load::call_once(&client, &bare_url, TOKEN, &body).await?;
                if ours_reply != bare_reply {
                    return Err(format!("{method}: the bare server's reply differs from credplane's"));
                }
                let (mut ours_rps, mut bare_rps, mut ours_cpu, mut bare_cpu) =
                    (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                let duration = Duration::from_secs_f64(seconds);
                for _ in 0..rounds {
                    let bare_round =
                        load::round(&bare_url, TOKEN, &body, concurrency, duration, bare.child.id()).await?;
                    let ours_round =
                        load::round(&ours_url, TOKEN, &body, concurrency, duration, ours.child.id()).await?;
                    bare_rps.push(bare_round.requests_per_second);
                    bare_cpu.push(bare_round.server_cpu_us_per_request);
                    ours_rps.push(ours_round.requests_per_second);
                    ours_cpu.push(ours_round.server_cpu_us_per_request);
                }
                let (ours_median, bare_median) = (median(&mut ours_rps), median(&mut bare_rps));
                result.insert(format!("{method}_rps"), json!(ours_median));
                result.insert(format!("{method}_bare_rps"), json!(bare_median));
                result.insert(min.to_string(), json!(ours_median / bare_median));
                result.insert(format!("{method}_server_cpu_us"), json!(median(&mut ours_cpu)));
                result.insert(format!("{method}_bare_server_cpu_us"), json!(median(&mut bare_cpu)));
            }
            result.insert("http_rounds".into(), json!(rounds));
            result.insert("http_concurrency".into(), json!(concurrency));
            print(serde_json::Value::Object(result));
            Ok(())
        }
        Cmd::Moto {
            credplane,
            endpoint,
            user,
            pairs,
        } => {
            let per_second = moto::create_delete_per_second(serve_stdio(&credplane), &endpoint, &user, pairs)?;
            print(json!({"credplane_keys_per_s": per_second, "pairs": pairs}));
            Ok(())
        }
    }
}

fn start_bare(args: &[String]) -> Result<process::Server, String> {
    let mut command = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
    command.arg("bare-server").args(args);
    process::start_server(command, false)
}

fn print(value: serde_json::Value) {
    println!("{value}");
}
