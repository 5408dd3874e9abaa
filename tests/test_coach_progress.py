"""Teachers see who learned what: the class grid, a learner's history, essays, the CSV file."""

import csv
import io
import re

import pytest

from kit.core import accounts, records, roster

from coach_support import answer, grid, phone_pass, read
from server_support import csrf_of, hidden, make_learner, sign_in, text


@pytest.fixture
def cp1(installed):
    return roster.create_class(installed.db, "CP1")


def class_page(browser, klass, lang="en", **args):
    return browser.get(f"/staff/class/{klass.id}", query_string=args, headers={"Accept-Language": lang})


def learner_reads(browser, lesson):
    page = browser.get(f"/c/mini/{lesson}").text
    browser.post(f"/c/mini/{lesson}/read", data={"csrf": csrf_of(page), "token": hidden(page, "token")})


def learner_passes_phone_quiz(browser):
    """The 'phone' quiz through the learner's pages: two questions, both right."""
    for fields in ({"a-lock": "true"}, {"a-how": "0"}):
        page = browser.get("/c/mini/phone/quiz?again=1").text
        q = hidden(page, "question")
        assert f"a-{q}" in next(iter(fields))
        resp = browser.post("/c/mini/phone/quiz", data={"csrf": csrf_of(page), "question": q,
                                                       f"t-{q}": hidden(page, f"t-{q}"), **fields})
        assert resp.status_code == 200


def test_the_grid_shows_what_learners_did_on_their_pages(app, admin, installed):
    klass, amina = make_learner(installed.db)
    phone = app.test_client()
    assert sign_in(phone, klass, amina).status_code == 303
    learner_reads(phone, "passwords")
    learner_passes_phone_quiz(phone)

    rows = grid(class_page(admin, klass).text)
    assert rows["Amina"] == ["50%", "✓", "100%"]                 # read; one pass of 2 needed

    learner_passes_phone_quiz(phone)
    rows = grid(class_page(admin, klass).text)
    assert rows["Amina"] == ["100%", "✓", "★ 100%"]              # mastered: the lesson is done


def test_the_grid_shows_events_recorded_by_the_domain(admin, installed, cp1):
    db = installed.db
    amina, omar, zineb = (roster.add_learner(db, cp1.id, n, pin="1234") for n in ["Amina", "Omar", "Zineb"])
    read(db, amina, "phone")
    phone_pass(db, omar, right=False)
    answer(db, zineb, "phone", "lock", 1.0, True)              # a pass left in the middle
    rows = grid(class_page(admin, cp1, lang="fr").text)
    assert rows["Amina"] == ["50 %", "", "✓"]
    assert rows["Omar"] == ["0 %", "", "0 %"]
    assert rows["Zineb"] == ["0 %", "", ""]


def test_the_grid_is_sorted_by_name_both_ways_and_links_the_other_way(admin, installed, cp1):
    for name in ["Omar", "Amina", "Zineb"]:
        roster.add_learner(installed.db, cp1.id, name, pin="1234")
    up = class_page(admin, cp1)
    assert list(grid(up.text)) == ["Amina", "Omar", "Zineb"]
    assert 'aria-sort="ascending"' in up.text and "order=desc" in up.text
    down = class_page(admin, cp1, order="desc")
    assert list(grid(down.text)) == ["Zineb", "Omar", "Amina"]
    assert 'aria-sort="descending"' in down.text and "order=desc" not in down.text


def test_the_grid_is_translated_and_right_to_left_in_arabic(admin, installed, cp1):
    roster.add_learner(installed.db, cp1.id, "أمينة", pin="1234")
    page = class_page(admin, cp1, lang="ar")
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "كلمات المرور" in page.text and "الإجابات المكتوبة" in page.text
    assert "<bdi>أمينة</bdi>" in page.text


def test_class_list_counts_learners(admin, installed, cp1):
    for name in ["A", "B", "C"]:
        roster.add_learner(installed.db, cp1.id, name, pin="1234")
    roster.create_class(installed.db, "Empty")
    page = admin.get("/staff/", headers={"Accept-Language": "en"})
    assert "3 learners" in page.text and "0 learners" in page.text


def test_a_course_is_chosen_by_its_id_and_an_unknown_one_is_404(admin, installed, cp1):
    assert class_page(admin, cp1, course="mini").status_code == 200
    assert class_page(admin, cp1, course="nope").status_code == 404


