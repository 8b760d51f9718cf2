#!/usr/bin/env python3
"""The pipeline's scripts (.ci/build-images.sh, .ci/shift-traffic.sh) against stub `aws` and `docker` commands.

Nothing reaches AWS: each test puts stubs first on PATH that record their arguments and answer from a JSON
file the test writes (stub.json: {"<command words>": {"out": ..., "rc": ...}}, longest matching prefix wins).
Run: python3 tests/pipeline/test_scripts.py (cargo xtask static runs it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.dont_write_bytecode = True

ROOT = Path(__file__).resolve().parents[2]
STUB = r"""#!/usr/bin/env python3
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
with open(os.path.join(here, "calls.log"), "a") as log:
    log.write(json.dumps([name] + args) + "\n")
answers = json.load(open(os.path.join(here, "stub.json")))
words = [name] + [a for a in args if not a.startswith("-")]
best = None
for key, answer in answers.items():
    prefix = key.split()
    if words[:len(prefix)] == prefix and (best is None or len(prefix) > len(best[0])):
        best = (prefix, answer)
answer = best[1] if best else {"out": "", "rc": 0}
if "metadata" in answer and "--metadata-file" in args:
    with open(args[args.index("--metadata-file") + 1], "w") as f:
        json.dump(answer["metadata"], f)
