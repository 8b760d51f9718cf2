//! The other quotas a first apply counts against: VPCs per Region, interface endpoints per VPC, RDS DB
//! instances (Service Quotas, with each quota's code) and CloudWatch Logs resource policies (a fixed 10
//! per Region, outside Service Quotas), each against what is already used.

use serde_json::Value;

use crate::aws::{Aws, AwsError};
use crate::outcome::{Outcome, quota_increase};
use crate::stack::Stack;

/// CloudWatch Logs allows this many account resource policies per Region; it cannot be raised.
const LOG_RESOURCE_POLICIES: usize = 10;

/// A quota's value in this account (GetServiceQuota), or AWS's default where the account has no value of
/// its own (NoSuchResourceException).
fn quota(aws: &dyn Aws, service: &str, code: &str) -> Result<i64, AwsError> {
    let args = ["--service-code", service, "--quota-code", code];
    let answer = match aws.call("service-quotas", "get-service-quota", &args) {
        Err(e) if e.code == "NoSuchResourceException" => {
            aws.call("service-quotas", "get-aws-default-service-quota", &args)?
        }
        other => other?,
    };
    answer["Quota"]["Value"]
        .as_f64()
        .map(|v| v as i64)
        .ok_or_else(|| AwsError {
            code: "CliError".to_owned(),
            message: format!("no Quota.Value for {service}/{code}"),
        })
}

/// The failure for a quota that could not be read: it is not known to fit.
fn unreadable(
    check: &'static str,
    service: &str,
    code: &str,
    region: &str,
    error: &AwsError,
) -> Outcome {
    Outcome::fail(
        check,
        format!("Could not read quota {service}/{code} in {region}: {error}."),
        vec![format!(
            "allow servicequotas:GetServiceQuota to this identity, or read it yourself: aws service-quotas get-service-quota --service-code {service} --quota-code {code} --region {region}"
        )],
    )
}

/// `used` + `adds` against the quota `service`/`code`.
fn against(
    check: &'static str,
    aws: &dyn Aws,
    (service, code): (&str, &str),
    used: i64,
    adds: i64,
    what: &str,
) -> Outcome {
    let region = aws.region();
    let limit = match quota(aws, service, code) {
        Ok(limit) => limit,
        Err(error) => return unreadable(check, service, code, region, &error),
    };
    if used + adds <= limit {
        return Outcome::pass(
            check,
            format!("{used} of {limit} used, the stack adds {adds}"),
        );
    }
    Outcome::fail(
        check,
        format!("{check} in {region}: {used} of {limit} used and the stack adds {adds} {what}."),
        vec![quota_increase(service, code, used + adds, region)],
    )
}

fn listed<'a>(answer: &'a Result<Value, AwsError>, key: &str) -> Result<&'a Vec<Value>, String> {
    match answer {
        Ok(value) => value[key]
            .as_array()
            .ok_or_else(|| format!("no {key} in the answer")),
        Err(error) => Err(error.to_string()),
    }
}

/// VPCs per Region (vpc/L-F678F1CE): the stack adds one VPC, tagged `Name = <prefix>`.
pub fn vpcs(aws: &dyn Aws, stack: &Stack) -> Outcome {
    let check = "VPCs per Region";
    let answer = aws.call("ec2", "describe-vpcs", &[]);
    let vpcs = match listed(&answer, "Vpcs") {
        Ok(vpcs) => vpcs,
        Err(e) => {
            return Outcome::fail(
                check,
                format!("Could not list the VPCs: {e}."),
                vec![format!("aws ec2 describe-vpcs --region {}", aws.region())],
            );
        }
    };
    let ours = vpcs.iter().any(|v| {
        v["Tags"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| t["Key"] == "Name" && t["Value"] == stack.prefix.as_str())
    });
    against(
        check,
        aws,
        ("vpc", "L-F678F1CE"),
        vpcs.len() as i64,
        i64::from(!ours),
        "(delete an unused one, or raise the quota)",
    )
}

/// Interface VPC endpoints per VPC (vpc/L-29B6F2EB): the stack's new VPC gets the network module's endpoints.
pub fn interface_endpoints(aws: &dyn Aws, stack: &Stack) -> Outcome {
    let endpoints = stack.interface_endpoints as i64;
    against(
        "Interface VPC endpoints per VPC",
        aws,
        ("vpc", "L-29B6F2EB"),
        0,
        endpoints,
        "in its own VPC",
    )
}

/// RDS DB instances (rds/L-7B6409FD): the stack adds one instance, identified by `<prefix>`.
pub fn db_instances(aws: &dyn Aws, stack: &Stack) -> Outcome {
    let check = "RDS DB instances";
    let answer = aws.call("rds", "describe-db-instances", &[]);
    let instances = match listed(&answer, "DBInstances") {
        Ok(instances) => instances,
        Err(e) => {
            return Outcome::fail(
                check,
                format!("Could not list the DB instances: {e}."),
                vec![format!(
                    "aws rds describe-db-instances --region {}",
                    aws.region()
                )],
            );
        }
    };
    let ours = instances
        .iter()
        .any(|i| i["DBInstanceIdentifier"] == stack.prefix.as_str());
    against(
        check,
        aws,
        ("rds", "L-7B6409FD"),
        instances.len() as i64,
        i64::from(!ours),
        "(delete an unused one, or raise the quota)",
    )
}

/// CloudWatch Logs resource policies: Transaction Search (when Terraform turns it on) adds
/// `<prefix>-transaction-search`, and a Region holds at most 10 account policies.
pub fn log_resource_policies(aws: &dyn Aws, stack: &Stack) -> Outcome {
    let check = "CloudWatch Logs resource policies";
    let region = aws.region();
    if !stack.enable_transaction_search {
        return Outcome::pass(
            check,
            "the stack adds none (enable_transaction_search = false)".to_owned(),
        );
    }
    let answer = aws.call("logs", "describe-resource-policies", &[]);
    let policies = match listed(&answer, "resourcePolicies") {
        Ok(policies) => policies,
        Err(e) => {
            return Outcome::fail(
                check,
                format!("Could not list the Logs resource policies: {e}."),
                vec![format!(
                    "aws logs describe-resource-policies --region {region}"
                )],
            );
        }
    };
    let names = account_policy_names(policies);
    let ours = format!("{}-transaction-search", stack.prefix);
    let adds = usize::from(!names.contains(&ours.as_str()));
    if names.len() + adds <= LOG_RESOURCE_POLICIES {
        return Outcome::pass(
            check,
            format!(
                "{} of {LOG_RESOURCE_POLICIES} used, the stack adds {adds}",
                names.len()
            ),
        );
    }
    Outcome::fail(
        check,
        format!(
            "{region} already holds {} of the {LOG_RESOURCE_POLICIES} CloudWatch Logs resource policies a Region allows (a fixed limit), and Transaction Search needs one more ({ours}). Policies: {}.",
            names.len(),
            names.join(", ")
        ),
        vec![
            format!("aws logs delete-resource-policy --policy-name <one of the above that nothing uses> --region {region}"),
            "set enable_transaction_search = false in the var-file if Transaction Search is already on in this account and Region".to_owned(),
        ],
    )
}

/// The names of the account-scoped policies: those attached to one log group (policyScope RESOURCE) do
/// not count against the 10.
fn account_policy_names(policies: &[Value]) -> Vec<&str> {
    policies
        .iter()
        .filter(|p| p["policyScope"].as_str().is_none_or(|s| s == "ACCOUNT"))
        .filter_map(|p| p["policyName"].as_str())
        .collect()
}
