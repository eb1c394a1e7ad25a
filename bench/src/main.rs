//! `ctt-bench`: the Rust cases of the benchmarks, each printing one JSON object on stdout.
//!
//! The driver (`bench/run.py`) starts the simulator (`ctt-sim`) as its own process and passes
//! its JSON line in the `CTT_SIM` environment variable; each case is one invocation of this
//! binary, so a case's peak RSS is its own.
//!
//! Cases:
//! - `latency`: per-call latency on one keep-alive connection, `sbc_gateways` and
//!   `action_item_url`, for a hand-written reqwest call (the floor) and the core client, in
//!   alternating blocks (`--blocks`); then the serde probes of the per-call breakdown
//!   ([`serde_probes`]).
//! - `bulk`: enterprises created and their registration URL asked for, at a given concurrency,
//!   through the core client or hand-written reqwest calls.
//! - `simload`: the simulator alone: `GET sbc_gateways` at a given concurrency with a fixed token.
//! - `singleflight`: many concurrent first calls on a fresh client; the simulator's token count.
//! - `flow`: the flow JSON's size after each step, `to_json`/`from_json` times, and the memory
//!   of many in-flight flows held at once.

use ctt_onboard::{
    ActionType, CallbackOutcome, Client, Credentials, NewEnterprise, Onboarding, OnboardingPlan,
    Progress, Service,
};
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

const REDIRECT: &str = "https://portal.example/ctt/callback";
const CALLBACK_KEY: &str = "bench-portal-callback-key-000001";

/// What the simulator's JSON line says.
struct Sim {
    base: String,
    client_id: String,
    client_secret: String,
    username: String,
    password: String,
    enterprise_username: String,
    enterprise_password: String,
    reseller_id: i64,
}

impl Sim {
    fn from_env() -> Res<Sim> {
        let line = std::env::var("CTT_SIM")
            .map_err(|_| "CTT_SIM must hold the JSON line ctt-sim printed")?;
        let v: Value = serde_json::from_str(&line)?;
        let s = |k: &str| -> Res<String> {
            Ok(v[k]
                .as_str()
                .ok_or_else(|| format!("CTT_SIM has no {k}"))?
                .to_owned())
        };
        Ok(Sim {
            base: s("base_url")?.trim_end_matches('/').to_owned(),
            client_id: s("client_id")?,
            client_secret: s("client_secret")?,
            username: s("username")?,
            password: s("password")?,
            enterprise_username: s("enterprise_username")?,
            enterprise_password: s("enterprise_password")?,
            reseller_id: v["reseller_id"]
                .as_i64()
                .ok_or("CTT_SIM has no reseller_id")?,
        })
    }

    fn client(&self) -> Res<Client> {
        Ok(Client::builder()
            .base_url(&self.base)
            .reseller_credentials(Credentials::new(
                self.client_id.as_str(),
                self.client_secret.as_str(),
                self.username.as_str(),
                self.password.as_str(),
            ))
            .enterprise_credentials(Credentials::new(
                self.client_id.as_str(),
                self.client_secret.as_str(),
                self.enterprise_username.as_str(),
                self.enterprise_password.as_str(),
            ))
            .reseller_id(self.reseller_id)
            .callback_key(CALLBACK_KEY)
            .build()?)
    }

    /// The reseller token by a hand-written password grant.
    async fn raw_token(&self, http: &reqwest::Client) -> Res<String> {
        let answer: Value = http
            .post(format!("{}/oauth/token", self.base))
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .form(&[
                ("grant_type", "password"),
                ("username", self.username.as_str()),
                ("password", self.password.as_str()),
            ])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(answer["access_token"]
            .as_str()
            .ok_or("no access_token")?
            .to_owned())
    }

    async fn state(&self, http: &reqwest::Client) -> Res<Value> {
        Ok(http
            .get(format!("{}/_sim/state", self.base))
            .send()
            .await?
            .json()
            .await?)
    }
}

/// The floor: the calls a user would write by hand with reqwest and serde_json.
struct Raw {
    http: reqwest::Client,
    base: String,
    token: String,
    reseller_id: i64,
}

