//! The checks against recorded AWS answers (tests/fixtures): which pass, which fail, and the exact text and
//! fix of each failure. Nothing here reaches AWS: an unrecorded call panics.

mod common;

use common::{Recorded, failed, outcome, stack};
use preflight::checks::run_all;

const NEW_ACCOUNT_TEXT: &str = "The account's Lambda concurrency limit in eu-west-1 is 10; the functions reserve 38 and Lambda keeps 100 unreserved, so the stack needs 138. Until then every function fails to create (\"decreases account's UnreservedConcurrentExecution below its minimum value\").
Fix: aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value 1000 --region eu-west-1
Fix: set enable_reserved_concurrency = false in the var-file (deploys without reservations)";

#[test]
fn an_established_account_passes_every_check() {
    let aws = Recorded::new("eu-west-1", &[]);
    let outcomes = run_all(&aws, &stack(""));
    assert_eq!(failed(&outcomes), Vec::<&str>::new(), "{outcomes:#?}");
    assert_eq!(outcomes.len(), 8);
    assert_eq!(
        outcome(&outcomes, "lambda concurrency").detail,
        "limit 1000, unreserved 1000; the functions reserve 38, leaving 962 unreserved (Lambda keeps 100)"
    );
}

#[test]
fn a_new_account_at_10_concurrency_fails_with_the_quota_request_that_fixes_it() {
    let aws = Recorded::new("eu-west-1", &["new-account"]);
    let outcomes = run_all(&aws, &stack(""));
    assert_eq!(failed(&outcomes), ["lambda concurrency"]);
    assert_eq!(
        outcome(&outcomes, "lambda concurrency").text(),
        NEW_ACCOUNT_TEXT
    );
}

#[test]
fn a_new_account_passes_when_the_var_file_turns_reservations_off() {
    let aws = Recorded::new("eu-west-1", &["new-account"]);
    let outcomes = run_all(&aws, &stack("enable_reserved_concurrency = false\n"));
    assert_eq!(failed(&outcomes), Vec::<&str>::new(), "{outcomes:#?}");
    assert!(
        outcome(&outcomes, "lambda concurrency")
            .detail
            .contains("enable_reserved_concurrency = false")
    );
}

#[test]
fn reservations_of_other_functions_raise_what_the_stack_needs() {
    let aws = Recorded::new("eu-west-1", &["other-reservations"]);
    let check = run_all(&aws, &stack(""))[1].clone();
    assert!(!check.ok);
    assert!(check.detail.starts_with("The account's Lambda concurrency limit in eu-west-1 is 1000, of which other functions reserve 900; the functions reserve 38 and Lambda keeps 100 unreserved, so the stack needs 1038."), "{}", check.detail);
    assert!(
        check.fixes[0].contains("--quota-code L-B99A9384 --desired-value 1038 --region eu-west-1")
    );
}

#[test]
fn a_rerun_after_apply_counts_the_stacks_own_reservations_once() {
    let aws = Recorded::new("eu-west-1", &["rerun-after-apply"]);
    let outcomes = run_all(&aws, &stack(""));
    assert!(outcome(&outcomes, "lambda concurrency").ok, "{outcomes:#?}");
    assert_eq!(
        aws.calls
            .borrow()
            .iter()
            .filter(|c| c.contains("get-function-concurrency"))
            .count(),
        7
    );
}

#[test]
fn a_one_zone_region_fails_the_zone_check() {
    let aws = Recorded::new("ap-northeast-3", &["one-zone-region"]);
    let outcomes = run_all(&aws, &stack(""));
    assert_eq!(failed(&outcomes), ["availability zones"]);
    assert_eq!(outcome(&outcomes, "availability zones").text(), "ap-northeast-3 offers 1 available availability zone(s) (ap-northeast-3a); the stack needs 2 (availability_zone_count; the database subnet group needs at least 2).
Fix: deploy to a region with at least 2 zones: set region = \"<that region>\" in the var-file and run cargo xtask preflight --region <that region>");
}

