#!/usr/bin/env bash
# Checks an RDS CA bundle against this repository's pins. The rds-ca stage of
# docker/Dockerfile runs this script on the file it downloads, so a check here
# is the build's check.
#
# Usage:
#   docker/rds-ca-verify.sh BUNDLE [FINGERPRINTS [SHA256]]
#       FINGERPRINTS defaults to rds-ca-fingerprints.txt beside this script,
#       SHA256 to the default of `ARG RDS_CA_BUNDLE_SHA256` in the Dockerfile
#       beside it.
#   docker/rds-ca-verify.sh --check-pins [FINGERPRINTS [DOCKERFILE]]
#       Offline (docker/check.sh runs it): FINGERPRINTS is well formed (one
#       "<sha256 of the DER, 64 lowercase hex> <subject CN>" per line, `#`
#       comments, no duplicate fingerprint or CN, a "# bundle sha256: <hex>"
#       line), DOCKERFILE's `ARG RDS_CA_BUNDLE_SHA256` default is 64 lowercase
#       hex (no placeholder), and the two name the same bundle hash.
#   docker/rds-ca-verify.sh --self-test
#       Offline proof of the checks on throwaway CAs made with openssl: the
#       pinned bundle passes, a re-formatted one passes with a warning, and
#       one certificate missing, one added (self-signed, valid), one byte
#       changed, a non-CA, or a foreign block each fail.
#
# BUNDLE passes when
#   - it holds PEM certificate blocks and nothing else (blank lines and CRLF
#     line ends are allowed), at least one;
#   - every certificate parses, appears once, names itself as issuer and is
#     a CA whose self-signature verifies and which is valid now
#     (`openssl verify -check_ss_sig -x509_strict -CAfile CERT CERT`);
#   - and either its SHA-256 is SHA256 (the pinned bytes: certificates that
#     FINGERPRINTS does not list yet are printed, in its line format, to be
#     reviewed and added; listed ones it lacks likewise), or its certificates
#     are exactly those FINGERPRINTS lists, each with the CN the list gives
#     (another file with the reviewed certificates: a formatting-only
#     difference such as line ends, final newline or order, accepted with a
#     warning giving the new hash). Anything else fails, each certificate that
#     is not listed or is missing named by fingerprint and subject.
#
# Exit status: 0 pass, 1 the bundle or the pins fail, 2 usage or a missing
# tool. Needs bash, openssl, sha256sum, awk, sort, comm.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/rds-ca-verify.XXXXXX")
trap 'rm -rf "$work"' EXIT
default_list="$here/rds-ca-fingerprints.txt"
default_dockerfile="$here/Dockerfile"
fp_re='^[0-9a-f]{64}$'