impl Raw {
    async fn new(sim: &Sim) -> Res<Raw> {
        let http = reqwest::Client::builder().tcp_nodelay(true).build()?;
        let token = sim.raw_token(&http).await?;
        Ok(Raw {
            http,
            base: sim.base.clone(),
            token,
            reseller_id: sim.reseller_id,
        })
    }

    async fn sbc_gateways(&self) -> Res<Value> {
        let url = format!(
            "{}/reseller/getAvailableSBCGatewayRegionsByResellerId/{}",
            self.base, self.reseller_id
        );
        let bytes = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        Ok(serde_json::from_slice(&bytes)?)
    }

    async fn create_enterprise(&self, name: &str) -> Res<i64> {
        let text = self
            .http
            .post(format!("{}/reseller/newEnterprise", self.base))
            .bearer_auth(&self.token)
            .json(&json!({"enterpriseName": name, "services": ["SMS", "CHAT"], "restrictAdminAccess": true}))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        Ok(text.trim().parse()?)
    }

    async fn action_item_url(&self, name: &str) -> Res<String> {
        Ok(self
            .http
            .post(format!("{}/enterprise/getActionItemUrl", self.base))
            .bearer_auth(&self.token)
            .json(&json!({"actionType": "REGISTRATION", "enterpriseName": name, "redirectUrl": REDIRECT}))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?)
    }
}

fn enterprise(name: String) -> NewEnterprise {
    let mut e = NewEnterprise::new(name, vec![Service::Sms, Service::Chat]);
    e.restrict_admin_access = Some(true);
    e
}

/// Peak resident set size of this process, in KiB (VmHWM).
fn peak_rss_kb() -> u64 {
    status_kb("VmHWM:")
}

/// Current resident set size of this process, in KiB (VmRSS).
fn rss_kb() -> u64 {
    status_kb("VmRSS:")
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Times `n` sequential calls after `warmup` untimed ones; per-call microseconds.
async fn time_calls<F, Fut, T>(warmup: usize, n: usize, mut call: F) -> Res<Vec<f64>>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Res<T>>,
{
    for i in 0..warmup {
        call(i).await?;
    }
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        call(warmup + i).await?;
        samples.push(micros(started.elapsed()));
    }
    Ok(samples)
}

async fn latency(sim: &Sim, warmup: usize, n: usize, blocks: usize) -> Res<Value> {
    let raw = Raw::new(sim).await?;
    let core = sim.client()?;
    let name = format!("Latency Bench {}", std::process::id());
    raw.create_enterprise(&name).await?;
    let rid = sim.reseller_id;
    let core_gw = || async { Ok::<_, BoxError>(core.sbc_gateways(rid).await?) };
    let core_url = || async {
        Ok::<_, BoxError>(
            core.action_item_url(&ActionType::Registration, &name, REDIRECT)
                .await?,
        )
    };
    // In the same process, on the same simulator: each implementation warmed up, then `blocks`
    // rounds of `n / blocks` calls of each in turn (A B A B), so drift lands on both alike.
    time_calls(warmup, 0, |_| raw.sbc_gateways()).await?;
    time_calls(warmup, 0, |_| core_gw()).await?;
    time_calls(warmup, 0, |_| raw.action_item_url(&name)).await?;
    time_calls(warmup, 0, |_| core_url()).await?;
    let per = (n / blocks.max(1)).max(1);
    let (mut raw_gw, mut core_gw_s, mut raw_url, mut core_url_s) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..blocks.max(1) {
        raw_gw.extend(time_calls(0, per, |_| raw.sbc_gateways()).await?);
        core_gw_s.extend(time_calls(0, per, |_| core_gw()).await?);
        raw_url.extend(time_calls(0, per, |_| raw.action_item_url(&name)).await?);
        core_url_s.extend(time_calls(0, per, |_| core_url()).await?);
    }
    let mut results = Vec::new();
    for (imp, op, samples) in [
        ("raw reqwest", "sbc_gateways", raw_gw),
        ("core client", "sbc_gateways", core_gw_s),
        ("raw reqwest", "action_item_url", raw_url),
        ("core client", "action_item_url", core_url_s),
    ] {
        results.push(json!({"lang": "rust", "impl": imp, "op": op, "samples_us": samples}));
    }
    results.extend(serde_probes(&raw, &core, rid, warmup, n).await?);
    Ok(json!({"case": "latency", "blocks": blocks, "results": results}))
}

