#!/usr/bin/env bash
# Builds the arm64 image of every function once per commit, pushes it to ECR and writes the digests as JSON
# ({"create-order": "sha256:...", ...}) to $1 and to the step output `digests`.
#   REGISTRY           <account>.dkr.ecr.<region>.amazonaws.com
#   REPOSITORY_PREFIX  <name>-<environment>: the repositories are <prefix>/<function>
#   TAG                the commit (ECR tags are immutable)
# A function whose repository already holds TAG is not rebuilt: its digest is reused, so a re-run of the
# same commit deploys the same digests and Terraform has nothing to change.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: build-images.sh <digests.json>}
: "${REGISTRY:?}" "${REPOSITORY_PREFIX:?}" "${TAG:?}"
FUNCTIONS=(create-order get-orders cancel-order process-order update-stock outbox-relay migrate-db)
# What Lambda accepts: one image manifest. An index (application/vnd.oci.image.index.v1+json, or a Docker
# manifest list) is what buildx pushes with attestations on.
SINGLE_IMAGE='^application/vnd\.(docker\.distribution\.manifest\.v2|oci\.image\.manifest\.v1)\+json$'

digests='{}'
for fn in "${FUNCTIONS[@]}"; do
  repository="${REPOSITORY_PREFIX}/${fn}"
  digest=$(aws ecr describe-images --repository-name "$repository" --image-ids "imageTag=${TAG}" \
    --query 'imageDetails[0].imageDigest' --output text 2>/dev/null || true)
  if [[ "$digest" == sha256:* ]]; then
    echo "${fn}: ${TAG} is already in ECR as ${digest}; not rebuilt"
  else
    docker buildx build --platform linux/arm64 -f docker/Dockerfile --build-arg "FUNCTION=${fn}" \
      --provenance=false --sbom=false --metadata-file "/tmp/${fn}.json" \
      -t "${REGISTRY}/${repository}:${TAG}" --push .
    digest=$(jq -r '."containerimage.digest"' "/tmp/${fn}.json")
  fi
  media_type=$(docker buildx imagetools inspect --raw "${REGISTRY}/${repository}@${digest}" | jq -r '.mediaType')
  if ! [[ "$media_type" =~ $SINGLE_IMAGE ]]; then
    echo "::error::${fn}: ${digest} is ${media_type}, not a single image manifest; Lambda refuses it" >&2
    exit 1
  fi
  digests=$(jq -c --arg fn "$fn" --arg digest "$digest" '. + {($fn): $digest}' <<<"$digests")
done

echo "$digests" >"$out"
echo "digests=${digests}" >>"${GITHUB_OUTPUT:-/dev/null}"
echo "$digests"
