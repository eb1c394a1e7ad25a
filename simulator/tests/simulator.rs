//! The simulator's own surface: CLI fault specs, tenant variants, the consent page a browser
//! clicks, and the control API that other processes use.
#![allow(missing_docs)]

use ctt_sim::state::tenant;
use ctt_sim::{FaultConfig, FaultKind, SimConfig, Simulator};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn fault_specs_parse_and_name_their_mistakes() {
    let f = FaultConfig::parse(
        "rate=0.2,seed=7,kinds=429+drop-after,latency-ms=5,retry-after=0,paths=/pbx",
    )
    .expect("spec");
    assert_eq!(f.rate, 0.2);
    assert_eq!(
        f.kinds,
        vec![FaultKind::TooManyRequests, FaultKind::DropAfterRead]
    );
    assert_eq!(f.paths, vec!["/pbx".to_owned()]);
    for (spec, says) in [
        ("rate=2", "between 0 and 1"),
        ("kinds=boom", "boom"),
        ("nope=1", "nope"),
        ("rate", "key=value"),
    ] {
        let e = FaultConfig::parse(spec).expect_err(spec);
        assert!(e.contains(says), "{spec}: {e}");
    }
}

#[test]
fn tenant_variants_keep_their_base_traits_with_their_own_ids() {
    let base = tenant("northwind").expect("base");
    let a = tenant("northwind+7").expect("variant");
    let b = tenant("northwind+8").expect("variant");
    assert!(a.roles_missing && a.global_admin);
    assert_ne!(a.tenant_id, base.tenant_id);
    assert_ne!(a.tenant_id, b.tenant_id);
    assert_eq!(
        tenant("northwind+7").expect("again").tenant_id,
        a.tenant_id,
        "stable"
    );
    assert!(a.tenant_id.starts_with(&base.tenant_id[..23]));
    assert_eq!(a.admin, "admin@northwind-7.onmicrosoft.com");
    assert!(tenant("nobody+1").is_none());
    assert!(tenant("contoso+bad suffix").is_none());
}

/// Accepts one HTTP request on a loopback port and returns its body.
async fn one_request(listener: tokio::net::TcpListener) -> String {
    let (mut stream, _) = listener.accept().await.expect("accept");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.expect("read");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if body.len() >= len {
                stream
                    .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                    .await
                    .expect("answer");
                return body.to_owned();
            }
        }
        if n == 0 {
            return String::new();
        }
    }
}