/// Calls per sample of a probe: a probe takes about a microsecond, so one sample is the mean of a
/// batch (the clock's own cost, tens of nanoseconds, would otherwise be a share of it).
const PROBE_BATCH: usize = 50;

/// Mean microseconds per call of `call`, `n` batches of [`PROBE_BATCH`] calls after `warmup`.
fn time_batches<T>(warmup: usize, n: usize, mut call: impl FnMut() -> T) -> Vec<f64> {
    for _ in 0..warmup {
        std::hint::black_box(call());
    }
    (0..n)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..PROBE_BATCH {
                std::hint::black_box(call());
            }
            micros(started.elapsed()) / PROBE_BATCH as f64
        })
        .collect()
}

/// The serde work around a binding's conversion of the `sbc_gateways` result, timed here because
/// only Rust can time it alone (bench/NOTES.md, "Where the time goes"): `to-value` is what every
/// binding does to core's result before building host objects (`serde_json::to_value` of the
/// `Vec<SbcGateway>`); `parse-items` is what the Python probe `build_models` does and a real call
/// does not (parse each gateway's JSON text), so it is subtracted from that probe.
async fn serde_probes(
    raw: &Raw,
    core: &Client,
    rid: i64,
    warmup: usize,
    n: usize,
) -> Res<Vec<Value>> {
    let gateways = core.sbc_gateways(rid).await?;
    let items: Vec<String> = match raw.sbc_gateways().await? {
        Value::Array(items) => items.iter().map(Value::to_string).collect(),
        other => return Err(format!("sbc_gateways answered {other}").into()),
    };
    let to_value = time_batches(warmup, n, || serde_json::to_value(&gateways));
    let parse = time_batches(warmup, n, || {
        items
            .iter()
            .map(|t| serde_json::from_str::<Value>(t))
            .collect::<Result<Vec<_>, _>>()
    });
    let probe = |name: &str, call: &str, samples: Vec<f64>| {
        json!({"kind": "probe", "lang": "rust", "impl": "core client", "probe": name,
            "call": call, "batch": PROBE_BATCH, "items": items.len(), "samples_us": samples})
    };
    Ok(vec![
        probe(
            "to-value",
            "serde_json::to_value(&Vec<SbcGateway>)",
            to_value,
        ),
        probe(
            "parse-items",
            "serde_json::from_str::<Value> of each gateway's JSON text",
            parse,
        ),
    ])
}

async fn bulk(sim: &Sim, imp: &str, n: usize, concurrency: usize) -> Res<Value> {
    let prefix = format!("Bulk {} {}", imp, std::process::id());
    let started;
    match imp {
        "core" => {
            let client = sim.client()?;
            client.sbc_gateways(sim.reseller_id).await?; // the token, outside the timing
            started = Instant::now();
            let mut stream = futures::stream::iter(0..n)
                .map(|i| {
                    let client = client.clone();
                    let name = format!("{prefix} {i}");
                    async move {
                        client.create_enterprise(&enterprise(name.clone())).await?;
                        client
                            .action_item_url(&ActionType::Registration, &name, REDIRECT)
                            .await?;
                        Ok::<_, BoxError>(())
                    }
                })
                .buffer_unordered(concurrency);
            while let Some(r) = stream.next().await {
                r?;
            }
        }
        "raw" => {
            let raw = Raw::new(sim).await?;
            started = Instant::now();
            let raw = &raw;
            let mut stream = futures::stream::iter(0..n)
                .map(|i| {
                    let name = format!("{prefix} {i}");
                    async move {
                        raw.create_enterprise(&name).await?;
                        raw.action_item_url(&name).await?;
                        Ok::<_, BoxError>(())
                    }
                })
                .buffer_unordered(concurrency);
            while let Some(r) = stream.next().await {
                r?;
            }
        }
        other => return Err(format!("unknown bulk implementation {other:?}").into()),
    }
    let secs = started.elapsed().as_secs_f64();
    let label = if imp == "core" {
        "core client"
    } else {
        "raw reqwest"
    };
    Ok(
        json!({"case": "bulk", "lang": "rust", "impl": label, "n": n, "concurrency": concurrency,
        "seconds": secs, "peak_rss_kb": peak_rss_kb()}),
    )
}

