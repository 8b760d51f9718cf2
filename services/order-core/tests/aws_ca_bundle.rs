//! `AWS_CA_BUNDLE`: the AWS clients trust the Amazon roots alone, plus this bundle when it is set. Shown against
//! the Secrets Manager emulator behind an HTTPS front whose certificate comes from a throwaway CA: what
//! `cargo xtask bench coldstart` runs the functions against, so that init pays the TLS handshake AWS charges.

mod support;

use dev_support::https_proxy::HttpsProxy;
use dev_support::postgres_tls::TestCa;
use order_core::config::ConfigError;
use order_core::trust::{AwsTrust, aws_config_with};

/// A Secrets Manager client of the functions' kind (their HTTP client and roots), pointed at `endpoint`. Set on
/// the client's own config: the environment's `AWS_ENDPOINT_URL` (the emulator, plain HTTP) would win over the
/// shared config's.
async fn secrets_client(trust: &AwsTrust, endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let shared = aws_config_with(trust).await;
    let config = aws_sdk_secretsmanager::config::Builder::from(&shared)
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(support::REGION))
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// The emulator's `host:port`.
fn emulator() -> String {
    let endpoint = support::sqs_endpoint();
    endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

/// A directory of this test's own.
fn scratch_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("aws-ca-bundle-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn front() -> (TestCa, HttpsProxy) {
    let ca = TestCa::new("aws-ca-bundle test CA");
    let proxy = HttpsProxy::start(&ca.server_cert(&["localhost"]), &emulator()).unwrap();
    (ca, proxy)
}

#[tokio::test]
async fn a_client_trusting_the_bundle_reaches_an_endpoint_signed_by_its_ca() {
    let (ca, proxy) = front();
    let dir = scratch_dir();
    let bundle = ca.write_cert(&dir, "ca.pem").unwrap();
    let trust = AwsTrust::parse(bundle.to_str()).unwrap();
    let client = secrets_client(&trust, &proxy.url()).await;

    let name = format!("ca-bundle-{}", uuid::Uuid::new_v4());
    client
        .create_secret()
        .name(&name)
        .secret_string(r#"{"username":"u","password":"p"}"#)
        .send()
        .await
        .expect("created through the HTTPS front");
    let read = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .expect("read through the HTTPS front");
    assert_eq!(
        read.secret_string(),
        Some(r#"{"username":"u","password":"p"}"#)
    );
}

#[tokio::test]
async fn without_the_bundle_the_same_endpoint_is_refused() {
    let (_ca, proxy) = front();
    let client = secrets_client(&AwsTrust::default(), &proxy.url()).await;

    let refused = client
        .get_secret_value()
        .secret_id("anything")
        .send()
        .await
        .expect_err("a certificate from an unknown CA must not be trusted");
    let chain = format!(
        "{:?}",
        aws_sdk_secretsmanager::error::DisplayErrorContext(&refused)
    );
    assert!(
        chain.contains("UnknownIssuer") || chain.to_lowercase().contains("certificate"),
        "refused for another reason: {chain}"
    );
}

#[test]
fn a_bundle_that_cannot_be_read_or_holds_no_certificate_fails_the_init() {
    let missing = AwsTrust::parse(Some("/nonexistent/ca.pem")).unwrap_err();
    assert!(matches!(missing, ConfigError::Invalid { ref name, .. } if name == "AWS_CA_BUNDLE"));

    let empty = scratch_dir().join("empty.pem");
    std::fs::write(&empty, "not a certificate").unwrap();
    let no_cert = AwsTrust::parse(empty.to_str()).unwrap_err();
    assert!(
        no_cert.to_string().contains("no PEM certificate"),
        "{no_cert}"
    );

    assert!(AwsTrust::parse(None).unwrap().extra_ca_pem.is_none());
}
