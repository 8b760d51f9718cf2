"""Self-tests of check_guide.py (run: check_guide.py --self-test).

Each test copies the real docs/deploy.md, plants one mistake a reader of the guide would hit, and asserts that
the named check fails; the unchanged guide must pass.
"""

from __future__ import annotations

import re
import tempfile
import unittest
from pathlib import Path

import check_guide

GUIDE = check_guide.HERE.parent.parent / "docs" / "deploy.md"


class DeployGuideCheckTest(unittest.TestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="deploy-guide-self-test-")
        self.guide = Path(self._tmp.name) / "deploy.md"
        self.guide.write_text(GUIDE.read_text(encoding="utf-8"), encoding="utf-8")

    def tearDown(self) -> None:
        self._tmp.cleanup()

    def edit(self, old: str, new: str, *, regex: bool = False) -> None:
        """Replaces the first match; a mutation that matches nothing is a broken test, not a pass."""
        text = self.guide.read_text(encoding="utf-8")
        changed = re.sub(old, new, text, count=1, flags=re.S | re.M) if regex else text.replace(old, new, 1)
        self.assertNotEqual(changed, text, f"mutation did not apply: {old!r}")
        self.guide.write_text(changed, encoding="utf-8")

    def assert_fails(self, check: str, text: str) -> None:
        report = check_guide.run(self.guide)
        failures = [line for line in report.lines if line.startswith(f"FAIL {check}")]
        self.assertTrue(any(text in line for line in failures),
                        f"expected FAIL {check} ({text!r}); got:\n" + "\n".join(report.lines))

    def test_the_guide_as_it_is_passes(self) -> None:
        report = check_guide.run(self.guide)
        self.assertEqual(report.failed, 0, "\n".join(report.lines))
        self.assertEqual(sum(line.startswith("PASS steps") for line in report.lines), len(check_guide.ESSENTIAL))

    def test_region_read_back_after_the_targeted_apply_fails(self) -> None:
        self.edit("TAG=$(git rev-parse --short=12 HEAD)\n",
                  "TAG=$(git rev-parse --short=12 HEAD)\nREGION=$(terraform -chdir=infra output -raw region)\n")
        self.edit('aws ecr get-login-password --region "$AWS_REGION"', 'aws ecr get-login-password --region "$REGION"')
        self.assert_fails("run", 'Output "region" not found')

    def test_an_empty_argument_fails(self) -> None:
        self.edit('cargo xtask preflight --region "$AWS_REGION"', 'cargo xtask preflight --region "${AWS_REGON:-}"')
        self.assert_fails("run", "argument 4 is empty")

    def test_a_region_other_than_the_fixed_one_fails(self) -> None:
        self.edit('aws ecr get-login-password --region "$AWS_REGION"', "aws ecr get-login-password --region us-east-1")
        self.assert_fails("run", "--region 'us-east-1' is not AWS_REGION 'eu-west-1'")

    def test_a_missing_binfmt_step_fails(self) -> None:
        self.edit("docker run --privileged --rm tonistiigi/binfmt --install arm64\n", "")
        self.assert_fails("steps", "binfmt/QEMU for arm64: no such call")

    def test_a_state_bucket_without_versioning_fails(self) -> None:
        self.edit(r"^aws s3api put-bucket-versioning[^\n]*\n", "", regex=True)
        self.assert_fails("steps", "its versioning: no such call")

    def test_a_backend_without_locking_fails(self) -> None:
        self.edit("use_lockfile = true\n", "")
        self.assert_fails("run", "does not set use_lockfile")

    def test_the_catalogue_seeded_after_the_first_order_fails(self) -> None:
        text = self.guide.read_text(encoding="utf-8")
        seed = re.search(r"## 8\. Seed the demo catalogue.*?(?=## 9\.)", text, flags=re.S).group(0)
        order = re.search(r"## 11\. Place the first order.*?(?=\n## )", text, flags=re.S).group(0)
        self.guide.write_text(text.replace(seed, "").replace(order, order + "\n\n" + seed), encoding="utf-8")
        self.assert_fails("steps", "comes before the demo catalogue seeded")

    def test_an_image_pushed_without_its_tag_fails(self) -> None:
        self.edit("TAG=$(git rev-parse --short=12 HEAD)\n", "TAG=\n")
        self.assert_fails("run", "not a tagged image")

    def test_a_shellcheck_finding_in_a_walkthrough_block_fails(self) -> None:
        self.edit('ACCOUNT=$(aws sts get-caller-identity --query Account --output text)\n',
                  'ACCOUNT=$(aws sts get-caller-identity --query Account --output text)\necho $ACCOUNT\n')
        self.assert_fails("shellcheck", "SC2086")

    def test_a_shellcheck_finding_in_a_bash_snippet_fails(self) -> None:
        self.edit("```bash\n", "```bash\ncd infra\n")
        self.assert_fails("shellcheck", "bash block at line")

    def test_a_later_section_using_only_aws_terraform_docker_and_git_runs(self) -> None:
        self.guide.write_text(self.guide.read_text(encoding="utf-8") + """
## The pipeline path

```sh
git push origin main
terraform -chdir=infra init
terraform -chdir=infra apply -target=module.delivery
aws codepipeline start-pipeline-execution --name "orders-$ENVIRONMENT-deploy" --region "$AWS_REGION"
terraform -chdir=infra output -json function_names
docker buildx ls
```
""", encoding="utf-8")
        report = check_guide.run(self.guide)
        self.assertEqual(report.failed, 0, "\n".join(report.lines))


def main() -> int:
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(DeployGuideCheckTest)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    print(f"{result.testsRun - failed} passed, {failed} failed")
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1
