use super::*;
use std::time::UNIX_EPOCH;

#[test]
fn unknown_services_and_actions_pass_through() {
    let s: Vec<Service> = serde_json::from_str(r#"["PBX","FAX"]"#).expect("parse");
    assert_eq!(s, vec![Service::Pbx, Service::Other("FAX".into())]);
    assert_eq!(serde_json::to_string(&s).expect("ser"), r#"["PBX","FAX"]"#);
    assert_eq!(ActionType::from_wire("NEW_THING").as_str(), "NEW_THING");
    assert_eq!(
        ActionType::from_wire("REGISTRATION"),
        ActionType::Registration
    );
}

#[test]
fn new_enterprise_uses_wire_names() {
    let mut e = NewEnterprise::new("Acme", vec![Service::Pbx]);
    e.sbc_gateways = vec![5678];
    e.pbx_id = vec![1234];
    e.restrict_admin_access = Some(true);
    let v = serde_json::to_value(&e).expect("ser");
    assert_eq!(v["enterpriseName"], "Acme");
    assert_eq!(v["sbcGateways"][0], 5678);
    assert_eq!(v["pbxId"][0], 1234);
    assert_eq!(v["restrictAdminAccess"], true);
    assert!(v.get("countryName").is_none());
}

#[test]
fn every_field_of_the_vendor_sample_keeps_its_wire_name() {
    let sample = r#"{"allowExternalNumbers":true,"billingReferences":["string"],"canAddExtensions":true,
        "canResellerManageEnterpriseProvisioning":true,"countryName":"string","entConfigInfos":[{"configDetails":
        {"contexts":"string","defValue":"string","ent":true,"id":0,"labelName":"string","labelPopover":"string",
        "masterReseller":true,"name":"string","partner":true,"reseller":true,"system":true,"type":"string"},
        "entityId":0,"id":0,"value":"string"}],"enterpriseId":0,"enterpriseName":"string","federated":true,
        "federationDomain":"string","pbxId":[0],"pbxMOH":true,"registeredBy":"string","resellerId":0,
        "restrictAdminAccess":true,"sbcGateways":[0],"secureSMSEnabled":true,"services":["string"],"userLimit":0,
        "userProvisioningEnabled":true}"#;
    let parsed: NewEnterprise = serde_json::from_str(sample).expect("the vendor's sample");
    let back = serde_json::to_value(&parsed).expect("serialize");
    let original: serde_json::Value = serde_json::from_str(sample).expect("json");
    assert_eq!(back, original, "a field was renamed or dropped");
}

#[test]
fn validate_names_the_field() {
    let cases: Vec<(NewEnterprise, &str)> = vec![
        (
            NewEnterprise::new("  ", vec![Service::Sms]),
            "enterpriseName",
        ),
        (
            NewEnterprise::new("x".repeat(300), vec![Service::Sms]),
            "enterpriseName",
        ),
        (NewEnterprise::new("A", vec![]), "services"),
        (
            NewEnterprise::new("A", vec![Service::Other("bad value".into())]),
            "services",
        ),
        (NewEnterprise::new("A", vec![Service::Trunk]), "sbcGateways"),
        (
            NewEnterprise {
                sbc_gateways: vec![1],
                ..NewEnterprise::new("A", vec![Service::Pbx])
            },
            "pbxId",
        ),
        (NewEnterprise::new("A", vec![Service::CallApp]), "pbxId"),
        (
            NewEnterprise {
                sbc_gateways: vec![-1],
                ..NewEnterprise::new("A", vec![Service::Trunk])
            },
            "sbcGateways",
        ),
        (
            NewEnterprise {
                pbx_id: vec![0],
                ..NewEnterprise::new("A", vec![Service::CallApp])
            },
            "pbxId",
        ),
        (
            NewEnterprise {
                user_limit: Some(-4),
                ..NewEnterprise::new("A", vec![Service::Sms])
            },
            "userLimit",
        ),
        (
            NewEnterprise {
                enterprise_id: Some(-1),
                ..NewEnterprise::new("A", vec![Service::Sms])
            },
            "enterpriseId",
        ),
    ];
    for (e, field) in cases {
        let err = e.validate().expect_err("must fail");
        assert_eq!(err.code(), crate::ErrorCode::InvalidInput);
        assert!(
            err.message().contains(field),
            "{} should name {field}",
            err.message()
        );
    }
    assert!(
        NewEnterprise::new("A", vec![Service::Sms, Service::Chat])
            .validate()
            .is_ok()
    );
}

#[test]
fn decoders_are_tolerant() {
    assert_eq!(decode_enterprise_id(b"123456789").expect("bare"), 123456789);
    assert_eq!(decode_enterprise_id(b"\"42\"").expect("quoted"), 42);
    assert_eq!(decode_enterprise_id(b"{\"id\":7}").expect("object"), 7);
    assert!(decode_enterprise_id(b"oops").is_err());
    assert!(decode_enterprise_id(b"-5").is_err());
    assert_eq!(
        decode_action_item_url(b"https://x.test/a?b=c").expect("bare"),
        "https://x.test/a?b=c"
    );
    assert_eq!(
        decode_action_item_url(b"\"https://x.test/a\"").expect("json"),
        "https://x.test/a"
    );
    assert!(decode_action_item_url(b"not a url").is_err());
    let list = decode_enterprise_list(br#"{"content":[{"enterpriseId":5,"enterpriseName":"A"}]}"#)
        .expect("list");
    assert_eq!(list[0].enterprise_id, 5);
    let list = decode_enterprise_list(br#"[{"id":"6","enterpriseName":"B"}]"#).expect("list");
    assert_eq!(list[0].enterprise_id, 6);
}

#[test]
fn callback_parses_the_vendor_sample() {
    let body = r#"{"msalAuthenticationResult":{"authenticationResult":{"accessToken":"access_token","accessTokenType":"login.microsoftonline.com","expiresAfter":null,"expiresOn":1742985175242681,"expiresOnDate":null,"idToken":"id_token","multipleResourceRefreshToken":false,"refreshToken":null,"userInfo":{"displayableId":"globaladmin@example.com","identityProvider":"user","tenantId":"tenantid"}},"resellerId":null,"tenantId":null},"organization":"MSFT","officeUserType":"GLOBAL_ADMIN","companyAdmin":true,"containsTeamsTenantAdminAPI":true}"#;
    let p = CallbackPayload::parse(body).expect("parse");
    assert!(p.is_global_admin());
    assert_eq!(p.tenant_id(), Some("tenantid"));
    assert_eq!(p.contains_teams_tenant_admin_api, Some(true));
    let at = p.authentication_result().expires_at().expect("expiry");
    assert_eq!(
        at.duration_since(UNIX_EPOCH)
            .expect("after epoch")
            .as_secs(),
        1742985175
    );
    let canary = body
        .replace("\"access_token\"", "\"CANARY-AT\"")
        .replace("\"id_token\"", "\"CANARY-ID\"");
    let p = CallbackPayload::parse(&canary).expect("parse");
    assert_eq!(p.authentication_result().access_token.expose(), "CANARY-AT");
    let debug = format!("{p:?}");
    assert!(!debug.contains("CANARY"), "{debug}");
}
