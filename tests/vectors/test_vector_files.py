"""The vector set itself: every file is covered and complete."""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.vectors


def test_every_powerauth_vector_file_has_a_test(
    vectors_path: Path, vector_files: tuple[str, ...], default_vectors: bool
) -> None:
    present = {
        path.relative_to(vectors_path).as_posix()
        for path in (vectors_path / "powerauth").rglob("*.json")
    }
    assert present <= set(vector_files)
    if default_vectors:
        assert present == set(vector_files)


def test_generated_files_declare_their_case_count(
    vectors_path: Path, vector_files: tuple[str, ...]
) -> None:
    checked = 0
    for relpath in vector_files:
        path = vectors_path / relpath
        if "/generated/" not in relpath or not path.is_file():
            continue
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["case_count"] == len(document["cases"]), relpath
        checked += 1
    assert checked > 0
