#!/usr/bin/env python3
"""The Docker build context of docker/Dockerfile, as BuildKit would send it.

No Docker engine runs here, so this answers, without building, the question a
failed `COPY` or a "file not found" from cargo would answer much later: does
every path the image build reads survive docker/Dockerfile.dockerignore?

  build_context.py check [REPO_ROOT]
      Lists the paths the build reads and fails, naming each, if one is
      missing or filtered out. Paths: every `COPY`/`ADD` source taken from
      the context; the files the cargo steps read (Cargo.toml, Cargo.lock,
      .cargo/config.toml and rust-toolchain files when present, every
      workspace member's Cargo.toml and its sources, files the non-test
      sources `include_str!`/`include_bytes!`); repo files a `RUN` names
      (docker/check-glibc.sh). Also checks that each function in the
      Dockerfile's FUNCTIONS is a workspace binary.
  build_context.py copy DEST [REPO_ROOT]
      Copies the filtered context into DEST (which must not exist); used by
      docker/image-replay.sh.
  build_context.py arg NAME [REPO_ROOT]
      Prints the default of the Dockerfile's global `ARG NAME`.

Filter semantics follow BuildKit (moby/patternmatcher): patterns are paths
relative to the context root, cleaned, `*` and `?` stay within one path
segment, `**` spans segments, `!` re-includes, the last matching pattern
wins, and a pattern that matches a directory matches everything under it.
Standard library only (tomllib: Python 3.11+).
"""

from __future__ import annotations

import glob
import os
import posixpath
import re
import shutil
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

DOCKERFILE = "docker/Dockerfile"


@dataclass(frozen=True)
class Pattern:
    text: str
    exclusion: bool  # a `!` line: re-includes what it matches
    regex: re.Pattern[str]
    literal_prefix: str  # the part before the first wildcard


def _to_regex(pattern: str) -> re.Pattern[str]:
    out, i = ["^"], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                out.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
                i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    out.append("$")
    return re.compile("".join(out))


def load_patterns(root: Path) -> list[Pattern]:
    """The Dockerfile's own `<Dockerfile>.dockerignore`, else the root .dockerignore."""
    for candidate in (root / f"{DOCKERFILE}.dockerignore", root / ".dockerignore"):
        if candidate.is_file():
            lines = candidate.read_text().splitlines()
            break
    else:
        return []
    patterns = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        line = posixpath.normpath(line).lstrip("/")
        if line in ("", "."):
            continue
        prefix = re.split(r"[*?\[\\]", line, maxsplit=1)[0]
        patterns.append(Pattern(raw.strip(), exclusion, _to_regex(line), prefix))
    return patterns


def excluded(path: str, patterns: list[Pattern]) -> bool:
    """Whether BuildKit leaves `path` (relative, '/'-separated) out of the context."""
    parents = path.split("/")[:-1]
    matched = False
    for pattern in patterns:
        if pattern.exclusion != matched:
            continue
        hit = bool(pattern.regex.match(path)) or any(
            pattern.regex.match("/".join(parents[: i + 1])) for i in range(len(parents))
        )
        if hit:
            matched = not pattern.exclusion
    return matched


def _may_reinclude(directory: str, patterns: list[Pattern]) -> bool:
    """Whether some `!` pattern could match a path under an excluded directory."""
    for pattern in patterns:
        if not pattern.exclusion:
            continue
        prefix = pattern.literal_prefix
        if prefix.startswith(directory + "/") or directory.startswith(prefix.rstrip("/")) or prefix == "":
            return True
    return False


