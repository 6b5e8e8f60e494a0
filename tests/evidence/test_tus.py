"""tus header parsing with plain values."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence import tus
from evidence.errors import (
    ChecksumHeaderInvalid,
    TusVersionUnsupported,
    UploadLengthInvalid,
    UploadMetadataInvalid,
    UploadOffsetInvalid,
)

pytestmark = pytest.mark.embedded

keys = st.text(
    alphabet=st.characters(blacklist_categories=("Z", "C"), blacklist_characters=","), min_size=1, max_size=20
)


@given(st.dictionaries(keys, st.text(max_size=200), max_size=8))
def test_metadata_round_trips(values):
    assert tus.parse_metadata(tus.encode_metadata(values)) == values


@given(st.text(max_size=300))
def test_any_metadata_header_parses_or_is_a_coded_error(header):
    with contextlib.suppress(UploadMetadataInvalid):  # anything else escaping would be a 500
        tus.parse_metadata(header)


@pytest.mark.parametrize("header", ["a b c", "a !!!", "k dGVzdA==,k dGVzdA==", "a \xff"])
def test_malformed_metadata_is_refused(header):
    with pytest.raises(UploadMetadataInvalid):
        tus.parse_metadata(header)


def test_upload_metadata_requires_the_evidence_fields():
    good = {"evidence_id": str(uuid.uuid4()), "sha256": "a" * 64, "kind": "photo", "filetype": "image/jpeg"}
    meta = tus.read_upload_metadata(good)
    assert meta.content_type == "image/jpeg"
    for broken in ({**good, "evidence_id": "x"}, {**good, "sha256": "abc"}, {**good, "kind": "agreement_document"}):
        with pytest.raises(UploadMetadataInvalid):
            tus.read_upload_metadata(broken)


@pytest.mark.parametrize("value", [None, "", "-1", "1.5", "abc", "1" * 20, " 12 x"])
def test_lengths_and_offsets_must_be_plain_integers(value):
    with pytest.raises(UploadLengthInvalid):
        tus.parse_length(value, None)
    with pytest.raises(UploadOffsetInvalid):
        tus.parse_offset(value)


def test_deferred_length_is_not_supported_and_versions_are_checked():
    with pytest.raises(UploadLengthInvalid):
        tus.parse_length(None, "1")
    with pytest.raises(TusVersionUnsupported):
        tus.require_version("0.2.2")
    tus.require_version("1.0.0")


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
def test_checksum_header_parses(algorithm):
    digest = hashlib.new(algorithm, b"chunk").digest()
    parsed = tus.parse_checksum(f"{algorithm} {base64.b64encode(digest).decode()}")
    assert parsed is not None
    assert parsed.digest == digest
    assert tus.parse_checksum(None) is None


@given(st.text(max_size=120))
def test_any_checksum_header_parses_or_is_a_coded_error(header):
    with contextlib.suppress(ChecksumHeaderInvalid):
        tus.parse_checksum(header)


@pytest.mark.parametrize("header", ["md5 AAAA", "sha1 !!!", "sha256 " + base64.b64encode(b"short").decode(), "sha1"])
def test_bad_checksum_headers_are_coded(header):
    with pytest.raises(ChecksumHeaderInvalid):
        tus.parse_checksum(header)
