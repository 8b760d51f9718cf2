//! What the stack will ask of the account, read from the Terraform files themselves (parsed as HCL with
//! `hcl-rs`, never matched with patterns) and the user's var-file: the functions' reserved concurrency,
//! the zones, the Transaction Search switch, the interface endpoints per VPC.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

/// The stack as `terraform apply` would create it with this var-file.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    /// `<name>-<environment>`: every resource name starts with it.
    pub prefix: String,
    /// `var.region`: where Terraform deploys unless `--region` says otherwise.
    pub region: String,
    /// Function => reserved concurrency after `function_overrides`; 0 when unreserved (-1) or when
    /// `enable_reserved_concurrency = false`.
    pub reservations: BTreeMap<String, i64>,
    /// `var.enable_reserved_concurrency` (true where the variable does not exist yet).
    pub reservations_enabled: bool,
    /// `var.availability_zones`: the zones named by the user (empty: Terraform picks them).
    pub availability_zones: Vec<String>,
    /// `var.availability_zone_count`: how many zones Terraform picks (2 where the variable does not exist).
    pub zones_needed: usize,
    /// `var.enable_transaction_search`: Terraform turns Transaction Search on itself.
    pub enable_transaction_search: bool,
    /// Interface endpoints the network module creates in the stack's VPC.
    pub interface_endpoints: usize,
}

impl Stack {
    /// Reads `infra/` under `root` with the variables Terraform would use: the files it loads by itself
    /// (`terraform.tfvars`, `terraform.tfvars.json`, `*.auto.tfvars[.json]` in name order), then `var_file`.
    pub fn load(root: &Path, var_file: Option<&Path>) -> Result<Stack> {
        let mut files = auto_var_files(&root.join("infra"))?;
        files.extend(var_file.map(Path::to_path_buf));
        Stack::load_with(root, &files)
    }

    /// Reads `infra/` under `root` with exactly these var-files, later ones winning (`.tfvars` HCL or
    /// `.tfvars.json`).
    pub fn load_with(root: &Path, var_files: &[PathBuf]) -> Result<Stack> {
        let infra = root.join("infra");
        let mut vars = variable_defaults(&parse(&infra.join("variables.tf"))?);
        for file in var_files {
            vars.extend(read_var_file(file)?);
        }
        let defaults = local(&parse(&infra.join("main.tf"))?, "function_defaults")?;
        let endpoints = local(
            &parse(&infra.join("modules/network/main.tf"))?,
            "endpoint_services",
        )?;
        let reservations_enabled = vars
            .get("enable_reserved_concurrency")
            .is_none_or(|v| v.as_bool() != Some(false));
        Ok(Stack {
            prefix: format!(
                "{}-{}",
                string(&vars, "name")?,
                string(&vars, "environment")?
            ),
            region: string(&vars, "region")?,
            reservations: reservations(
                &defaults,
                vars.get("function_overrides"),
                reservations_enabled,
            )?,
            reservations_enabled,
            availability_zones: strings(vars.get("availability_zones")),
            zones_needed: vars
                .get("availability_zone_count")
                .and_then(Value::as_u64)
                .map_or(2, |n| n as usize),
            enable_transaction_search: vars
                .get("enable_transaction_search")
                .is_none_or(|v| v.as_bool() != Some(false)),
            interface_endpoints: longest_array(&endpoints),
        })
    }

    /// The sum of the functions' reservations: what this stack takes from the account's concurrency.
    pub fn reserved_total(&self) -> i64 {
        self.reservations.values().sum()
    }

    /// The deployed name of a function (`module.functions`: `<prefix>-<function>`).
    pub fn function_name(&self, function: &str) -> String {
        format!("{}-{function}", self.prefix)
    }
}

/// The var-files Terraform loads without being told, in its order.
fn auto_var_files(infra: &Path) -> Result<Vec<PathBuf>> {
    let mut auto: Vec<PathBuf> = std::fs::read_dir(infra)
        .with_context(|| format!("Failed to list {}", infra.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            name.ends_with(".auto.tfvars") || name.ends_with(".auto.tfvars.json")
        })
        .collect();
    auto.sort();
    let mut files: Vec<PathBuf> = ["terraform.tfvars", "terraform.tfvars.json"]
        .iter()
        .map(|name| infra.join(name))
        .filter(|path| path.is_file())
        .collect();
    files.extend(auto);
    Ok(files)
}

