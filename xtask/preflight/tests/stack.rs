//! What preflight reads from infra/ and a var-file, checked against the repository's own Terraform.

mod common;

use common::{root, stack};
use preflight::{Args, Stack};

#[test]
fn the_reservations_are_read_from_function_defaults_in_main_tf() {
    let stack = stack("");
    assert_eq!(stack.prefix, "orders-dev");
    assert_eq!(stack.region, "eu-west-1");
    assert_eq!(stack.reservations.len(), 7);
    assert_eq!(stack.reservations["get-orders"], 16);
    assert_eq!(stack.reserved_total(), 38);
    assert!(stack.reservations_enabled && stack.enable_transaction_search);
    assert!(stack.availability_zones.is_empty());
    assert_eq!(stack.zones_needed, 2);
    // endpoint_services in modules/network: 4 here, 3 once the unused logs endpoint goes (issue 19).
    assert!(
        (3..=4).contains(&stack.interface_endpoints),
        "{}",
        stack.interface_endpoints
    );
}

#[test]
fn the_var_file_overrides_names_region_zones_and_reservations() {
    let stack = stack(
        r#"
name        = "shop"
environment = "prod"
region      = "eu-central-1"
availability_zones = ["eu-central-1a", "eu-central-1c"]
function_overrides = {
  "get-orders"   = { reserved_concurrent_executions = 4 }
  "create-order" = { memory_size = 512 }
  "update-stock" = { reserved_concurrent_executions = -1 }
}
"#,
    );
    assert_eq!(stack.prefix, "shop-prod");
    assert_eq!(stack.region, "eu-central-1");
    assert_eq!(stack.availability_zones, ["eu-central-1a", "eu-central-1c"]);
    assert_eq!(stack.reservations["get-orders"], 4);
    assert_eq!(
        stack.reservations["create-order"], 8,
        "an override without a reservation keeps the default"
    );
    assert_eq!(stack.reservations["update-stock"], 0, "-1 is unreserved");
    assert_eq!(stack.reserved_total(), 38 - 16 + 4 - 2);
}

#[test]
fn enable_reserved_concurrency_false_counts_every_reservation_as_zero() {
    let stack = stack("enable_reserved_concurrency = false\nenable_transaction_search = false\n");
    assert_eq!(stack.reserved_total(), 0);
    assert!(!stack.reservations_enabled && !stack.enable_transaction_search);
}

#[test]
fn a_tfvars_json_file_is_read_as_json() {
    let dir = std::env::temp_dir().join(format!("preflight-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("prod.tfvars.json");
    std::fs::write(
        &file,
        r#"{"environment": "prod", "enable_reserved_concurrency": false}"#,
    )
    .unwrap();
    let stack = Stack::load_with(&root(), &[file]).unwrap();
    assert_eq!(
        (stack.prefix.as_str(), stack.reserved_total()),
        ("orders-prod", 0)
    );
}

#[test]
fn terraform_tfvars_and_auto_tfvars_are_read_like_terraform_then_the_var_file() {
    let root = std::env::temp_dir().join(format!("preflight-auto-{}", std::process::id()));
    let infra = root.join("infra");
    std::fs::create_dir_all(infra.join("modules/network")).unwrap();
    for file in [
        "infra/variables.tf",
        "infra/main.tf",
        "infra/modules/network/main.tf",
    ] {
        std::fs::copy(common::root().join(file), root.join(file)).unwrap();
    }
    std::fs::write(
        infra.join("terraform.tfvars"),
        "environment = \"prod\"\nenable_reserved_concurrency = false\n",
    )
    .unwrap();
    std::fs::write(infra.join("b.auto.tfvars"), "region = \"eu-north-1\"\n").unwrap();
    std::fs::write(
        infra.join("a.auto.tfvars.json"),
        r#"{"region": "eu-south-1", "name": "shop"}"#,
    )
    .unwrap();
    let stack = Stack::load(&root, None).unwrap();
    assert_eq!(
        (
            stack.prefix.as_str(),
            stack.region.as_str(),
            stack.reserved_total()
        ),
        ("shop-prod", "eu-north-1", 0)
    );
    let extra = root.join("extra.tfvars");
    std::fs::write(&extra, "region = \"us-east-1\"\n").unwrap();
    assert_eq!(
        Stack::load(&root, Some(&extra)).unwrap().region,
        "us-east-1"
    );
}

#[test]
fn the_command_line_takes_region_and_var_file_in_both_spellings() {
    let args = |v: &[&str]| Args::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let parsed = args(&["--region", "us-east-1", "--var-file=prod.tfvars"]).unwrap();
    assert_eq!(parsed.region.as_deref(), Some("us-east-1"));
    assert_eq!(parsed.var_file.unwrap().to_str(), Some("prod.tfvars"));
    assert!(args(&["--regoin", "x"]).is_err());
    assert!(args(&["--region"]).is_err());
}
