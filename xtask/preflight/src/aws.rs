//! The one way the checks reach AWS: a read call by service and operation, answered with the JSON that the
//! `aws` CLI prints. [`AwsCli`] shells out to the CLI; tests answer from recorded responses instead.

use std::process::Command;

use serde_json::Value;

/// A read call into AWS. Every implementation answers exactly what `aws <service> <operation> <args>
/// --region <region> --output json` would print, or the error the CLI reports.
pub trait Aws {
    /// The region every call goes to.
    fn region(&self) -> &str;

    /// Runs one read call and returns its JSON output (`Null` when the CLI prints nothing).
    fn call(&self, service: &str, operation: &str, args: &[&str]) -> Result<Value, AwsError>;
}

/// An error as the CLI reports it: the service's error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The AWS error code (`AccessDeniedException`), or `CliError` when the CLI failed by itself.
    pub code: String,
    /// The message after the code.
    pub message: String,
}

impl AwsError {
    /// Reads the CLI's stderr: `An error occurred (<Code>) when calling the <Op> operation: <message>`.
    /// Anything else (no credentials, unknown command) is a `CliError` with the whole text.
    pub fn from_stderr(stderr: &str) -> AwsError {
        let text = stderr.trim();
        let parsed = text
            .split_once("An error occurred (")
            .and_then(|(_, rest)| {
                let (code, rest) = rest.split_once(')')?;
                let message = rest.split_once(": ").map_or(rest, |(_, m)| m);
                Some(AwsError {
                    code: code.to_owned(),
                    message: message.trim().to_owned(),
                })
            });
        parsed.unwrap_or_else(|| AwsError {
            code: "CliError".to_owned(),
            message: text.to_owned(),
        })
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({}) {}", self.code, self.message)
    }
}

/// The user's `aws` CLI (v2; v1 prints the same JSON), with their profile and credentials.
pub struct AwsCli {
    region: String,
}

impl AwsCli {
    /// Calls go to `region`, whatever the profile's default region is.
    pub fn new(region: &str) -> AwsCli {
        AwsCli {
            region: region.to_owned(),
        }
    }
}

impl Aws for AwsCli {
    fn region(&self) -> &str {
        &self.region
    }

    fn call(&self, service: &str, operation: &str, args: &[&str]) -> Result<Value, AwsError> {
        let output = Command::new("aws")
            .args([service, operation])
            .args(args)
            .args(["--region", &self.region, "--output", "json"])
            // v2 pipes long output through a pager by default; v1 has none and refuses --no-cli-pager.
            .env("AWS_PAGER", "")
            .output()
            .map_err(|e| AwsError {
                code: "CliError".to_owned(),
                message: format!(
                    "cannot run the aws CLI ({e}); install v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
                ),
            })?;
        if !output.status.success() {
            return Err(AwsError::from_stderr(&String::from_utf8_lossy(
                &output.stderr,
            )));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        if stdout.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&stdout).map_err(|e| AwsError {
            code: "CliError".to_owned(),
            message: format!("aws {service} {operation} printed no JSON: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_error_is_read_from_the_clis_stderr() {
        let error = AwsError::from_stderr(
            "\nAn error occurred (AccessDeniedException) when calling the GetServiceQuota operation: User: arn:aws:iam::123456789012:user/deployer is not authorized\n",
        );
        assert_eq!(error.code, "AccessDeniedException");
        assert_eq!(
            error.message,
            "User: arn:aws:iam::123456789012:user/deployer is not authorized"
        );
    }

    #[test]
    fn any_other_failure_is_a_cli_error_with_the_whole_text() {
        let error = AwsError::from_stderr(
            "\nUnable to locate credentials. You can configure credentials by running \"aws configure\".\n",
        );
        assert_eq!(error.code, "CliError");
        assert!(error.message.starts_with("Unable to locate credentials"));
    }
}
