"""`kit users`: what an admin types to set up classes, learners and staff accounts."""

from click.testing import CliRunner

from kit.core import accounts, roster
from kit.cli import main


def run(data, *args, input=None):
    return CliRunner().invoke(main, [*args, "--data", str(data.root)], input=input)


def test_add_class_then_learners_then_list(data, inst):
    made = run(data, "users", "add-class", "CP1 A", "--code", "1234")
    assert made.exit_code == 0 and "code 1234" in made.output
    assert run(data, "users", "add-learner", "1234", "Amina B.", "--pin", "4821").exit_code == 0
    listing = run(data, "users", "list")
    assert listing.exit_code == 0 and "'CP1 A' code 1234 login pin: 1 learner(s)" in listing.output
    assert "  Amina B." in listing.output
    klass = roster.class_by_code(inst.db, "1234")
    amina = roster.class_learners(inst.db, klass.id)[0]
    assert roster.sign_in(inst.db, amina.id, "4821", "x").learner == amina


def test_a_picture_class_with_self_registration(data, inst):
    assert run(data, "users", "add-class", "Petits", "--login", "picture", "--self-register").exit_code == 0
    added = run(data, "users", "add-learner", "Petits", "Ali", "--pictures", "cat,sun,tree")
    assert added.exit_code == 0
    klass = roster.find_class(inst.db, "Petits")
    assert klass.login == "picture" and klass.self_register
    ali = roster.class_learners(inst.db, klass.id)[0]
    assert roster.sign_in(inst.db, ali.id, "cat.sun.tree", "x").learner == ali


def test_a_forgotten_pin_is_replaced(data, inst):
    run(data, "users", "add-class", "CP1", "--code", "555")
    run(data, "users", "add-learner", "555", "Omar", "--pin", "1111")
    assert run(data, "users", "set-code", "555", "Omar", "--pin", "2222").exit_code == 0
    omar = roster.class_learners(inst.db, roster.find_class(inst.db, "555").id)[0]
    assert roster.sign_in(inst.db, omar.id, "2222", "x").learner
    assert not roster.sign_in(inst.db, omar.id, "1111", "y").learner


def test_mistakes_give_one_line_and_exit_code_1(data):
    run(data, "users", "add-class", "CP1", "--code", "1234")
    taken = run(data, "users", "add-class", "CP2", "--code", "1234")
    assert taken.exit_code == 1 and taken.output.strip().startswith("error:") and "taken" in taken.output
    bad_pin = run(data, "users", "add-learner", "1234", "X", "--pin", "12")
    assert bad_pin.exit_code == 1 and "4 digits" in bad_pin.output
    no_class = run(data, "users", "add-learner", "9999", "X", "--pin", "1234")
    assert no_class.exit_code == 1 and "kit users list" in no_class.output
    no_code = run(data, "users", "set-code", "1234", "X")
    assert no_code.exit_code == 2


def test_admin_and_coach_accounts_are_asked_a_password_twice(data, inst):
    made = run(data, "users", "add-admin", "fatima", input="long enough pw\nlong enough pw\n")
    assert made.exit_code == 0, made.output
    assert run(data, "users", "add-coach", "karim", "--password", "another pass").exit_code == 0
    assert accounts.check_password(inst.db, "fatima", "long enough pw").role == "admin"
    assert accounts.check_password(inst.db, "fatima", "wrong") is None
    assert "coach karim" in run(data, "users", "list").output
    short = run(data, "users", "add-admin", "x1", "--password", "short")
    assert short.exit_code == 1 and "at least 8" in short.output
    again = run(data, "users", "add-admin", "fatima", "--password", "long enough pw")
    assert again.exit_code == 1 and "exists" in again.output


def test_users_on_a_folder_that_is_not_a_data_dir(tmp_path):
    result = CliRunner().invoke(main, ["users", "list", "--data", str(tmp_path / "none")])
    assert result.exit_code == 1 and "kit init" in result.output


def test_a_new_password_replaces_the_old_one(data, inst):
    run(data, "users", "add-coach", "karim", "--password", "first pass 1")
    changed = run(data, "users", "set-password", "karim", input="second pass 2\nsecond pass 2\n")
    assert changed.exit_code == 0 and "New password set for 'karim'" in changed.output
    assert accounts.check_password(inst.db, "karim", "second pass 2").username == "karim"
    assert accounts.check_password(inst.db, "karim", "first pass 1") is None
    unknown = run(data, "users", "set-password", "nobody", "--password", "long enough")
    assert unknown.exit_code == 1 and "kit users list" in unknown.output


def test_the_demo_class_is_closed_then_removed_for_good(data, inst):
    demo = roster.ensure_demo_class(inst.db)
    roster.self_register(inst.db, demo.id, "Visitor", pin="1234", address="a")
    closed = run(data, "users", "close-class", "0000")
    assert closed.exit_code == 0 and "no longer takes" in closed.output
    assert not roster.get_class(inst.db, demo.id).self_register
    assert run(data, "users", "close-class", "0000", "--open").exit_code == 0
    assert roster.get_class(inst.db, demo.id).self_register

    kept = run(data, "users", "remove-class", "0000", input="n\n")
    assert kept.exit_code == 1 and roster.get_class(inst.db, demo.id)
    removed = run(data, "users", "remove-class", "0000", input="y\n")
    assert removed.exit_code == 0 and "Removed class 'Demo' and 1 learner(s)" in removed.output
    assert roster.list_classes(inst.db) == [] and roster.ensure_demo_class(inst.db) is None
    assert run(data, "users", "remove-class", "0000", "--yes").exit_code == 1     # gone: one line, no traceback
