"""The search index: built from a real kit.db by update_index, asked through search()."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from whoosh import index as whoosh_index

from kit.content import search as search_module
from kit.content.analyzers import forms, light_stem
from kit.content.search import (INDEX_NAME, SearchService, index_size_bytes, plain_text, quiz_text,
                                 search, update_index)
from kit.core.errors import ConfigError

from conftest import corpus

# (lesson id, lang, title, html, quiz questions as (text, [answer texts]))
LESSONS = [
    ("passwords", "fr", "La sécurité des mots de passe",
     "<h1>La sécurité des mots de passe</h1><p>Chaque élève choisit un mot de passe solide. "
     "On sécurise son compte.</p>",
     [("Que faut-il faire d'une mise à jour ?", ["L'installer rapidement", "L'ignorer"])]),
    ("network", "fr", "Le réseau",
     "<p>Un pare-feu filtre le trafic d'internet. Le texte &lt;script&gt;alert(1)&lt;/script&gt; "
     "n'est jamais exécuté.</p>", []),
    ("ar-pass", "ar", "كلمات المرور", "<p>اختر كلمات المرور القوية لحماية حسابك.</p>", []),
    ("ar-school", "ar", "الأمن في المدرسة", "<p>يتعلّم التلاميذ قواعد الأمن في المدرسة.</p>", []),
    ("ar-data", "ar", "البيانات", "<p>بياناتك الشخصية مهمة.</p>", []),
    ("passwords", "en", "Choosing a password",
     "<p>A strong password protects your account on the internet.</p>",
     [("What makes it strong?", ["Its length", "A pet's name"])]),
]


def add_pack(db, pack_id: str = "digital", version: str = "1.0.0", lessons=LESSONS,
             installed_at: str = "2024-01-01T00:00:00Z") -> None:
    """Install rows the way the installer does, straight into the tables."""
    db["packs"].upsert({"id": pack_id, "version": version, "title": "{}", "description": "{}",
                        "languages": "[]", "publisher": "test", "settings": "{}", "manifest": "{}",
                        "installed_at": installed_at}, pk="id")
    db.execute("DELETE FROM lessons WHERE pack_id = ?", [pack_id])
    db.execute("DELETE FROM quizzes WHERE pack_id = ?", [pack_id])
    for position, (lesson_id, lang, title, html, questions) in enumerate(lessons):
        db["lessons"].insert({"pack_id": pack_id, "lesson_id": lesson_id, "lang": lang,
                              "position": position, "title": title, "minutes": 5, "objectives": "[]",
                              "html": html, "etag": "e", "has_quiz": int(bool(questions))})
        if questions:
            quiz = {"questions": [{"id": f"q{n}", "type": "single", "text": text,
                                   "answers": [{"text": a, "correct": i == 0} for i, a in enumerate(answers)]}
                                  for n, (text, answers) in enumerate(questions)]}
            db["quizzes"].insert({"pack_id": pack_id, "lesson_id": lesson_id, "lang": lang,
                                  "quiz": json.dumps(quiz)})


@pytest.fixture
def library(inst) -> Path:
    """A data dir with one pack of French, Arabic and English lessons, indexed."""
    add_pack(inst.db)
    update_index(inst.data.index_dir, inst.db)
    return inst.data.index_dir


def found(index_dir: Path, query: str, lang: str) -> list[str]:
    return [hit.lesson_id for hit in search(index_dir, query, lang).hits]


# ------------------------------------------------------------------------------------ French

@pytest.mark.parametrize("query", ["eleve", "ELEVE", "élève", "Élèves"])
def test_french_words_match_with_or_without_accents_and_case(library, query):
    assert found(library, query, "fr") == ["passwords"]


def test_securite_finds_sécurité(library):
    assert found(library, "securite", "fr") == ["passwords"]


def test_accents_typed_in_the_query_match_too(library):
    assert found(library, "réseau", "fr") == ["network"]
    assert found(library, "reseau", "fr") == ["network"]


def test_plural_and_singular_meet(library):
    assert found(library, "mots de passe", "fr") == ["passwords"]
    assert found(library, "mot de passe", "fr") == ["passwords"]
    assert found(library, "mots de passes", "fr") == ["passwords"]


def test_forms_of_a_french_verb_meet(library):
    # the lesson says "sécurise"
    assert found(library, "sécuriser", "fr") == ["passwords"]
    assert found(library, "sécurisée", "fr") == ["passwords"]
    assert found(library, "securisee", "fr") == ["passwords"]


def test_every_word_must_match(library):
    assert found(library, "élève pare-feu", "fr") == []


def test_stop_words_alone_find_nothing(library):
    result = search(library, "le la de des", "fr")
    assert result.hits == [] and result.total == 0


# ------------------------------------------------------------------------------------ Arabic

@pytest.mark.parametrize("query", [
    "الامن",        # alef without hamza; the lesson writes الأمن
    "المدرسه",      # ha for ta marbuta
    "مَدْرَسَة",     # harakat
    "المدرســـة",   # tatweel
    "يتعلم",        # without the shadda of يتعلّم
])
def test_arabic_spelling_variants_are_folded(library, query):
    assert found(library, query, "ar") == ["ar-school"]


def test_arabic_singular_finds_plural(library):
    # the lesson only has كلمات (plural), never كلمة
    assert found(library, "كلمة المرور", "ar") == ["ar-pass"]
    assert found(library, "كَلِمَة", "ar") == ["ar-pass"]


def test_arabic_article_and_suffixes_are_stripped(library):
    # the lesson has بياناتك (your data) and البيانات in its title
    assert found(library, "بيانات", "ar") == ["ar-data"]


def test_light_stemmer_strips_article_and_plural():
    assert light_stem("الكلمات") == light_stem("كلمه") == "كلم"
    assert light_stem("وال") == "وال"   # never strips a word down to nothing


def test_snowball_and_light_forms_both_index_an_arabic_word():
    assert "كلم" in forms("ar", "كلمات")


# ------------------------------------------------------------------------------------ English

def test_english_is_stemmed(library):
    assert found(library, "passwords", "en") == ["passwords"]
    assert found(library, "protecting", "en") == ["passwords"]


def test_quiz_questions_are_searched_but_never_their_answers(library):
    assert found(library, "jour", "fr") == ["passwords"]          # in the question
    assert found(library, "installer", "fr") == []                # the right answer
    assert found(library, "ignorer", "fr") == []                  # a wrong one
    assert found(library, "length", "en") == []


# ------------------------------------------------------------------------------ languages

def test_a_language_only_finds_its_own_lessons(library):
    assert found(library, "password", "fr") == []
    assert found(library, "internet", "fr") == ["network"]
    assert [h.lang for h in search(library, "internet", "en").hits] == ["en"]


def test_a_language_without_lessons_finds_nothing(library):
    assert search(library, "internet", "es").hits == []


def test_other_languages_are_folded_but_not_stemmed(inst):
    add_pack(inst.db, lessons=[("hola", "es", "Niños", "<p>Los niños aprenden.</p>", [])])
    update_index(inst.data.index_dir, inst.db)
    assert found(inst.data.index_dir, "ninos", "es") == ["hola"]
    assert found(inst.data.index_dir, "ninos", "fr") == []


# ------------------------------------------------------------------------------- results

def test_hit_carries_ids_and_plain_title(library):
    (hit,) = search(library, "réseau", "fr").hits
    assert (hit.pack_id, hit.lesson_id, hit.lang, hit.title) == ("digital", "network", "fr", "Le réseau")


def test_snippet_marks_the_matched_words(library):
    (hit,) = search(library, "eleve", "fr").hits
    assert "<mark>élève</mark>" in hit.snippet_html


def test_snippet_escapes_the_lesson_text(library):
    (hit,) = search(library, "script", "fr").hits
    assert "<script" not in hit.snippet_html
    assert "&lt;<mark>script</mark>&gt;" in hit.snippet_html


def test_snippet_escapes_what_the_learner_typed(library):
    result = search(library, '<script>alert("x")</script> pare-feu', "fr")
    assert "<script" not in "".join(h.snippet_html for h in result.hits)
    assert (result.suggestion or "").find("<") == -1


def test_limit_keeps_the_best_and_total_counts_all(inst):
    lessons = [(f"l{n}", "en", f"Lesson {n}", "<p>" + "water " * n + "</p>", []) for n in range(1, 6)]
    add_pack(inst.db, lessons=lessons)
    update_index(inst.data.index_dir, inst.db)
    result = search(inst.data.index_dir, "water", "en", limit=2)
    assert result.total == 5
    assert len(result.hits) == 2


def test_a_word_in_the_title_ranks_higher(inst):
    add_pack(inst.db, lessons=[
        ("body", "en", "Rivers", "<p>Clean water matters. Water and more water.</p>", []),
        ("title", "en", "Water", "<p>Rivers and lakes hold water.</p>", []),
    ])
    update_index(inst.data.index_dir, inst.db)
    assert found(inst.data.index_dir, "water", "en")[0] == "title"


# --------------------------------------------------------------------- what learners type

@pytest.mark.parametrize("query", [
    "", "   ", "?!.,;", '"', "'", "*", "?", "(", ")", "[", "{", "AND", "OR", "NOT", "mot AND",
    "title:passe", "text_fr:mot", 'mot de passe"', "(mot OR", "mot~2", "passe^3", "mot*", "\\",
    "-", "+", "<>", "&", "\x00", "\u202e", "ـــ", "ً",
])
def test_query_syntax_never_raises(library, query):
    result = search(library, query, "fr")
    assert result.total == len(result.hits) or result.total > len(result.hits)


def test_quotes_and_operators_are_plain_punctuation(library):
    assert found(library, '"mot de passe"', "fr") == ["passwords"]
    assert found(library, "(élève) + solide!", "fr") == ["passwords"]


def test_empty_query_finds_nothing_and_suggests_nothing(library):
    result = search(library, " ?! ", "fr")
    assert (result.hits, result.total, result.suggestion) == ([], 0, None)


def test_naughty_strings_never_raise(library):
    strings = json.loads(corpus("naughty-strings", "blns.json").read_text(encoding="utf-8"))
    service = SearchService(library)
    try:
        for text in strings:
            for lang in ("fr", "ar", "en", "zz"):
                result = service.search(text, lang)
                assert all("<script" not in h.snippet_html for h in result.hits)
    finally:
        service.close()


def test_very_long_query_is_cut_not_refused(library):
    assert search(library, "élève " * 5000, "fr").total == 1


# --------------------------------------------------------------------------- did you mean

def test_misspelled_word_gets_a_suggestion(library):
    result = search(library, "pasword", "en")
    assert result.hits == []
    assert result.suggestion == "password"


def test_suggestion_is_spelled_as_in_the_lessons(library):
    assert search(library, "sekurite", "fr").suggestion == "sécurité"
    assert search(library, "المدرشة", "ar").suggestion == "المدرسة"


def test_suggestion_keeps_the_words_that_were_right(library):
    assert search(library, "mot de pase", "fr").suggestion == "mot de passe"


def test_suggestion_comes_from_the_language_asked(library):
    assert search(library, "pasword", "fr").suggestion is None


def test_no_suggestion_when_something_matched_or_nothing_is_close(library):
    assert search(library, "securite", "fr").suggestion is None
    assert search(library, "xylophone", "fr").suggestion is None


# ------------------------------------------------------------------------- keeping in line

def test_update_twice_changes_nothing(library, inst):
    generation = sorted(p.name for p in library.glob("*.toc"))
    report = update_index(library, inst.db)
    assert not report.changed and report.lessons == 0
    assert sorted(p.name for p in library.glob("*.toc")) == generation


def test_first_update_creates_the_index(inst):
    index_dir = inst.data.index_dir
    add_pack(inst.db)
    report = update_index(index_dir, inst.db)
    assert report.rebuilt and report.indexed == ["digital"] and report.lessons == len(LESSONS)
    assert index_size_bytes(index_dir) > 0


def test_search_without_an_index_finds_nothing(tmp_path):
    assert search(tmp_path / "nowhere", "eleve", "fr").hits == []


def test_upgrade_replaces_the_old_lessons(library, inst):
    assert found(library, "pare-feu", "fr") == ["network"]
    add_pack(inst.db, version="1.1.0", lessons=[
        ("network", "fr", "Le réseau", "<p>Un routeur relie les appareils.</p>", [])])
    report = update_index(library, inst.db)
    assert report.indexed == ["digital"] and report.lessons == 1
    assert found(library, "pare-feu", "fr") == []
    assert found(library, "routeur", "fr") == ["network"]
    assert search(library, "réseau", "fr").total == 1


def test_upgrades_do_not_pile_up_deleted_lessons_on_disk(library, inst):
    size = index_size_bytes(library)
    for minor in range(1, 4):
        add_pack(inst.db, version=f"1.{minor}.0")
        update_index(library, inst.db)
    assert index_size_bytes(library) < size * 1.3
    assert search(library, "eleve", "fr").total == 1


def test_reinstall_of_the_same_version_is_reindexed(library, inst):
    add_pack(inst.db, lessons=[("network", "fr", "Le réseau", "<p>Un routeur.</p>", [])],
             installed_at="2024-02-02T00:00:00Z")
    assert update_index(library, inst.db).indexed == ["digital"]
    assert found(library, "routeur", "fr") == ["network"]


def test_removed_pack_disappears(library, inst):
    add_pack(inst.db, pack_id="other", lessons=[("x", "fr", "Autre", "<p>Un élève.</p>", [])])
    update_index(library, inst.db)
    assert sorted(found(library, "eleve", "fr")) == ["passwords", "x"]
    inst.db.execute("DELETE FROM packs WHERE id = 'digital'")
    report = update_index(library, inst.db)
    assert report.removed == ["digital"] and report.indexed == []
    assert found(library, "eleve", "fr") == ["x"]
    assert search(library, "kalima", "ar").total == 0


@pytest.mark.parametrize("pattern", ["*.toc", "*.seg"])
def test_corrupt_index_is_rebuilt(library, inst, pattern):
    for path in library.glob(pattern):
        path.write_bytes(b"not an index")
    report = update_index(library, inst.db)
    assert report.rebuilt and report.indexed == ["digital"]
    assert found(library, "eleve", "fr") == ["passwords"]


def test_index_of_an_older_format_is_rebuilt(library, inst):
    for path in library.iterdir():
        path.rename(path.with_name(path.name.replace(INDEX_NAME, "lessons_v0")))
    assert update_index(library, inst.db).rebuilt
    assert found(library, "eleve", "fr") == ["passwords"]


def test_update_waits_for_another_writer_then_says_what_to_do(library, inst, monkeypatch):
    monkeypatch.setattr(search_module, "WRITER_LOCK_TIMEOUT", 0.2)
    add_pack(inst.db, version="1.0.1")
    other = whoosh_index.open_dir(str(library), indexname=INDEX_NAME).writer()
    try:
        with pytest.raises(ConfigError, match="locked by another kit process"):
            update_index(library, inst.db)
    finally:
        other.cancel()
    assert update_index(library, inst.db).indexed == ["digital"]


def test_service_on_an_unreadable_index_says_how_to_rebuild_it(library):
    for path in library.glob("*.toc"):
        path.write_bytes(b"garbage")
    service = SearchService(library)
    with pytest.raises(ConfigError, match="rebuild"):
        service.search("eleve", "fr")


def test_open_service_sees_updates_and_rebuilds(library, inst):
    service = SearchService(library)
    try:
        assert [h.lesson_id for h in service.search("pare-feu", "fr").hits] == ["network"]
        add_pack(inst.db, version="2.0.0", lessons=[("network", "fr", "Le réseau", "<p>Un routeur.</p>", [])])
        update_index(library, inst.db)
        assert service.search("pare-feu", "fr").hits == []   # no stale lesson, no cached answer
        assert service.search("réseau", "fr").total == 1
        for path in library.glob("*.seg"):
            path.write_bytes(b"garbage")
        assert update_index(library, inst.db).rebuilt
        assert [h.lesson_id for h in service.search("routeur", "fr").hits] == ["network"]
    finally:
        service.close()


def test_one_service_serves_many_threads(library):
    service = SearchService(library)
    queries = ["eleve", "réseau", "mot de passe", "pasword", "internet"] * 8
    expected = {q: service.search(q, "fr") for q in set(queries)}
    answers: list = []

    def ask(q: str) -> None:
        answers.append((q, service.search(q + " ", "fr")))  # a trailing space misses the cache

    threads = [threading.Thread(target=ask, args=(q,)) for q in queries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    service.close()
    assert len(answers) == len(queries)
    assert all(answer == expected[q] for q, answer in answers)


# ---------------------------------------------------------------------------- extraction

def test_plain_text_keeps_words_and_drops_markup():
    html = "<h2>Titre</h2><p>Un <b>mot</b>&nbsp;de passe&amp;co</p><img alt='un cadenas'><script>x()</script>"
    assert plain_text(html) == "Titre Un mot de passe&co un cadenas"


def test_quiz_text_reads_questions_only_and_tolerates_the_rest():
    quiz = {"questions": [{"id": "a", "text": "Combien ?", "answers": [{"text": "Deux"}, {"value": 2}]},
                          {"id": "b", "type": "matching", "pairs": [["x", "y"]]}, "junk"],
            "mastery": {"m": 3, "n": 5}}
    assert quiz_text(json.dumps(quiz)) == "Combien ?"
    assert quiz_text("not json") == quiz_text("[]") == quiz_text('{"questions": 3}') == ""
