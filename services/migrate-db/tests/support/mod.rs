//! What both migrate-db suites need from the emulator `cargo xtask test` starts.

/// A Secrets Manager client for the emulator (a refused loopback port when none runs, so nothing leaves the
/// machine).
pub async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    let endpoint =
        std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| "http://127.0.0.1:9".to_owned());
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await;
    aws_sdk_secretsmanager::Client::new(&config)
}
