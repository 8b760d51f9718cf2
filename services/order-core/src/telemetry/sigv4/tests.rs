use super::*;

fn request() -> Request<Bytes> {
    Request::builder()
        .method("POST")
        .uri("https://xray.eu-west-1.amazonaws.com/v1/traces")
        .header("content-type", "application/x-protobuf")
        .body(Bytes::from_static(b"spans"))
        .unwrap()
}

#[test]
fn a_signed_request_carries_the_xray_scope_date_and_session_token() {
    let credentials = Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()), None, "t");
    let mut request = request();

    sign_request(&mut request, &credentials, "eu-west-1", SystemTime::now()).unwrap();

    let header = |name: &str| request.headers()[name].to_str().unwrap().to_owned();
    let authorization = header("authorization");
    assert!(authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
    assert!(authorization.contains("/eu-west-1/xray/aws4_request"));
    assert!(
        authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token")
    );
    assert_eq!(header("x-amz-security-token"), "token");
    assert_eq!(header("x-amz-date").len(), "20260101T000000Z".len());
}

#[test]
fn the_signature_depends_on_the_body() {
    let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "t");
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let (mut one, mut other) = (request(), request());
    *other.body_mut() = Bytes::from_static(b"spanz");

    sign_request(&mut one, &credentials, "eu-west-1", at).unwrap();
    sign_request(&mut other, &credentials, "eu-west-1", at).unwrap();

    assert_ne!(
        one.headers()["authorization"],
        other.headers()["authorization"]
    );
}

#[test]
fn cached_credentials_are_used_until_they_expire() {
    let (requests, _incoming) = mpsc::channel();
    let soon = SystemTime::now() + Duration::from_secs(60);
    let source = CredentialSource {
        cache: Arc::new(Mutex::new(Some(Credentials::new(
            "A",
            "s",
            None,
            Some(soon),
            "t",
        )))),
        requests,
    };
    assert_eq!(source.get(Duration::ZERO).unwrap().access_key_id(), "A");

    *source.cache.lock().unwrap() = Some(Credentials::new(
        "A",
        "s",
        None,
        Some(SystemTime::now() - Duration::from_secs(1)),
        "t",
    ));
    assert!(
        source.get(Duration::from_millis(10)).is_err(),
        "expired and nobody answers"
    );
}
