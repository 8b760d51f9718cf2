//! Test support: the repository root, var-files written for a test, and [`Recorded`], an [`Aws`] that
//! answers from the recorded CLI output under `tests/fixtures/` and refuses every call it has no record of.

#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;

use preflight::aws::{Aws, AwsError};
use preflight::{Outcome, Stack};
use serde_json::Value;

/// The workspace root (infra/ lives there).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The stack from the real infra/ with `tfvars` as the only var-file (none when empty; a developer's own
/// infra/terraform.tfvars is left out).
pub fn stack(tfvars: &str) -> Stack {
    if tfvars.is_empty() {
        return Stack::load_with(&root(), &[]).expect("infra/ reads");
    }
    let dir = std::env::temp_dir().join(format!("preflight-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{:x}.tfvars", fxhash(tfvars)));
    std::fs::write(&file, tfvars).unwrap();
    Stack::load_with(&root(), &[file]).expect("infra/ and the var-file read")
}

fn fxhash(text: &str) -> u64 {
    text.bytes().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

/// Recorded CLI answers: `base.json` with the named scenarios laid over it.
pub struct Recorded {
    region: String,
    answers: BTreeMap<String, Value>,
    /// Every call made, in order (`service operation args`).
    pub calls: RefCell<Vec<String>>,
}

impl Recorded {
    pub fn new(region: &str, scenarios: &[&str]) -> Recorded {
        let mut answers = BTreeMap::new();
        for name in std::iter::once("base").chain(scenarios.iter().copied()) {
            let path = root().join(format!("xtask/preflight/tests/fixtures/{name}.json"));
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let Value::Object(map) = serde_json::from_str(&text).unwrap() else {
                panic!("{name} is no object")
            };
            answers.extend(map);
        }
        Recorded {
            region: region.to_owned(),
            answers,
            calls: RefCell::new(Vec::new()),
        }
    }
}

impl Aws for Recorded {
    fn region(&self) -> &str {
        &self.region
    }

    fn call(&self, service: &str, operation: &str, args: &[&str]) -> Result<Value, AwsError> {
        let key = std::iter::once(service)
            .chain([operation])
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        self.calls.borrow_mut().push(key.clone());
        let answer = self
            .answers
            .get(&key)
            .unwrap_or_else(|| panic!("no recorded answer for `aws {key}`"));
        match answer.get("stderr").and_then(Value::as_str) {
            Some(stderr) => Err(AwsError::from_stderr(stderr)),
            None => Ok(answer["stdout"].clone()),
        }
    }
}

/// The outcome of the check named `check`.
pub fn outcome<'a>(outcomes: &'a [Outcome], check: &str) -> &'a Outcome {
    outcomes
        .iter()
        .find(|o| o.check == check)
        .unwrap_or_else(|| panic!("no check {check:?} in {outcomes:#?}"))
}

/// The names of the failed checks.
pub fn failed(outcomes: &[Outcome]) -> Vec<&'static str> {
    outcomes.iter().filter(|o| !o.ok).map(|o| o.check).collect()
}
