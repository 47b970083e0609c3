//! In-process checks of keys, secrets and their life cycle on the data plane: paging, soft delete and retention,
//! the recovery window, client input errors, rotation policies and ISO 8601 durations (see `checks`).

use serde_json::{Value, json};

use super::checks::{VaultClient, secret_url, send, server_with_vault};
use super::rotation::duration_seconds;

#[test]
fn lists_are_paged_with_next_links() {
    let (server, token) = server_with_vault("kfpaging", false);
    let vault = VaultClient::new(&server, &token, "kfpaging");
    for index in 0..3 {
        let answer = vault.call_json("PUT", &format!("secrets/s{index}"), json!({"value": "v"}));
        assert_eq!(answer.status, 200);
    }
    let first = send(
        &server,
        "GET",
        &format!("{}&maxresults=2", secret_url("kfpaging", "secrets")),
        Some(&token),
        Vec::new(),
    );
    assert_eq!(first.body["value"].as_array().map(Vec::len), Some(2));
    let next = first.body["nextLink"].as_str().expect("a nextLink").to_string();
    let second = send(&server, "GET", &next, Some(&token), Vec::new());
    assert_eq!(second.body["value"].as_array().map(Vec::len), Some(1));
    assert_eq!(second.body["nextLink"], Value::Null);
    let too_many = send(
        &server,
        "GET",
        &format!("{}&maxresults=26", secret_url("kfpaging", "secrets")),
        Some(&token),
        Vec::new(),
    );
    assert_eq!(too_many.status, 400);
}

#[test]
fn purge_expired_now_ends_the_retention_of_soft_deleted_objects() {
    let (server, token) = server_with_vault("kfexpiry", true);
    let vault = VaultClient::new(&server, &token, "kfexpiry");
    let set = vault.call_json("PUT", "secrets/db", json!({"value": "first"}));
    assert_eq!(set.status, 200);
    assert_eq!(server.secret_value("kfexpiry", "db").as_deref(), Some("first"));
    let deleted = vault.call("DELETE", "secrets/db");
    assert_eq!(deleted.status, 200);
    assert_eq!(
        deleted.body["scheduledPurgeDate"].as_i64().unwrap_or_default()
            - deleted.body["deletedDate"].as_i64().unwrap_or_default(),
        7 * 24 * 3600
    );
    let purge = vault.call("DELETE", "deletedsecrets/db");
    assert_eq!(purge.status, 403, "purge protection refuses the purge");
    server.purge_expired_now();
    let gone = vault.call("GET", "deletedsecrets/db");
    assert_eq!(
        (gone.status, gone.body["error"]["code"].clone()),
        (404, json!("SecretNotFound"))
    );
    let again = vault.call_json("PUT", "secrets/db", json!({"value": "second"}));
    assert_eq!(again.status, 200, "the name is free once purged: {}", again.body);
}

#[test]
fn the_recovery_window_is_configurable() {
    let (server, token) = server_with_vault("kfrecover", false);
    let vault = VaultClient::new(&server, &token, "kfrecover");
    server.set_recovery_window(std::time::Duration::from_secs(3600));
    vault.call_json("PUT", "secrets/api", json!({"value": "v1"}));
    vault.call("DELETE", "secrets/api");
    let recovered = vault.call("POST", "deletedsecrets/api/recover");
    assert_eq!(recovered.status, 200);
    assert!(
        recovered.body.get("value").is_none(),
        "recover answers the bundle without its value"
    );
    let read = vault.call("GET", "secrets/api");
    assert_eq!(read.status, 404, "still being recovered");
    let write = vault.call_json("PUT", "secrets/api", json!({"value": "v2"}));
    assert_eq!(write.body["error"]["innererror"]["code"], "ObjectIsBeingRecovered");
    server.set_recovery_window(std::time::Duration::ZERO);
    vault.call_json("PUT", "secrets/web", json!({"value": "v1"}));
    vault.call("DELETE", "secrets/web");
    vault.call("POST", "deletedsecrets/web/recover");
    let write = vault.call_json("PUT", "secrets/web", json!({"value": "v2"}));
    assert_eq!(write.status, 200, "{}", write.body);
}

