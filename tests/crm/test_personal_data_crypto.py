"""Encryption of personal data, blind indexes and the key file."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.core.crypto import KeyRing, PersonalDataCipher
from crm.core.errors import CiphertextInvalid, KeyFileExists, KeyFileInvalid, KeyFileMissing
from crm.core.phones import normalise_phone

WHERE = {"table": "client_phones", "column": "number_ciphertext", "row_id": "a" * 32}

# One keyring for the property test: hypothesis calls the test many times and
# function-scoped fixtures would not be reset between those calls anyway.
PROPERTY_CIPHER = PersonalDataCipher(KeyRing.generate())


def test_round_trip(cipher: PersonalDataCipher) -> None:
    ciphertext = cipher.encrypt("+79211234567", **WHERE)
    assert b"9211234567" not in ciphertext
    assert cipher.decrypt(ciphertext, **WHERE) == "+79211234567"


@settings(database=None, max_examples=200)
@given(plaintext=st.text(), row_id=st.text(min_size=1, max_size=40))
def test_round_trip_of_any_text(plaintext: str, row_id: str) -> None:
    where = {"table": "clients", "column": "note", "row_id": row_id}
    assert (
        PROPERTY_CIPHER.decrypt(PROPERTY_CIPHER.encrypt(plaintext, **where), **where) == plaintext
    )


def test_same_plaintext_encrypts_differently_each_time(cipher: PersonalDataCipher) -> None:
    # A fresh nonce each time: equal numbers must not be spotted by equal ciphertexts.
    assert cipher.encrypt("+79211234567", **WHERE) != cipher.encrypt("+79211234567", **WHERE)


def test_layout_is_version_nonce_then_sealed_text(cipher: PersonalDataCipher) -> None:
    ciphertext = cipher.encrypt("+79211234567", **WHERE)
    assert ciphertext[0] == 1
    assert len(ciphertext) == 1 + 12 + len("+79211234567") + 16


@pytest.mark.parametrize(
    "moved_to",
    [
        {"row_id": "b" * 32},
        {"column": "label"},
        {"table": "employees"},
        # Without unambiguous encoding of the parts these two would alias each other.
        {"table": "client_phones|number_ciphertext", "column": ""},
    ],
)
def test_ciphertext_moved_elsewhere_does_not_decrypt(
    cipher: PersonalDataCipher, moved_to: dict[str, str]
) -> None:
    ciphertext = cipher.encrypt("+79211234567", **WHERE)
    with pytest.raises(CiphertextInvalid) as caught:
        cipher.decrypt(ciphertext, **{**WHERE, **moved_to})
    assert "9211234567" not in str(caught.value)


def test_any_altered_byte_is_detected(cipher: PersonalDataCipher) -> None:
    ciphertext = cipher.encrypt("+79211234567", **WHERE)
    for position in range(len(ciphertext)):
        tampered = bytearray(ciphertext)
        tampered[position] ^= 0x01
        with pytest.raises(CiphertextInvalid):
            cipher.decrypt(bytes(tampered), **WHERE)


def test_truncated_ciphertext_is_detected(cipher: PersonalDataCipher) -> None:
    ciphertext = cipher.encrypt("+79211234567", **WHERE)
    for length in (0, 1, 13, 28, len(ciphertext) - 1):
        with pytest.raises(CiphertextInvalid):
            cipher.decrypt(ciphertext[:length], **WHERE)


def test_another_key_cannot_decrypt(cipher: PersonalDataCipher) -> None:
    ciphertext = cipher.encrypt("+79211234567", **WHERE)
    with pytest.raises(CiphertextInvalid):
        PersonalDataCipher(KeyRing.generate()).decrypt(ciphertext, **WHERE)


def test_blind_index_is_one_per_number_whatever_its_format(cipher: PersonalDataCipher) -> None:
    formats = ["8 921 123-45-67", "+7 (921) 123-45-67", "9211234567", "89211234567"]
    indexes = {cipher.blind_index(normalise_phone(raw)) for raw in formats}
    assert len(indexes) == 1
    (index,) = indexes
    assert len(index) == 64
    assert int(index, 16) >= 0  # hex
    assert cipher.blind_index("+79211234568") != index
    assert cipher.blind_index("+79211234567") == index


def test_blind_index_depends_on_the_index_key(cipher: PersonalDataCipher) -> None:
    other = PersonalDataCipher(KeyRing.generate())
    assert other.blind_index("+79211234567") != cipher.blind_index("+79211234567")


@pytest.mark.parametrize("not_e164", ["89211234567", "+7 921 123-45-67", "", "+0123"])
def test_blind_index_refuses_numbers_not_normalised(
    cipher: PersonalDataCipher, not_e164: str
) -> None:
    with pytest.raises(ValueError) as caught:
        cipher.blind_index(not_e164)
    if not_e164:
        assert not_e164 not in str(caught.value)


def test_key_file_is_private_and_loads_back(tmp_path: Path) -> None:
    key_file = tmp_path / "new" / "secret" / "lexcrm.keys"
    created = KeyRing.create_file(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    loaded = KeyRing.load(key_file)
    assert loaded == created
    assert loaded.data_key != loaded.index_key
    content = json.loads(key_file.read_text())
    assert content["version"] == 1
    assert base64.b64decode(content["data_key"]) == created.data_key


def test_keys_do_not_show_in_repr(keyring: KeyRing) -> None:
    text = repr(keyring)
    assert keyring.data_key.hex() not in text
    assert repr(keyring.data_key) not in text
    assert repr(keyring.index_key) not in text


def test_existing_key_file_is_never_overwritten(key_file: Path) -> None:
    KeyRing.create_file(key_file)
    before = key_file.read_bytes()
    with pytest.raises(KeyFileExists):
        KeyRing.create_file(key_file)
    assert key_file.read_bytes() == before


def test_missing_key_file_says_where_and_how_to_create_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "lexcrm.keys"
    with pytest.raises(KeyFileMissing) as caught:
        KeyRing.load(missing)
    assert str(missing) in str(caught.value)
    assert "lexcrm init" in str(caught.value)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_key_file_readable_by_others_is_refused(key_file: Path, mode: int) -> None:
    KeyRing.create_file(key_file)
    key_file.chmod(mode)
    with pytest.raises(KeyFileInvalid) as caught:
        KeyRing.load(key_file)
    assert f"chmod 600 {key_file}" in str(caught.value)


def _valid_key_text() -> str:
    return base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "content",
    [
        "not json at all",
        "",
        "[]",
        json.dumps({"version": 1, "data_key": _valid_key_text()}),
        json.dumps({"version": 2, "data_key": _valid_key_text(), "index_key": _valid_key_text()}),
        json.dumps(
            {
                "version": 1,
                "data_key": _valid_key_text(),
                "index_key": base64.b64encode(bytes(16)).decode(),
            }
        ),
        json.dumps({"version": 1, "data_key": "***not base64***", "index_key": _valid_key_text()}),
        json.dumps({"version": 1, "data_key": 12345, "index_key": _valid_key_text()}),
    ],
)
def test_broken_key_file_is_refused(key_file: Path, content: str) -> None:
    key_file.parent.mkdir(mode=0o700)
    key_file.write_text(content)
    key_file.chmod(0o600)
    with pytest.raises(KeyFileInvalid) as caught:
        KeyRing.load(key_file)
    assert str(key_file) in str(caught.value)
    assert caught.value.__cause__ is None


def test_valid_hand_written_key_file_loads(key_file: Path) -> None:
    key_file.parent.mkdir(mode=0o700)
    key_file.write_text(
        json.dumps({"version": 1, "data_key": _valid_key_text(), "index_key": _valid_key_text()})
    )
    key_file.chmod(0o600)
    assert KeyRing.load(key_file) == KeyRing(data_key=bytes(32), index_key=bytes(32))
