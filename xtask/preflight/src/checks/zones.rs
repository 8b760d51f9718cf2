//! The zones the region offers: the private subnets and the database subnet group need two, and zones the
//! var-file names must exist there (not every region has a "b").

use crate::aws::Aws;
use crate::outcome::Outcome;
use crate::stack::Stack;

const CHECK: &str = "availability zones";
/// RDS needs subnets in two zones, whatever availability_zone_count says.
const MIN_ZONES: usize = 2;

/// EC2 DescribeAvailabilityZones: the region's zones in state `available` that need no opt-in (Local and
/// Wavelength Zones left out, as main.tf's data source does), against `availability_zone_count` and the
/// zones the var-file names.
pub fn check(aws: &dyn Aws, stack: &Stack) -> Outcome {
    let region = aws.region();
    let answer = match aws.call("ec2", "describe-availability-zones", &[]) {
        Ok(answer) => answer,
        Err(error) => {
            return Outcome::fail(
                CHECK,
                format!("Could not list the zones of {region}: {error}."),
                vec![format!(
                    "allow ec2:DescribeAvailabilityZones to this identity, or list them yourself: aws ec2 describe-availability-zones --region {region}"
                )],
            );
        }
    };
    let available = available_zones(&answer);
    let needed = if stack.availability_zones.is_empty() {
        stack.zones_needed
    } else {
        MIN_ZONES
    };
    if available.len() < needed {
        return too_few_zones(region, &available, needed);
    }
    let missing: Vec<String> = stack
        .availability_zones
        .iter()
        .filter(|z| !available.contains(z))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return missing_zones(region, &missing, &available);
    }
    Outcome::pass(
        CHECK,
        format!(
            "{} available in {region}: {}",
            available.len(),
            available.join(", ")
        ),
    )
}

/// The zone names of a DescribeAvailabilityZones answer that are `available` and plain availability zones
/// (no Local or Wavelength Zones), sorted.
fn available_zones(answer: &serde_json::Value) -> Vec<String> {
    let mut available: Vec<String> = answer["AvailabilityZones"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|z| z["State"] == "available")
        .filter(|z| {
            z["ZoneType"]
                .as_str()
                .is_none_or(|t| t == "availability-zone")
        })
        .filter_map(|z| z["ZoneName"].as_str().map(str::to_owned))
        .collect();
    available.sort();
    available
}

/// The region offers fewer zones than the stack spans (same text as `infra/modules/preflight`).
pub fn too_few_zones(region: &str, available: &[String], needed: usize) -> Outcome {
    let listed = if available.is_empty() {
        "none".to_owned()
    } else {
        available.join(", ")
    };
    Outcome::fail(
        CHECK,
        format!(
            "{region} offers {} available availability zone(s) ({listed}); the stack needs {needed} (availability_zone_count; the database subnet group needs at least 2).",
            available.len()
        ),
        vec![format!(
            "deploy to a region with at least {needed} zones: set region = \"<that region>\" in the var-file and run cargo xtask preflight --region <that region>"
        )],
    )
}

/// `availability_zones` names zones the region does not offer (same text as `infra/modules/preflight`).
pub fn missing_zones(region: &str, missing: &[String], available: &[String]) -> Outcome {
    let pick: Vec<String> = available
        .iter()
        .take(MIN_ZONES)
        .map(|z| format!("\"{z}\""))
        .collect();
    Outcome::fail(
        CHECK,
        format!(
            "availability_zones names {}, which {region} does not offer (available: {}).",
            missing.join(", "),
            available.join(", ")
        ),
        vec![format!(
            "set availability_zones = [{}] in the var-file",
            pick.join(",")
        )],
    )
}