async fn simload(sim: &Sim, n: usize, concurrency: usize) -> Res<Value> {
    let raw = Raw::new(sim).await?;
    let raw = &raw;
    raw.sbc_gateways().await?;
    let started = Instant::now();
    let mut stream = futures::stream::iter(0..n)
        .map(|_| async move {
            // Bytes only: the load loop should cost the client as little as possible.
            let url = format!(
                "{}/reseller/getAvailableSBCGatewayRegionsByResellerId/{}",
                raw.base, raw.reseller_id
            );
            raw.http
                .get(url)
                .bearer_auth(&raw.token)
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            Ok::<_, BoxError>(())
        })
        .buffer_unordered(concurrency);
    while let Some(r) = stream.next().await {
        r?;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(
        json!({"case": "simload", "lang": "rust", "impl": "reqwest load loop (GET sbc_gateways)",
        "n": n, "concurrency": concurrency, "seconds": secs}),
    )
}

async fn singleflight(sim: &Sim, n: usize) -> Res<Value> {
    let http = reqwest::Client::new();
    let before = sim.state(&http).await?["token_requests"]["reseller"]
        .as_u64()
        .unwrap_or(0);
    let client = sim.client()?;
    let rid = sim.reseller_id;
    let calls = (0..n).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.sbc_gateways(rid).await })
    });
    let mut failed = 0usize;
    for handle in futures::future::join_all(calls).await {
        if !matches!(handle, Ok(Ok(_))) {
            failed += 1;
        }
    }
    let after = sim.state(&http).await?["token_requests"]["reseller"]
        .as_u64()
        .unwrap_or(0);
    Ok(
        json!({"case": "singleflight", "lang": "rust", "impl": "core client", "calls": n,
        "failed": failed, "token_requests": after.saturating_sub(before)}),
    )
}

