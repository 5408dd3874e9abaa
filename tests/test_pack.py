"""Content packs: build checks, reproducibility, and every refusal of verify/install."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import stat
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from kit.cli import main
from kit.content.course import load_course
from kit.content.install import install_pack, list_packs, remove_pack, verify_pack
from kit.content.pack import build_pack, pack_bytes
from kit.core.errors import ContentError, PackError
from kit.core.eventlog import append
from kit.core.events import LessonRead
from kit.core.keys import SigningKey, trust

from conftest import MINI, snapshot


def test_the_same_source_builds_the_same_bytes(inst, tmp_path):
    first = build_pack(MINI, tmp_path / "a", inst.key()).read_bytes()
    second = build_pack(MINI, tmp_path / "b", inst.key()).read_bytes()
    assert first == second


def test_lessons_are_rendered_and_sanitized_at_build(inst):
    course = load_course(MINI)
    html = course.lessons[("phone", "fr")].html
    assert "<script" not in html and "javascript:" not in html and "alert" not in html
    assert "<table>" in course.lessons[("passwords", "en")].html


def test_quiz_text_is_rendered_to_html_but_short_answers_stay_as_written(built, inst):
    pack = verify_pack(inst.db, built)
    quiz = pack.quizzes[("passwords", "fr")]
    short = next(q for q in quiz["questions"] if q["type"] == "short")
    assert short["answers"][0]["text"] == "élève"
    assert all(q["format"] == "html" for q in quiz["questions"])


def broken_course(tmp_path: Path) -> Path:
    course = tmp_path / "broken"
    shutil.copytree(MINI, course)
    (course / "02-phone.ar.md").unlink()                                     # missing translation
    (course / "01-passwords.en.md").write_text(                              # broken image link
        "---\ntitle: P\n---\nSee ![x](media/missing.png)\n", encoding="utf-8")
    quiz = course / "01-passwords.fr.quiz.yml"                               # no correct answer
    quiz.write_text(quiz.read_text(encoding="utf-8").replace("{text: B, correct: true, feedback: \"Yes\"}",
                                                             "{text: B, feedback: \"Yes\"}"), encoding="utf-8")
    (course / "03-passwords.fr.md").write_text("---\ntitle: again\n---\nx\n", encoding="utf-8")  # duplicate id
    return course


def test_build_reports_every_problem_with_file_and_line(inst, tmp_path):
    with pytest.raises(ContentError) as caught:
        build_pack(broken_course(tmp_path), tmp_path / "out", inst.key())
    messages = [str(p) for p in caught.value.problems]
    text = "\n".join(messages)
    assert "'phone' has no ar translation" in text
    assert "01-passwords.en.md:4: broken link: media/missing.png" in text
    assert "01-passwords.fr.quiz.yml:" in text and "correct" in text
    assert "duplicate lesson id 'passwords'" in text
    assert not (tmp_path / "out").exists()


def test_install_then_reinstall_changes_nothing(data, inst, built):
    first = install_pack(data, inst.db, built)
    before = snapshot(data)
    again = install_pack(data, inst.db, built)
    assert (first.action, again.action) == ("installed", "unchanged")
    assert snapshot(data) == before
    assert [p["id"] for p in list_packs(inst.db)] == ["mini"]
    assert inst.db.execute("SELECT COUNT(*) FROM lessons").fetchone()[0] == 6


def test_media_links_point_at_content_hashed_files(data, inst, built):
    install_pack(data, inst.db, built)
    html = inst.db.execute("SELECT html FROM lessons WHERE lesson_id='passwords' AND lang='fr'").fetchone()[0]
    digest = hashlib.sha256((MINI / "media/dot.svg").read_bytes()).hexdigest()
    assert f'src="/media/mini/{digest}.svg"' in html
    assert (data.media_dir / "mini" / f"{digest}.svg").read_bytes() == (MINI / "media/dot.svg").read_bytes()


def version_of(tmp_path: Path, version: str, drop_lesson: "str | None" = None) -> Path:
    src = tmp_path / f"src-{version}"
    shutil.copytree(MINI, src)
    meta = src / "course.yml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("1.0.0", version), encoding="utf-8")
    if drop_lesson:
        for f in src.glob(f"*-{drop_lesson}.*"):
            f.unlink()
    return src


def test_upgrade_keeps_progress_on_lessons_that_still_exist(data, inst, tmp_path):
    install_pack(data, inst.db, build_pack(MINI, tmp_path / "v1", inst.key()))
    append(inst.db, LessonRead("mini", "passwords", "fr"), learner_id="L1")
    result = install_pack(data, inst.db, build_pack(version_of(tmp_path, "1.1.0", "phone"), tmp_path / "v2", inst.key()))
    assert (result.action, result.previous) == ("upgraded", "1.0.0")
    lessons = {r[0] for r in inst.db.execute("SELECT DISTINCT lesson_id FROM lessons")}
    assert lessons == {"passwords"}
    assert inst.db["events"].count == 1


def test_an_older_version_is_refused(data, inst, tmp_path):
    install_pack(data, inst.db, build_pack(version_of(tmp_path, "2.0.0"), tmp_path / "v2", inst.key()))
    with pytest.raises(PackError, match="not newer"):
        install_pack(data, inst.db, build_pack(MINI, tmp_path / "v1", inst.key()))


def test_skip_older_passes_over_an_older_version(data, inst, tmp_path):
    install_pack(data, inst.db, build_pack(version_of(tmp_path, "2.0.0"), tmp_path / "v2", inst.key()))
    result = install_pack(data, inst.db, build_pack(MINI, tmp_path / "v1", inst.key()), skip_older=True)
    assert (result.action, result.previous) == ("skipped", "2.0.0")
    assert list_packs(inst.db)[0]["version"] == "2.0.0"


def test_remove_keeps_events_and_deletes_media(data, inst, built):
    install_pack(data, inst.db, built)
    append(inst.db, LessonRead("mini", "passwords", "fr"), learner_id="L1")
    remove_pack(data, inst.db, "mini")
    assert list_packs(inst.db) == [] and inst.db["lessons"].count == 0
    assert inst.db["events"].count == 1
    assert not (data.media_dir / "mini").exists()
    with pytest.raises(PackError, match="no pack"):
        remove_pack(data, inst.db, "mini")


# --- refusals: each gives a clear error and leaves the data dir exactly as before -----------

def forge(key: SigningKey, members: dict[str, bytes], *, manifest_members: "dict | None" = None,
          extra: "list[tuple[zipfile.ZipInfo, bytes]]" = (), manifest_patch: "dict | None" = None) -> bytes:
    """A zip laid out like a pack, signed by `key`, with whatever oddity a test needs."""
    listed = manifest_members if manifest_members is not None else members
    manifest = {"format": 1, "kind": "kit-pack", "id": "mini", "version": "1.0.0", "languages": ["fr"],
                "title": {"fr": "x"}, "publisher": key.key_id,
                "members": [{"path": p, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                            for p, b in sorted(listed.items())]}
    manifest.update(manifest_patch or {})
    raw = json.dumps(manifest).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", raw)
        z.writestr("manifest.sig", key.sign(raw))
        for path, data in members.items():
            z.writestr(path, data)
        for info, data in extra:
            z.writestr(info, data)
    return buf.getvalue()


COURSE_JSON = json.dumps({"id": "mini", "version": "1.0.0", "languages": ["fr"], "title": {"fr": "x"}}).encode()
EVIL_ID_JSON = json.dumps({"id": "../../victim", "version": "1.0.0", "languages": ["fr"], "title": {"fr": "x"}}).encode()


def link_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def rewritten(pack: bytes, member: str, change) -> bytes:
    """The same zip with one member's bytes changed (and the old signature kept)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(pack)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, change(data) if info.filename == member else data)
    return out.getvalue()


