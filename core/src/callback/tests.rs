use super::*;
use std::time::UNIX_EPOCH;

const KEY: &[u8] = b"portal-secret-key-0123456789";
const BODY: &str = r#"{"msalAuthenticationResult":{"authenticationResult":{"accessToken":"a","userInfo":{"tenantId":"t"}}},"officeUserType":"GLOBAL_ADMIN","companyAdmin":true}"#;

fn ring() -> CallbackKeys {
    CallbackKeys::new(CallbackKey::new("k1", KEY).expect("key"))
}

fn ask(now: u64) -> Ask {
    Ask {
        flow_id: "flow-1".into(),
        action: ActionType::Registration,
        nonce: "n1".into(),
        issued_at: now,
        key_id: String::new(),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

#[test]
fn a_tagged_url_verifies_and_keeps_the_portals_query() {
    let url =
        tag_redirect_url(&ring(), "https://portal.example/cb?tenant=7", &ask(now())).expect("tag");
    assert!(url.starts_with("https://portal.example/cb?tenant=7&ctt_flow=flow-1"));
    let v = verify(&ring(), &url, BODY).expect("verifies");
    assert_eq!(v.flow_id, "flow-1");
    assert_eq!(v.action, ActionType::Registration);
    assert_eq!(v.nonce, "n1");
    assert_eq!(claimed_flow_id(&url).as_deref(), Some("flow-1"));
    let path_only = &url["https://portal.example".len()..];
    assert_eq!(claimed_flow_id(path_only).as_deref(), Some("flow-1"));
    let relative = verify_relative_to(&ring(), path_only, "https://portal.example/cb", BODY)
        .expect("relative");
    assert_eq!(relative.nonce, "n1");
}

#[test]
fn forgeries_are_refused() {
    let url = tag_redirect_url(&ring(), "https://portal.example/cb?x=1", &ask(now())).expect("tag");
    let other_ring =
        CallbackKeys::new(CallbackKey::new("k1", b"another-key-0123456789").expect("k"));
    let tag = url.split("ctt_tag=").nth(1).expect("tag").to_owned();
    let cases = [
        ("other key", verify(&other_ring, &url, BODY)),
        (
            "flow",
            verify(&ring(), &url.replace("flow-1", "flow-2"), BODY),
        ),
        (
            "action",
            verify(
                &ring(),
                &url.replace("REGISTRATION", "GET_AGENT_CONSENT"),
                BODY,
            ),
        ),
        (
            "nonce",
            verify(&ring(), &url.replace("ctt_nonce=n1", "ctt_nonce=n2"), BODY),
        ),
        (
            "host",
            verify(
                &ring(),
                &url.replace("portal.example", "evil.example"),
                BODY,
            ),
        ),
        ("path", verify(&ring(), &url.replace("/cb?", "/cb2?"), BODY)),
        (
            "scheme",
            verify(&ring(), &url.replace("https:", "http:"), BODY),
        ),
        (
            "portal query",
            verify(&ring(), &url.replace("x=1", "x=2"), BODY),
        ),
        (
            "added query",
            verify(&ring(), &url.replace("x=1", "x=1&y=2"), BODY),
        ),
        (
            "untagged",
            verify(&ring(), "https://portal.example/cb", BODY),
        ),
        (
            "repeated",
            verify(&ring(), &format!("{url}&ctt_flow=x"), BODY),
        ),
        (
            "upper tag",
            verify(&ring(), &url.replace(&tag, &tag.to_uppercase()), BODY),
        ),
        ("padded tag", verify(&ring(), &format!("{url}="), BODY)),
        ("relative", verify(&ring(), "/cb?ctt_flow=x", BODY)),
        ("not json", verify(&ring(), &url, "{not json")),
        ("empty", verify(&ring(), &url, "{}")),
    ];
    for (what, c) in cases {
        assert_eq!(
            c.expect_err(what).code(),
            crate::ErrorCode::CallbackInvalid,
            "{what}"
        );
    }
}

#[test]
fn keys_rotate_retire_and_expire() {
    let old = CallbackKeys::new(CallbackKey::new("old", KEY).expect("k"));
    let url = tag_redirect_url(&old, "https://portal.example/cb", &ask(now())).expect("tag");
    let rotated = CallbackKeys::new(CallbackKey::new("new", b"a-newer-key-0123456789").expect("k"));
    let still = rotated
        .clone()
        .with_verify_key(CallbackKey::new("old", KEY).expect("k"))
        .expect("ring");
    assert!(verify(&still, &url, BODY).is_ok());
    let retired = rotated.with_retired("old").expect("ring");
    let e = verify(&retired, &url, BODY).expect_err("retired");
    assert!(e.message().contains("retired"), "{e}");
    let stale = tag_redirect_url(
        &ring(),
        "https://portal.example/cb",
        &ask(now() - 73 * 3600),
    )
    .expect("tag");
    let e = verify(&ring(), &stale, BODY).expect_err("expired");
    assert!(e.message().contains("expired"), "{e}");
    assert!(
        verify(
            &ring()
                .with_max_age(Duration::from_secs(80 * 3600))
                .expect("age"),
            &stale,
            BODY
        )
        .is_ok()
    );
}

#[test]
fn keys_are_bytes_of_at_least_16() {
    assert!(
        CallbackKey::derived([0xffu8; 32]).is_ok(),
        "non-UTF-8 bytes are a key"
    );
    assert_eq!(
        CallbackKey::derived(b"short").expect_err("short").code(),
        crate::ErrorCode::InvalidInput
    );
    assert!(CallbackKey::new("bad id!", KEY).is_err());
    assert_eq!(
        CallbackKey::derived(KEY).expect("k").id(),
        CallbackKey::derived(KEY).expect("k").id()
    );
}

#[test]
fn payload_digests_ignore_whitespace_and_key_order() {
    let url = tag_redirect_url(&ring(), "https://portal.example/cb", &ask(now())).expect("tag");
    let a = verify(&ring(), &url, BODY).expect("a");
    let spaced = BODY.replace(',', ", ").replace(':', " : ");
    let b = verify(&ring(), &url, &spaced).expect("b");
    assert_eq!(a.payload_digest, b.payload_digest);
    let changed = BODY.replace("\"t\"", "\"u\"");
    assert_ne!(
        a.payload_digest,
        verify(&ring(), &url, &changed).expect("c").payload_digest
    );
}

#[test]
fn jwt_tenants_are_read_and_opaque_tokens_have_none() {
    let payload = URL_SAFE_NO_PAD.encode(br#"{"tid":"tenant-1"}"#);
    assert_eq!(
        jwt_tenant(&format!("e30.{payload}.sig")).as_deref(),
        Some("tenant-1")
    );
    assert_eq!(jwt_tenant("opaque-token"), None);
}

#[test]
fn a_ring_from_parts_names_the_part_at_fault() {
    let secret = b"0123456789abcdef0123";
    let ring = CallbackKeys::from_parts(
        (None, secret),
        &[("old".into(), b"fedcba9876543210fedc".to_vec())],
        &["gone".into()],
        Some(Duration::from_secs(3600)),
    )
    .expect("ring");
    assert_eq!(
        ring.signing_key_id(),
        CallbackKey::derived(secret).expect("key").id
    );
    assert_eq!(ring.max_age(), Duration::from_secs(3600));
    for (ring, part) in [
        (
            CallbackKeys::from_parts((Some("new".into()), b"short"), &[], &[], None),
            "callbackKeys.signing",
        ),
        (
            CallbackKeys::from_parts(
                (None, secret),
                &[
                    ("a".into(), secret.to_vec()),
                    ("b".into(), b"short".to_vec()),
                ],
                &[],
                None,
            ),
            "callbackKeys.verify[1]",
        ),
        (
            CallbackKeys::from_parts((Some("x".into()), secret), &[], &["x".into()], None),
            "callbackKeys.retired[0]",
        ),
        (
            CallbackKeys::from_parts((None, secret), &[], &[], Some(Duration::from_secs(1))),
            "callbackKeys.maxAge",
        ),
    ] {
        let err = ring.expect_err("refused");
        assert_eq!(err.code(), crate::ErrorCode::InvalidInput);
        assert!(err.to_string().starts_with(part), "{err}");
    }
}
