#!/usr/bin/env bash
# Moves each function's live alias to the version terraform apply just published, through CodeDeploy: the
# deployment group's configuration (canary 10 % for 5 minutes, then all) and its alarms decide; an alarm
# during the shift, or a failure, moves the alias back by itself. $1 is `terraform output -json delivery`.
# A function whose alias already serves that version (nothing changed, or a re-run) is left alone.
# Exits 1 when any deployment did not succeed.
set -euo pipefail
delivery=${1:?usage: shift-traffic.sh <terraform output -json delivery>}
application=$(jq -r '.application' "$delivery")

started=()
while IFS=$'\t' read -r name function alias group target; do
  current=$(aws lambda get-alias --function-name "$function" --name "$alias" --query FunctionVersion --output text)
  if [[ "$current" == "$target" ]]; then
    echo "${name}: ${alias} already serves version ${target}"
    continue
  fi
  # The AppSpec of a Lambda deployment: which alias moves, from which version to which.
  appspec=$(printf '{"version":0.0,"Resources":[{"%s":{"Type":"AWS::Lambda::Function","Properties":{"Name":"%s","Alias":"%s","CurrentVersion":"%s","TargetVersion":"%s"}}}]}' \
    "$name" "$function" "$alias" "$current" "$target")
  revision=$(jq -cn --arg content "$appspec" '{revisionType: "AppSpecContent", appSpecContent: {content: $content}}')
  id=$(aws deploy create-deployment --application-name "$application" --deployment-group-name "$group" \
    --revision "$revision" --description "${alias}: version ${current} -> ${target}" \
    --query deploymentId --output text)
  echo "${name}: ${alias} version ${current} -> ${target}, deployment ${id}"
  started+=("${name}=${id}")
done < <(jq -r '.functions | to_entries[] | [.key, .value.function_name, .value.alias, .value.deployment_group, .value.target_version] | @tsv' "$delivery")

failed=0
for entry in "${started[@]}"; do
  name=${entry%%=*}
  id=${entry#*=}
  if aws deploy wait deployment-successful --deployment-id "$id"; then
    echo "${name}: deployment ${id} succeeded"
  else
    state=$(aws deploy get-deployment --deployment-id "$id" \
      --query '[deploymentInfo.status, deploymentInfo.errorInformation.message]' --output text || true)
    echo "::error::${name}: deployment ${id} did not succeed (${state}); CodeDeploy rolled the alias back"
    failed=1
  fi
done
exit "$failed"
