//! The real create-order binary under a minimal Lambda Runtime and Extensions API (an axum server on loopback), with a fresh
//! PostgreSQL database (migrations and demo catalogue) and a fresh queue on the SQS emulator that
//! `cargo xtask test` runs (`AWS_ENDPOINT_URL`); plus an OTLP/HTTP receiver that records every request.
#![allow(dead_code)] // each test binary uses a part

mod lambda;
mod otlp;
pub mod runtime_api;
pub mod sigv4;

#[allow(unused_imports)] // each test binary uses a part
pub use lambda::{Answer, Function};
#[allow(unused_imports)] // each test binary uses a part
pub use otlp::{Received, Receiver, black_hole, spans};

use axum::Router;
use serde_json::{Value, json};
use uuid::Uuid;

/// The static credentials the function runs with (Lambda gives a function its role's credentials this way).
pub const ACCESS_KEY: &str = "AKIDTELEMETRYTEST";
pub const SECRET_KEY: &str = "telemetry/test/secret/key/0123456789abcdef";
pub const SESSION_TOKEN: &str = "telemetry-test-session-token";
pub const REGION: &str = "us-east-1";
/// The caller's Cognito `sub` in the API Gateway event.
pub const SUB: &str = "9a6c1f44-4d1b-4f7e-9a1e-1d2f3c4b5a69";

/// A fresh database with the demo catalogue and a fresh orders queue.
pub struct World {
    pub database_url: String,
    pub queue_url: String,
    pub aws_endpoint: String,
}

impl World {
    pub async fn new() -> Self {
        let aws_endpoint = std::env::var("AWS_ENDPOINT_URL").expect(
            "AWS_ENDPOINT_URL is not set: these tests need the SQS emulator; run them with `cargo xtask test`",
        );
        let (fresh, _conn) = dev_support::database::FreshDatabase::migrated_and_seeded().await;
        let (name, database_url) = (fresh.name, fresh.url);
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::Config::builder()
                .behavior_version_latest()
                .endpoint_url(&aws_endpoint)
                .region(aws_sdk_sqs::config::Region::new(REGION))
                .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                    "test", "test", None, None, "test",
                ))
                .build(),
        );
        let queue_url = sqs
            .create_queue()
            .queue_name(format!("{name}-orders"))
            .send()
            .await
            .expect("the SQS emulator answers CreateQueue")
            .queue_url
            .unwrap();
        Self {
            database_url,
            queue_url,
            aws_endpoint,
        }
    }
}

/// An API Gateway REST event for `POST /orders` by [`SUB`]: one T-shirt.
pub fn post_order_event() -> String {
    let mut event: Value = serde_json::from_str(include_str!(
        "../../../order-core/tests/fixtures/apigw_rest_post_orders.json"
    ))
    .unwrap();
    event["requestContext"]["authorizer"]["claims"]["sub"] = json!(SUB);
    event["requestContext"]["requestId"] = json!(Uuid::new_v4().to_string());
    event.to_string()
}

/// Serves `app` on a free loopback port; returns its base URL.
pub(crate) async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}
