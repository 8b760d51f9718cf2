//! Transaction Search, which the functions' OTLP span export needs: X-Ray's trace segment destination set
//! to CloudWatch Logs, and a Logs resource policy that lets X-Ray write `aws/spans`. With
//! `enable_transaction_search = true` Terraform sets both (observability module); otherwise they must be on.

use super::Caller;
use crate::aws::Aws;
use crate::outcome::Outcome;
use crate::stack::Stack;

const CHECK: &str = "Transaction Search";

/// X-Ray GetTraceSegmentDestination, and when Terraform will not turn it on, the Logs resource policy.
pub fn check(aws: &dyn Aws, stack: &Stack, caller: &Caller) -> Outcome {
    let region = aws.region();
    let answer = match aws.call("xray", "get-trace-segment-destination", &[]) {
        Ok(answer) => answer,
        Err(error) => {
            return Outcome::fail(
                CHECK,
                format!(
                    "Could not read the X-Ray trace segment destination in {region}: {error}. Transaction Search may not be offered in this Region."
                ),
                vec![format!(
                    "allow xray:GetTraceSegmentDestination to this identity, or read it yourself: aws xray get-trace-segment-destination --region {region}"
                )],
            );
        }
    };
    let destination = answer["Destination"].as_str().unwrap_or("XRay");
    let status = answer["Status"].as_str().unwrap_or("ACTIVE");
    if stack.enable_transaction_search {
        return Outcome::pass(
            CHECK,
            format!(
                "destination {destination} ({status}); terraform apply sets CloudWatchLogs and its Logs resource policy (enable_transaction_search = true)"
            ),
        );
    }
    let on = destination == "CloudWatchLogs" && status == "ACTIVE";
    let policy = has_spans_policy(aws);
    if on && policy {
        return Outcome::pass(
            CHECK,
            "destination CloudWatchLogs (ACTIVE), X-Ray may write aws/spans".to_owned(),
        );
    }
    let fixes = turn_on(region, caller, destination, status, policy);
    let no_policy = if policy {
        ""
    } else {
        ", and no Logs resource policy lets xray.amazonaws.com write aws/spans"
    };
    Outcome::fail(
        CHECK,
        format!(
            "enable_transaction_search = false leaves Transaction Search to you, but in {region} X-Ray's trace segment destination is {destination} ({status}){no_policy}: the OTLP endpoint would refuse every span the functions export."
        ),
        fixes,
    )
}

/// What turns Transaction Search on from where it is: the missing policy, the destination (or the wait for
/// it), or letting Terraform do both.
fn turn_on(
    region: &str,
    caller: &Caller,
    destination: &str,
    status: &str,
    policy: bool,
) -> Vec<String> {
    let mut fixes = Vec::new();
    if !policy {
        fixes.push(put_policy_command(region, caller));
    }
    if destination != "CloudWatchLogs" {
        fixes.push(format!(
            "aws xray update-trace-segment-destination --destination CloudWatchLogs --region {region}"
        ));
    } else if status != "ACTIVE" {
        fixes.push(format!(
            "wait until it is ACTIVE: aws xray get-trace-segment-destination --region {region}"
        ));
    }
    fixes.push(
        "or set enable_transaction_search = true in the var-file (Terraform turns it on)"
            .to_owned(),
    );
    fixes
}

/// Whether an account resource policy names xray.amazonaws.com and the aws/spans log group.
fn has_spans_policy(aws: &dyn Aws) -> bool {
    let Ok(answer) = aws.call("logs", "describe-resource-policies", &[]) else {
        return false;
    };
    answer["resourcePolicies"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| {
            let document = p["policyDocument"].as_str().unwrap_or_default();
            document.contains("xray.amazonaws.com") && document.contains("aws/spans")
        })
}

/// The policy the observability module would create, as one CLI command (`partition`: aws, aws-cn, …).
fn put_policy_command(region: &str, caller: &Caller) -> String {
    let Caller { account, partition } = caller;
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"TransactionSearchXRayAccess","Effect":"Allow","Principal":{{"Service":"xray.amazonaws.com"}},"Action":"logs:PutLogEvents","Resource":["arn:{partition}:logs:{region}:{account}:log-group:aws/spans:*","arn:{partition}:logs:{region}:{account}:log-group:/aws/application-signals/data:*"],"Condition":{{"ArnLike":{{"aws:SourceArn":"arn:{partition}:xray:{region}:{account}:*"}},"StringEquals":{{"aws:SourceAccount":"{account}"}}}}}}]}}"#
    );
    format!(
        "aws logs put-resource-policy --policy-name TransactionSearchXRayAccess --policy-document '{document}' --region {region}"
    )
}
