"""The consent ticked at enrolment moves to the consent records (issue 14 point 2)."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from buddyscheme.models import ConsentRecord, Role

from ..factories import MembershipFactory, SchemeFactory

BEFORE = ("buddyscheme", "0012_support")
AFTER = ("buddyscheme", "0013_person_record")
GIVEN = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_enrolment_consent_becomes_a_consent_record_once():
    scheme = SchemeFactory()
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    consented, refused, already = (
        MembershipFactory(scheme=scheme, role=Role.PARTICIPANT) for _ in range(3)
    )
    ConsentRecord.objects.create(membership=already, kind="hold_data", given_how="paper")
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([BEFORE])
        old = executor.loader.project_state([BEFORE]).apps
        Enrolment = old.get_model("buddyscheme", "ParticipantEnrolment")
        for member, consent in ((consented, True), (refused, False), (already, True)):
            Enrolment.objects.create(
                membership_id=member.pk,
                consent_to_hold_data=consent,
                consent_given_at=GIVEN if consent else None,
                enrolled_by_id=coordinator.user_id,
            )
        executor.loader.build_graph()
        executor.migrate([AFTER])
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    records = ConsentRecord.objects.filter(kind="hold_data", withdrawn_at__isnull=True)
    assert sorted(records.values_list("membership_id", flat=True)) == sorted(
        [consented.pk, already.pk]
    )
    moved = records.get(membership=consented)
    assert (moved.given_at, moved.recorded_by_id) == (GIVEN, coordinator.user_id)
    assert records.get(membership=already).given_how == "paper"