async fn approve(http: &reqwest::Client, sim: &Sim, url: &str) -> Res<(String, String)> {
    let answer: Value = http
        .post(format!("{}/_sim/approve", sim.base))
        .json(&json!({"url": url, "tenant": "contoso"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let url = answer["url"].as_str().ok_or("approve: no url")?.to_owned();
    // The body as the portal receives it: the JSON text.
    let body = match &answer["body"] {
        Value::String(s) => s.clone(),
        Value::Null => return Err("approve: no body".into()),
        other => other.to_string(),
    };
    Ok((url, body))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

async fn flow(sim: &Sim, flows: usize, iters: usize) -> Res<Value> {
    let client = sim.client()?;
    let http = reqwest::Client::new();
    let mut e = NewEnterprise::new(
        format!("Flow Bench {}", std::process::id()),
        vec![Service::Pbx, Service::Sms, Service::Chat],
    );
    e.restrict_admin_access = Some(true);
    let mut plan = OnboardingPlan::new(e, REDIRECT);
    plan.gateway_regions = vec!["US-East".into()];
    let mut flow = Onboarding::new(plan)?;
    let mut sizes = vec![json!({"after": "new", "bytes": flow.to_json()?.len()})];
    let mut in_flight_json = None;
    for _ in 0..20 {
        match flow.advance(&client).await? {
            Progress::AwaitingAdmin { action, url } => {
                let json_now = flow.to_json()?;
                sizes.push(json!({"after": format!("advance -> awaiting {action}"), "bytes": json_now.len()}));
                if in_flight_json.is_none() {
                    in_flight_json = Some(json_now);
                }
                let (cb_url, body) = approve(&http, sim, &url).await?;
                let keys = client
                    .callback_keys()
                    .ok_or("the bench client has a callback key")?;
                let outcome = flow.handle_callback(keys, &cb_url, &body)?;
                if outcome != CallbackOutcome::Accepted {
                    return Err("a callback was not accepted".into());
                }
                sizes.push(
                    json!({"after": format!("callback {action}"), "bytes": flow.to_json()?.len()}),
                );
            }
            Progress::WaitingUntil { reason, .. } => {
                return Err(format!("contoso should not wait: {reason}").into());
            }
            Progress::Complete { .. } => {
                sizes.push(json!({"after": "complete", "bytes": flow.to_json()?.len()}));
                break;
            }
        }
    }
    let full = flow.to_json()?;
    let mut to_us = Vec::with_capacity(iters);
    let mut from_us = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        let j = flow.to_json()?;
        to_us.push(micros(t.elapsed()));
        std::hint::black_box(&j);
        let t = Instant::now();
        let f = Onboarding::from_json(&full)?;
        from_us.push(micros(t.elapsed()));
        std::hint::black_box(&f);
    }
    // Memory: `flows` distinct flows awaiting the registration (the state of a bulk import),
    // each parsed from its own JSON, held at once.
    let template = in_flight_json.ok_or("the flow never waited for the admin")?;
    let template_id = Onboarding::from_json(&template)?.id().to_owned();
    let texts: Vec<String> = (0..flows)
        .map(|i| template.replace(&template_id, &format!("{:08}-0000-4000-8000-{:012}", i, i)))
        .collect();
    let before = rss_kb();
    let mut held: Vec<Onboarding> = Vec::with_capacity(flows);
    for t in &texts {
        held.push(Onboarding::from_json(t)?);
    }
    let after = rss_kb();
    let distinct: HashMap<&str, ()> = held.iter().map(|f| (f.id(), ())).collect();
    let per_flow = (after.saturating_sub(before) as f64) * 1024.0 / flows.max(1) as f64;
    Ok(json!({"case": "flow", "lang": "rust", "sizes": sizes,
        "final_bytes": full.len(), "in_flight_bytes": template.len(),
        "to_json_us": median(to_us), "from_json_us": median(from_us),
        "flows": flows, "distinct_flows": distinct.len(), "rss_per_flow_bytes": per_flow}))
}

fn arg(args: &[String], name: &str, default: usize) -> Res<usize> {
    match args.iter().position(|a| a == name) {
        Some(i) => Ok(args
            .get(i + 1)
            .ok_or_else(|| format!("{name} needs a value"))?
            .parse()?),
        None => Ok(default),
    }
}

fn arg_str<'a>(args: &'a [String], name: &str, default: &'a str) -> &'a str {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, String::as_str)
}

async fn run(args: Vec<String>) -> Res<Value> {
    let sim = Sim::from_env()?;
    let case = args.first().map(String::as_str).unwrap_or("");
    match case {
        "latency" => {
            latency(
                &sim,
                arg(&args, "--warmup", 200)?,
                arg(&args, "--n", 2000)?,
                arg(&args, "--blocks", 4)?,
            )
            .await
        }
        "bulk" => {
            bulk(
                &sim,
                arg_str(&args, "--impl", "core"),
                arg(&args, "--n", 10_000)?,
                arg(&args, "--concurrency", 64)?,
            )
            .await
        }
        "simload" => {
            simload(
                &sim,
                arg(&args, "--n", 50_000)?,
                arg(&args, "--concurrency", 64)?,
            )
            .await
        }
        "singleflight" => singleflight(&sim, arg(&args, "--n", 1000)?).await,
        "flow" => {
            flow(
                &sim,
                arg(&args, "--flows", 10_000)?,
                arg(&args, "--iters", 1000)?,
            )
            .await
        }
        other => Err(format!(
            "unknown case {other:?}: latency | bulk --impl core|raw | simload | singleflight | flow"
        )
        .into()),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ctt-bench: no runtime: {e}");
            std::process::exit(1);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(v) => println!("{v}"),
        Err(e) => {
            eprintln!("ctt-bench: {e}");
            std::process::exit(1);
        }
    }
}
