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

/// Who the credentials belong to: the account and its partition (`aws`, `aws-cn`, `aws-us-gov`), for ARNs.
pub struct Caller {
    /// The account id.
    pub account: String,
    /// The ARN partition.
    pub partition: String,
}

impl Caller {
    /// From STS GetCallerIdentity's answer.
    fn from_identity(identity: &serde_json::Value) -> Caller {
        let arn = identity["Arn"].as_str().unwrap_or_default();
        let partition = arn.split(':').nth(1).filter(|p| !p.is_empty());
        Caller {
            account: identity["Account"].as_str().unwrap_or_default().to_owned(),
            partition: partition.unwrap_or("aws").to_owned(),
        }
    }
}

/// Runs every check against the account behind `aws`; stops after the first when there are no usable
/// credentials, since every other call would fail the same way.
pub fn run_all(aws: &dyn Aws, stack: &Stack) -> Vec<Outcome> {
    let caller = match aws.call("sts", "get-caller-identity", &[]) {
        Ok(identity) => Caller::from_identity(&identity),
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
            format!("account {}, region {}", caller.account, aws.region()),
        ),
        concurrency::check(aws, stack),
        zones::check(aws, stack),
        quotas::vpcs(aws, stack),
        quotas::interface_endpoints(aws, stack),
        quotas::db_instances(aws, stack),
        quotas::log_resource_policies(aws, stack),
        transaction_search::check(aws, stack, &caller),
    ]
}

#[cfg(test)]
mod tests {
    use super::Caller;

    #[test]
    fn the_partition_comes_from_the_callers_arn() {
        let identity = serde_json::json!({"Account": "123456789012", "Arn": "arn:aws-cn:iam::123456789012:user/deployer"});
        let caller = Caller::from_identity(&identity);
        assert_eq!(
            (caller.account.as_str(), caller.partition.as_str()),
            ("123456789012", "aws-cn")
        );
    }
}