#[test]
fn client_input_errors_are_answers_not_panics() {
    let (server, token) = server_with_vault("kfinput", false);
    let vault = VaultClient::new(&server, &token, "kfinput");
    let cases = [
        ("PUT", "secrets/has_underscore", json!({"value": "v"}), 400),
        ("PUT", "secrets/novalue", json!({"contentType": "x"}), 400),
        (
            "PUT",
            "secrets/badattributes",
            json!({"value": "v", "attributes": {"exp": "soon"}}),
            400,
        ),
        ("POST", "keys/k/create", json!({"kty": "RSA", "key_size": 1024}), 400),
        ("POST", "keys/k/create", json!({"kty": "EC", "crv": "P-999"}), 400),
        ("POST", "keys/k/create", json!({"kty": "oct"}), 400),
        ("POST", "keys/k/create", json!({"kty": "RSA", "key_ops": ["fly"]}), 400),
        ("GET", "keys/missing/rotationpolicy", Value::Null, 404),
        ("GET", "certificates", Value::Null, 400),
    ];
    for (method, path, body, status) in cases {
        let answer = vault.call_json(method, path, body);
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.body);
        assert!(
            answer.body["error"]["code"].is_string(),
            "{method} {path}: {}",
            answer.body
        );
    }
    let not_json = send(
        &server,
        "PUT",
        &secret_url("kfinput", "secrets/x"),
        Some(&token),
        b"{not json".to_vec(),
    );
    assert_eq!(not_json.status, 400);
    let old_version = send(
        &server,
        "GET",
        "https://kfinput.vault.keyform.test/secrets?api-version=2016-10-01",
        Some(&token),
        Vec::new(),
    );
    assert_eq!(
        (old_version.status, old_version.body["error"]["code"].clone()),
        (400, json!("BadParameter"))
    );
    let no_version = send(
        &server,
        "GET",
        "https://kfinput.vault.keyform.test/secrets",
        Some(&token),
        Vec::new(),
    );
    assert_eq!(no_version.status, 400);
}

#[test]
fn rotation_policies_are_validated() {
    let (server, token) = server_with_vault("kfpolicy", false);
    let vault = VaultClient::new(&server, &token, "kfpolicy");
    let created = vault.call_json("POST", "keys/k/create", json!({"kty": "EC"}));
    assert_eq!(created.status, 200);
    assert_eq!(created.body["key"]["crv"], "P-256");
    let put = |body: Value| vault.call_json("PUT", "keys/k/rotationpolicy", body).status;
    let both_triggers = json!({"lifetimeActions": [
        {"trigger": {"timeAfterCreate": "P1M", "timeBeforeExpiry": "P1D"}, "action": {"type": "Rotate"}}
    ]});
    assert_eq!(put(both_triggers), 400);
    let bad_duration =
        json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "one month"}, "action": {"type": "Rotate"}}]});
    assert_eq!(put(bad_duration), 400);
    let longer_than_expiry = json!({
        "attributes": {"expiryTime": "P30D"},
        "lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P60D"}, "action": {"type": "notify"}}],
    });
    assert_eq!(put(longer_than_expiry), 400);
    let yearly = json!({
        "attributes": {"expiryTime": "P2Y"},
        "lifetimeActions": [{"trigger": {"timeAfterCreate": "P1Y"}, "action": {"type": "rotate"}}],
    });
    assert_eq!(put(yearly), 200);
    let get = || vault.call("GET", "keys/k/rotationpolicy").body;
    assert_eq!(get()["lifetimeActions"][0]["action"]["type"], "Rotate");
    assert!(get()["id"].is_string(), "a policy set explicitly has an id");
    assert_eq!(put(json!({"lifetimeActions": []})), 200);
    assert_eq!(
        get()["lifetimeActions"],
        json!([{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}]),
        "an empty lifetimeActions restores the default policy"
    );
}

#[test]
fn iso_8601_durations_are_read() {
    assert_eq!(duration_seconds("P1Y"), Some(365 * 86_400));
    assert_eq!(duration_seconds("P18M"), Some(18 * 30 * 86_400));
    assert_eq!(
        duration_seconds("P1Y2M3DT4H5M6S"),
        Some(365 * 86_400 + 60 * 86_400 + 3 * 86_400 + 4 * 3600 + 5 * 60 + 6)
    );
    assert_eq!(duration_seconds("P2W"), Some(14 * 86_400));
    for invalid in ["", "P", "1Y", "PT", "P1H", "PD", "P1D2Y", "P-1D"] {
        assert_eq!(duration_seconds(invalid), None, "{invalid}");
    }
}

#[test]
fn numbers_at_the_edge_of_their_range_are_answers_not_panics() {
    let (server, token) = server_with_vault("kfedge", false);
    let vault = VaultClient::new(&server, &token, "kfedge");
    let far_page = send(
        &server,
        "GET",
        &format!("{}&$skiptoken={}", secret_url("kfedge", "secrets"), usize::MAX),
        Some(&token),
        Vec::new(),
    );
    assert_eq!((far_page.status, far_page.body["value"].clone()), (200, json!([])));
    let created = vault.call_json("POST", "keys/k/create", json!({"kty": "EC"}));
    assert_eq!(created.status, 200, "{}", created.body);
    let policy = json!({"attributes": {"expiryTime": "P292471208677Y"}, "lifetimeActions": []});
    let put = vault.call_json("PUT", "keys/k/rotationpolicy", policy);
    assert_eq!(put.status, 200, "{}", put.body);
    let rotated = vault.call("POST", "keys/k/rotate");
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_eq!(
        rotated.body["attributes"]["exp"],
        json!(i64::MAX),
        "the expiry saturates"
    );
}
