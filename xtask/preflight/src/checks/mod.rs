//! The checks, in the order a first apply would hit their problems. Each reads through [`Aws`] only and
//! returns an [`Outcome`]; none writes anything.

mod concurrency;
mod quotas;
mod transaction_search;
mod zones;

pub use concurrency::{concurrency_shortfall, desired_concurrency};
pub use zones::{missing_zones, too_few_zones};

use crate::aws::Aws;
use crate::outcome::Outcome;
use crate::stack::Stack;

/// Runs every check against the account behind `aws`; stops after the first when there are no usable
/// credentials, since every other call would fail the same way.
pub fn run_all(aws: &dyn Aws, stack: &Stack) -> Vec<Outcome> {
    let account = match aws.call("sts", "get-caller-identity", &[]) {
        Ok(identity) => identity["Account"].as_str().unwrap_or_default().to_owned(),
        Err(error) => {
            return vec![Outcome::fail(
                "credentials",
                format!("No usable AWS credentials for {}: {error}.", aws.region()),
                vec![
                    "aws sso login (or aws configure), with AWS_PROFILE set to the profile you deploy with".to_owned(),
                ],
            )];
        }
    };
    vec![
        Outcome::pass(
            "credentials",
            format!("account {account}, region {}", aws.region()),
        ),
        concurrency::check(aws, stack),
        zones::check(aws, stack),
        quotas::vpcs(aws, stack),
        quotas::interface_endpoints(aws, stack),
        quotas::db_instances(aws, stack),
        quotas::log_resource_policies(aws, stack),
        transaction_search::check(aws, stack, &account),
    ]
}