#[test]
fn a_named_zone_the_region_lacks_fails_with_zones_it_has() {
    let aws = Recorded::new("eu-west-1", &[]);
    let outcomes = run_all(
        &aws,
        &stack("availability_zones = [\"eu-west-1a\", \"eu-west-1d\"]\n"),
    );
    assert_eq!(outcome(&outcomes, "availability zones").text(), "availability_zones names eu-west-1d, which eu-west-1 does not offer (available: eu-west-1a, eu-west-1b, eu-west-1c).
Fix: set availability_zones = [\"eu-west-1a\",\"eu-west-1b\"] in the var-file");
}

#[test]
fn transaction_search_left_off_fails_with_the_commands_that_turn_it_on() {
    let aws = Recorded::new("eu-west-1", &[]);
    let outcomes = run_all(&aws, &stack("enable_transaction_search = false\n"));
    assert_eq!(failed(&outcomes), ["Transaction Search"]);
    let check = outcome(&outcomes, "Transaction Search");
    assert_eq!(
        check.detail,
        "enable_transaction_search = false leaves Transaction Search to you, but in eu-west-1 X-Ray's trace segment destination is XRay (ACTIVE), and no Logs resource policy lets xray.amazonaws.com write aws/spans: the OTLP endpoint would refuse every span the functions export."
    );
    assert!(check.fixes[0].starts_with("aws logs put-resource-policy --policy-name TransactionSearchXRayAccess --policy-document '{\"Version\":\"2012-10-17\""));
    assert!(
        check.fixes[0].contains("\"Principal\":{\"Service\":\"xray.amazonaws.com\"}")
            && check.fixes[0].contains("arn:aws:logs:eu-west-1:123456789012:log-group:aws/spans:*")
    );
    let document = check.fixes[0].split('\'').nth(1).unwrap();
    serde_json::from_str::<serde_json::Value>(document).expect("the policy document is JSON");
    assert_eq!(
        check.fixes[1],
        "aws xray update-trace-segment-destination --destination CloudWatchLogs --region eu-west-1"
    );
}

#[test]
fn transaction_search_already_on_passes_when_terraform_leaves_it_alone() {
    let aws = Recorded::new("eu-west-1", &["transaction-search-on"]);
    let outcomes = run_all(&aws, &stack("enable_transaction_search = false\n"));
    assert_eq!(failed(&outcomes), Vec::<&str>::new(), "{outcomes:#?}");
}

#[test]
fn a_quota_that_cannot_be_read_fails_its_check_and_says_how_to_read_it() {
    let aws = Recorded::new("eu-west-1", &["quota-access-denied"]);
    let outcomes = run_all(&aws, &stack(""));
    assert_eq!(failed(&outcomes), ["VPCs per Region"]);
    let check = outcome(&outcomes, "VPCs per Region");
    assert!(check.detail.starts_with("Could not read quota vpc/L-F678F1CE in eu-west-1: (AccessDeniedException) User: arn:aws:iam::123456789012:user/deployer is not authorized"), "{}", check.detail);
    assert!(check.fixes[0].ends_with("aws service-quotas get-service-quota --service-code vpc --quota-code L-F678F1CE --region eu-west-1"));
}

#[test]
fn a_quota_without_an_account_value_falls_back_to_the_aws_default() {
    let aws = Recorded::new("eu-west-1", &["quota-no-such-resource"]);
    let outcomes = run_all(&aws, &stack(""));
    assert_eq!(
        outcome(&outcomes, "RDS DB instances").detail,
        "0 of 40 used, the stack adds 1"
    );
}

#[test]
fn five_vpcs_of_five_fail_with_a_request_for_six() {
    let aws = Recorded::new("eu-west-1", &["vpcs-full"]);
    let outcomes = run_all(&aws, &stack(""));
    assert_eq!(failed(&outcomes), ["VPCs per Region"]);
    assert_eq!(
        outcome(&outcomes, "VPCs per Region").fixes,
        [
            "aws service-quotas request-service-quota-increase --service-code vpc --quota-code L-F678F1CE --desired-value 6 --region eu-west-1"
        ]
    );
}

#[test]
fn ten_log_resource_policies_leave_no_room_for_transaction_search() {
    let aws = Recorded::new("eu-west-1", &["log-policies-full"]);
    let outcomes = run_all(&aws, &stack(""));
    assert_eq!(failed(&outcomes), ["CloudWatch Logs resource policies"]);
    let check = outcome(&outcomes, "CloudWatch Logs resource policies");
    assert!(
        check.detail.contains("already holds 10 of the 10")
            && check.detail.contains("orders-dev-transaction-search")
    );
    assert!(check.fixes[0].starts_with("aws logs delete-resource-policy --policy-name"));
}

#[test]
fn without_credentials_only_the_credentials_check_runs() {
    struct NoCredentials;
    impl preflight::aws::Aws for NoCredentials {
        fn region(&self) -> &str {
            "eu-west-1"
        }
        fn call(
            &self,
            _: &str,
            _: &str,
            _: &[&str],
        ) -> Result<serde_json::Value, preflight::aws::AwsError> {
            Err(preflight::aws::AwsError::from_stderr(
                "\nUnable to locate credentials. You can configure credentials by running \"aws configure\".\n",
            ))
        }
    }
    let outcomes = run_all(&NoCredentials, &stack(""));
    assert_eq!(failed(&outcomes), ["credentials"]);
    assert_eq!(outcomes.len(), 1);
}

#[test]
fn terraform_prints_the_same_text_as_preflight() {
    use preflight::checks::{concurrency_shortfall, missing_zones, too_few_zones};
    let tftest = std::fs::read_to_string(
        common::root().join("infra/modules/preflight/tests/preflight.tftest.hcl"),
    )
    .unwrap();
    let zones = |names: &[&str]| names.iter().map(|z| z.to_string()).collect::<Vec<_>>();
    for outcome in [
        concurrency_shortfall("eu-west-1", 10, 38, 0),
        too_few_zones("ap-northeast-3", &zones(&["ap-northeast-3a"]), 2),
        missing_zones(
            "eu-west-1",
            &zones(&["eu-west-1d"]),
            &zones(&["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
        ),
    ] {
        let quoted = outcome
            .text()
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        assert!(
            tftest.contains(&format!("== \"{quoted}\"")),
            "the Terraform test does not expect:\n{}",
            outcome.text()
        );
    }
    assert_eq!(
        NEW_ACCOUNT_TEXT,
        concurrency_shortfall("eu-west-1", 10, 38, 0).text()
    );
}

#[test]
fn more_zones_asked_for_than_the_region_offers_fail() {
    let aws = Recorded::new("eu-west-1", &[]);
    let outcomes = run_all(&aws, &stack("availability_zone_count = 4\n"));
    assert_eq!(failed(&outcomes), ["availability zones"]);
    assert!(outcome(&outcomes, "availability zones").detail.starts_with("eu-west-1 offers 3 available availability zone(s) (eu-west-1a, eu-west-1b, eu-west-1c); the stack needs 4 "));
}
