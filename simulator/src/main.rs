//! `ctt-sim`: runs the simulator as a process, for portals, benchmarks and other languages.
//!
//! Prints one JSON line with the base URL and the credentials once it listens, then serves until
//! killed. Binds 127.0.0.1 only.

use ctt_sim::{FaultConfig, SimConfig, Simulator};
use std::time::Duration;

const USAGE: &str = "usage: ctt-sim [--port N] [--token-ttl SECONDS] [--faults rate=0.2,seed=7,kinds=429+500+drop-after+drop-before+502+503+truncate+latency,latency-ms=200,retry-after=1]";

fn parse_args() -> Result<SimConfig, String> {
    let mut config = SimConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                config.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port takes a number".to_owned())?
            }
            "--token-ttl" => {
                let secs: u64 = value("--token-ttl")?
                    .parse()
                    .map_err(|_| "--token-ttl takes seconds".to_owned())?;
                config.token_ttl = Duration::from_secs(secs);
            }
            "--faults" => config.faults = FaultConfig::parse(&value("--faults")?)?,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(config)
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("CTT_SIM_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let config = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let sim = match Simulator::start(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ctt-sim: could not start: {e}");
            std::process::exit(1);
        }
    };
    let c = sim.credentials();
    let line = serde_json::json!({
        "base_url": sim.base_url(),
        "client_id": c.client_id,
        "client_secret": c.client_secret,
        "username": c.username,
        "password": c.password,
        "reseller_id": sim.reseller_id(),
        "enterprise_username": c.enterprise_username,
        "enterprise_password": c.enterprise_password,
    });
    println!("{line}");
    loop {
        std::thread::park();
    }
}
