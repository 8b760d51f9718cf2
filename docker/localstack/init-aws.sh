#!/bin/sh
# LocalStack ready hook (mounted into /etc/localstack/init/ready.d/), also run
# by `cargo xtask up` against its emulator: creates what Terraform creates in AWS for
# the functions to talk to:
#   - queue 1 `orders` and queue 2 `stock`, each with a DLQ and a redrive
#     policy (maxReceiveCount 3);
#   - the DB master secret {"username","password"} under a fixed name
#     (migrate-db's DB_SECRET_ARN), and one secret per function role
#     (DB_ROLE_SECRETS: space-separated `secret-name=login` pairs, all with the
#     password DB_ROLE_PASSWORD), so each function's DB_SECRET_ARN can be the
#     name of its own.
# LocalStack keeps no state between restarts here, so this runs on every
# start; every step is idempotent anyway. The compose healthcheck waits for
# this script to finish (/_localstack/init/ready), so nothing starts against
# a half-made queue.
set -eu

DB_SECRET_NAME="${DB_SECRET_NAME:-orders/db}"
DB_USERNAME="${DB_USERNAME:-postgres}"
# Set but possibly empty: `cargo xtask up` runs this script too (through
# xtask/bin/awslocal), for a PostgreSQL that trusts local connections.
: "${DB_PASSWORD?DB_PASSWORD must be set on the localstack service}"
case "$DB_PASSWORD" in
*\"* | *\\*)
    echo "init-aws: DB_PASSWORD must not contain \" or \\ (it goes into JSON)" >&2
    exit 1
    ;;
esac
DB_ROLE_SECRETS="${DB_ROLE_SECRETS:-}"
DB_ROLE_PASSWORD="${DB_ROLE_PASSWORD:-}"
case "$DB_ROLE_PASSWORD" in
*\"* | *\\*)
    echo "init-aws: DB_ROLE_PASSWORD must not contain \" or \\ (it goes into JSON)" >&2
    exit 1
    ;;
esac
MAX_RECEIVE_COUNT="${MAX_RECEIVE_COUNT:-3}"
VISIBILITY_TIMEOUT="${QUEUE_VISIBILITY_TIMEOUT_SECONDS:-60}"

# create_queue NAME: creates NAME-dlq and NAME, NAME redriving to NAME-dlq.
create_queue() {
    name="$1"
    dlq_url=$(awslocal sqs create-queue --queue-name "${name}-dlq" \
        --query QueueUrl --output text)
    dlq_arn=$(awslocal sqs get-queue-attributes --queue-url "$dlq_url" \
        --attribute-names QueueArn --query Attributes.QueueArn --output text)
    url=$(awslocal sqs create-queue --queue-name "$name" \
        --query QueueUrl --output text)
    # RedrivePolicy is a JSON document inside a JSON string attribute.
    attributes=$(mktemp)
    printf '{"VisibilityTimeout":"%s","RedrivePolicy":"{\\"deadLetterTargetArn\\":\\"%s\\",\\"maxReceiveCount\\":\\"%s\\"}"}' \
        "$VISIBILITY_TIMEOUT" "$dlq_arn" "$MAX_RECEIVE_COUNT" >"$attributes"
    awslocal sqs set-queue-attributes --queue-url "$url" \
        --attributes "file://$attributes"
    rm -f "$attributes"
    echo "init-aws: queue $url -> $dlq_url (maxReceiveCount $MAX_RECEIVE_COUNT)"
}

# put_secret NAME USERNAME PASSWORD: creates or overwrites NAME as
# {"username","password"}.
put_secret() {
    secret=$(printf '{"username":"%s","password":"%s"}' "$2" "$3")
    if awslocal secretsmanager describe-secret --secret-id "$1" >/dev/null 2>&1; then
        awslocal secretsmanager put-secret-value --secret-id "$1" \
            --secret-string "$secret" >/dev/null
    else
        awslocal secretsmanager create-secret --name "$1" \
            --secret-string "$secret" >/dev/null
    fi
    echo "init-aws: secret $1 ($2)"
}

# The steps are independent: run them side by side (each `awslocal` is a
# process of its own), then fail if any of them failed.
pids=""
create_queue orders &
pids="$pids $!"
create_queue stock &
pids="$pids $!"
put_secret "$DB_SECRET_NAME" "$DB_USERNAME" "$DB_PASSWORD" &
pids="$pids $!"
for pair in $DB_ROLE_SECRETS; do
    put_secret "${pair%%=*}" "${pair#*=}" "$DB_ROLE_PASSWORD" &
    pids="$pids $!"
done
failed=0
for pid in $pids; do
    wait "$pid" || failed=1
done
if [ "$failed" -ne 0 ]; then
    echo "init-aws: a step failed (see above)" >&2
    exit 1
fi
