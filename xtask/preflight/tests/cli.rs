//! `preflight::run` through the real CLI adapter, with a stub `aws` first on PATH that prints the recorded
//! answers (tests/fixtures) for exactly the command lines preflight must send, and fails on any other.
//! nextest runs each test in its own process, so setting PATH here touches no other test.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Writes `dir/aws`: one `case` arm per recorded call, with `--region <region> --output json` appended as
/// the adapter must append it; stdout or stderr and exit 254 as the CLI v2 does on a service error.
fn stub_aws(dir: &Path, region: &str, scenarios: &[&str]) -> PathBuf {
    let mut answers = serde_json::Map::new();
    for name in std::iter::once("base").chain(scenarios.iter().copied()) {
        let path = common::root().join(format!("xtask/preflight/tests/fixtures/{name}.json"));
        let Value::Object(map) =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        else {
            unreachable!()
        };
        answers.extend(map);
    }
    let mut script = String::from(
        "#!/bin/sh\necho \"$* pager=[$AWS_PAGER]\" >> \"$(dirname \"$0\")/calls.log\"\ncase \"$*\" in\n",
    );
    for (index, (key, answer)) in answers.iter().enumerate() {
        let file = dir.join(format!("{index}.out"));
        let (text, stream, code) = match answer.get("stderr") {
            Some(stderr) => (stderr.as_str().unwrap().to_owned(), ">&2", 254),
            None => (
                serde_json::to_string_pretty(&answer["stdout"]).unwrap(),
                "",
                0,
            ),
        };
        std::fs::write(&file, text).unwrap();
        script.push_str(&format!(
            "  \"{key} --region {region} --output json\") cat '{}' {stream}; exit {code};;\n",
            file.display()
        ));
    }
    script.push_str("  *) echo \"unrecorded: $*\" >&2; exit 252;;\nesac\n");
    let aws = dir.join("aws");
    std::fs::write(&aws, script).unwrap();
    std::fs::set_permissions(&aws, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir.join("calls.log")
}

fn with_stub(name: &str, region: &str, scenarios: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("preflight-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = stub_aws(&dir, region, scenarios);
    let path = std::env::var("PATH").unwrap_or_default();
    // SAFETY: this test process has no other threads yet (nextest: one test per process).
    unsafe { std::env::set_var("PATH", format!("{}:{path}", dir.display())) };
    log
}

#[test]
fn an_established_account_passes_through_the_cli() {
    let log = with_stub("ok", "eu-west-1", &[]);
    preflight::run(&common::root(), &["--region".into(), "eu-west-1".into()])
        .expect("every check passes");
    let calls = std::fs::read_to_string(log).unwrap();
    assert!(
        calls
            .lines()
            .all(|l| l.ends_with("--region eu-west-1 --output json pager=[]")),
        "{calls}"
    );
    assert!(calls.contains("lambda get-account-settings"));
}

#[test]
fn a_new_account_fails_the_run_and_reads_the_clis_errors() {
    let log = with_stub("new", "eu-west-1", &["new-account"]);
    let error = preflight::run(&common::root(), &["--region=eu-west-1".into()]).unwrap_err();
    assert!(error.to_string().contains("1 check(s) failed"), "{error:#}");
    let calls = std::fs::read_to_string(log).unwrap();
    assert_eq!(
        calls.matches("get-function-concurrency").count(),
        7,
        "{calls}"
    );
}
