//! Fault soak: many complete onboardings at once against a simulator that faults a share of
//! requests, then a census of the simulator: every flow complete, one enterprise per flow, each
//! consent once. Exits 1 when any of that fails.
//!
//! `fault-soak [--flows 1000] [--concurrency 32] [--rate 0.2] [--seed 7] [--retry-after 1]`

use ctt_reliability::{census, drive, flow_census, is_twin, soak_client, soak_plan};
use ctt_sim::{FaultConfig, FaultKind, SimConfig, Simulator};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

struct Args {
    flows: usize,
    concurrency: usize,
    rate: f64,
    seed: u64,
    retry_after: u64,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        flows: 1000,
        concurrency: 32,
        rate: 0.2,
        seed: 7,
        retry_after: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |_| format!("{flag} {value:?} is not a number");
        match flag.as_str() {
            "--flows" => a.flows = value.parse().map_err(bad)?,
            "--concurrency" => a.concurrency = value.parse().map_err(bad)?,
            "--rate" => {
                a.rate = value
                    .parse()
                    .map_err(|_| format!("--rate {value:?} is not a number"))?
            }
            "--seed" => a.seed = value.parse().map_err(bad)?,
            "--retry-after" => a.retry_after = value.parse().map_err(bad)?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if a.flows == 0 || a.concurrency == 0 {
        return Err("--flows and --concurrency must be positive".into());
    }
    Ok(a)
}

#[tokio::main]
async fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fault-soak: {e}");
            std::process::exit(2);
        }
    };
    let faults = FaultConfig {
        rate: args.rate,
        seed: args.seed,
        kinds: FaultKind::ALL.to_vec(),
        latency_ms: 50,
        retry_after_secs: args.retry_after,
        paths: Vec::new(),
    };
    let sim = match Simulator::start(SimConfig {
        faults,
        ..SimConfig::default()
    }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fault-soak: simulator did not start: {e}");
            std::process::exit(1);
        }
    };
    // Every northwind flow moves the one shared clock by 30 minutes, which no tenant's clock
    // does while its admin's sign-in is being confirmed; MSAL expiry has its own tests
    // (core/tests/integrity.rs, onboarding.rs).
    sim.set_msal_ttl(Duration::from_secs(90 * 24 * 3600));
    let retry = ctt_onboard::RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(500),
        max_retry_after: Duration::from_secs(5),
        ..ctt_onboard::RetryPolicy::default()
    };
    let (client, clock) = match soak_client(&sim, retry) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fault-soak: client: {e}");
            std::process::exit(1);
        }
    };
    let run = format!("s{}", args.seed);
    let started = Instant::now();
    let mut names: Vec<String> = (0..args.flows)
        .map(|i| soak_plan(&run, i).0.enterprise.enterprise_name)
        .collect();
    names.dedup();
    let pairs = (0..args.flows).filter(|i| is_twin(*i)).count();
    let reports: Vec<_> = futures::stream::iter(0..args.flows)
        .map(|i| {
            let (plan, tenant) = soak_plan(&run, i);
            let (client, sim, clock) = (&client, &sim, &clock);
            async move {
                match ctt_onboard::Onboarding::new(plan) {
                    Ok(flow) => {
                        drive(
                            client,
                            sim,
                            clock,
                            flow,
                            &tenant,
                            is_twin(i) || is_twin(i + 1),
                        )
                        .await
                    }
                    Err(e) => ctt_reliability::FlowReport {
                        unexpected: vec![e.to_string()],
                        ..Default::default()
                    },
                }
            }
        })
        // In order, so each twin pair (flows 10k+8 and 10k+9) is judged side by side; the pair
        // still runs at the same time, racing for its one name.
        .buffered(args.concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();

    let complete = reports.iter().filter(|r| r.complete).count();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for r in &reports {
        for (code, n) in &r.errors {
            *errors.entry(code.clone()).or_default() += n;
        }
    }
    let unexpected: Vec<&String> = reports.iter().flat_map(|r| r.unexpected.iter()).collect();
    let census = census(&sim, &names);
    let per_flow = flow_census(&sim, &reports);
    let requests = sim.requests();
    let faulted = requests.iter().filter(|r| r.fault.is_some()).count();
    let mut by_fault: BTreeMap<String, usize> = BTreeMap::new();
    for r in requests.iter().filter_map(|r| r.fault.clone()) {
        *by_fault.entry(r).or_default() += 1;
    }

    println!(
        "fault soak: seed {} rate {} flows {} concurrency {}",
        args.seed, args.rate, args.flows, args.concurrency
    );
    println!("  elapsed                 {:.1} s", elapsed.as_secs_f64());
    println!(
        "  requests to simulator   {} ({} faulted: {:?})",
        requests.len(),
        faulted,
        by_fault
    );
    println!("  flows complete          {complete} / {}", args.flows);
    println!(
        "  same-name pairs         {pairs} ({} flows refused with conflict, {} pairs without a winner)",
        per_flow.conflicts, per_flow.pairs_without_winner
    );
    println!(
        "  per flow id             {} enterprises shared by two flows, {} flows whose enterprise lacks their reference, {} refused flows with an enterprise",
        per_flow.shared_enterprises, per_flow.misattributed, per_flow.conflicted_but_created
    );
    println!("  enterprises duplicated  {}", census.duplicate_enterprises);
    println!("  enterprises missing     {}", census.missing_enterprises);
    println!(
        "  consents recorded       {} (doubled: {})",
        census.consents, census.consents_doubled
    );
    println!("  not managed by provider {}", census.not_managed);
    println!(
        "  token requests          reseller {}, enterprise {}",
        sim.token_requests("reseller"),
        sim.token_requests("enterprise")
    );
    println!("  errors surfaced by code {errors:?}");
    println!("  unexpected errors       {}", unexpected.len());
    for u in unexpected.iter().take(10) {
        println!("    {u}");
    }
    let ok = complete + per_flow.conflicts == args.flows
        && per_flow.conflicts == pairs
        && per_flow.pairs_without_winner == 0
        && per_flow.shared_enterprises == 0
        && per_flow.misattributed == 0
        && per_flow.conflicted_but_created == 0
        && census.duplicate_enterprises == 0
        && census.missing_enterprises == 0
        && census.consents_doubled == 0
        && census.not_managed == 0
        && unexpected.is_empty();
    let failed = usize::from(!ok);
    println!("fault-soak: {} passed, {failed} failed", usize::from(ok));
    if !ok {
        std::process::exit(1);
    }
}
