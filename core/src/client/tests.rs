use super::failure::retry_after;
use super::*;
use crate::config::RetryPolicy;
use reqwest::header::{HeaderMap, HeaderValue};
use std::time::{Duration, SystemTime};

#[test]
fn retry_after_reads_seconds_and_dates() {
    let mut h = HeaderMap::new();
    h.insert("retry-after", HeaderValue::from_static("3"));
    let now = SystemTime::now();
    assert_eq!(retry_after(&h, now), Some(Duration::from_secs(3)));
    let later = httpdate::fmt_http_date(now + Duration::from_secs(120));
    h.insert(
        "retry-after",
        HeaderValue::from_str(&later).expect("header"),
    );
    let d = retry_after(&h, now).expect("date").as_secs();
    assert!((118..=120).contains(&d), "{d}");
}

#[test]
fn base_url_must_be_https_unless_loopback() {
    assert!(parse_endpoint_url("base_url", "https://api.connecttoteams.com").is_ok());
    assert!(parse_endpoint_url("base_url", "http://127.0.0.1:9").is_ok());
    assert!(parse_endpoint_url("base_url", "http://localhost:9").is_ok());
    assert!(parse_endpoint_url("base_url", "http://[::1]:9").is_ok());
    let e = parse_endpoint_url("base_url", "http://api.connecttoteams.com").expect_err("http");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(e.message().contains("https"));
    assert!(parse_endpoint_url("base_url", "ftp://x").is_err());
    assert!(parse_endpoint_url("base_url", "nope").is_err());
}

#[test]
fn backoff_grows_and_is_capped() {
    let p = RetryPolicy::default();
    assert_eq!(p.backoff(1, 1.0), Duration::from_millis(200));
    assert_eq!(p.backoff(3, 1.0), Duration::from_millis(800));
    assert_eq!(p.backoff(30, 1.0), Duration::from_secs(10));
    assert_eq!(p.backoff(1, 0.0), Duration::from_millis(20));
}

#[test]
fn path_overrides_are_checked() {
    assert!(
        Client::builder()
            .path("o365_user_info", "GET /x")
            .build()
            .is_ok()
    );
    let e = Client::builder()
        .path("nope", "/x")
        .build()
        .expect_err("unknown");
    assert!(e.message().contains("nope"));
    let e = Client::builder()
        .path("token", "x")
        .build()
        .expect_err("relative");
    assert!(e.message().contains("token"));
}
