//! `sdk-gen`: writes (or, with `--check`, verifies) the SDKs and docs generated from `schema/`.
//!
//! Usage: `cargo run -p sdk-gen -- [--schema schema] [--out .] [--check]`

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sdk-gen: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let mut schema = PathBuf::from("schema");
    let mut out = PathBuf::from(".");
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--schema" => {
                schema = args
                    .next()
                    .map(PathBuf::from)
                    .ok_or_else(|| anyhow::anyhow!("--schema needs a path"))?
            }
            "--out" => {
                out = args
                    .next()
                    .map(PathBuf::from)
                    .ok_or_else(|| anyhow::anyhow!("--out needs a path"))?
            }
            "--check" => check = true,
            "-h" | "--help" => {
                println!("usage: sdk-gen [--schema DIR] [--out DIR] [--check]");
                return Ok(ExitCode::SUCCESS);
            }
            other => anyhow::bail!("unknown argument {other:?} (try --help)"),
        }
    }
    let files = sdk_gen::generate(&schema)?;
    if check {
        let drift = files.check(&out)?;
        if drift.is_clean() {
            println!("sdk-gen: {} generated files are up to date", files.0.len());
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "sdk-gen: generated files are out of date:\n{drift}\nRegenerate them with:\n  {}",
            sdk_gen::REGENERATE
        );
        return Ok(ExitCode::FAILURE);
    }
    let changed = files.write(&out)?;
    println!("sdk-gen: wrote {} files ({changed} changed)", files.0.len());
    Ok(ExitCode::SUCCESS)
}