def test_a_class_without_courses_says_so(admin, inst):
    klass = roster.create_class(inst.db, "CP1")
    page = admin.get(f"/staff/class/{klass.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "No course is installed yet." in page.text


def test_a_learners_page_shows_reads_attempts_and_dates_in_the_teachers_language(admin, installed, cp1):
    db = installed.db
    amina = roster.add_learner(db, cp1.id, "Amina", pin="1234")
    read(db, amina, "passwords")
    phone_pass(db, amina, right=True)
    page = admin.get(f"/staff/learner/{amina.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Passwords" in page.text and "Phone safety" in page.text
    assert "2 out of 2 (100%)" in page.text and "Lessons done: 1 of 2" in page.text   # one pass: not mastered
    fr = text(admin.get(f"/staff/learner/{amina.id}", headers={"Accept-Language": "fr"}))
    assert "2 sur 2" in fr and "Les mots de passe" in fr
    year = r"\d{2}/\d{2}/\d{4}"                                 # French short dates: 26/11/2026
    assert re.search(year, fr)


def test_essay_answers_are_shown_escaped_with_their_direction_kept(admin, installed, cp1):
    db = installed.db
    amina = roster.add_learner(db, cp1.id, "Amina", pin="1234")
    answer(db, amina, "passwords", "essay", None, "<script>alert(1)</script>\n\u202eevil <b>bold</b>")
    for url in [f"/staff/learner/{amina.id}", f"/staff/class/{cp1.id}/essays"]:
        page = admin.get(url).text
        assert "<script>alert" not in page and "<b>bold" not in page, url
        assert '<blockquote dir="auto" lang="fr">&lt;script&gt;alert(1)&lt;/script&gt;' in page, url
    assert '<a href="/staff/learner/' in admin.get(f"/staff/class/{cp1.id}/essays").text


def test_essays_are_headed_by_the_name_the_teacher_gave_the_question(admin, installed, cp1):
    amina = roster.add_learner(installed.db, cp1.id, "Amina", pin="1234")
    answer(installed.db, amina, "passwords", "essay", None, "Long et secret")
    for url in [f"/staff/learner/{amina.id}", f"/staff/class/{cp1.id}/essays"]:
        fr = admin.get(url, headers={"Accept-Language": "fr"}).text
        assert "<h3>Les mots de passe · <bdi>Mon mot de passe</bdi></h3>" in fr, url
        ar = admin.get(url, headers={"Accept-Language": "ar"}).text
        assert "<bdi>كلمة السر عندي</bdi></h3>" in ar, url


def test_an_essay_typed_on_the_learners_page_reaches_the_teacher(app, admin, installed):
    klass, amina = make_learner(installed.db)
    phone = app.test_client()
    sign_in(phone, klass, amina)
    installed.db.execute("UPDATE packs SET settings = json_set(settings, '$.quiz_display', 'all') WHERE id = 'mini'")
    page = phone.get("/c/mini/passwords/quiz").text
    questions = re.findall(r'name="t-([\w-]+)" value="([^"]+)"', page)
    fields = {f"t-{q}": token for q, token in questions}
    fields.update({"a-single": "1", "a-multi": "0", "a-tf": "true", "a-short": "x", "a-num": "1",
                   "a-match-0": "0", "a-match-1": "1", "a-order-0": "0", "a-order-1": "1", "a-order-2": "2",
                   "a-essay": "Mon mot de passe est long & secret <3"})
    assert phone.post("/c/mini/passwords/quiz", data={"csrf": csrf_of(page), **fields}).status_code == 200
    essays = admin.get(f"/staff/class/{klass.id}/essays").text
    assert "Mon mot de passe est long &amp; secret &lt;3" in essays


def test_hostile_names_render_inert_on_the_grid(admin, installed, cp1):
    # A name brought by sync from an older server (typed here, the override would be dropped).
    records.set_fields(installed.db, "learner", "from-elsewhere", {
        "name": "\u202eAmina<script>alert(1)</script>", "class_id": cp1.id, "pin_hash": "x"})
    page = class_page(admin, cp1).text
    assert "<script>alert" not in page
    assert "<bdi>\u202eAmina&lt;script&gt;alert(1)&lt;/script&gt;</bdi>" in page


def test_a_coach_sees_the_grid_of_their_class(coach, installed, cp1):
    accounts.assign_coach(installed.db, "teacher", cp1.id)
    read(installed.db, roster.add_learner(installed.db, cp1.id, "Amina", pin="1234"), "passwords")
    assert grid(class_page(coach, cp1).text)["Amina"] == ["50%", "✓", ""]


# --- the spreadsheet file ---------------------------------------------------------------------

def csv_rows(resp, delimiter):
    assert resp.data.startswith(b"\xef\xbb\xbf")            # BOM: Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig")), delimiter=delimiter))


def test_the_csv_holds_the_grid(admin, installed, cp1):
    db = installed.db
    amina = roster.add_learner(db, cp1.id, "أمينة", pin="1234")
    roster.add_learner(db, cp1.id, "Omar", pin="1234")
    read(db, amina, "passwords")
    phone_pass(db, amina)
    phone_pass(db, amina)
    resp = admin.get(f"/staff/class/{cp1.id}/progress.csv?course=mini", headers={"Accept-Language": "en"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="class-{cp1.code}-mini.csv"'
    head, *rows = csv_rows(resp, ",")
    assert head[:4] == ["Name", "Course progress (%)", "Last activity", "1. Passwords: read"]
    assert head[-1] == "2. Phone safety: last score (percent)"
    by_name = {r[0]: r for r in rows}
    assert by_name["أمينة"][1] == "100" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", by_name["أمينة"][2])
    assert by_name["أمينة"][3:] == ["1", "0", "", "0", "1", "100"]
    assert by_name["Omar"][1:] == ["0", "", "0", "0", "", "0", "0", ""]


def test_the_csv_uses_semicolons_and_translated_headers_in_french(admin, installed, cp1):
    roster.add_learner(installed.db, cp1.id, "Élodie", pin="1234")
    resp = admin.get(f"/staff/class/{cp1.id}/progress.csv", headers={"Accept-Language": "fr"})
    head, row = csv_rows(resp, ";")
    assert head[0] == "Nom" and head[3] == "1. Les mots de passe : lue" and row[0] == "Élodie"


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x.example","ok")', "+1+2", "-2+3", "@SUM(A1)"])
def test_the_csv_never_holds_a_formula(admin, installed, cp1, name):
    roster.add_learner(installed.db, cp1.id, name, pin="1234")
    resp = admin.get(f"/staff/class/{cp1.id}/progress.csv", headers={"Accept-Language": "en"})
    _head, row = csv_rows(resp, ",")
    assert row[0] == "'" + name
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)
