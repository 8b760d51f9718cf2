#!/usr/bin/env bash
# Replays docker/Dockerfile's build steps without a Docker engine.
#
# Usage: docker/image-replay.sh [REPO_ROOT] [SCRATCH_DIR]
#   REPO_ROOT defaults to this script's parent directory, SCRATCH_DIR to
#   ${TMPDIR:-/tmp}/orders-image-replay (emptied first, except the
#   cargo-chef install it keeps for the next run).
#   Environment: FUNCTIONS overrides the Dockerfile's FUNCTIONS, as
#   `--build-arg FUNCTIONS=...` would; REPLAY_TOOLS=0 skips the tools image's
#   build step. Run it under `nice` on a shared machine: it is a full release
#   build with LTO.
#
# What it proves: the build context, as docker/Dockerfile.dockerignore
# filters it (docker/build_context.py copy, BuildKit's matching rules), holds
# everything the build reads (manifests, Cargo.lock, .cargo/config.toml,
# docs/openapi.yaml, docker/check-glibc.sh, ...), `--locked` holds, and every
# function binary builds and passes the glibc check. Steps, as in the
# Dockerfile, each in its own directory under SCRATCH_DIR:
#   planner  COPY . . ; cargo chef prepare
#   cacher   recipe.json only ; cargo chef cook --release
#   builder  COPY . . over the cooked tree ; cargo build --release --locked
#            --bin <each of FUNCTIONS> ; docker/check-glibc.sh on each
#   tools    cargo build --release --locked --bin migration --bin seed
#            --bin local-gateway (in the builder's tree, after the
#            functions; the Dockerfile's tools-builder starts from the
#            cooked tree instead: same inputs, so the same proof, in less
#            time)
# cargo-chef comes from crates.io at the Dockerfile's CARGO_CHEF_VERSION,
# installed into SCRATCH_DIR/cargo-home/bin. What it does not replay: the
# base images (the host's rustc, C toolchain and glibc stand in for
# rust:RUST_VERSION-bookworm; a different rustc is reported). The rds-ca
# stage is replayed: the vendored docker/rds-ca-global-bundle.pem is checked
# by docker/rds-ca-verify.sh against the pins, as the build does.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "${1:-$here/..}" && pwd)
scratch="${2:-${TMPDIR:-/tmp}/orders-image-replay}"
context_py="$here/build_context.py"

arg() { python3 "$context_py" arg "$1" "$root"; }
step() { printf '\n== image-replay: %s\n' "$*"; }
elapsed() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

functions="${FUNCTIONS:-$(arg FUNCTIONS)}"
chef_version=$(arg CARGO_CHEF_VERSION)
glibc=$(arg LAMBDA_GLIBC)
rust_version=$(arg RUST_VERSION)
rds_sha=$(sed -n 's/^ARG RDS_CA_BUNDLE_SHA256=//p' "$root/docker/Dockerfile")

step "repo $root, scratch $scratch"
echo "functions: $functions"
echo "cargo-chef $chef_version, glibc <= $glibc, Dockerfile rust $rust_version, host $(rustc --version)"
case "$(rustc --version)" in
"rustc $rust_version "*) ;;
*) echo "warning: the host rustc is not the Dockerfile's RUST_VERSION $rust_version" >&2 ;;
esac
if bash "$here/rds-ca-verify.sh" --check-pins "$root/docker/rds-ca-fingerprints.txt" "$root/docker/Dockerfile" &&
    bash "$here/rds-ca-verify.sh" "$root/docker/rds-ca-global-bundle.pem" "$root/docker/rds-ca-fingerprints.txt" "$rds_sha"; then
    echo "rds-ca: the vendored bundle passes its pins (sha256 $rds_sha)"
else
    echo "warning: rds-ca: the vendored bundle or its pins fail ($rds_sha); the image build fails there" >&2
fi

mkdir -p "$scratch"
rm -rf "$scratch/context" "$scratch/planner" "$scratch/app" "$scratch/out"

# The Dockerfile's chef stage: its ENV, and no target dir or flags from the
# caller's environment.
export AWS_LC_SYS_NO_JITTER_ENTROPY=1 CARGO_TERM_COLOR=never CARGO_INCREMENTAL=0
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_PROFILE_RELEASE_LTO

