"""GET /api/v1/roles/ (tenants/api/views/roles.py): every role of the model with its label,
description and what it may do, read off the actions' own checks (tenants/api/roles.py);
checked here against the real actions for a user of each role, so the list cannot say
one thing while the actions do another."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pbx.actions import do_create_extension, do_create_queue
from pbx.actions.endusers import do_invite_end_user
from tenants.actions import (
    do_create_staff_user,
    do_set_staff_password,
    do_set_user_active,
    do_suspend_account,
)
from tenants.api.roles import CODES, DESCRIPTIONS
from tenants.models import Role
from tenants.scoping import NotInSubtree
from tests.conftest import PASSWORD, Tree
from tests.switchboard.api.client import Api, body, key_for

URL = "/api/v1/roles/"


def may(answer: list[dict]) -> dict[str, set[str]]:
    return {entry["role"]: {c["code"] for c in entry["may"]} for entry in answer}


class TestRolesApi:
    covered_routes = ("role-list",)

    def test_every_role_with_its_label_description_and_capabilities_for_any_caller(self, tree: Tree):
        answers = []
        for user, read_only in (("master_admin", False), ("c1_admin", False), ("r1_readonly", False),
                                ("c2_admin", True)):
            answered = Api(token=key_for(tree.user(user), read_only=read_only)).send("get", URL)
            assert answered.status_code == 200, body(answered)
            answers.append(body(answered))
        assert all(answer == answers[0] for answer in answers)
        roles = answers[0]
        assert [(r["role"], r["label"]) for r in roles] == [(role.value, role.label) for role in Role]
        assert all(r["description"] == DESCRIPTIONS[r["role"]] and r["description"] for r in roles)
        found = may(roles)
        assert {"read", "pbx.write", "users.manage", "accounts.manage", "admin"} <= found[Role.ADMIN]
        assert found[Role.READ_ONLY] == {"read", "admin"}
        assert {"pbx.write", "pbx.queues"} <= found[Role.ADMIN]
        # Seed 002: the call-center supervisor manages the call queues, and nothing else.
        assert found[Role.SUPERVISOR] == {"read", "pbx.queues"}
        assert found[Role.END_USER] == {"pbx.own_phone"}
        assert all(c["text"] for r in roles for c in r["may"])

    def test_anonymous_and_an_employees_login_are_refused(self, tree: Tree):
        assert Api().send("get", URL).status_code == 401
        alice = do_create_extension(tree.c1, number="1001", name="Alice")
        employee = do_invite_end_user(tree.c1, alice, email="alice@example.com")
        assert Api(token=key_for(employee)).send("get", URL).status_code == 403


def test_every_role_has_a_description():
    assert set(DESCRIPTIONS) == set(Role)


def _allowed(action) -> bool:
    try:
        action()
    except (PermissionDenied, NotInSubtree):
        return False
    except ValidationError:
        return True  # past the role check, refused on the values
    return True


@pytest.mark.parametrize("role", [r for r in Role if r != Role.END_USER])
def test_what_the_list_says_is_what_the_actions_do(tree: Tree, role: str):
    """A user of the role in the reseller r1, acting on its customer c1."""
    user = do_create_staff_user(tree.user("master_admin"), account=tree.r1, username=f"probe-{role}",
                                password=PASSWORD, role=role)
    answer = body(Api(token=key_for(tree.user("master_admin"))).send("get", URL))
    said = may(answer)[role]
    target = tree.user("c1_admin")
    alice = do_create_extension(tree.c1, number="1001", name="Alice")
    employee = do_invite_end_user(tree.c1, alice, email="alice@example.com")
    done = {
        "pbx.write": _allowed(lambda: do_create_extension(tree.c1, number="1002", name="B", actor=user)),
        "pbx.queues": _allowed(lambda: do_create_queue(tree.c1, number="5000", name="Q", actor=user)),
        "users.manage": _allowed(lambda: do_set_staff_password(user, target, "x-new-long-passphrase-1")),
        "users.activate": _allowed(lambda: do_set_user_active(user, target, False)),
        "employees.activate": _allowed(lambda: do_set_user_active(user, employee, False)),
        "accounts.manage": _allowed(lambda: do_suspend_account(user, tree.c1)),
        "admin": user.may_use_admin,
    }
    assert {code for code, allowed in done.items() if allowed} == said & set(done), role
    assert ("read" in said) == (role != Role.END_USER)


def test_the_document_lists_the_route_and_one_role_enum_with_the_staff_users(tree: Tree):
    document = json.loads(Api().get("/api/v1/schema/?format=json").content)
    assert "get" in document["paths"]["/api/v1/roles/"]
    schemas = document["components"]["schemas"]
    role_ref = schemas["Role"]["properties"]["role"]
    staff_ref = schemas["StaffUser"]["properties"]["role"]
    ref = (role_ref.get("allOf") or [role_ref])[0]["$ref"]
    assert ref == (staff_ref.get("allOf") or [staff_ref])[0]["$ref"]
    assert schemas[ref.rsplit("/", 1)[1]]["enum"] == [role.value for role in Role]
    code = schemas["Capability"]["properties"]["code"]
    code_enum = schemas[(code.get("allOf") or [code])[0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert code_enum == CODES
