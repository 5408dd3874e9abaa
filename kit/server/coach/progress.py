"""Who learned what: the classes, a class's grid (learners × lessons), a learner's history,
a class's essays, and the grid as a spreadsheet file."""

from __future__ import annotations

from flask import Response, abort, g, render_template, request

from ... import reports
from ...content import library
from ...core import district, roster
from ..i18n import gettext as _
from ..store import get_db
from .blueprint import bp, class_for_staff, is_admin, learner_for_staff, school_of, staff_only, visible_classes
from .export import csv_bytes, delimiter_for, iso_date


def chosen_course(courses: "list[library.Course]") -> "library.Course | None":
    """The course asked for in ?course=, else the first installed one."""
    wanted = request.args.get("course")
    if wanted:
        found = next((c for c in courses if c.id == wanted), None)
        if found is None:
            abort(404)
        return found
    return courses[0] if courses else None


@bp.route("/")
@staff_only
def home() -> str:
    db = get_db()
    classes = visible_classes()
    return render_template("coach/classes.html", summaries=reports.class_summaries(db, classes),
                           schools=district.schools_to_show(db, [k.id for k in classes]))


@bp.route("/class/<class_id>")
@staff_only
def klass(class_id: str) -> str:
    db = get_db()
    klass = class_for_staff(class_id)
    courses = library.list_courses(db)
    course = chosen_course(courses)
    descending = request.args.get("order") == "desc"
    grid = reports.class_grid(db, klass, course, g.lang, descending) if course else None
    return render_template("coach/class.html", klass=klass, courses=courses, course=course, grid=grid,
                           descending=descending, school=school_of(klass),
                           moved=district.moved_from_class(db, klass.id))


@bp.route("/class/<class_id>/essays")
@staff_only
def essays(class_id: str) -> str:
    db = get_db()
    klass = class_for_staff(class_id)
    course = chosen_course(library.list_courses(db))
    if course is None:
        abort(404)
    return render_template("coach/essays.html", klass=klass, course=course,
                           essays=reports.class_essays(db, klass, course, g.lang))


@bp.route("/learner/<learner_id>")
@staff_only
def learner(learner_id: str) -> str:
    learner, klass = learner_for_staff(learner_id)
    return learner_page(learner, klass)


def learner_page(learner: roster.Learner, klass: roster.Klass, errors: "list[str] | None" = None,
                 status: int = 200) -> "tuple[str, int]":
    """A learner's history; where they went if the hub moved them away; on the hub, for its
    admin, a form that moves them to another class of any school."""
    db = get_db()
    return render_template("coach/learner.html", klass=klass, school=school_of(klass),
                           history=reports.learner_history(db, learner, g.lang),
                           move=district.moved_away(db, learner.id),
                           targets=move_targets(learner) if is_admin() and district.is_hub(db) else [],
                           errors=errors or []), status


def move_targets(learner: roster.Learner) -> "list[tuple[str, list[roster.Klass]]]":
    """The classes a learner may be moved to, grouped by school: [(school name, classes)]."""
    db = get_db()
    classes = [k for k in roster.list_classes(db) if k.id != learner.class_id]
    schools = district.class_schools(db, [k.id for k in classes])
    groups: "dict[str, list[roster.Klass]]" = {}
    for k in classes:
        groups.setdefault(schools[k.id].name if k.id in schools else "", []).append(k)
    return sorted(groups.items(), key=lambda item: item[0].casefold())


@bp.route("/class/<class_id>/progress.csv")
@staff_only
def progress_csv(class_id: str) -> Response:
    db = get_db()
    klass = class_for_staff(class_id)
    course = chosen_course(library.list_courses(db))
    if course is None:
        abort(404)
    grid = reports.class_grid(db, klass, course, g.lang)
    resp = Response(csv_bytes(grid_table(grid), delimiter_for(g.lang)), mimetype="text/csv")
    # Digits and a slug only: no user-typed text in a header.
    resp.headers["Content-Disposition"] = f'attachment; filename="class-{klass.code}-{course.id}.csv"'
    return resp


def grid_table(grid: reports.ClassGrid) -> "list[list[str]]":
    """The grid as rows of cells: a name and progress, then per lesson whether it was read,
    whether its quiz is mastered, and the last score (percentages as whole numbers)."""
    head = [_("Name"), _("Course progress (%)"), _("Last activity")]
    for i, column in enumerate(grid.columns, 1):
        head += [_("%(number)d. %(lesson)s: read", number=i, lesson=column.title),
                 _("%(number)d. %(lesson)s: quiz mastered", number=i, lesson=column.title),
                 _("%(number)d. %(lesson)s: last score (percent)", number=i, lesson=column.title)]
    table = [head]
    for row in grid.rows:
        line = [row.learner.name, str(round(row.fraction * 100)),
                iso_date(row.last_activity_ms) if row.last_activity_ms else ""]
        for cell in row.cells:
            line += ["1" if cell.read else "0",
                     ("1" if cell.mastered else "0") if cell.has_quiz else "",
                     str(round(cell.last_score * 100)) if cell.last_score is not None else ""]
        table.append(line)
    return table
