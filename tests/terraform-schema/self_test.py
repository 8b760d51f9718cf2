"""Self-tests of check_schema.py (run: check_schema.py --self-test).

fixtures/clean must pass. Each fixtures/errors/<case>/main.tf plants one error and opens with
`# expect: <address>:<argument>: <message>`; the check must report exactly that one failure. The builder is
tested on a synthetic excerpt of the generated bindings, so a change in their layout fails here too.
"""

from __future__ import annotations

import sys
import unittest
from pathlib import Path

import build_schema
import check_schema

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
# Every kind of error the check must refuse (the list and the syntax errors it also catches).
REQUIRED_CASES = {
    "unknown_resource_type",
    "unknown_data_type",
    "other_provider",
    "unknown_argument",
    "unknown_nested_block",
    "unknown_dynamic_block",
    "unknown_argument_in_dynamic_content",
    "computed_only_set",
    "missing_required",
    "missing_required_nested",
    "missing_required_random",
    "missing_required_block",
    "block_as_argument",
    "argument_as_block",
    "single_block_repeated",
    "unknown_module_input",
    "missing_module_input",
    "unknown_provider_argument",
    "provider_version_outside",
    "unknown_lifecycle_argument",
}

BINDING_EXCERPT = '''
function fooBarToHclTerraform(struct) {
    const attrs = {
        size: {
            value: cdktn.numberToHclTerraform(struct.size),
            isBlock: false,
            type: "simple",
            storageClassType: "number",
        },
    };
}
class FooBarOutputReference extends cdktn.ComplexObject {
    // size - computed: false, optional: false, required: true
    get size() {
    // owner - computed: true, optional: false, required: false
    get owner() {
}
class Foo extends cdktn.TerraformResource {
    static tfResourceType = "aws_foo";
    // name - computed: false, optional: false, required: true
    get name() {
    // arn - computed: true, optional: false, required: false
    get arn() {
    // bar - computed: false, optional: true, required: false
    _bar = new FooBarOutputReference(this, "bar");
    // bars - computed: false, optional: true, required: false
    _bars = new structs0_1.FooBarList(this, "bars", false);
    // rule - computed: true, optional: true, required: false
    _rule = new FooBarList(this, "rule", true);
    // statement - computed: false, optional: true, required: false
    _statement;
    synthesizeHclAttributes() {
        const attrs = {
            name: {
                value: cdktn.stringToHclTerraform(this._name),
                isBlock: false,
                type: "simple",
                storageClassType: "string",
            },
            bar: {
                value: fooBarToHclTerraform(this._bar.internalValue),
                isBlock: true,
                type: "list",
                storageClassType: "FooBarList",
            },
            bars: {
                value: cdktn.listMapperHcl(structs0_1.fooBarToHclTerraform, true)(this._bars.internalValue),
                isBlock: true,
                type: "list",
                storageClassType: "FooBarList",
            },
            rule: {
                value: cdktn.listMapperHcl(fooBarToHclTerraform, false)(this._rule.internalValue),
                isBlock: true,
                type: "set",
                storageClassType: "FooBarList",
            },
            statement: {
                value: cdktn.anyToHclTerraform(this._statement),
                isBlock: false,
                type: "simple",
                storageClassType: "any",
            },
        };
    }
}
'''


class SchemaCheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.schema = check_schema.load_schema()

    def test_clean_fixture_passes(self) -> None:
        report = check_schema.check(FIXTURES / "clean", self.schema)
        self.assertEqual(report.failures, [])
        self.assertGreaterEqual(report.blocks, 10)

    def test_every_kind_of_error_has_a_fixture(self) -> None:
        cases = {path.name for path in (FIXTURES / "errors").iterdir() if path.is_dir()}
        self.assertEqual(REQUIRED_CASES - cases, set())

    def test_each_planted_error_fails_the_check_alone(self) -> None:
        for case in sorted((FIXTURES / "errors").iterdir()):
            with self.subTest(case=case.name):
                main = case / "main.tf"
                first = main.read_text(encoding="utf-8").splitlines()[0]
                self.assertTrue(first.startswith("# expect: "), f"{main} must open with # expect:")
                report = check_schema.check(case, self.schema)
                self.assertEqual(len(report.failures), 1, report.failures)
                self.assertTrue(report.failures[0].startswith("main.tf:" + first.removeprefix("# expect: ")),
                                report.failures[0])
                self.assertEqual(report.failed_blocks, 1)

    def test_schema_holds_exactly_the_pinned_packages(self) -> None:
        packages = sorted(provider["package"] for provider in self.schema["providers"].values())
        self.assertEqual(packages, sorted(f"{name}@{version}" for name, version, _ in build_schema.PACKAGES))
        aws = self.schema["providers"]["hashicorp/aws"]
        self.assertGreater(len(aws["resource"]), 1500)
        self.assertGreater(len(aws["data"]), 600)
        self.assertIn("random_id", self.schema["providers"]["hashicorp/random"]["resource"])

    def test_version_constraints_follow_terraform(self) -> None:
        cases = [
            ("6.66.0", "~> 6.0", True), ("7.0.0", "~> 6.0", False), ("6.66.0", "~> 6.66.1", False),
            ("6.66.0", ">= 6.0, < 6.50", False), ("6.66.0", ">= 6.0", True), ("6.66.0", "6.66.0", True),
            ("6.66.0", "!= 6.66.0", False), ("5.99.0", "~> 5.0", True),
        ]
        for version, constraint, expected in cases:
            with self.subTest(version=version, constraint=constraint):
                self.assertEqual(check_schema.satisfies(version, constraint), expected)

    def test_builder_reads_flags_blocks_and_nesting_from_the_bindings(self) -> None:
        module = build_schema.Module([BINDING_EXCERPT])
        base, body = module.classes["Foo"]
        node = module.node(body, body, "resource.aws_foo")
        self.assertEqual(module.warnings, [])
        self.assertEqual(node["a"], {"name": "r", "arn": "c"})
        nested = {"a": {"size": "r", "owner": "c"}}
        self.assertEqual(node["b"]["bar"], {"f": "o1", **nested})  # OutputReference: at most one
        self.assertEqual(node["b"]["bars"], {"f": "o", **nested})  # List: repeated
        self.assertEqual(node["b"]["rule"], {"f": "ox", **nested})  # computed block: attribute-as-block
        self.assertEqual(node["b"]["statement"], {"f": "o*"})  # typed any: opaque


def main() -> int:
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(SchemaCheckTest)
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1
