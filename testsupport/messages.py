"""The message catalogs (``python -m testsupport.messages``): extract, check, compile.

``make messages`` extracts, ``make check-messages`` checks (CI), the Makefile compiles.
``extract`` runs Django's ``makemessages`` for every language of the catalogs (GNU gettext's
xgettext is needed for it, as for Django). ``check`` does the same on the committed catalog, then
puts the committed file back whatever happened, and fails when a msgid has no translation, is
fuzzy, or when the extraction added or removed msgids (the committed catalog is stale: run
``make messages`` and translate). ``compile`` writes the ``.mo`` files with Babel (no GNU gettext
needed), only where a ``.po`` is newer: the Makefile, the Dockerfile and the test plugin use it.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import django
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "locale"
IGNORED = [".venv*", "var/*", "bench/*", "testsupport/*", "deploy/*", "*/tests/*", "staticfiles/*"]


def catalogs() -> list[Path]:
    return sorted(LOCALE_DIR.glob("*/LC_MESSAGES/django.po"))


SOURCE_LANGUAGE = "en"  # the msgids are English: no catalog


def languages() -> list[str]:
    """Every language of ``settings.LANGUAGES`` but the source one (a new one gets its catalog)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "etrainer.settings.local")
    django.setup()
    return [code for code, _ in settings.LANGUAGES if code != SOURCE_LANGUAGE]


def extract(python: str) -> None:
    if shutil.which("xgettext") is None:
        sys.exit("makemessages needs GNU gettext's xgettext: apt-get install gettext")
    args = [python, "manage.py", "makemessages", "--no-location", "--no-obsolete"]
    for language in languages():
        args += ["-l", language]
    for pattern in IGNORED:
        args += ["--ignore", pattern]
    subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def msgids(po: Path) -> set:
    with po.open("rb") as handle:
        return {(message.context, message.id) for message in read_po(handle) if message.id}


def problems(po: Path) -> list[str]:
    """Every msgid of the catalog without a complete, non-fuzzy translation."""
    with po.open("rb") as handle:
        catalog = read_po(handle)
    found = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            found.append(f"fuzzy: {message.id!r}")
        elif not all(strings):
            found.append(f"untranslated: {message.id!r}")
    return found


def check(python: str) -> int:
    committed = {po: po.read_bytes() for po in catalogs()}
    before = {po: msgids(po) for po in committed}
    try:
        extract(python)
        report = []
        for po in committed:
            name = po.relative_to(ROOT)
            after = msgids(po)
            report += [f"{name}: not in the catalog yet: {i!r}" for _, i in after - before[po]]
            report += [f"{name}: no longer in the code: {i!r}" for _, i in before[po] - after]
            report += [f"{name}: {problem}" for problem in problems(po)]
    finally:
        for po, content in committed.items():
            po.write_bytes(content)
    for line in report:
        print(line)
    if report:
        print(f"check-messages: {len(report)} problem(s); run `make messages`, translate, re-run.")
        return 1
    print(f"check-messages: {', '.join(languages())}: complete and current.")
    return 0


def compile_catalogs() -> None:
    for po in catalogs():
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parent.parent.name)
        partial = mo.with_name(f"{mo.name}.{os.getpid()}")  # xdist workers may compile at once
        with partial.open("wb") as handle:
            write_mo(handle, catalog)
        os.replace(partial, mo)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["extract", "check", "compile"])
    parser.add_argument("--python", default=sys.executable)
    options = parser.parse_args()
    if options.action == "extract":
        extract(options.python)
    elif options.action == "compile":
        compile_catalogs()
    else:
        return check(options.python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
