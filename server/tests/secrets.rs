//! Over real HTTP: the webhook secret and the admin key can be rotated like the shop secret (the previous
//! value is accepted while it is set, and refused once it is removed).

mod common;

use common::{Server, ADMIN_KEY, WEBHOOK_SECRET};
use loyalty_server::auth::webhook_signature;
use reqwest::StatusCode;
use serde_json::json;

const OLD_WEBHOOK_SECRET: &str = "old-webhook-secret-0123456789abcdef-0123";
const OLD_ADMIN_KEY: &str = "old-admin-key-0123456789abcdef-0123456789";

/// The status of a customer webhook signed with `secret`, and of an admin read with `key`.
async fn calls(server: &Server, secret: &str, key: &str) -> (StatusCode, StatusCode) {
    let body = serde_json::to_vec(&json!({"event": "created", "customer": {"id": "c1"}})).expect("json");
    let webhook = server
        .client
        .post(server.url("/v1/webhooks/customers"))
        .header("loyalty-signature", webhook_signature(secret.as_bytes(), server.now(), &body))
        .body(body)
        .send()
        .await
        .expect("request")
        .status();
    let admin = server
        .client
        .get(server.url("/v1/admin/customers/c1/export"))
        .header("authorization", format!("Bearer {key}"))
        .send()
        .await
        .expect("request")
        .status();
    (webhook, admin)
}

#[tokio::test]
async fn the_webhook_secret_and_the_admin_key_rotate_with_a_previous_value() {
    let rotating = Server::start_with_env(
        false,
        vec![
            ("LOYALTY_WEBHOOK_SECRET_PREVIOUS", OLD_WEBHOOK_SECRET.to_owned()),
            ("LOYALTY_ADMIN_KEY_PREVIOUS", OLD_ADMIN_KEY.to_owned()),
        ],
    )
    .await;
    rotating.load_program(json!({})).await;
    assert_eq!(calls(&rotating, WEBHOOK_SECRET, ADMIN_KEY).await, (StatusCode::OK, StatusCode::OK));
    assert_eq!(
        calls(&rotating, OLD_WEBHOOK_SECRET, OLD_ADMIN_KEY).await,
        (StatusCode::OK, StatusCode::OK),
        "the previous values are accepted while they are set"
    );
    let rotated = Server::start().await;
    rotated.load_program(json!({})).await;
    assert_eq!(calls(&rotated, WEBHOOK_SECRET, ADMIN_KEY).await, (StatusCode::OK, StatusCode::OK));
    assert_eq!(
        calls(&rotated, OLD_WEBHOOK_SECRET, OLD_ADMIN_KEY).await,
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED),
        "and refused once they are removed"
    );
}
