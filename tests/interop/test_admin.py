"""The admin's inbox of inbound messages and the ward mapping."""

import pytest
from django.urls import reverse

from calls.models import Discharge
from followup.models import AuditEvent
from interop.models import FeedSender, InboundMessage, Kind, WardMapping
from interop.services import hl7_message_receive

from .conftest import adt

pytestmark = pytest.mark.django_db

INBOX = reverse("admin:interop_inboundmessage_changelist")


def refused(control_id: str) -> InboundMessage:
    return hl7_message_receive(raw=adt(control_id=control_id, ward="9Z").encode()).message


def test_admin_role_holds_the_interop_permissions(admin_user):
    assert {p for p in admin_user.get_all_permissions() if p.startswith("interop.")} == {
        "interop.view_inboundmessage",
        "interop.change_inboundmessage",
        "interop.view_wardmapping",
        "interop.add_wardmapping",
        "interop.change_wardmapping",
        "interop.delete_wardmapping",
        "interop.view_feedsender",
        "interop.add_feedsender",
        "interop.change_feedsender",
    }


@pytest.mark.parametrize("count", [1, 3])
def test_inbox_lists_messages_with_status_and_error(
    count, client_for, admin_user, cardiology, now, django_assert_num_queries
):
    for n in range(count):
        refused(f"MSG{n}")
    client = client_for(admin_user)

    with django_assert_num_queries(15):  # includes the audit trail's row: the inbox shows patient data
        response = client.get(INBOX, {"status__exact": "error"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == list(InboundMessage.objects.all())
    assert response.content.decode().count("Unknown ward “9Z” from HIS/HOSP") == count


def test_inbox_search_finds_a_control_id(client_for, admin_user, cardiology, now):
    refused("MSG1")
    refused("MSG2")

    response = client_for(admin_user).get(INBOX, {"q": "MSG2"})

    assert [m.control_id for m in response.context["cl"].result_list] == ["MSG2"]


def test_reprocess_action_after_fixing_the_ward_mapping(client_for, admin_user, cardiology, now, eager_celery):
    message = refused("MSG1")
    WardMapping.objects.create(kind=Kind.HL7, code="9Z", department=cardiology)

    response = client_for(admin_user).post(
        INBOX, {"action": "reprocess", "_selected_action": [message.pk]}, follow=True
    )

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["1 message reprocessed (Processed: 1)."]
    message.refresh_from_db()
    assert (message.status, message.discharge) == ("processed", Discharge.objects.get())


def test_messages_cannot_be_deleted_or_added(client_for, admin_user, cardiology, now):
    message = refused("MSG1")
    client = client_for(admin_user)

    assert client.get(reverse("admin:interop_inboundmessage_delete", args=[message.pk])).status_code == 403
    assert client.get(reverse("admin:interop_inboundmessage_add")).status_code == 403
    assert "delete_selected" not in client.get(INBOX).context["cl"].model_admin.get_actions(
        client.get(INBOX).wsgi_request
    )


def test_admin_adds_a_ward_mapping(client_for, admin_user, cardiology):
    response = client_for(admin_user).post(
        reverse("admin:interop_wardmapping_add"),
        {"kind": "hl7", "sender": "", "code": "ICU", "department": cardiology.pk},
    )

    assert response.status_code == 302
    assert WardMapping.objects.filter(kind="hl7", code="ICU", department=cardiology).count() == 1


@pytest.mark.parametrize("role", ["nurse", "head_nurse", "officer"])
def test_other_roles_cannot_open_the_inbox(role, request, client_for):
    user = request.getfixturevalue(role)

    response = client_for(user).get(INBOX)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_the_admin_role_is_refused(client_for, no_role_user):
    no_role_user.is_staff = True
    no_role_user.save()

    assert client_for(no_role_user).get(INBOX).status_code == 403


def test_message_page_shows_the_payload_and_the_error(client_for, admin_user, cardiology, now):
    message = refused("MSG1")

    response = client_for(admin_user).get(reverse("admin:interop_inboundmessage_change", args=[message.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("PV1-3: Unknown ward “9Z” from HIS/HOSP") == 1
    assert page.count("PID|1||ZY0001^^^HOSP^MR") == 1


# --- sending systems ------------------------------------------------------------------------------

SENDERS = reverse("admin:interop_feedsender_changelist")


def shown_tokens(response) -> list[tuple[str, str]]:
    return [(sender.name, token) for sender, token in response.context["issued"]]


def test_adding_a_fhir_sender_shows_its_token_once_and_keeps_only_its_hash(client_for, admin_user, cardiology, now):
    from interop.services import feed_sender_by_token

    client = client_for(admin_user)
    response = client.post(
        reverse("admin:interop_feedsender_add"),
        {"kind": "fhir", "name": "EHR", "discharge_classes": "IMP", "active": "on"},
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    [(name, token)] = shown_tokens(response)
    sender = FeedSender.objects.get()
    assert (name, sender.token_hint, len(token)) == ("EHR", token[:6], 43)
    assert token not in sender.token_hash
    assert feed_sender_by_token(token) == sender
    assert token not in client.get(reverse("admin:interop_feedsender_change", args=[sender.pk])).content.decode()
    assert list(AuditEvent.objects.filter(object_type="sender").values_list("actor_name", "fields", "note")) == [
        ("dave", "token_hash", "token issued")
    ]


def test_a_new_token_replaces_the_old_one_and_hl7_senders_get_none(client_for, admin_user):
    from interop.services import feed_sender_by_token, feed_sender_issue_token

    ehr = FeedSender.objects.create(kind=Kind.FHIR, name="EHR")
    his = FeedSender.objects.create(kind=Kind.HL7, name="HIS/HOSP")
    old = feed_sender_issue_token(sender=ehr, by=admin_user)

    response = client_for(admin_user).post(SENDERS, {"action": "issue_token", "_selected_action": [ehr.pk, his.pk]})

    [(name, new)] = shown_tokens(response)
    assert (name, feed_sender_by_token(new), feed_sender_by_token(old)) == ("EHR", ehr, None)
    his.refresh_from_db()
    assert his.token_hash == ""


def test_adding_an_hl7_sender_sets_its_patient_classes(client_for, admin_user):
    response = client_for(admin_user).post(
        reverse("admin:interop_feedsender_add"),
        {"kind": "hl7", "name": "HIS/HOSP", "discharge_classes": "I, O", "active": "on"},
    )

    assert response.status_code == 302
    assert FeedSender.objects.get().classes() == ("I", "O")


def test_senders_cannot_be_deleted(client_for, admin_user):
    sender = FeedSender.objects.create(kind=Kind.HL7, name="HIS/HOSP")

    assert client_for(admin_user).get(reverse("admin:interop_feedsender_delete", args=[sender.pk])).status_code == 403