def flipped(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1:]


REFUSALS = {
    "zip-slip member": (lambda k, b: forge(k, {"course.json": COURSE_JSON, "../evil.txt": b"x"}), "unsafe member name"),
    "absolute path": (lambda k, b: forge(k, {"course.json": COURSE_JSON, "/etc/evil": b"x"}), "unsafe member name"),
    "symlink": (lambda k, b: forge(k, {"course.json": COURSE_JSON}, extra=[(link_info("media/l.png"), b"/etc/passwd")]),
                "link or special file"),
    "member not in manifest": (lambda k, b: forge(k, {"course.json": COURSE_JSON, "media/x.png": b"x"},
                                                  manifest_members={"course.json": COURSE_JSON}), "not in the manifest"),
    "missing member": (lambda k, b: forge(k, {"course.json": COURSE_JSON},
                                          manifest_members={"course.json": COURSE_JSON, "media/y.png": b"y"}), "missing"),
    "zip bomb": (lambda k, b: forge(k, {"course.json": COURSE_JSON, "media/bomb.png": bytes(30 * 2**20)}),
                 "over-compressed"),
    "unknown format": (lambda k, b: forge(k, {"course.json": COURSE_JSON}, manifest_patch={"format": 99}),
                       "update the kit"),
    "untrusted signer": (lambda k, b: pack_bytes(load_course(MINI), SigningKey.generate("stranger")), "not trusted"),
    "truncated file": (lambda k, b: b[: len(b) // 2], "not a zip file, or truncated"),
    "pack id that is a path": (lambda k, b: forge(k, {"course.json": EVIL_ID_JSON}, manifest_patch={"id": "../../victim"}),
                               "pack id '../../victim' is not lowercase"),
    "script in an SVG": (lambda k, b: forge(k, {"course.json": COURSE_JSON,
                                                "media/x.svg": b'<svg onload="alert(1)"></svg>'}), "SVG with scripts"),
    "empty file": (lambda k, b: b"", "not a zip file"),
    "tampered manifest": (lambda k, b: rewritten(b, "manifest.json", lambda m: m.replace(b"1.0.0", b"9.0.0")),
                          "signature does not match"),
    "tampered lesson": (lambda k, b: rewritten(b, "lessons/phone.fr.json", lambda m: m.replace(b"cran", b"crab")),
                        "does not match its hash"),
}


def test_duplicate_member_names_are_refused(data, inst, tmp_path):
    import warnings
    key = inst.key()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate we write on purpose
        bad = forge(key, {"course.json": COURSE_JSON}, extra=[(zipfile.ZipInfo("course.json"), COURSE_JSON)])
    path = tmp_path / "dup.kitpack"
    path.write_bytes(bad)
    before = snapshot(data)
    with pytest.raises(PackError, match="appears twice"):
        install_pack(data, inst.db, path)
    assert snapshot(data) == before


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_bad_pack_is_refused_and_changes_nothing(case, data, inst, built, tmp_path):
    make, reason = REFUSALS[case]
    path = tmp_path / f"{case.replace(' ', '-')}.kitpack"
    path.write_bytes(make(inst.key(), built.read_bytes()))
    before = snapshot(data)
    with pytest.raises(PackError, match=reason) as caught:
        install_pack(data, inst.db, path)
    assert "\n" not in str(caught.value) and path.name in str(caught.value)
    assert snapshot(data) == before


def test_a_byte_flipped_anywhere_is_refused(data, inst, built, tmp_path):
    good = built.read_bytes()
    refused = 0
    for offset in range(0, len(good), max(1, len(good) // 97)):
        path = tmp_path / "flipped.kitpack"
        path.write_bytes(flipped(good, offset))
        before = snapshot(data)
        try:
            install_pack(data, inst.db, path)
        except PackError:
            refused += 1
            assert snapshot(data) == before, offset
            continue
        # A flip in zip padding or an unused header field may leave the pack intact; then the
        # install must be exactly the genuine pack's.
        assert verify_pack(inst.db, path).manifest_sha256 == verify_pack(inst.db, built).manifest_sha256
        remove_pack(data, inst.db, "mini")
    assert refused > 80


def test_allow_unsigned_accepts_an_unknown_signer_but_never_a_forged_trusted_one(data, inst, tmp_path):
    stranger = SigningKey.generate("author")
    path = tmp_path / "mini.kitpack"
    path.write_bytes(pack_bytes(load_course(MINI), stranger))
    assert install_pack(data, inst.db, path, allow_unsigned=True).signed_by is None
    trust(inst.db, stranger.public)
    tampered = tmp_path / "tampered.kitpack"
    tampered.write_bytes(rewritten(path.read_bytes(), "manifest.json", lambda m: m.replace(b"1.0.0", b"1.0.1")))
    with pytest.raises(PackError, match="signature does not match"):
        install_pack(data, inst.db, tampered, allow_unsigned=True)


def test_a_publisher_key_the_admin_trusts_is_accepted(data, inst, tmp_path):
    publisher = SigningKey.generate("ministry")
    path = tmp_path / "mini.kitpack"
    path.write_bytes(pack_bytes(load_course(MINI), publisher))
    with pytest.raises(PackError, match="not trusted"):
        install_pack(data, inst.db, path)
    trust(inst.db, publisher.public, "publisher")
    assert install_pack(data, inst.db, path).signed_by == publisher.key_id


def test_html_in_a_signed_pack_is_sanitized_again_at_install(data, inst, tmp_path):
    """A publisher's key may sign a pack made by another tool: its HTML is not trusted as is."""
    lesson = json.dumps({"id": "evil", "lang": "fr", "order": 1, "title": "x", "html":
                         '<meta http-equiv="refresh" content="0;url=http://evil.example">'
                         '<p onclick="steal()">Bonjour<script>alert(1)</script></p>'}).encode()
    quiz = json.dumps({"questions": [{"id": "q", "type": "essay", "format": "html",
                                      "text": '<img src=x onerror="alert(1)">Écrivez'}]}).encode()
    path = tmp_path / "evil.kitpack"
    path.write_bytes(forge(inst.key(), {"course.json": COURSE_JSON, "lessons/evil.fr.json": lesson,
                                        "quizzes/evil.fr.json": quiz}))
    install_pack(data, inst.db, path)
    html = inst.db.execute("SELECT html FROM lessons").fetchone()[0]
    stored_quiz = inst.db.execute("SELECT quiz FROM quizzes").fetchone()[0]
    assert "Bonjour" in html and "Écrivez" in stored_quiz
    for bad in ("<meta", "onclick", "<script", "onerror"):
        assert bad not in html and bad not in stored_quiz


def test_two_installs_at_once_end_with_the_newest_and_all_its_media(data, tmp_path):
    """Installs take a lock: the version check and media clean-up of one never interleave
    with another's (kit pack install beside a USB visit)."""
    import threading
    from kit.core.instance import open_instance
    key = open_instance(data).key()
    packs = [build_pack(version_of(tmp_path, v), tmp_path / f"p{v}", key) for v in ("1.0.1", "1.0.2", "1.0.3")]
    errors = []

    def install(path):
        inst = open_instance(data)
        try:
            install_pack(data, inst.db, path, skip_older=True)
        except PackError as e:
            errors.append(e)
        finally:
            inst.close()
    threads = [threading.Thread(target=install, args=(p,)) for p in packs * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    inst = open_instance(data)
    assert errors == [] and list_packs(inst.db)[0]["version"] == "1.0.3"
    for sha, path in inst.db.execute("SELECT sha256, path FROM media"):
        assert (data.media_dir / "mini" / (sha + Path(path).suffix)).exists()


def test_a_quiz_must_ask_the_same_questions_with_the_same_rule_in_every_language(inst, tmp_path):
    course = tmp_path / "c"
    shutil.copytree(MINI, course)
    quiz = course / "01-passwords.ar.quiz.yml"
    quiz.write_text(quiz.read_text(encoding="utf-8").replace("mastery: {m: 2, n: 3}", "mastery: {m: 1, n: 1}"),
                    encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build_pack(course, tmp_path / "out", inst.key())
    assert "the quiz of lesson 'passwords' differs between languages" in "\n".join(map(str, caught.value.problems))


# A member rewritten to the same size in a zip rebuilt around it: every CRC and size in the zip
# is right, the signature still covers the manifest; only the manifest's sha256 tells.
SAME_SIZE_EDITS = {
    "media/media/dot.svg": (b'fill="#246"', b'fill="#642"'),        # still a safe SVG
    "lessons/passwords.en.json": (b"secret sentence", b"secret SENTENCE"),
}


@pytest.mark.parametrize("member", sorted(SAME_SIZE_EDITS))
def test_a_member_rewritten_to_the_same_size_is_refused_by_verify_and_install(member, data, inst, built, tmp_path):
    old, new = SAME_SIZE_EDITS[member]
    good = built.read_bytes()
    bad = rewritten(good, member, lambda b: b.replace(old, new))
    with zipfile.ZipFile(io.BytesIO(good)) as before_zip, zipfile.ZipFile(io.BytesIO(bad)) as z:
        assert z.testzip() is None                                       # sound zip, valid CRCs
        assert z.getinfo(member).file_size == before_zip.getinfo(member).file_size
        assert new in z.read(member) and old in before_zip.read(member)
    path = tmp_path / "same-size.kitpack"
    path.write_bytes(bad)
    before = snapshot(data)
    with pytest.raises(PackError, match=f"{member} does not match its hash"):
        verify_pack(inst.db, path)
    with pytest.raises(PackError, match=f"{member} does not match its hash"):
        install_pack(data, inst.db, path)
    assert snapshot(data) == before
    for command in ("verify", "install"):
        result = CliRunner().invoke(main, ["pack", command, str(path), "--data", str(data.root)])
        assert result.exit_code == 1 and "does not match its hash" in result.output, command
    assert snapshot(data) == before
