"""The package against the C library it wraps: the same declarations, every C constant and
field accounted for, the library found as the README says, the README's example working, and
every public item documented."""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sluicegate
from sluicegate import _breaker_config, _limiter, _registry
from sluicegate._native import LIBRARY_ENV, ffi

PACKAGE = Path(sluicegate.__file__).parent
BINDING = PACKAGE.parents[1]
REPOSITORY = BINDING.parents[1]


def c_fields(c_type: str) -> list[str]:
    return [name for name, _ in ffi.typeof(c_type).fields]


def test_the_packaged_declarations_are_the_repositorys():
    packaged = (PACKAGE / "sluicegate.cdef.h").read_bytes()
    assert packaged == (REPOSITORY / "include" / "sluicegate.cdef.h").read_bytes(), (
        "copy include/sluicegate.cdef.h to bindings/python/src/sluicegate/"
    )


@pytest.mark.parametrize(
    ("c_enum", "prefix", "python_enum", "not_mapped"),
    [
        ("enum sg_result", "SG_", sluicegate.Result, set()),
        ("enum sg_state", "SG_STATE_", sluicegate.State, set()),
        ("enum sg_cause", "SG_CAUSE_", sluicegate.Cause, set()),
        # "not rejected" is a Permit, not a reason
        ("enum sg_reject_reason", "SG_REJECT_", sluicegate.RejectReason, {"NONE"}),
        ("enum sg_outcome", "SG_OUTCOME_", sluicegate.Outcome, set()),
        ("enum sg_time_base", "SG_TIME_BASE_", sluicegate.TimeBase, set()),
        ("enum sg_full_policy", "SG_FULL_", sluicegate.FullPolicy, set()),
    ],
)
def test_every_c_constant_has_its_member(c_enum, prefix, python_enum, not_mapped):
    c_members = {
        name.removeprefix(prefix): value for name, value in ffi.typeof(c_enum).relements.items()
    }
    python_members = {member.name: member.value for member in python_enum}
    assert python_members == {k: v for k, v in c_members.items() if k not in not_mapped}


@pytest.mark.parametrize(
    ("c_type", "settings", "set_otherwise"),
    [
        ("sg_breaker_config", _breaker_config.SETTINGS, set()),
        (
            "sg_limiter_config",
            _limiter._SETTINGS,
            {"time_base", "windows", "windows_len", "on_full"},
        ),
        ("sg_window", _limiter._WINDOW_SETTINGS, set()),
        ("sg_breakers_config", _registry._SETTINGS, {"breaker", "overrides", "overrides_len"}),
    ],
)
def test_every_configuration_field_is_set_from_python(c_type, settings, set_otherwise):
    filled = [s.c_field for s in settings]
    assert len(filled) == len(set(filled))
    assert set(filled) | set_otherwise == set(c_fields(c_type)) - {"struct_size"}


def test_breaker_config_has_a_setting_for_each_field():
    names = [f.name for f in dataclasses.fields(sluicegate.BreakerConfig)]
    assert names == [s.name for s in _breaker_config.SETTINGS]


@pytest.mark.parametrize(
    ("python_type", "c_type"),
    [
        (sluicegate.LimiterStats, "sg_limiter_stats"),
        (sluicegate.BreakerCounters, "sg_breaker_counters"),
        (sluicegate.RegistryStats, "sg_breakers_stats"),
    ],
)
def test_every_report_field_is_read(python_type, c_type):
    assert [f.name for f in dataclasses.fields(python_type)] == c_fields(c_type)


def test_decisions_and_transitions_carry_every_c_field():
    as_python = {"from": "from_state", "to": "to_state", "at_us": "at"}
    assert sorted(as_python.get(f, f) for f in c_fields("sg_transition")) == sorted(
        f.name for f in dataclasses.fields(sluicegate.Transition)
    )
    assert sorted(f.removesuffix("_us") for f in c_fields("sg_decision")) == sorted(
        sluicegate.Decision._fields
    )


def test_the_package_is_versioned_with_the_library():
    cargo = (REPOSITORY / "Cargo.toml").read_text()
    version = re.search(r'^version = "([^"]+)"', cargo, re.MULTILINE).group(1)
    assert sluicegate.library_version() == version == sluicegate.__version__


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(PACKAGE.parent), "PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_library_is_found_by_its_name_on_the_loader_path():
    library = Path(os.environ[LIBRARY_ENV])
    loaded = run_python(
        "import sluicegate; print(sluicegate.library_version())",
        {"LD_LIBRARY_PATH": str(library.parent)},
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == sluicegate.library_version()


def test_a_missing_library_fails_the_import_and_says_what_to_do():
    failed = run_python("import sluicegate", {LIBRARY_ENV: "/nonexistent/libsluicegate.so"})
    assert failed.returncode != 0
    assert "ImportError: sluicegate could not load the C library" in failed.stderr
    assert f"set {LIBRARY_ENV}" in failed.stderr


def test_the_readme_example_runs_and_prints_what_the_readme_says():
    readme = (BINDING / "README.md").read_text()
    example = re.search(r"```python\n(.*?)```", readme, re.DOTALL).group(1)
    shown = re.search(r"```text\n(.*?)```", readme, re.DOTALL).group(1)
    ran = run_python(example, {LIBRARY_ENV: os.environ[LIBRARY_ENV]})
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == shown


def public_items():
    """Every public class and function, and their public methods and properties. (The type
    aliases, such as ``Admission``, are documented where they are defined.)"""
    for name in sluicegate.__all__:
        item = getattr(sluicegate, name)
        if not (inspect.isclass(item) or inspect.isroutine(item)):
            continue
        yield name, item
        if inspect.isclass(item):
            for attr, member in vars(item).items():
                if not attr.startswith("_") and (callable(member) or isinstance(member, property)):
                    yield f"{name}.{attr}", member


def test_every_public_item_is_documented():
    undocumented = [name for name, item in public_items() if not inspect.getdoc(item)]
    assert not undocumented
