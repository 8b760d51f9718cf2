#!/bin/sh
# Usage: check-glibc.sh BINARY MAX_GLIBC
# Fails if BINARY needs a newer glibc symbol version than MAX_GLIBC.
# The builder is Debian bookworm (glibc 2.36) but the Lambda base image is
# Amazon Linux 2023 (glibc 2.34): a binary that picked up a 2.35+ symbol would
# build fine and then die at cold start with "GLIBC_2.3x not found". This
# turns that into a build failure.
set -eu

binary="$1"
max="$2"

# Separate step so a failing objdump fails the script (sh has no pipefail).
symbols=$(objdump -T "$binary")
needed=$(printf '%s\n' "$symbols" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -n 1 || true)
if [ -z "$needed" ]; then
    echo "check-glibc: $binary references no versioned glibc symbols"
    exit 0
fi
highest=$(printf '%s\n%s\n' "$needed" "$max" | sort -V | tail -n 1)
if [ "$highest" != "$max" ]; then
    echo "check-glibc: $binary needs glibc $needed, the runtime image has $max" >&2
    exit 1
fi
echo "check-glibc: $binary needs glibc $needed (runtime image has $max)"