fn parse(file: &Path) -> Result<hcl::Body> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("Failed to read {}", file.display()))?;
    hcl::parse(&text).with_context(|| format!("Failed to parse {} as HCL", file.display()))
}

/// Literal expressions (all that defaults, locals of literals and var-files hold) as JSON.
fn json(expr: &hcl::Expression) -> Value {
    serde_json::to_value(hcl::Value::from(expr.clone())).unwrap_or(Value::Null)
}

/// `variable "x" { default = … }` => x => default, for every variable that has one.
fn variable_defaults(body: &hcl::Body) -> Map<String, Value> {
    let mut defaults = Map::new();
    for block in body.blocks().filter(|b| b.identifier() == "variable") {
        let (Some(label), Some(default)) = (
            block.labels().first(),
            block.body().attributes().find(|a| a.key() == "default"),
        ) else {
            continue;
        };
        defaults.insert(label.as_str().to_owned(), json(default.expr()));
    }
    defaults
}

/// The var-file's assignments (`.tfvars.json` is JSON, anything else HCL).
fn read_var_file(file: &Path) -> Result<Map<String, Value>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("Failed to read {}", file.display()))?;
    let value: Value = if file.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text)?
    } else {
        hcl::from_str(&text)
            .with_context(|| format!("Failed to parse {} as HCL", file.display()))?
    };
    match value {
        Value::Object(map) => Ok(map),
        _ => bail!("{} assigns no variables", file.display()),
    }
}

/// The expression of `locals { <name> = … }`.
fn local(body: &hcl::Body, name: &str) -> Result<hcl::Expression> {
    body.blocks()
        .filter(|b| b.identifier() == "locals")
        .flat_map(|b| b.body().attributes())
        .find(|a| a.key() == name)
        .map(|a| a.expr().clone())
        .with_context(|| format!("no local {name:?} in the Terraform files"))
}

/// Function => reservation, as `local.function_settings` computes it: the override when it is set and not
/// null (`coalesce`), else the default; negative (unreserved) and switched-off reservations count 0.
fn reservations(
    defaults: &hcl::Expression,
    overrides: Option<&Value>,
    enabled: bool,
) -> Result<BTreeMap<String, i64>> {
    let Value::Object(functions) = json(defaults) else {
        bail!("local.function_defaults is not an object of literals");
    };
    let mut reservations = BTreeMap::new();
    for (function, settings) in functions {
        let key = "reserved_concurrent_executions";
        let default = settings[key]
            .as_i64()
            .with_context(|| format!("function_defaults[{function:?}].{key} is not a number"))?;
        let chosen = overrides
            .and_then(|o| o[&function][key].as_i64())
            .unwrap_or(default);
        reservations.insert(function, if enabled { chosen.max(0) } else { 0 });
    }
    Ok(reservations)
}

fn string(vars: &Map<String, Value>, name: &str) -> Result<String> {
    vars.get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("variable {name:?} has no string value (set it in the var-file)"))
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The longest list literal inside an expression: `toset(["sqs", …])` holds the endpoint services, and a
/// conditional between two lists counts as the larger one.
fn longest_array(expr: &hcl::Expression) -> usize {
    match expr {
        hcl::Expression::Array(items) => items
            .iter()
            .map(longest_array)
            .max()
            .unwrap_or(0)
            .max(items.len()),
        hcl::Expression::FuncCall(call) => call.args.iter().map(longest_array).max().unwrap_or(0),
        hcl::Expression::Conditional(cond) => {
            longest_array(&cond.true_expr).max(longest_array(&cond.false_expr))
        }
        hcl::Expression::Parenthesis(inner) => longest_array(inner),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::longest_array;

    #[test]
    fn the_endpoint_count_is_the_longest_list_in_the_expression() {
        let count = |text: &str| longest_array(&text.parse::<hcl::Expression>().unwrap());
        assert_eq!(count(r#"toset(["sqs", "secretsmanager", "xray"])"#), 3);
        assert_eq!(
            count(r#"var.logs ? toset(["sqs", "logs"]) : toset(["sqs"])"#),
            2
        );
        assert_eq!(count("local.other"), 0);
    }
}
