"""Who may create, promote, demote, move, suspend and delete accounts, and the tree
queries behind it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tenants import actions
from tenants.models import Account, AuditEvent
from tenants.scoping import NotInSubtree, visible_accounts
from tests.conftest import make_account


def names(qs) -> list[str]:
    return sorted(a.name for a in qs)


class TestCreate:
    def test_reseller_creates_customer_below_itself_and_below_its_sub_reseller(self, tree):
        r1_admin = tree.user("r1_admin")
        direct = make_account(r1_admin, tree.r1, "Direct")
        nested = make_account(r1_admin, tree.r1a, "Nested")
        assert Account.objects.get_parent(direct) == tree.r1
        assert Account.objects.get_parent(nested) == tree.r1a
        assert nested.depth == 4
        assert AuditEvent.objects.filter(action="account.create", account=nested).exists()

    def test_reseller_cannot_create_a_reseller(self, tree):
        with pytest.raises(ValidationError) as exc:
            make_account(tree.user("r1_admin"), tree.r1, "Sub", Account.Kind.RESELLER)
        assert "kind" in exc.value.message_dict

    def test_master_creates_resellers_at_any_depth(self, tree):
        deep = make_account(tree.user("master_admin"), tree.r1a, "Deep", Account.Kind.RESELLER)
        deeper = make_account(tree.user("master_admin"), deep, "Deeper")
        assert deeper.depth == 5 and deeper.is_within(tree.r1)

    def test_customer_cannot_have_children(self, tree):
        with pytest.raises(ValidationError) as exc:
            make_account(tree.user("master_admin"), tree.c1, "Child")
        assert "parent" in exc.value.message_dict

    def test_cannot_create_under_an_account_outside_the_subtree(self, tree):
        with pytest.raises(NotInSubtree):
            make_account(tree.user("r1_admin"), tree.r2, "Intruder")
        assert not Account.objects.filter(name="Intruder").exists()

    def test_read_only_role_cannot_create(self, tree):
        with pytest.raises(PermissionDenied):
            make_account(tree.user("r1_readonly"), tree.r1, "Nope")

    def test_invalid_settings_give_field_errors_and_create_nothing(self, tree):
        before = Account.objects.count()
        with pytest.raises(ValidationError) as exc:
            make_account(
                tree.user("r1_admin"), tree.r1, "Bad", timezone="Mars/Olympus",
                outbound_caller_id="12", max_concurrent_calls=-1,
            )
        errors = exc.value.message_dict
        assert {"timezone", "outbound_caller_id"} <= set(errors)
        assert Account.objects.count() == before

    def test_caller_ids_are_stored_in_e164(self, tree):
        account = make_account(
            tree.user("r1_admin"), tree.r1, "Dialer", outbound_caller_id="(416) 555-0100"
        )
        assert account.outbound_caller_id == "+14165550100"

    def test_only_one_master(self, tree):
        with pytest.raises(ValidationError):
            actions.do_bootstrap_master(
                name="Second", domains=["second.example.net"], admin_username="x",
                admin_password="a-long-test-password",
            )
        duplicate = Account(name="Other", kind=Account.Kind.MASTER, schema_name="t_other",
                            path="0009", depth=1)
        with pytest.raises(IntegrityError), transaction.atomic():
            Account.objects.bulk_create([duplicate])


class TestPromoteDemote:
    def test_master_promotes_a_customer(self, tree):
        actions.do_promote_to_reseller(tree.user("master_admin"), tree.c1)
        tree.c1.refresh_from_db()
        assert tree.c1.kind == Account.Kind.RESELLER
        make_account(tree.user("c1_admin"), tree.c1, "Now possible")

    @pytest.mark.parametrize("who", ["r1_admin", "c1_admin", "r1_readonly"])
    def test_nobody_else_promotes(self, tree, who):
        with pytest.raises(PermissionDenied):
            actions.do_promote_to_reseller(tree.user(who), tree.c1)

    def test_demote_requires_no_children(self, tree):
        with pytest.raises(ValidationError) as exc:
            actions.do_demote_to_customer(tree.user("master_admin"), tree.r1a)
        assert "sub-account" in exc.value.messages[0]

    def test_demote_counts_soft_deleted_children(self, tree):
        actions.do_soft_delete_account(tree.user("r1a_admin"), tree.c1a)
        with pytest.raises(ValidationError):
            actions.do_demote_to_customer(tree.user("master_admin"), tree.r1a)

    def test_demote_a_childless_reseller(self, tree):
        empty = make_account(tree.user("master_admin"), tree.master, "Empty", Account.Kind.RESELLER)
        actions.do_demote_to_customer(tree.user("master_admin"), empty)
        empty.refresh_from_db()
        assert empty.kind == Account.Kind.CUSTOMER

    def test_reseller_cannot_demote(self, tree):
        empty = make_account(tree.user("master_admin"), tree.r1, "Empty", Account.Kind.RESELLER)
        with pytest.raises(PermissionDenied):
            actions.do_demote_to_customer(tree.user("r1_admin"), empty)


class TestMove:
    def test_master_moves_a_subtree(self, tree):
        actions.do_move_account(tree.user("master_admin"), tree.r1a, tree.r2)
        tree.refresh()
        assert Account.objects.get_parent(tree.r1a) == tree.r2
        assert tree.c1a.is_within(tree.r2) and not tree.c1a.is_within(tree.r1)
        # The old owner loses sight of the moved subtree; the new one gains it.
        assert "C1A" not in names(visible_accounts(tree.user("r1_admin")))
        assert "C1A" in names(visible_accounts(tree.user("r2_admin")))

    def test_cannot_move_under_own_descendant(self, tree):
        with pytest.raises(ValidationError) as exc:
            actions.do_move_account(tree.user("master_admin"), tree.r1, tree.r1a)
        assert "loop" in exc.value.messages[0]

    def test_cannot_move_under_a_customer(self, tree):
        with pytest.raises(ValidationError):
            actions.do_move_account(tree.user("master_admin"), tree.c2, tree.c1)

    def test_reseller_cannot_move(self, tree):
        with pytest.raises(PermissionDenied):
            actions.do_move_account(tree.user("r1_admin"), tree.c1, tree.r1a)


class TestSuspendAndDelete:
    def test_suspension_reaches_the_whole_subtree(self, tree):
        actions.do_suspend_account(tree.user("master_admin"), tree.r1)
        tree.refresh()
        assert not tree.r1.is_effectively_active()
        assert tree.c1a.status == Account.Status.ACTIVE  # own flag kept ...
        assert not tree.c1a.is_effectively_active()  # ... but suspended in effect
        assert tree.c2.is_effectively_active()
        actions.do_reactivate_account(tree.user("master_admin"), tree.r1)
        tree.c1a.refresh_from_db()
        assert tree.c1a.is_effectively_active()

    def test_nobody_suspends_their_own_account(self, tree):
        with pytest.raises(PermissionDenied):
            actions.do_suspend_account(tree.user("r1_admin"), tree.r1)

    def test_master_cannot_be_suspended(self, tree):
        with pytest.raises(ValidationError):
            actions.do_suspend_account(tree.user("master_admin"), tree.master)

    def test_suspend_outside_subtree_is_not_found(self, tree):
        with pytest.raises(NotInSubtree):
            actions.do_suspend_account(tree.user("r1_admin"), tree.c2)

    def test_delete_refused_while_children_live(self, tree):
        with pytest.raises(ValidationError):
            actions.do_soft_delete_account(tree.user("r1_admin"), tree.r1a)

    def test_soft_delete_hides_and_keeps_data(self, tree):
        actions.do_soft_delete_account(tree.user("r1_admin"), tree.c1)
        tree.c1.refresh_from_db()
        assert tree.c1.is_deleted
        assert "C1" not in names(visible_accounts(tree.user("master_admin")))
        assert tree.c1.domains.count() == 2  # still reserved until purge
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [tree.c1.schema_name])
            assert cursor.fetchone()

    def test_restore(self, tree):
        actions.do_soft_delete_account(tree.user("r1_admin"), tree.c1)
        actions.do_restore_account(tree.user("master_admin"), tree.c1)
        assert "C1" in names(visible_accounts(tree.user("r1_admin")))


class TestTreeQueries:
    def test_descendants_in_one_query_whatever_the_depth(self, tree):
        with CaptureQueriesContext(connection) as queries:
            found = names(Account.objects.subtree_of(tree.r1))
        assert found == ["C1", "C1A", "R1", "R1A"]
        selects = [q["sql"] for q in queries if not q["sql"].startswith("SET search_path")]
        assert len(selects) == 1, selects
        assert "LIKE" in selects[0]

    def test_descendant_query_uses_the_path_index(self, tree):
        sql, params = Account.objects.subtree_of(tree.r1).values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            # Statistics as of this test's rows, not whatever autovacuum saw mid-suite (a
            # planner with stale statistics may prefer a full scan of the unique index).
            cursor.execute("ANALYZE tenants_account")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "account_path_prefix" in plan

    def test_visibility_is_the_own_subtree(self, tree):
        assert names(visible_accounts(tree.user("r1_admin"))) == ["C1", "C1A", "R1", "R1A"]
        assert names(visible_accounts(tree.user("r1a_admin"))) == ["C1A", "R1A"]
        assert names(visible_accounts(tree.user("c2_admin"))) == ["C2"]
        assert len(visible_accounts(tree.user("master_admin"))) == 8


class TestLimits:
    def test_sub_account_limits_stay_within_the_resellers(self, tree):
        actions.do_update_account(tree.user("master_admin"), tree.r1, max_concurrent_calls=5,
                                  max_extensions=20, allow_international=False)
        with pytest.raises(ValidationError) as exc:
            make_account(tree.user("r1_admin"), tree.r1, "Greedy", max_concurrent_calls=6,
                         max_extensions=21, allow_international=True)
        assert {"max_concurrent_calls", "max_extensions", "allow_international"} <= set(
            exc.value.message_dict)
        with pytest.raises(ValidationError):
            actions.do_update_account(tree.user("r1_admin"), tree.c1, max_concurrent_calls=50)

    def test_master_sells_any_limits(self, tree):
        account = make_account(tree.user("master_admin"), tree.master, "Big",
                               max_concurrent_calls=500, allow_international=True)
        assert account.max_concurrent_calls == 500

    def test_only_the_master_uses_ip_addresses_as_domains(self, tree):
        with pytest.raises(ValidationError) as exc:
            actions.do_set_domains(tree.user("r1_admin"), tree.c1, primary="10.1.2.3")
        assert "domain" in exc.value.message_dict


def test_no_new_sub_accounts_under_a_suspended_branch(tree):
    actions.do_suspend_account(tree.user("master_admin"), tree.r1)
    with pytest.raises(ValidationError) as exc:
        make_account(tree.user("master_admin"), tree.r1a, "Under suspended")
    assert "parent" in exc.value.message_dict
