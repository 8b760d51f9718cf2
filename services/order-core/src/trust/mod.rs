//! The certificate authorities the functions trust, chosen so that init reads and parses no system bundle.
//!
//! Loading the image's native bundle (144 certificates on Debian) costs about 4.5 ms of CPU per client that
//! loads it, and two did (the AWS SDK's connector and reqwest's verifier for the OTLP export): 9 of the 11 ms
//! of CPU the functions spent in init (measured with `cargo xtask bench coldstart`, README). Instead:
//! - the AWS SDK clients (SQS, Secrets Manager, the credentials chain) talk to AWS endpoints only, whose
//!   certificates chain to the Amazon Trust Services roots: they trust those five roots alone
//!   ([`AMAZON_ROOTS_PEM`], from Debian's ca-certificates; checked against webpki-roots by a test);
//! - the span exporter may be pointed at any collector (`OTEL_EXPORTER_OTLP_ENDPOINT`): it trusts Mozilla's
//!   roots as webpki-roots compiles them in, already parsed.
//!
//! The database has its own CA bundle (`PGSSLROOTCERT`, the RDS bundle), read by `config::DbTls`.
//!
//! `AWS_CA_BUNDLE` (the name the AWS CLI and the other SDKs read) adds a PEM bundle to the AWS clients' five
//! roots: for an endpoint that is not AWS's own, such as `cargo xtask bench coldstart`'s HTTPS front of the
//! emulator, whose throwaway CA the function trusts for that run. Unset in Terraform and compose.

use std::sync::Arc;

use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};

use crate::config::{ConfigError, optional, read_pem_bundle};

/// Amazon Root CA 1–4 and Starfield Services Root Certificate Authority – G2 (which cross-signs them), PEM.
pub const AMAZON_ROOTS_PEM: &str = include_str!("amazon-roots.pem");

/// What the AWS clients trust besides the Amazon roots, read once at init.
#[derive(Clone, Debug, Default)]
pub struct AwsTrust {
    /// `AWS_CA_BUNDLE`'s PEM (read from the file at init); `None`: the Amazon roots alone.
    pub extra_ca_pem: Option<Vec<u8>>,
}

impl AwsTrust {
    /// Reads `AWS_CA_BUNDLE` (optional), strictly: an unreadable file or one without a certificate fails the
    /// init rather than leave the clients unable to reach their endpoint.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::parse(optional("AWS_CA_BUNDLE").as_deref())
    }

    /// Reads the PEM bundle at `path`, which must hold at least one certificate.
    pub fn parse(path: Option<&str>) -> Result<Self, ConfigError> {
        Ok(Self {
            extra_ca_pem: path
                .map(|path| read_pem_bundle("AWS_CA_BUNDLE", path))
                .transpose()?,
        })
    }
}

/// The AWS configuration of the functions (`AWS_ENDPOINT_URL`, region and credentials from the standard
/// chain) with the HTTP client every AWS SDK client of theirs uses: rustls on aws-lc-rs, the Amazon roots
/// (and `AWS_CA_BUNDLE`'s, if set).
pub async fn aws_config() -> Result<aws_config::SdkConfig, ConfigError> {
    Ok(aws_config_with(&AwsTrust::from_env()?).await)
}

/// [`aws_config`] with the trust read already.
pub async fn aws_config_with(extra: &AwsTrust) -> aws_config::SdkConfig {
    let mut trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AMAZON_ROOTS_PEM.as_bytes());
    if let Some(pem) = &extra.extra_ca_pem {
        trust = trust.with_pem_certificate(pem.as_slice());
    }
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a trust store without native roots always builds");
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await
}

/// The TLS configuration of the span exporter's HTTP client: Mozilla's roots from webpki-roots.
pub fn exporter_tls() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("aws-lc-rs supports the default protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth()
}

#[cfg(test)]
mod tests {
    use rustls::pki_types::{CertificateDer, pem::PemObject};

    use super::*;

    #[test]
    fn the_amazon_roots_are_the_five_that_webpki_roots_also_trusts() {
        let certs: Vec<CertificateDer> =
            CertificateDer::pem_slice_iter(AMAZON_ROOTS_PEM.as_bytes())
                .collect::<Result<_, _>>()
                .unwrap();
        assert_eq!(certs.len(), 5);
        for cert in &certs {
            let anchor = webpki::anchor_from_trusted_cert(cert).unwrap();
            assert!(
                webpki_roots::TLS_SERVER_ROOTS.iter().any(|known| {
                    known.subject == anchor.subject
                        && known.subject_public_key_info == anchor.subject_public_key_info
                }),
                "a root that Mozilla's set does not hold: {:?}",
                anchor.subject
            );
        }
    }

    #[tokio::test]
    async fn the_clients_build_with_their_roots() {
        let config = exporter_tls();
        assert!(config.alpn_protocols.is_empty());
        assert!(
            aws_config_with(&AwsTrust::default())
                .await
                .http_client()
                .is_some()
        );
    }
}
