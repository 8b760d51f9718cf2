//! Where spans go and how long a flush may take.
//!
//! - `OTEL_TRACES_EXPORTER=none`: nowhere.
//! - `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): that collector, unsigned.
//! - `AWS_OTLP_TRACES_ENDPOINT`: that URL, SigV4-signed for `xray` in `AWS_REGION` (what Terraform sets).
//! - In Lambda (`AWS_LAMBDA_FUNCTION_NAME`) with none of these: `https://xray.${AWS_REGION}.amazonaws.com/v1/traces`,
//!   signed; except under an emulator (`AWS_ENDPOINT_URL` set), which is never real AWS.
//! - Otherwise nowhere.
//!
//! Every export request, retries included, is bounded by `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` or
//! `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds), 300 ms when unset: a flush against an unreachable or silent
//! collector costs an invocation about that much, never its timeout.

use std::time::Duration;

use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::SpanExporter;

use super::privacy::Scrubbing;
use super::sigv4::{CredentialSource, SigningClient};
use crate::config::optional;

/// The flush bound when no timeout variable is set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(300);

/// Where spans are exported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Not exported (trace ids still flow through messages and logs).
    Off,
    /// The collector named by the standard `OTEL_EXPORTER_OTLP_*ENDPOINT` variables, unsigned.
    Collector,
    /// An AWS OTLP endpoint, each request SigV4-signed.
    Signed { endpoint: String, region: String },
}

/// The variables that decide where spans go (each set and non-blank, or `None`).
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub traces_exporter: Option<String>,
    pub otlp_endpoint: Option<String>,
    pub otlp_traces_endpoint: Option<String>,
    pub aws_otlp_traces_endpoint: Option<String>,
    pub region: Option<String>,
    pub lambda_function: Option<String>,
    pub aws_endpoint_url: Option<String>,
    pub traces_timeout_ms: Option<String>,
    pub timeout_ms: Option<String>,
}

impl Settings {
    /// Reads them once at init.
    pub fn from_env() -> Self {
        Self {
            traces_exporter: optional("OTEL_TRACES_EXPORTER"),
            otlp_endpoint: optional("OTEL_EXPORTER_OTLP_ENDPOINT"),
            otlp_traces_endpoint: optional("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            aws_otlp_traces_endpoint: optional("AWS_OTLP_TRACES_ENDPOINT"),
            region: optional("AWS_REGION"),
            lambda_function: optional("AWS_LAMBDA_FUNCTION_NAME"),
            aws_endpoint_url: optional("AWS_ENDPOINT_URL"),
            traces_timeout_ms: optional("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"),
            timeout_ms: optional("OTEL_EXPORTER_OTLP_TIMEOUT"),
        }
    }

    /// Where spans go.
    pub fn destination(&self) -> Destination {
        if self
            .traces_exporter
            .as_deref()
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("none"))
        {
            return Destination::Off;
        }
        if self.otlp_endpoint.is_some() || self.otlp_traces_endpoint.is_some() {
            return Destination::Collector;
        }
        let Some(region) = self.region.clone() else {
            return Destination::Off;
        };
        let endpoint = match &self.aws_otlp_traces_endpoint {
            Some(endpoint) => endpoint.clone(),
            None if self.lambda_function.is_some() && self.aws_endpoint_url.is_none() => {
                format!("https://xray.{region}.amazonaws.com/v1/traces")
            }
            None => return Destination::Off,
        };
        Destination::Signed { endpoint, region }
    }

    /// The bound of one export (and so of one flush).
    pub fn timeout(&self) -> Duration {
        [&self.traces_timeout_ms, &self.timeout_ms]
            .into_iter()
            .find_map(|ms| ms.as_deref()?.trim().parse::<u64>().ok())
            .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
    }
}

/// The exporter for `destination`, or `None` when spans are not exported.
pub fn exporter(
    destination: &Destination,
    timeout: Duration,
) -> Result<Option<impl SpanExporter + 'static>, String> {
    let builder = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_timeout(timeout);
    let exporter = match destination {
        Destination::Off => return Ok(None),
        Destination::Collector => builder
            .with_http_client(super::sigv4::LazyClient::new(timeout))
            .build(),
        Destination::Signed { endpoint, region } => {
            let client =
                SigningClient::new(region.clone(), CredentialSource::default_chain()?, timeout)?;
            builder
                .with_endpoint(endpoint.clone())
                .with_http_client(client)
                .build()
        }
    };
    exporter
        .map(|e| Some(Scrubbing::new(e)))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lambda() -> Settings {
        Settings {
            region: Some("eu-west-1".into()),
            lambda_function: Some("create-order".into()),
            ..Settings::default()
        }
    }

    fn signed(endpoint: &str) -> Destination {
        Destination::Signed {
            endpoint: endpoint.into(),
            region: "eu-west-1".into(),
        }
    }

    const XRAY: &str = "https://xray.eu-west-1.amazonaws.com/v1/traces";

    #[test]
    fn terraform_s_endpoint_is_signed_for_the_region() {
        let settings = Settings {
            aws_otlp_traces_endpoint: Some("http://127.0.0.1:4318/v1/traces".into()),
            ..lambda()
        };
        assert_eq!(
            settings.destination(),
            signed("http://127.0.0.1:4318/v1/traces")
        );
    }

    #[test]
    fn in_lambda_the_default_is_cloudwatch_s_endpoint_in_the_region() {
        assert_eq!(lambda().destination(), signed(XRAY));
    }

    #[test]
    fn a_collector_endpoint_wins_and_none_turns_export_off() {
        let terraform = Settings {
            aws_otlp_traces_endpoint: Some(XRAY.into()),
            ..lambda()
        };
        let collector = Settings {
            otlp_endpoint: Some("http://jaeger:4318".into()),
            ..terraform.clone()
        };
        assert_eq!(collector.destination(), Destination::Collector);
        let off = Settings {
            traces_exporter: Some("none".into()),
            ..collector
        };
        assert_eq!(off.destination(), Destination::Off);
    }

    #[test]
    fn outside_lambda_or_under_an_emulator_nothing_goes_to_aws_by_default() {
        let plain = Settings {
            lambda_function: None,
            ..lambda()
        };
        assert_eq!(plain.destination(), Destination::Off);
        let emulated = Settings {
            aws_endpoint_url: Some("http://127.0.0.1:5000".into()),
            ..lambda()
        };
        assert_eq!(emulated.destination(), Destination::Off);
        assert_eq!(Settings::default().destination(), Destination::Off);
    }

    #[test]
    fn the_timeout_is_300_ms_unless_the_standard_variables_say_otherwise() {
        let with = |traces: Option<&str>, all: Option<&str>| {
            Settings {
                traces_timeout_ms: traces.map(Into::into),
                timeout_ms: all.map(Into::into),
                ..Settings::default()
            }
            .timeout()
        };
        assert_eq!(with(None, None), Duration::from_millis(300));
        assert_eq!(with(None, Some("150")), Duration::from_millis(150));
        assert_eq!(with(Some("80"), Some("150")), Duration::from_millis(80));
        assert_eq!(with(None, Some("soon")), DEFAULT_TIMEOUT);
    }
}
