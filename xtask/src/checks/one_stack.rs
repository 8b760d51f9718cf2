//! One HTTP stack, one TLS stack, one crypto provider per function binary (issue 12).
//!
//! Two hyper majors, two rustls versions or two h2 versions mean two connection stacks compiled into the
//! image; ring next to aws-lc-rs means two crypto libraries, and rustls then refuses to pick a default
//! `CryptoProvider` on its own. Default features of the AWS SDK or sea-orm bring these back silently, so
//! `cargo xtask lint` reads each function's normal dependency tree and names the crate that has one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use order_contract::topology::FUNCTIONS;

use native_stack::proc;

/// Deployed like the functions but not in the pipeline's table (Terraform invokes it once per deploy).
const ALSO_DEPLOYED: [&str; 1] = ["migrate-db"];

/// Crates that must come in one version only (rustls, h2) or one semver-compatible line (hyper).
const SINGLE: [(&str, Line); 3] = [
    ("hyper", Line::Compatible),
    ("rustls", Line::Exact),
    ("h2", Line::Exact),
];

/// The crates that mean "aws-lc" as a crypto provider, against ring.
const AWS_LC: [&str; 3] = ["aws-lc-rs", "aws-lc-sys", "aws-lc-fips-sys"];

/// How versions of one crate are told apart.
#[derive(Clone, Copy)]
enum Line {
    /// Every version counts (`0.23.46` and `0.23.47` are two).
    Exact,
    /// Per semver-compatible line (`1.x`, `0.14.x`): a second major is a second stack.
    Compatible,
}

/// Fails naming each function binary that links a second stack.
pub fn one_stack(root: &Path) -> Result<()> {
    let crates = FUNCTIONS.iter().map(|f| f.name).chain(ALSO_DEPLOYED);
    let mut failures = Vec::new();
    for name in crates {
        let tree = cargo_tree(root, name)?;
        failures.extend(
            duplicates(&tree)
                .into_iter()
                .map(|d| format!("{name}: {d}")),
        );
    }
    if !failures.is_empty() {
        bail!(
            "more than one HTTP/TLS/crypto stack in a function binary (pick features in the root Cargo.toml):\n  {}",
            failures.join("\n  ")
        );
    }
    eprintln!("== one hyper, one rustls, one h2, one crypto provider in every function binary: ok");
    Ok(())
}

/// `cargo tree -p <crate> -e normal --prefix none`: the crates the binary links, one per line.
fn cargo_tree(root: &Path, name: &str) -> Result<String> {
    let mut cmd = Command::new("cargo");
    cmd.args(["tree", "-p", name, "-e", "normal", "--prefix", "none"])
        .current_dir(root);
    let output = cmd
        .output()
        .with_context(|| format!("Failed to start {}", proc::describe(&cmd)))?;
    if !output.status.success() {
        bail!(
            "{} exited with {}: {}",
            proc::describe(&cmd),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8(output.stdout).context("cargo tree printed non-UTF-8")
}

/// What is linked twice in a `--prefix none` listing, one sentence each (empty when all is well).
pub fn duplicates(tree: &str) -> Vec<String> {
    let linked = crates(tree);
    let mut found = Vec::new();
    for (name, line) in SINGLE {
        let versions: BTreeSet<String> = linked
            .get(name)
            .into_iter()
            .flatten()
            .map(|v| match line {
                Line::Exact => v.to_string(),
                Line::Compatible => compatible(v),
            })
            .collect();
        if versions.len() > 1 {
            let all: Vec<&str> = linked[name].iter().copied().collect();
            found.push(format!(
                "{name} in {} versions: {}",
                all.len(),
                all.join(", ")
            ));
        }
    }
    let aws_lc: Vec<&str> = AWS_LC
        .into_iter()
        .filter(|c| linked.contains_key(c))
        .collect();
    if linked.contains_key("ring") && !aws_lc.is_empty() {
        found.push(format!(
            "two crypto providers: ring and {}",
            aws_lc.join(", ")
        ));
    }
    found
}

/// Crate name → the versions listed, from lines like `hyper v1.12.0`, `entity v0.1.0 (/path)` or
/// `h2 v0.4.20 (*)`.
fn crates(tree: &str) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut crates: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for line in tree.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        if let Some(version) = version.strip_prefix('v') {
            crates.entry(name).or_default().insert(version);
        }
    }
    crates
}

/// The semver-compatible line of a version: `1.12.0` → `1`, `0.14.32` → `0.14`, `0.0.3` → `0.0.3`.
fn compatible(version: &str) -> String {
    let parts: Vec<&str> = version.split(['.', '-', '+']).collect();
    match parts.as_slice() {
        ["0", "0", patch, ..] => format!("0.0.{patch}"),
        ["0", minor, ..] => format!("0.{minor}"),
        [major, ..] => (*major).to_string(),
        [] => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of `cargo tree -p create-order -e normal --prefix none` after issue 12.
    const ONE_STACK: &str = "\
create-order v0.1.0 (/work/services/create-order)
anyhow v1.0.100
aws-config v1.8.18
aws-lc-rs v1.19.0
aws-lc-sys v0.47.0
h2 v0.4.20
hyper v1.12.0
hyper v1.12.0 (*)
hyper-rustls v0.27.10
rustls v0.23.46
rustls v0.23.46 (*)
sqlx-macros v0.9.0 (proc-macro)
";

    #[test]
    fn a_single_stack_passes() {
        assert_eq!(duplicates(ONE_STACK), Vec::<String>::new());
    }

    #[test]
    fn a_second_hyper_major_rustls_h2_and_ring_are_each_named() {
        // Arrange: what the SDK's default `rustls` feature adds (its legacy hyper 0.14 connector).
        let tree = format!(
            "{ONE_STACK}hyper v0.14.32\nh2 v0.3.27\nrustls v0.21.12\nring v0.17.14\nhyper-rustls v0.24.2\n"
        );

        // Act
        let found = duplicates(&tree);

        // Assert
        assert_eq!(
            found,
            [
                "hyper in 2 versions: 0.14.32, 1.12.0",
                "rustls in 2 versions: 0.21.12, 0.23.46",
                "h2 in 2 versions: 0.3.27, 0.4.20",
                "two crypto providers: ring and aws-lc-rs, aws-lc-sys",
            ]
        );
    }

    #[test]
    fn two_hyper_patch_releases_of_one_major_are_one_stack_but_two_rustls_are_not() {
        let tree = format!("{ONE_STACK}hyper v1.13.1\nrustls v0.23.47\n");

        assert_eq!(
            duplicates(&tree),
            ["rustls in 2 versions: 0.23.46, 0.23.47"]
        );
    }

    #[test]
    fn ring_alone_is_one_provider() {
        let tree = "app v0.1.0 (/x)\nring v0.17.14\nrustls v0.23.46\n";

        assert_eq!(duplicates(tree), Vec::<String>::new());
    }

    #[test]
    fn compatible_lines_follow_semver() {
        assert_eq!(compatible("1.12.0"), "1");
        assert_eq!(compatible("0.14.32"), "0.14");
        assert_eq!(compatible("0.0.3"), "0.0.3");
        assert_eq!(compatible("1.0.0-rc.1"), "1");
    }
}