step "cargo-chef $chef_version from crates.io"
start=$SECONDS
chef_root="$scratch/cargo-home"
if ! "$chef_root/bin/cargo-chef" --version 2>/dev/null | grep -qx "cargo-chef $chef_version"; then
    cargo install cargo-chef --locked --version "$chef_version" --root "$chef_root"
fi
export PATH="$chef_root/bin:$PATH"
cargo chef --version
echo "took $(elapsed $((SECONDS - start)))"

step "context: $root filtered by the dockerignore"
python3 "$context_py" copy "$scratch/context" "$root"

total=$SECONDS
step "planner: cargo chef prepare"
start=$SECONDS
cp -a "$scratch/context" "$scratch/planner"
(cd "$scratch/planner" && cargo chef prepare --recipe-path recipe.json)
echo "took $(elapsed $((SECONDS - start)))"

# The Dockerfile builds each ";"-group of FUNCTIONS in one cargo invocation,
# which unifies dependency features across the group: fine only if every
# function of a group resolves the same features alone as with the group.
step "feature check: each function's dependency features alone = with its group"
features() { (cd "$scratch/planner" && cargo tree -q -e normal,build --prefix none -f '{p}|{f}' "$@" | sort -u); }
IFS=';' read -r -a groups <<<"$functions"
for group in "${groups[@]}"; do
    read -r -a members <<<"$group"
    [ "${#members[@]}" -gt 1 ] || continue
    together=$(features "${members[@]/#/--package=}")
    for f in "${members[@]}"; do
        if ! python3 - "$f" "$together" "$(features --package="$f")" <<'PY'; then
import sys
def load(text):
    found = {}
    for line in text.splitlines():
        package, _, feats = line.partition("|")
        found.setdefault(" ".join(package.split()[:2]), set()).update(
            x.strip(" (*)") for x in feats.split(",") if x.strip(" (*)"))
    return found
name, together, alone = sys.argv[1], load(sys.argv[2]), load(sys.argv[3])
extra = {p: sorted(together[p] - f) for p, f in alone.items() if together.get(p, f) != f}
for package, features in sorted(extra.items()):
    print(f"{name}: {package} gets {features} only when built with its group", file=sys.stderr)
sys.exit(1 if extra else 0)
PY
            echo "error: split FUNCTIONS into groups whose features agree" >&2
            exit 1
        fi
    done
    echo "ok: ${members[*]}"
done

step "cacher: cargo chef cook --release"
start=$SECONDS
mkdir -p "$scratch/app"
cp "$scratch/planner/recipe.json" "$scratch/app/recipe.json"
(cd "$scratch/app" && cargo chef cook --release --recipe-path recipe.json)
cook=$((SECONDS - start))
echo "took $(elapsed "$cook")"

step "builder: cargo build --release --locked of every function"
start=$SECONDS
cp -a "$scratch/context/." "$scratch/app/"
for group in "${groups[@]}"; do
    read -r -a members <<<"$group"
    [ "${#members[@]}" -gt 0 ] || continue
    echo "cargo build --release --locked ${members[*]/#/--bin }"
    (cd "$scratch/app" && cargo build --release --locked "${members[@]/#/--bin=}")
done
for f in ${functions//;/ }; do
    sh "$scratch/app/docker/check-glibc.sh" "$scratch/app/target/release/$f" "$glibc"
    install -D -m 0755 "$scratch/app/target/release/$f" "$scratch/out/$f/bootstrap"
done
build=$((SECONDS - start))
echo "took $(elapsed "$build")"
ls -l "$scratch"/out/*/bootstrap

tools=0
if [ "${REPLAY_TOOLS:-1}" != 0 ]; then
    step "tools-builder: cargo build --release --locked of the tools"
    start=$SECONDS
    (cd "$scratch/app" && cargo build --release --locked --bin migration --bin seed --bin local-gateway)
    install -D -m 0755 -t "$scratch/out/tools" "$scratch/app/target/release/migration" \
        "$scratch/app/target/release/seed" "$scratch/app/target/release/local-gateway"
    tools=$((SECONDS - start))
    echo "took $(elapsed "$tools")"
fi

if ! git -C "$root" diff --quiet -- Cargo.lock 2>/dev/null; then
    echo "note: $root/Cargo.lock has uncommitted changes (replayed as they are)" >&2
fi
step "ok: cook $(elapsed "$cook"), functions $(elapsed "$build"), tools $(elapsed "$tools"), all steps $(elapsed $((SECONDS - total)))"
