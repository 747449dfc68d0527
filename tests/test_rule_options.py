"""Rule options have a declared type, default and documentation, checked when the
configuration is read; names are kebab-case like every configuration key."""

import pytest

from gitlint_flux.config import ConfigError, load_config
from gitlint_flux.rules import all_rules


def config_with(tmp_path, text):
    (tmp_path / ".gitlint-flux.yaml").write_text(text)
    return load_config(str(tmp_path), None, None)


@pytest.mark.parametrize("text,expected", [
    ("rules:\n  remote-base:\n    options:\n      allow-pinned: 'no'\n",
     "rules.remote-base.options: option `allow-pinned` must be true or false, not the string `no`"),
    ("rules:\n  FLX601:\n    options:\n      allow: flux-system\n",
     "option `allow` must be a list of strings"),
    ("rules:\n  interval-bounds:\n    options:\n      min: {Kustomization: {interval: ten minutes}}\n",
     "`Kustomization.interval` must be a Go duration"),
    ("rules:\n  interval-bounds:\n    options:\n      min: {Kustomization: {intervall: 10m}}\n",
     "`Kustomization.intervall`: unknown field"),
    ("rules:\n  oci-ref-pinned:\n    options:\n      require-digests: true\n",
     "unknown option `require-digests` (options: require-digest)"),
])
def test_a_wrong_option_is_a_configuration_error_naming_file_rule_and_option(tmp_path, text, expected):
    with pytest.raises(ConfigError) as exc:
        config_with(tmp_path, text)
    assert ".gitlint-flux.yaml" in str(exc.value) and expected in str(exc.value)


def test_snake_case_option_names_are_the_same_option(tmp_path):
    cfg = config_with(tmp_path, "rules:\n  remote-base:\n    options:\n      allow_pinned: false\n")
    assert cfg.rules["FLX409"].options == {"allow-pinned": False}
    rule = all_rules()["FLX409"](None, cfg.rules["FLX409"].options)
    assert rule.opts["allow-pinned"] is False


def test_every_option_is_documented_and_its_default_fits_its_type():
    for code, cls in all_rules().items():
        for name, opt in cls.options.items():
            assert name == name.lower() and "_" not in name, (code, name)
            assert opt.doc.endswith("."), (code, name)
            assert opt.problem(opt.default) is None, (code, name)


def test_explain_and_rules_md_show_options(capsys):
    from pathlib import Path

    from gitlint_flux.cli import main

    assert main(["explain", "FLX409"]) == 0
    out = capsys.readouterr().out
    assert "allow-pinned (bool, default True): Remote bases pinned" in out
    md = (Path(__file__).resolve().parent.parent / "docs" / "rules.md").read_text()
    assert "- `allow-pinned` (bool, default `True`): Remote bases pinned" in md


def test_strict_profile_options_are_valid(tmp_path):
    cfg = config_with(tmp_path, "extends: strict\n")
    assert cfg.rules["FLX302"].options == {"require-digest": True}