sys.stdout.write(answer.get("out", ""))
sys.exit(answer.get("rc", 0))
"""
DIGEST = "sha256:" + "a" * 64
NEW_DIGEST = "sha256:" + "b" * 64
IMAGE = json.dumps({"mediaType": "application/vnd.docker.distribution.manifest.v2+json"})
INDEX = json.dumps({"mediaType": "application/vnd.oci.image.index.v1+json"})


class Stubbed(unittest.TestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="pipeline-")
        self.dir = Path(self._tmp.name)
        for name in ("aws", "docker"):
            (self.dir / name).write_text(STUB, encoding="utf-8")
            (self.dir / name).chmod(0o755)

    def tearDown(self) -> None:
        self._tmp.cleanup()

    def run_script(self, script: str, answers: dict, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        (self.dir / "stub.json").write_text(json.dumps(answers), encoding="utf-8")
        environment = {**os.environ, "PATH": f"{self.dir}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(self.dir / "output"), **(env or {})}
        return subprocess.run(["bash", str(ROOT / ".ci" / script), *args], env=environment, capture_output=True, text=True, timeout=60)

    def calls(self) -> list[list[str]]:
        log = self.dir / "calls.log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


class ShiftTraffic(Stubbed):
    def delivery(self, target: str = "4") -> str:
        path = self.dir / "delivery.json"
        path.write_text(json.dumps({"application": "orders-prod", "functions": {
            "create-order": {"function_name": "orders-prod-create-order", "alias": "live", "deployment_group": "create-order",
                             "target_version": target, "rollback_alarms": []},
        }}), encoding="utf-8")
        return str(path)

    def test_an_alias_already_on_the_published_version_starts_no_deployment(self) -> None:
        result = self.run_script("shift-traffic.sh", {"aws lambda get-alias": {"out": "4\n"}}, self.delivery("4"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse(any(call[1] == "deploy" for call in self.calls()), self.calls())
        self.assertIn("already serves version 4", result.stdout)

    def test_a_new_version_is_shifted_from_the_current_one_by_codedeploy(self) -> None:
        answers = {"aws lambda get-alias": {"out": "3\n"}, "aws deploy create-deployment": {"out": "d-123\n"}}
        result = self.run_script("shift-traffic.sh", answers, self.delivery("4"))
        self.assertEqual(result.returncode, 0, result.stderr)
        create = next(call for call in self.calls() if call[1:3] == ["deploy", "create-deployment"])
        self.assertEqual(create[create.index("--application-name") + 1], "orders-prod")
        self.assertEqual(create[create.index("--deployment-group-name") + 1], "create-order")
        revision = json.loads(create[create.index("--revision") + 1])
        self.assertEqual(revision["revisionType"], "AppSpecContent")
        content = revision["appSpecContent"]["content"]
        self.assertIn('"version":0.0', content)  # AppSpec wants 0.0 written out, not 0
        properties = json.loads(content)["Resources"][0]["create-order"]["Properties"]
        self.assertEqual(properties, {"Name": "orders-prod-create-order", "Alias": "live", "CurrentVersion": "3", "TargetVersion": "4"})
        self.assertIn(["aws", "deploy", "wait", "deployment-successful", "--deployment-id", "d-123"], self.calls())

    def test_a_deployment_that_rolled_back_fails_the_step(self) -> None:
        answers = {"aws lambda get-alias": {"out": "3\n"}, "aws deploy create-deployment": {"out": "d-9\n"},
                   "aws deploy wait": {"rc": 255}, "aws deploy get-deployment": {"out": "Stopped\tAlarm activated\n"}}
        result = self.run_script("shift-traffic.sh", answers, self.delivery("4"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("deployment d-9 did not succeed (Stopped\tAlarm activated)", result.stdout)


class BuildImages(Stubbed):
    ENV = {"REGISTRY": "123.dkr.ecr.eu-west-1.amazonaws.com", "REPOSITORY_PREFIX": "orders-prod", "TAG": "c0ffee"}

    def test_a_rerun_of_a_commit_reuses_its_digests_and_builds_nothing(self) -> None:
        answers = {"aws ecr describe-images": {"out": DIGEST + "\n"}, "docker buildx imagetools": {"out": IMAGE}}
        result = self.run_script("build-images.sh", answers, str(self.dir / "digests.json"), env=self.ENV)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse(any(call[1:3] == ["buildx", "build"] for call in self.calls()))
        digests = json.loads((self.dir / "digests.json").read_text())
        self.assertEqual(len(digests), 7)
        self.assertEqual(set(digests.values()), {DIGEST})
        self.assertIn(f"digests={json.dumps(digests, separators=(',', ':'))}", (self.dir / "output").read_text())

    def test_a_new_commit_is_built_for_arm64_without_attestations(self) -> None:
        answers = {"aws ecr describe-images": {"out": "None\n", "rc": 254},
                   "docker buildx build": {"metadata": {"containerimage.digest": NEW_DIGEST}},
                   "docker buildx imagetools": {"out": IMAGE}}
        result = self.run_script("build-images.sh", answers, str(self.dir / "digests.json"), env=self.ENV)
        self.assertEqual(result.returncode, 0, result.stderr)
        builds = [call for call in self.calls() if call[1:3] == ["buildx", "build"]]
        self.assertEqual(len(builds), 7)
        for flag in ("--provenance=false", "--sbom=false", "--push"):
            self.assertTrue(all(flag in call for call in builds), flag)
        self.assertTrue(all(call[call.index("--platform") + 1] == "linux/arm64" for call in builds))
        self.assertIn("orders-prod/migrate-db:c0ffee", " ".join(builds[-1]))
        self.assertEqual(json.loads((self.dir / "digests.json").read_text())["migrate-db"], NEW_DIGEST)

    def test_an_image_index_is_refused(self) -> None:
        answers = {"aws ecr describe-images": {"out": DIGEST + "\n"}, "docker buildx imagetools": {"out": INDEX}}
        result = self.run_script("build-images.sh", answers, str(self.dir / "digests.json"), env=self.ENV)
        self.assertEqual(result.returncode, 1)
        self.assertIn("not a single image manifest", result.stdout + result.stderr)


class Workflows(unittest.TestCase):
    """check_workflows.py's release rules, against the real workflow with one fact broken at a time."""

    def problems(self, old: str, new: str) -> list[str]:
        import yaml  # noqa: PLC0415 - from .venv, like check_workflows

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import check_workflows  # noqa: PLC0415

        path = ROOT / ".github" / "workflows" / "pipeline.yml"
        text = path.read_text(encoding="utf-8")
        self.assertIn(old, text)
        document = yaml.safe_load(text.replace(old, new, 1))
        document["on"] = document.pop(True, None)
        return check_workflows.release_problems({path: document})

    def test_the_workflow_as_it_is_passes(self) -> None:
        self.assertEqual(self.problems("name: pipeline", "name: pipeline"), [])

    def test_an_action_pinned_by_tag_fails(self) -> None:
        problems = self.problems("docker/setup-qemu-action@29109295f81e9208d7d86ff1c6c12d2833863392", "docker/setup-qemu-action@v3")
        self.assertTrue(any("docker/setup-qemu-action@v3 is not pinned" in p for p in problems), problems)

    def test_apply_outside_the_production_environment_fails(self) -> None:
        problems = self.problems("    environment: production\n", "")
        self.assertTrue(any("job deploy applies outside the production environment" in p for p in problems), problems)

    def test_a_plan_without_the_built_digests_fails(self) -> None:
        problems = self.problems('-var "image_tag=$TAG" -var "image_digests=$DIGESTS" | tee', '-var "image_tag=$TAG" | tee')
        self.assertTrue(any("job plan plans or applies without the built image_digests" in p for p in problems), problems)

    def test_a_role_assumed_without_an_oidc_token_fails(self) -> None:
        problems = self.problems("    timeout-minutes: 30\n    permissions:\n      contents: read\n      id-token: write\n",
                                 "    timeout-minutes: 30\n    permissions:\n      contents: read\n")
        self.assertTrue(any("job plan: id-token: write missing for an AWS role" in p for p in problems), problems)


if __name__ == "__main__":
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    outcome = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if outcome.wasSuccessful() and outcome.testsRun > 0 else 1)