#[tokio::test]
async fn the_consent_page_posts_the_callback_and_redirects_the_browser() {
    let sim = Simulator::start(SimConfig::default()).expect("simulator");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let c = sim.credentials().clone();
    let token: serde_json::Value = http
        .post(format!("{}/oauth/token", sim.base_url()))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[
            ("username", c.username.as_str()),
            ("password", c.password.as_str()),
            ("grant_type", "password"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let bearer = token["access_token"].as_str().expect("token").to_owned();
    let id: i64 = http
        .post(format!("{}/reseller/newEnterprise", sim.base_url()))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({"enterpriseName": "Page Co", "services": ["SMS"]}))
        .send()
        .await
        .expect("create")
        .text()
        .await
        .expect("id")
        .parse()
        .expect("a bare number");
    assert!(id > 0);

    let portal = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let redirect = format!("http://{}/cb?flow=1", portal.local_addr().expect("addr"));
    let received = tokio::spawn(one_request(portal));
    let url = http
        .post(format!("{}/enterprise/getActionItemUrl", sim.base_url()))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({"actionType": "REGISTRATION", "enterpriseName": "Page Co", "redirectUrl": redirect}))
        .send()
        .await
        .expect("url")
        .text()
        .await
        .expect("text");
    let page = http
        .get(&url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("id=\"tenant-fabrikam\"") && page.contains("id=\"accept\""),
        "{page}"
    );
    assert!(page.contains("Page Co") && page.contains("REGISTRATION"));
    let state = url::Url::parse(&url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("state")
        .1
        .into_owned();
    let answer = http
        .post(format!("{}/restricted/handleResponse", sim.base_url()))
        .form(&[
            ("state", state.as_str()),
            ("tenant", "fabrikam"),
            ("decision", "accept"),
        ])
        .send()
        .await
        .expect("accept");
    assert_eq!(answer.status().as_u16(), 303);
    assert_eq!(
        answer.headers()["location"].to_str().expect("location"),
        redirect,
        "the redirect URL exactly as given"
    );
    let body = tokio::time::timeout(Duration::from_secs(10), received)
        .await
        .expect("posted")
        .expect("task");
    let callback: serde_json::Value = serde_json::from_str(&body).expect("callback JSON");
    assert_eq!(callback["officeUserType"], "GLOBAL_ADMIN");
    assert_eq!(
        callback["containsTeamsTenantAdminAPI"], false,
        "fabrikam has no Tenant Admin API yet"
    );
    assert_eq!(
        sim.enterprises()[0].tenant_id.as_deref(),
        tenant("fabrikam")
            .map(|t| t.tenant_id.to_string())
            .as_deref()
    );

    // The control API other processes use.
    let state: serde_json::Value = http
        .get(format!("{}/_sim/state", sim.base_url()))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    assert_eq!(state["token_requests"]["reseller"], 1);
    let before = sim.now();
    http.post(format!("{}/_sim/clock", sim.base_url()))
        .json(&serde_json::json!({"advance_secs": 600}))
        .send()
        .await
        .expect("clock");
    assert!(sim.now() >= before + Duration::from_secs(600));
    let bad = http
        .post(format!("{}/_sim/faults", sim.base_url()))
        .body("{\"rate\":\"x\"}")
        .send()
        .await
        .expect("faults");
    assert_eq!(bad.status().as_u16(), 400);
}

/// A reseller token from the simulator, its client authenticated as `basic` says.
async fn token_with(sim: &Simulator, basic: &str) -> reqwest::Response {
    let c = sim.credentials();
    reqwest::Client::new()
        .post(format!("{}/oauth/token", sim.base_url()))
        .header("authorization", basic)
        .form(&[
            ("username", c.username.as_str()),
            ("password", c.password.as_str()),
            ("grant_type", "password"),
        ])
        .send()
        .await
        .expect("token request")
}

#[tokio::test]
async fn the_token_endpoint_form_decodes_the_basic_client_id_and_secret() {
    use base64::Engine as _;
    let sim = Simulator::start(SimConfig {
        credentials: ctt_sim::SimCredentials {
            client_id: "id:1 x".into(),
            client_secret: "s3:cr%et+ü".into(),
            ..ctt_sim::SimCredentials::default()
        },
        ..SimConfig::default()
    })
    .expect("sim");
    let b64 = |s: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    };
    // RFC 6749 §2.3.1: each part form-encoded, then joined and Base64'd.
    let ok = token_with(&sim, &b64("id%3A1+x:s3%3Acr%25et%2B%C3%BC")).await;
    assert_eq!(ok.status(), 200);
    // The raw values joined as they are are not the same credentials.
    let raw = token_with(&sim, &b64("id:1 x:s3:cr%et+ü")).await;
    assert_eq!(raw.status(), 401);
    let broken = token_with(&sim, &b64("id%3A1+x:s3%ZZ")).await;
    assert_eq!(broken.status(), 401);
}

#[tokio::test]
async fn the_enterprise_list_answers_spring_pages_with_billing_references() {
    let sim = Simulator::start(SimConfig::default()).expect("sim");
    let c = sim.credentials().clone();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{}/oauth/token", sim.base_url()))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[
            ("username", c.username.as_str()),
            ("password", c.password.as_str()),
            ("grant_type", "password"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let bearer = token["access_token"].as_str().expect("token").to_owned();
    for i in 0..25 {
        let body = serde_json::json!({
            "enterpriseName": format!("E{i}"), "services": ["SMS"],
            "billingReferences": [format!("B{i}")],
        });
        let r = http
            .post(format!("{}/reseller/newEnterprise", sim.base_url()))
            .bearer_auth(&bearer)
            .json(&body)
            .send()
            .await
            .expect("create");
        assert_eq!(r.status(), 200);
    }
    let list = |query: &'static str| {
        let http = http.clone();
        let url = format!(
            "{}/reseller/v3/getEnterprisesForReseller?resellerId=54{query}",
            sim.base_url()
        );
        let bearer = bearer.clone();
        async move {
            let r = http
                .get(url)
                .bearer_auth(bearer)
                .send()
                .await
                .expect("list");
            (r.status().as_u16(), r.text().await.expect("body"))
        }
    };
    let (status, body) = list("").await;
    assert_eq!(status, 200);
    let page: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(page["content"].as_array().expect("content").len(), 20);
    assert_eq!(
        (
            page["number"].clone(),
            page["totalPages"].clone(),
            page["last"].clone()
        ),
        (
            serde_json::json!(0),
            serde_json::json!(2),
            serde_json::json!(false)
        )
    );
    assert_eq!(
        page["content"][3]["billingReferences"],
        serde_json::json!(["B3"])
    );
    let (_, body) = list("&page=1&size=20").await;
    let page: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(page["content"].as_array().expect("content").len(), 5);
    assert_eq!(page["last"], true);
    let (_, body) = list("&page=0&size=5000").await;
    let page: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(page["content"].as_array().expect("content").len(), 25);
    let (status, _) = list("&page=-1").await;
    assert_eq!(status, 400);
}
