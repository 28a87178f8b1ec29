"""Reference test vectors: the project's copy in ``data/``, or MOBILE_TOKEN_VECTORS_DIR.

A test asks for the cases of one file with ``@pytest.mark.vector_file(path)``
and a ``case`` argument; ``pytest_generate_tests`` turns every case of that
file into one test with a readable id (file, index, short description). The
expected values always come from the files, so the same tests run against any
vector set of the same formats.
"""

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

VECTORS_ENV = "MOBILE_TOKEN_VECTORS_DIR"
DEFAULT_VECTORS_DIR = Path(__file__).resolve().parent / "data"

#: Every PowerAuth vector file the README lists; each has a test marked with it.
VECTOR_FILES = (
    "powerauth/compute-master-secret-key.json",
    "powerauth/compute-derived-keys.json",
    "powerauth/signatures-v3.json",
    "powerauth/signatures-v31.json",
    "powerauth/signatures-offline.json",
    "powerauth/public-key-fingerprint-v3.json",
    "powerauth/activation-status-blob-iv.json",
    "powerauth/activation-status-blob-data.json",
    "powerauth/verify-activation-data-signature-v3.json",
    "powerauth/e2ee-application-scope-v32.json",
    "powerauth/e2ee-application-scope-v33.json",
    "powerauth/e2ee-activation-scope-v32.json",
    "powerauth/e2ee-activation-scope-v33.json",
    "powerauth/generated/activation_code.json",
    "powerauth/generated/kdf.json",
    "powerauth/generated/hash_counter.json",
    "powerauth/generated/signatures_online.json",
    "powerauth/generated/signatures_offline.json",
    "powerauth/generated/token_digest.json",
    "powerauth/generated/ecies.json",
    "powerauth/generated/activation_status.json",
    "powerauth/generated/ecdsa_server_signed_data.json",
    "powerauth/generated/pbkdf2_knowledge_key.json",
    "powerauth/generated/activation_fingerprint.json",
    "powerauth/generated/vault.json",
    "powerauth/generated/recovery_code.json",
)

# Fields that best describe a case, in order of preference, for test ids.
_DESCRIBING_FIELDS = (
    "kind",
    "version",
    "protocolVersion",
    "scope",
    "encryptor_id",
    "encryptorId",
    "signature_type",
    "signatureType",
    "http_method",
    "component_length",
    "signatureComponentLength",
    "scenario",
    "variant",
    "case_note",
    "reason",
)
_MAX_ID_PARTS = 4
_MAX_ID_PART_LENGTH = 40


def vectors_dir() -> Path:
    """The vector directory: the environment variable, else the project's copy."""
    configured = os.environ.get(VECTORS_ENV)
    return Path(configured) if configured else DEFAULT_VECTORS_DIR


def using_default_dir() -> bool:
    """True when the tests run against the project's own copy of the vectors."""
    return vectors_dir().resolve() == DEFAULT_VECTORS_DIR.resolve()


def load_document(relpath: str) -> dict[str, Any] | None:
    """The parsed JSON file, or None when the vector set does not have it."""
    path = vectors_dir() / relpath
    if not path.is_file():
        return None
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def cases_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Cases in either format: generated ``cases``, reference ``data``, or e2ee lists."""
    for key in ("cases", "data"):
        if isinstance(document.get(key), list):
            return list(document[key])
    lists = [value for value in document.values() if isinstance(value, list)]
    if len(lists) != 1:
        raise ValueError("cannot find the list of cases in the vector file")
    return list(lists[0])


def _describe(case: dict[str, Any]) -> str:
    flat = dict(case.get("input", {})) | dict(case) if isinstance(case.get("input"), dict) else case
    parts = []
    for field in _DESCRIBING_FIELDS:
        value = flat.get(field)
        if value is not None and value != "" and str(value) not in parts:
            parts.append(str(value))
        if len(parts) == _MAX_ID_PARTS:
            break
    text = "-".join(part[:_MAX_ID_PART_LENGTH] for part in parts)
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", text).strip("_")


def vector_params(relpath: str) -> list[Any]:
    """One ``pytest.param`` per case of ``relpath``, ids ``<file>[<i>]-<description>``."""
    stem = Path(relpath).stem
    document = load_document(relpath)
    if document is None:
        if using_default_dir():
            missing = pytest.param(None, id=f"{stem}-MISSING-from-default-vectors")
            return [missing]
        absent = pytest.param(
            None,
            id=f"{stem}-absent",
            marks=pytest.mark.skip(reason=f"{relpath} is not in this vector set"),
        )
        return [absent]
    params = []
    for index, case in enumerate(cases_of(document)):
        description = _describe(case)
        case_id = f"{stem}[{index}]" + (f"-{description}" if description else "")
        params.append(pytest.param(case, id=case_id))
    return params


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker that names a test's vector file."""
    config.addinivalue_line("markers", "vector_file(path): parametrise `case` from a vector file")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``case`` from the file named by the test's ``vector_file`` marker."""
    marker = metafunc.definition.get_closest_marker("vector_file")
    if marker is None or "case" not in metafunc.fixturenames:
        return
    relpath = marker.args[0]
    if relpath.startswith("powerauth/") and relpath not in VECTOR_FILES:
        raise ValueError(f"{relpath} is not in VECTOR_FILES")
    metafunc.parametrize("case", vector_params(relpath))


@pytest.fixture(autouse=True)
def _fail_on_missing_vector_file(request: pytest.FixtureRequest) -> None:
    """Fail (not skip) when a file is missing from the default vector set."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and "case" in callspec.params and callspec.params["case"] is None:
        pytest.fail("this vector file must be present in the default vector directory")


@pytest.fixture(name="vectors_path")
def fixture_vectors_path() -> Path:
    """The vector directory in use."""
    return vectors_dir()


@pytest.fixture(name="vector_files")
def fixture_vector_files() -> tuple[str, ...]:
    """The vector files the suite covers."""
    return VECTOR_FILES


@pytest.fixture(name="default_vectors")
def fixture_default_vectors() -> bool:
    """Whether the run uses the project's own copy of the vectors."""
    return using_default_dir()
