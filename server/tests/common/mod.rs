//! What the integration tests share: a server on a free port with a temporary SQLite file and known
//! secrets, and helpers to call it as a shop, a shopper and an admin.
#![allow(dead_code, reason = "each test binary uses a different part of the helpers")]

use loyalty_core::FromJson;
use loyalty_server::auth::{shopper_header, webhook_signature};
use loyalty_server::config::Config;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

pub const SHOP_SECRET: &str = "shop-secret-0123456789abcdef-0123456789";
pub const PREVIOUS_SECRET: &str = "old-shop-secret-0123456789abcdef-01234";
pub const WEBHOOK_SECRET: &str = "webhook-secret-0123456789abcdef-012345";
pub const ADMIN_KEY: &str = "admin-key-0123456789abcdef-0123456789ab";
pub const ORIGIN: &str = "https://tea.example";

pub struct Server {
    pub base: String,
    pub client: Client,
    pub running: loyalty_server::Running,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start_with(demo: bool) -> Server {
        Server::start_with_env(demo, Vec::new()).await
    }

    /// A server with extra `LOYALTY_*` settings.
    pub async fn start_with_env(demo: bool, extra: Vec<(&'static str, String)>) -> Server {
        Server::start_until(demo, extra, std::future::pending()).await
    }

    /// A server with extra `LOYALTY_*` settings that shuts down when `shutdown` resolves.
    pub async fn start_until(
        demo: bool,
        extra: Vec<(&'static str, String)>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("data/loyalty.db");
        let vars = vec![
            ("LOYALTY_LISTEN", "127.0.0.1:0".to_owned()),
            ("LOYALTY_DATABASE_URL", format!("sqlite://{}", db.display())),
            ("LOYALTY_SHOP_ID", "tea-house".to_owned()),
            ("LOYALTY_SHOP_SECRET", SHOP_SECRET.to_owned()),
            ("LOYALTY_SHOP_SECRET_PREVIOUS", PREVIOUS_SECRET.to_owned()),
            ("LOYALTY_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
            ("LOYALTY_ADMIN_KEY", ADMIN_KEY.to_owned()),
            ("LOYALTY_ALLOWED_ORIGINS", ORIGIN.to_owned()),
            ("LOYALTY_MAX_BODY_BYTES", "65536".to_owned()),
            ("LOYALTY_DEMO", if demo { "1" } else { "0" }.to_owned()),
        ];
        let vars: Vec<(&str, String)> = vars.into_iter().chain(extra).collect();
        let config =
            Config::load(None, &move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()))
                .expect("config");
        let running = loyalty_server::serve(config, shutdown).await.expect("server starts");
        Server { base: format!("http://{}", running.addr), client: Client::new(), running, _dir: dir }
    }

    pub async fn start() -> Server {
        Server::start_with(false).await
    }
}

pub fn program(patch: Value) -> Value {
    let mut program = json!({
        "version": 1, "currency": "CNY", "locales": ["zh-CN", "en"],
        "name": {"zh-CN": "茶香会员", "en": "Tea club"},
        "earn": {"rate": {"points": 1, "perAmount": 100}},
        "tiers": [
            {"id": "member", "name": {"zh-CN": "会员", "en": "Member"}, "threshold": 0},
            {"id": "gold", "name": {"zh-CN": "黄金", "en": "Gold"}, "threshold": 100000, "earnMultiplierPercent": 150}
        ],
        "rewards": [{"id": "ten-off", "name": {"zh-CN": "立减10元", "en": "¥10 off"}, "kind": "amountOff", "cost": 500, "amountOff": 1000}]
    });
    if let (Some(target), Value::Object(patch)) = (program.as_object_mut(), patch) {
        target.extend(patch);
    }
    program
}

impl Server {
    pub fn now(&self) -> i64 {
        self.running.state.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn put_program(&self, body: Value) -> Response {
        self.client
            .put(self.url("/v1/admin/program"))
            .header("authorization", format!("Bearer {ADMIN_KEY}"))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn load_program(&self, patch: Value) {
        let response = self.put_program(json!({ "program": program(patch) })).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap_or_default());
    }

    pub async fn me_with(&self, authorization: &str) -> Response {
        self.client
            .get(self.url("/v1/customers/me"))
            .header("authorization", authorization)
            .send()
            .await
            .expect("request")
    }

    pub fn identity(&self, customer: &str) -> String {
        shopper_header(SHOP_SECRET.as_bytes(), "tea-house", customer, self.now())
    }

    /// An admin call (bearer key), with an optional body and Idempotency-Key.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .header("authorization", format!("Bearer {ADMIN_KEY}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A call signed as `customer`, with an optional Idempotency-Key.
    pub async fn as_shopper(
        &self,
        method: reqwest::Method,
        path: &str,
        customer: &str,
        key: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .header("authorization", self.identity(customer))
            .json(&body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.json().await.expect("json"))
    }

    pub async fn me(&self, customer: &str) -> Value {
        let response = self.me_with(&self.identity(customer)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        // Every answer must be what the widget reads: the contract's read model, decoded as the browser does.
        if let Err(problems) = loyalty_core::ShopperState::from_json_str(&body.to_string()) {
            panic!("customers/me does not match the widget's read model: {problems}");
        }
        body
    }

    pub async fn webhook_raw(&self, body: &[u8], signature: Option<String>) -> Response {
        let mut request =
            self.client.post(self.url("/v1/webhooks/orders")).header("content-type", "application/json");
        if let Some(signature) = signature {
            request = request.header("loyalty-signature", signature);
        }
        request.body(body.to_vec()).send().await.expect("request")
    }

    pub async fn webhook(&self, body: Value) -> (StatusCode, Value) {
        let bytes = serde_json::to_vec(&body).expect("json");
        let signature = webhook_signature(WEBHOOK_SECRET.as_bytes(), self.now(), &bytes);
        let response = self.webhook_raw(&bytes, Some(signature)).await;
        let status = response.status();
        (status, response.json().await.expect("json body"))
    }
}

pub fn paid(order: &str, customer: &str, paid_at: i64, price: i64, quantity: i64) -> Value {
    json!({
        "event": "paid",
        "order": {
            "id": order, "customerId": customer, "paidAt": paid_at, "currency": "CNY",
            "lines": [{"productId": "longjing", "categories": ["tea"], "unitPrice": price, "quantity": quantity}]
        }
    })
}

pub async fn error_code(response: Response) -> (StatusCode, String, String) {
    let status = response.status();
    let body: Value = response.json().await.expect("error bodies are JSON");
    (
        status,
        body["error"]["code"].as_str().unwrap_or("").to_owned(),
        body["error"]["message"].as_str().unwrap_or("").to_owned(),
    )
}

/// The hash the server keys a redemption request by (tests that seed a running key need it).
pub fn request_hash(body: &Value) -> String {
    use sha2::Digest;
    let bytes = serde_json::to_vec(body).expect("json");
    hex::encode(sha2::Sha256::digest([b"POST /v1/redemptions\n".as_slice(), &bytes].concat()))
}
