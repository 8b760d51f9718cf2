//! `cargo xtask preflight [--region R] [--var-file F]`: read-only checks of an AWS account and Region before
//! the first `terraform apply`, each failure with the command that fixes it.
//!
//! - [`stack`]: what the stack asks for, read from `infra/*.tf` and the var-file;
//! - [`aws`]: the read calls, through the user's `aws` CLI (tests answer from recorded responses);
//! - [`checks`]: concurrency, zones, quotas, Transaction Search;
//! - [`outcome`]: the verdicts and their text, shared with `infra/preflight.tf`.

pub mod aws;
pub mod checks;
pub mod outcome;
pub mod stack;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub use outcome::Outcome;
pub use stack::Stack;

/// The command line: `--region` (else `var.region` as Terraform would set it) and `--var-file` (read after
/// `infra/terraform.tfvars` and `*.auto.tfvars`, which are read anyway, as Terraform does).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    /// Overrides `var.region`.
    pub region: Option<String>,
    /// The var-file `terraform apply` will use.
    pub var_file: Option<PathBuf>,
}

impl Args {
    /// Parses `--region R`, `--region=R`, `--var-file F`, `--var-file=F`.
    pub fn parse(args: &[String]) -> Result<Args> {
        let mut parsed = Args::default();
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag, Some(value.to_owned())),
                None => (arg.as_str(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| rest.next().cloned())
                    .with_context(|| format!("{flag} needs a value"))
            };
            match flag {
                "--region" => parsed.region = Some(value()?),
                "--var-file" => parsed.var_file = Some(PathBuf::from(value()?)),
                _ => bail!(
                    "unknown preflight argument {arg:?}; usage: cargo xtask preflight [--region R] [--var-file F]"
                ),
            }
        }
        Ok(parsed)
    }
}

/// Runs every check against the `aws` CLI's account and fails when any check fails.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let args = Args::parse(args)?;
    let stack = Stack::load(root, args.var_file.as_deref())?;
    let region = args.region.clone().unwrap_or_else(|| stack.region.clone());
    if region != stack.region {
        eprintln!(
            "preflight: checking {region}; the var-file deploys to {} (set region = \"{region}\" there)",
            stack.region
        );
    }
    let outcomes = checks::run_all(&aws::AwsCli::new(&region), &stack);
    match outcome::report(&outcomes) {
        0 => Ok(()),
        failed => bail!(
            "preflight: {failed} check(s) failed; run the Fix: lines above, then preflight again"
        ),
    }
}