usage() {
    sed -n '/^# Usage:/,/^#$/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# The default of `ARG RDS_CA_BUNDLE_SHA256` in a Dockerfile (empty if none).
dockerfile_pin() {
    sed -n 's/^ARG RDS_CA_BUNDLE_SHA256=//p' "$1" | head -n 1
}

# Prints "<fingerprint> <CN>" for every entry of a fingerprint list, and
# fails on a malformed line, a duplicate or no entry at all.
read_list() {
    awk -v file="$1" '
        /^[[:space:]]*(#|$)/ { next }
        {
            line = $0; sub(/\r$/, "", line)
            if (line !~ /^[0-9a-f]+ [^ ].*$/ || index(line, " ") != 65) {
                printf "%s:%d: not \"<64 lowercase hex> <subject CN>\": %s\n", file, NR, line > "/dev/stderr"
                bad = 1; next
            }
            fp = substr(line, 1, 64); cn = substr(line, 66)
            if (fp in fps) { printf "%s:%d: duplicate fingerprint %s\n", file, NR, fp > "/dev/stderr"; bad = 1 }
            if (cn in cns) { printf "%s:%d: duplicate subject CN %s\n", file, NR, cn > "/dev/stderr"; bad = 1 }
            fps[fp] = 1; cns[cn] = 1; n++
            print fp " " cn
        }
        END {
            if (n == 0) { printf "%s: no certificate listed\n", file > "/dev/stderr"; bad = 1 }
            exit bad
        }' "$1"
}

# "# bundle sha256: <hex>" from a fingerprint list (empty if none).
list_bundle_sha() {
    sed -n 's/^# bundle sha256: *\([0-9a-f]*\) *$/\1/p' "$1" | head -n 1
}

check_pins() {
    local list="${1:-$default_list}" dockerfile="${2:-$default_dockerfile}" bad=0 entries pin listed
    [ -f "$list" ] || { echo "rds-ca: no fingerprint list at $list" >&2; return 1; }
    [ -f "$dockerfile" ] || { echo "rds-ca: no Dockerfile at $dockerfile" >&2; return 1; }
    if ! entries=$(read_list "$list"); then
        bad=1
    fi
    pin=$(dockerfile_pin "$dockerfile")
    if ! [[ "$pin" =~ $fp_re ]]; then
        echo "rds-ca: $dockerfile: ARG RDS_CA_BUNDLE_SHA256 is not a 64-hex sha256 (\"$pin\")" >&2
        bad=1
    fi
    listed=$(list_bundle_sha "$list")
    if ! [[ "$listed" =~ $fp_re ]]; then
        echo "rds-ca: $list: no \"# bundle sha256: <64 hex>\" line" >&2
        bad=1
    elif [ "$listed" != "$pin" ]; then
        echo "rds-ca: $list names bundle sha256 $listed, $dockerfile pins $pin: update both together" >&2
        bad=1
    fi
    [ "$bad" = 0 ] || return 1
    local count regions
    count=$(printf '%s\n' "$entries" | wc -l)
    regions=$(printf '%s\n' "$entries" | sed -n 's/^[0-9a-f]* Amazon RDS \(.*\) Root CA .*/\1/p' | sort -u | wc -l)
    echo "rds-ca: pins ok: $count certificates ($regions regions) in $list, bundle sha256 $pin"
}

verify_bundle() {
    local bundle="$1" list="${2:-$default_list}" pin="${3:-}"
    [ -n "$pin" ] || pin=$(dockerfile_pin "$default_dockerfile")
    [ -f "$bundle" ] || { echo "rds-ca: no bundle at $bundle" >&2; return 1; }
    [ -f "$list" ] || { echo "rds-ca: no fingerprint list at $list" >&2; return 1; }
    if ! [[ "$pin" =~ $fp_re ]]; then
        echo "rds-ca: the pinned sha256 is not 64 lowercase hex (\"$pin\")" >&2
        return 1
    fi

    local tmp
    tmp=$(mktemp -d "$work/verify.XXXXXX")

    read_list "$list" | sort >"$tmp/pinned" || return 1

    # Split into one file per certificate; anything but PEM certificate
    # blocks and blank lines fails.
    if ! awk -v dir="$tmp" -v file="$bundle" '
        { sub(/\r$/, "") }
        !inside && /^[[:space:]]*$/ { next }
        !inside && $0 == "-----BEGIN CERTIFICATE-----" { inside = 1; n++; out = sprintf("%s/cert-%04d.pem", dir, n); print > out; next }
        inside && $0 == "-----END CERTIFICATE-----" { print > out; close(out); inside = 0; next }
        inside && /^[A-Za-z0-9+\/=]+$/ { print > out; next }
        { printf "%s:%d: not part of a PEM certificate block: %.60s\n", file, NR, $0 > "/dev/stderr"; bad = 1; exit 1 }
        END {
            if (bad) exit 1
            if (inside) { printf "%s: ends inside a certificate block\n", file > "/dev/stderr"; exit 1 }
            if (n == 0) { printf "%s: no certificate\n", file > "/dev/stderr"; exit 1 }
        }' "$bundle"; then
        return 1
    fi

    local cert fp subject issuer cn bad=0 n=0
    : >"$tmp/found"
    for cert in "$tmp"/cert-*.pem; do
        n=$((n + 1))
        if ! fp=$(openssl x509 -in "$cert" -noout -fingerprint -sha256 2>/dev/null); then
            echo "rds-ca: certificate $n does not parse" >&2
            bad=1
            continue
        fi
        fp=$(printf '%s\n' "${fp#*=}" | tr -d ':' | tr 'A-F' 'a-f')
        subject=$(openssl x509 -in "$cert" -noout -subject -nameopt RFC2253)
        subject=${subject#subject=}
        issuer=$(openssl x509 -in "$cert" -noout -issuer -nameopt RFC2253)
        issuer=${issuer#issuer=}
        cn=$(printf '%s\n' "$subject" | grep -o 'CN=[^,]*' | head -n 1 | cut -c4-)
        if [ "$issuer" != "$subject" ]; then
            echo "rds-ca: certificate $n ($fp, $subject) is not self-issued (issuer $issuer)" >&2
            bad=1
        elif ! openssl verify -check_ss_sig -x509_strict -CAfile "$cert" "$cert" >"$tmp/verify" 2>&1; then
            echo "rds-ca: certificate $n ($fp, $subject) fails openssl verify as its own CA:" >&2
            sed 's/^/    /' "$tmp/verify" >&2
            bad=1
        fi
        printf '%s %s\n' "$fp" "$cn" >>"$tmp/found"
    done
    [ "$bad" = 0 ] || return 1

    sort "$tmp/found" >"$tmp/found.sorted"
    local dups
    dups=$(cut -d' ' -f1 "$tmp/found.sorted" | uniq -d)
    if [ -n "$dups" ]; then
        echo "rds-ca: certificates appearing more than once: $dups" >&2
        return 1
    fi

    # The set: by fingerprint; a listed fingerprint must also carry the CN
    # the list gives.
    cut -d' ' -f1 "$tmp/found.sorted" >"$tmp/found.fp"
    cut -d' ' -f1 "$tmp/pinned" >"$tmp/pinned.fp"
    local unexpected missing
    unexpected=$(comm -23 "$tmp/found.fp" "$tmp/pinned.fp")
    missing=$(comm -13 "$tmp/found.fp" "$tmp/pinned.fp")
    if [ -n "$unexpected" ]; then
        echo "rds-ca: $bundle has certificates that $list does not list (its line format):" >&2
        grep -F -f <(printf '%s\n' "$unexpected") "$tmp/found.sorted" | sed 's/^/    /' >&2
        bad=1
    fi
    if [ -n "$missing" ]; then
        echo "rds-ca: $bundle lacks certificates that $list lists:" >&2
        grep -F -f <(printf '%s\n' "$missing") "$tmp/pinned" | sed 's/^/    /' >&2
        bad=1
    fi
    local wrong_cn
    wrong_cn=$(comm -13 "$tmp/pinned" "$tmp/found.sorted" | grep -v -F -f <(printf '%s\n' "$unexpected" | sed '/^$/d;s/$/ /') || true)
    if [ -n "$wrong_cn" ]; then
        echo "rds-ca: listed certificates whose CN is not the one $list gives (fingerprint and CN as in the bundle):" >&2
        printf '%s\n' "$wrong_cn" | sed 's/^/    /' >&2
        bad=1
    fi
    local actual
    actual=$(sha256sum "$bundle" | cut -d' ' -f1)
    if [ "$bad" != 0 ] && [ "$actual" = "$pin" ]; then
        echo "rds-ca: ok: file sha256 $actual = pin, $n certificates, each a self-signed CA with a valid" \
            "signature; the differences from $list above are in the pinned file: review them and update the list."
        return 0
    fi
    if [ "$bad" != 0 ]; then
        echo "rds-ca: FAILED: $n certificates, not the pinned set (file sha256 $actual, pinned $pin)." >&2
        echo "rds-ca: if AWS changed the bundle, review the certificates above and update" \
            "docker/rds-ca-fingerprints.txt and RDS_CA_BUNDLE_SHA256 together (docs/deploy.md, TLS to the database)." >&2
        return 1
    fi

    local regions
    regions=$(sed -n 's/^[0-9a-f]* Amazon RDS \(.*\) Root CA .*/\1/p' "$tmp/found.sorted" | sort -u | wc -l)
    if [ "$actual" = "$pin" ]; then
        echo "rds-ca: ok: $n certificates ($regions regions), each a self-signed CA with a valid signature," \
            "exactly the pinned set; file sha256 $actual = pin"
    else
        echo "rds-ca: warning: file sha256 $actual is not the pinned $pin, but its $n certificates" \
            "($regions regions) are exactly the pinned set: a formatting-only difference (line ends, final" \
            "newline, order); accepted. Set RDS_CA_BUNDLE_SHA256 and the list's \"# bundle sha256\" to" \
            "$actual once reviewed." >&2
    fi
}

self_test() {
    command -v openssl >/dev/null 2>&1 || { echo "rds-ca: openssl not found" >&2; return 2; }
    local dir failures=0 name
    dir=$(mktemp -d "$work/self-test.XXXXXX")
    # Three throwaway roots in the bundle, one outside it, one leaf (not a CA).
    for name in "xx-test-1 Root CA RSA2048 G1" "xx-test-1 Root CA ECC384 G1" "xx-test-2 Root CA RSA2048 G1" "xx-evil-1 Root CA RSA2048 G1"; do
        local key=(-newkey rsa:2048)
        case "$name" in *ECC384*) key=(-newkey ec -pkeyopt ec_paramgen_curve:secp384r1) ;; esac
        openssl req -x509 "${key[@]}" -nodes -days 30 -subj "/O=Test/CN=Amazon RDS $name" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -keyout "$dir/${name// /_}.key" -out "$dir/${name// /_}.pem" 2>/dev/null
    done
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/O=Test/CN=Amazon RDS xx-leaf-1 Root CA RSA2048 G1" \
        -addext "basicConstraints=critical,CA:FALSE" -keyout "$dir/leaf.key" -out "$dir/leaf.pem" 2>/dev/null
    cat "$dir"/xx-test-*.pem >"$dir/good.pem"
    {
        echo "# bundle sha256: $(sha256sum "$dir/good.pem" | cut -d' ' -f1)"
        for name in "$dir"/xx-test-*.pem; do
            printf '%s %s\n' "$(openssl x509 -in "$name" -noout -fingerprint -sha256 | sed 's/.*=//' | tr -d ':' | tr 'A-F' 'a-f')" \
                "$(openssl x509 -in "$name" -noout -subject -nameopt RFC2253 | grep -o 'CN=[^,]*' | cut -c4-)"
        done
    } >"$dir/list.txt"
    local pin
    pin=$(list_bundle_sha "$dir/list.txt")
    sed 's/$/\r/' "$dir/good.pem" >"$dir/crlf.pem"
    awk '/BEGIN/ { n++ } n != 2' "$dir/good.pem" >"$dir/missing.pem"
    cat "$dir/good.pem" "$dir/xx-evil-1_Root_CA_RSA2048_G1.pem" >"$dir/extra.pem"
    cat "$dir/good.pem" "$dir/leaf.pem" >"$dir/leaf-added.pem"
    awk 'NR == 5 { c = substr($0, 20, 1); $0 = substr($0, 1, 19) (c == "A" ? "B" : "A") substr($0, 21) } { print }' \
        "$dir/good.pem" >"$dir/byte.pem"
    { cat "$dir/good.pem"; cat "$dir/xx-evil-1_Root_CA_RSA2048_G1.key"; } >"$dir/key-added.pem"
    local case want got case_pin
    # extra-pinned: the same file as extra, but its own hash pinned (AWS added a CA the list lacks yet).
    cp "$dir/extra.pem" "$dir/extra-pinned.pem"
    for case in good:0 crlf:0 missing:1 extra:1 extra-pinned:0 leaf-added:1 byte:1 key-added:1; do
        want=${case#*:}
        name=${case%:*}
        got=0
        case_pin=$pin
        [ "$name" != extra-pinned ] || case_pin=$(sha256sum "$dir/extra-pinned.pem" | cut -d' ' -f1)
        verify_bundle "$dir/$name.pem" "$dir/list.txt" "$case_pin" >"$dir/out" 2>&1 || got=$?
        if [ "$got" = "$want" ]; then
            echo "self-test: $name: exit $got as expected"
        else
            echo "self-test: $name: exit $got, expected $want:" >&2
            sed 's/^/    /' "$dir/out" >&2
            failures=$((failures + 1))
        fi
    done
    if ! grep -q 'formatting-only' < <(verify_bundle "$dir/crlf.pem" "$dir/list.txt" "$pin" 2>&1); then
        echo "self-test: crlf: no formatting-only warning" >&2
        failures=$((failures + 1))
    fi
    [ "$failures" = 0 ] && echo "self-test: ok"
}

case "${1:-}" in
"" | -h | --help) usage ;;
--self-test) self_test ;;
--check-pins)
    shift
    check_pins "$@"
    ;;
-*) usage ;;
*)
    [ "$#" -le 3 ] || usage
    command -v openssl >/dev/null 2>&1 || { echo "rds-ca: openssl not found" >&2; exit 2; }
    verify_bundle "$@"
    ;;
esac
