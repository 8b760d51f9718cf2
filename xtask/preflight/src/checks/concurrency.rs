//! Account concurrency against the functions' reservations: Lambda refuses any reservation that would
//! leave fewer than 100 executions unreserved, and a new account's limit starts at 10 (sometimes 50).

use crate::aws::Aws;
use crate::outcome::{Outcome, quota_increase};
use crate::stack::Stack;

const CHECK: &str = "lambda concurrency";
/// Lambda keeps this many concurrent executions unreserved in every account and region.
const MIN_UNRESERVED: i64 = 100;
/// What to ask for at least: Lambda's default limit for an established account.
const USUAL_LIMIT: i64 = 1000;

/// Lambda's own figures (GetAccountSettings) against `stack.reserved_total()`. The stack's functions that
/// already exist (a re-run after an apply) have their reservations counted once, not twice.
pub fn check(aws: &dyn Aws, stack: &Stack) -> Outcome {
    let region = aws.region();
    let settings = match aws.call("lambda", "get-account-settings", &[]) {
        Ok(settings) => settings,
        Err(error) => {
            return Outcome::fail(
                CHECK,
                format!("Could not read the Lambda account settings in {region}: {error}."),
                vec![format!(
                    "allow lambda:GetAccountSettings to this identity, or read them yourself: aws lambda get-account-settings --region {region}"
                )],
            );
        }
    };
    let limit = settings["AccountLimit"]["ConcurrentExecutions"]
        .as_i64()
        .unwrap_or(0);
    let unreserved = settings["AccountLimit"]["UnreservedConcurrentExecutions"]
        .as_i64()
        .unwrap_or(0);
    let reserved = stack.reserved_total();
    if reserved == 0 {
        let why = if stack.reservations_enabled {
            "none is set"
        } else {
            "enable_reserved_concurrency = false"
        };
        return Outcome::pass(
            CHECK,
            format!(
                "limit {limit}, unreserved {unreserved}; the functions reserve nothing ({why})"
            ),
        );
    }
    let ours_now = if unreserved - reserved >= MIN_UNRESERVED {
        0
    } else {
        existing(aws, stack)
    };
    let left = unreserved + ours_now - reserved;
    if left >= MIN_UNRESERVED {
        return Outcome::pass(
            CHECK,
            format!(
                "limit {limit}, unreserved {unreserved}; the functions reserve {reserved}, leaving {left} unreserved (Lambda keeps {MIN_UNRESERVED})"
            ),
        );
    }
    concurrency_shortfall(region, limit, reserved, limit - unreserved - ours_now)
}

/// The failure: `others` is what other functions in the account already reserve. With none, the text is
/// the one `infra/modules/preflight` prints from the Service Quotas value.
pub fn concurrency_shortfall(region: &str, limit: i64, reserved: i64, others: i64) -> Outcome {
    let needed = others + reserved + MIN_UNRESERVED;
    let of_which = if others > 0 {
        format!(", of which other functions reserve {others}")
    } else {
        String::new()
    };
    Outcome::fail(
        CHECK,
        format!(
            "The account's Lambda concurrency limit in {region} is {limit}{of_which}; the functions reserve {reserved} and Lambda keeps {MIN_UNRESERVED} unreserved, so the stack needs {needed}. Until then every function fails to create (\"decreases account's UnreservedConcurrentExecution below its minimum value\")."
        ),
        vec![
            quota_increase("lambda", "L-B99A9384", desired_concurrency(needed), region),
            "set enable_reserved_concurrency = false in the var-file (deploys without reservations)".to_owned(),
        ],
    )
}

/// The limit to ask for: what the stack needs, and at least Lambda's usual 1000.
pub fn desired_concurrency(needed: i64) -> i64 {
    needed.max(USUAL_LIMIT)
}

/// What the stack's functions reserve today (0 for each one not created yet).
fn existing(aws: &dyn Aws, stack: &Stack) -> i64 {
    stack
        .reservations
        .keys()
        .map(|function| {
            let name = stack.function_name(function);
            aws.call(
                "lambda",
                "get-function-concurrency",
                &["--function-name", &name],
            )
            .ok()
            .and_then(|v| v["ReservedConcurrentExecutions"].as_i64())
            .unwrap_or(0)
        })
        .sum()
}
