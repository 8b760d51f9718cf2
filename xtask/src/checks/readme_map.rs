//! README's "Where things live" map, checked against the tree: every path it lists exists, and every
//! workspace crate falls under a row. A move that forgets the map fails here.

use std::path::Path;

/// The paths named in the first column of the map's rows, with `{a,b}` alternatives expanded.
fn listed_paths(readme: &str) -> Vec<String> {
    let section = readme
        .split("### Where things live")
        .nth(1)
        .and_then(|rest| rest.split("\n### ").next())
        .unwrap_or_default();
    section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .filter_map(|line| line.split('|').nth(1))
        .flat_map(|cell| cell.split('`').skip(1).step_by(2).map(str::to_owned))
        .flat_map(|path| expand_braces(&path))
        .collect()
}

/// `services/{a,b}` → `services/a`, `services/b`.
fn expand_braces(path: &str) -> Vec<String> {
    match (path.find('{'), path.find('}')) {
        (Some(open), Some(close)) if open < close => path[open + 1..close]
            .split(',')
            .map(|alt| format!("{}{alt}{}", &path[..open], &path[close + 1..]))
            .collect(),
        _ => vec![path.to_owned()],
    }
}

/// The workspace members of the root `Cargo.toml`.
fn workspace_members(manifest: &str) -> Vec<String> {
    let members = manifest
        .split("members = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_default();
    members
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

/// What is wrong with the map at `root`: listed paths that do not exist, crates no row covers.
pub fn problems(root: &Path) -> Vec<String> {
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap_or_default();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    let listed = listed_paths(&readme);
    let mut problems: Vec<String> = listed
        .iter()
        .filter(|p| !root.join(p.trim_end_matches('/')).exists())
        .map(|p| format!("README lists `{p}`, which does not exist"))
        .collect();
    if listed.is_empty() {
        problems.push("README has no \"Where things live\" rows".to_owned());
    }
    for member in workspace_members(&manifest) {
        let covered = listed.iter().any(|p| {
            let p = p.trim_end_matches('/');
            member == p
                || member.starts_with(&format!("{p}/"))
                || p.starts_with(&format!("{member}/"))
        });
        if !covered {
            problems.push(format!("no README row covers the crate `{member}`"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_map_matches_the_tree() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let problems = problems(root);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn a_listed_path_that_is_gone_and_an_unlisted_crate_are_reported() {
        let dir = std::env::temp_dir().join(format!("readme-map-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("services/kept")).unwrap();
        std::fs::write(
            dir.join("README.md"),
            "### Where things live\n| path | what |\n| --- | --- |\n| `services/{kept,gone}` | x |\n\n### Next\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            "[workspace]\nmembers = [\n    \"services/kept\",\n    \"tools/new\",\n]\n",
        )
        .unwrap();
        let problems = problems(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            problems,
            [
                "README lists `services/gone`, which does not exist",
                "no README row covers the crate `tools/new`",
            ]
        );
    }
}
