import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from media.tests import samples
from media.validation import (
    CheckedFile,
    is_valid_public_id,
    new_public_id,
    sanitized_name,
    sniff_mime,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot"),
        ("Résumé final (2).PDF", "Resume-final-2"),
        ("...", "file"),
        (".bashrc", "bashrc"),
        ("", "file"),
        ("a" * 300 + ".png", "a" * 40),
        ("<b>bold</b>.png", "b"),
        ("lesson #1: intro?.mp4", "lesson-1-intro"),
    ],
)
def test_sanitized_names(name, expected):
    assert sanitized_name(name) == expected


def test_public_ids_are_generated_not_taken_from_the_client():
    checked = CheckedFile(
        SimpleUploadedFile("x", b"x"), "passwd.txt", "text/plain", "txt", 1, stem="passwd"
    )

    first = new_public_id(folder="etrainer", category="documents", owner_id="7", checked=checked)
    second = new_public_id(folder="etrainer", category="documents", owner_id="7", checked=checked)

    assert first != second
    assert first.startswith("etrainer/documents/7/passwd_")
    assert first.endswith(".txt")
    assert is_valid_public_id(first)


@pytest.mark.parametrize(
    ("public_id", "valid"),
    [
        ("etrainer/images/1/photo_abc", True),
        ("etrainer/documents/65f0c0ffee/notes_abc.pdf", True),
        ("../secret", False),
        ("a//b", False),
        ("a/b/", False),
        ("a/.b", False),
        ("a/b.tar.gz", False),
        ("a b", False),
        ("x" * 256, False),
    ],
)
def test_public_id_charset(public_id, valid):
    assert is_valid_public_id(public_id) is valid


@pytest.mark.parametrize(
    ("content", "mime"),
    [
        (samples.text(), "text/plain"),
        ("ünïcödé ✓\r\n\tindented".encode(), "text/plain"),
        (b"nul\x00byte", "unknown"),
        (b"\xc3", "unknown"),  # truncated UTF-8 sequence
        (samples.pdf(), "application/pdf"),
        (samples.plain_zip(), "application/zip"),
    ],
)
def test_sniffing_reads_the_bytes(content, mime):
    assert sniff_mime(SimpleUploadedFile("whatever.txt", content, "text/plain")) == mime


def test_text_split_across_read_chunks_is_still_valid_utf8():
    content = ("é" * 40_000).encode()  # 80 000 bytes: a 2-byte sequence straddles 64 KiB

    assert sniff_mime(SimpleUploadedFile("a.txt", content)) == "text/plain"