def context_files(root: Path, patterns: list[Pattern]):
    """Yields every file (and symlink) path of the filtered context, relative to root."""
    for current, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(current, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir
        keep = []
        for d in dirs:
            rel = f"{rel_dir}/{d}" if rel_dir else d
            if os.path.islink(os.path.join(current, d)):
                files.append(d)
            elif not excluded(rel, patterns) or _may_reinclude(rel, patterns):
                keep.append(d)
        dirs[:] = sorted(keep)
        for f in sorted(files):
            rel = f"{rel_dir}/{f}" if rel_dir else f
            if not excluded(rel, patterns):
                yield rel


# ----------------------------------------------------------------- Dockerfile


def dockerfile_instructions(root: Path) -> list[str]:
    """Instructions with continuation lines joined and comment lines dropped."""
    instructions, current = [], ""
    for line in (root / DOCKERFILE).read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        instructions.append(current + stripped)
        current = ""
    if current:
        instructions.append(current)
    return instructions


def global_arg(root: Path, name: str) -> str | None:
    """Default of a global (before the first FROM) `ARG name=...`."""
    for instruction in dockerfile_instructions(root):
        if instruction.upper().startswith("FROM "):
            break
        match = re.match(rf"ARG\s+{re.escape(name)}=(.*)$", instruction)
        if match:
            value = match.group(1).strip()
            return value[1:-1] if value[:1] == value[-1:] and value[:1] in "\"'" else value
    return None


def copy_sources(root: Path) -> list[str]:
    """Context paths read by COPY/ADD (not --from=stage, not URLs)."""
    sources = []
    for instruction in dockerfile_instructions(root):
        words = instruction.split()
        if words[0].upper() not in ("COPY", "ADD"):
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        if any(w.startswith("--from=") for w in words[1:]):
            continue
        for src in args[:-1]:
            if "://" not in src:
                sources.append(posixpath.normpath(src).lstrip("/"))
    return sources


def run_file_references(root: Path) -> list[str]:
    """Repo files a RUN names by path (scripts under docker/)."""
    refs = set()
    for instruction in dockerfile_instructions(root):
        if instruction.upper().startswith("RUN "):
            refs.update(re.findall(r"(?<![\w/])(docker/[\w./-]+\.(?:sh|py))\b", instruction))
    return sorted(refs)


# ----------------------------------------------------------------- workspace


def workspace_members(root: Path) -> list[str]:
    manifest = tomllib.loads((root / "Cargo.toml").read_text())
    workspace = manifest.get("workspace", {})
    excluded_members = set(workspace.get("exclude", []))
    members = []
    for member in workspace.get("members", []):
        for path in sorted(glob.glob(member, root_dir=root)) or [member]:
            if path not in excluded_members:
                members.append(path)
    return members


def member_reads(root: Path, member: str) -> tuple[list[str], set[str]]:
    """The member's manifest and non-test sources, and its binary names."""
    reads = [f"{member}/Cargo.toml"]
    manifest_path = root / member / "Cargo.toml"
    if not manifest_path.is_file():
        return reads, set()
    manifest = tomllib.loads(manifest_path.read_text())
    name = manifest.get("package", {}).get("name", "")
    bins = {b.get("name", name) for b in manifest.get("bin", [])}
    if (root / member / "src/main.rs").is_file():
        bins.add(name)
    if manifest.get("package", {}).get("autobins", True):
        bins |= {p.stem for p in (root / member / "src/bin").glob("*.rs")}
        bins |= {p.parent.name for p in (root / member / "src/bin").glob("*/main.rs")}
    for directory in ("src",):
        for path in sorted((root / member / directory).rglob("*.rs")):
            rel = path.relative_to(root).as_posix()
            if path.name == "tests.rs" or "/tests/" in rel[len(member) :]:
                continue
            reads.append(rel)
            text = path.read_text(errors="replace")
            for included in re.findall(r'include_(?:str|bytes)!\(\s*"([^"]+)"', text):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), included))
                reads.append(target)
    for build_script in ("build.rs",):
        if (root / member / build_script).is_file():
            reads.append(f"{member}/{build_script}")
    return reads, bins


def required_paths(root: Path) -> tuple[dict[str, str], list[str]]:
    """Path → why the build reads it; plus problems found on the way."""
    reads: dict[str, str] = {}
    problems = []
    for src in copy_sources(root):
        reads.setdefault(src, "COPY/ADD source")
    for ref in run_file_references(root):
        reads.setdefault(ref, "named by a RUN step")
    reads.setdefault("Cargo.toml", "workspace manifest (cargo chef prepare, cargo build)")
    reads.setdefault("Cargo.lock", "cargo build --locked")
    for optional in (".cargo/config.toml", "rust-toolchain", "rust-toolchain.toml"):
        if (root / optional).is_file():
            reads.setdefault(optional, "read by cargo/rustup when present")
    binaries = set()
    for member in workspace_members(root):
        files, bins = member_reads(root, member)
        binaries |= bins
        for path in files:
            reads.setdefault(path, f"workspace member {member}")
    for function in (global_arg(root, "FUNCTIONS") or "").replace(";", " ").split():
        if function not in binaries:
            problems.append(
                f"FUNCTIONS names {function}, which no workspace member builds as a binary"
            )
    return reads, problems


def check(root: Path) -> int:
    patterns = load_patterns(root)
    reads, problems = required_paths(root)
    context = set(context_files(root, patterns))
    for path, why in sorted(reads.items()):
        target = root / path
        if not target.exists():
            problems.append(f"{path} ({why}) does not exist")
        elif target.is_dir():
            prefix = "" if path == "." else f"{path}/"
            if not any(f.startswith(prefix) for f in context):
                problems.append(f"{path}/ ({why}) is empty after the dockerignore filter")
        elif path not in context:
            problems.append(f"{path} ({why}) is filtered out by the dockerignore")
    print(f"build_context: {len(reads)} paths the image build reads, {len(context)} files in the context")
    for problem in problems:
        print(f"build_context: FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


def copy(root: Path, dest: Path) -> int:
    patterns = load_patterns(root)
    dest.mkdir(parents=True)
    count = 0
    for rel in context_files(root, patterns):
        source, target = root / rel, dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        else:
            shutil.copy2(source, target)
        count += 1
    print(f"build_context: copied {count} files into {dest}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[1] == "check":
        return check(Path(argv[2] if len(argv) > 2 else ".").resolve())
    if len(argv) >= 3 and argv[1] == "copy":
        return copy(Path(argv[3] if len(argv) > 3 else ".").resolve(), Path(argv[2]))
    if len(argv) >= 3 and argv[1] == "arg":
        value = global_arg(Path(argv[3] if len(argv) > 3 else ".").resolve(), argv[2])
        if value is None:
            print(f"build_context: no global ARG {argv[2]} in {DOCKERFILE}", file=sys.stderr)
            return 1
        print(value)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
