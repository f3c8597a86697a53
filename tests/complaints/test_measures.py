"""A main category plus other ones, several resolution measures (the
compensation with its amount) and the medical-dispute flag: recorded on the
pages, shown on the complaint and counted in the report."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from complaints import services
from complaints.models import Category, Complaint, ComplaintEvent
from complaints.selectors import Quarter, complaint_report, outcome_shares
from followup.models import AuditEvent
from tests.complaints.conftest import at


def code(c: str) -> Category:
    return Category.objects.get(code=c)


def test_a_complaint_about_attitude_and_communication_counts_once_under_its_main_category(make_complaint, officer):
    make_complaint(
        received_at=at(2026, 7, 15, 9, 0),
        category=code("attitude"),
        secondary_categories=[code("doctor"), code("attitude")],  # the main one is not repeated
    )
    make_complaint(received_at=at(2026, 7, 16, 9, 0), category=code("fees"))
    report = complaint_report(user=officer, period=Quarter.parse("2026-Q3"))
    assert report["figures"]["total"] == 2
    assert [(r["label"], r["count"]) for r in report["by_category"]] == [
        ("Attitude, poor explanation, communication", 1),
        ("Fees", 1),
    ]
    assert [(r["label"], r["count"]) for r in report["by_secondary_category"]] == [
        ("Doctor's responsibility, diagnosis and treatment", 1)
    ]


def test_apology_compensation_and_mediation_are_recorded_together(make_complaint, officer):
    complaint = make_complaint()
    services.complaint_set_measures(
        complaint=complaint,
        by=officer,
        measures=["mediation", "apology", "compensation"],
        compensation_amount=Decimal("3500.00"),
    )
    assert list(complaint.measures.values_list("kind", "amount")) == [
        ("apology", None),
        ("compensation", Decimal("3500.00")),
        ("mediation", None),
    ]
    event = complaint.events.get(kind=ComplaintEvent.Kind.MEASURES)
    assert (event.text, event.by) == ("Apology; Compensation 3,500.00; People's mediation (人民调解)", officer)
    audit = AuditEvent.objects.filter(note=f"complaint {complaint.pk}: measures").get()
    assert (audit.actor, audit.fields) == (officer, "measures")
    services.complaint_set_measures(complaint=complaint, by=officer, measures=["legal_refused", "apology"])
    assert list(complaint.measures.order_by("kind").values_list("kind", flat=True)) == ["apology", "legal_refused"]


@pytest.mark.parametrize(
    ("measures", "amount", "message"),
    [
        (["compensation"], None, "Give the amount of the compensation."),
        (["apology"], Decimal(100), "An amount is only recorded with compensation."),
        (["compensation"], Decimal(0), "The compensation must be more than 0 yuan."),
        (["compensation"], Decimal(-5), "The compensation must be more than 0 yuan."),
        (["bribe"], None, "Unknown resolution measure: bribe."),
    ],
)
def test_implausible_measures_are_refused_and_nothing_changes(make_complaint, officer, measures, amount, message):
    complaint = make_complaint()
    services.complaint_set_measures(complaint=complaint, by=officer, measures=["explanation"])
    with pytest.raises(ValidationError) as refused:
        services.complaint_set_measures(complaint=complaint, by=officer, measures=measures, compensation_amount=amount)
    assert refused.value.messages == [message]
    assert list(complaint.measures.values_list("kind", flat=True)) == ["explanation"]


def post_measures(client, complaint, **data):
    return client.post(
        reverse("complaints:action", args=[complaint.pk, "measures"]),
        {f"measures-{k}": v for k, v in data.items()},
    )


def test_the_measures_form_records_several_and_shows_them(client_for, officer, make_complaint):
    complaint = make_complaint()
    client = client_for(officer)
    response = post_measures(client, complaint, measures=["apology", "compensation"], compensation_amount="2000")
    assert response.status_code == 302
    html = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert '<dd class="col-sm-8 complaint-measures">Apology; Compensation 2,000.00</dd>' in html


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"measures": ["compensation"]}, {"compensation_amount": ["Give the amount of the compensation."]}),
        (
            {"measures": ["apology"], "compensation_amount": "50"},
            {"compensation_amount": ["An amount is only recorded with compensation."]},
        ),
        (
            {"measures": ["compensation"], "compensation_amount": "-1"},
            {"compensation_amount": ["Ensure this value is greater than or equal to 0.01."]},
        ),
        (
            {"measures": ["compensation"], "compensation_amount": "1e400"},
            {
                "compensation_amount": [
                    "Ensure this value is less than or equal to 9999999999.99.",
                    "Ensure that there are no more than 12 digits in total.",
                ]
            },
        ),
        (
            {"measures": ["compensation"], "compensation_amount": "NaN"},
            {"compensation_amount": ["Enter a number."]},
        ),
        (
            {"measures": ["<script>"]},
            {"measures": ["Select a valid choice. <script> is not one of the available choices."]},
        ),
    ],
)
def test_hostile_measures_are_refused_with_a_message(client_for, officer, make_complaint, data, errors):
    complaint = make_complaint()
    response = post_measures(client_for(officer), complaint, **data)
    assert response.status_code == 400
    assert response.context["forms"]["measures"].errors == errors
    assert complaint.measures.count() == 0


def test_a_nurse_may_not_record_measures_and_another_wards_complaint_is_not_found(
    client_for, nurse, head_nurse, make_complaint, other_ward
):
    complaint = make_complaint()
    assert post_measures(client_for(nurse), complaint, measures=["apology"]).status_code == 403
    theirs = make_complaint(departments=[other_ward])
    assert post_measures(client_for(head_nurse), theirs, measures=["apology"]).status_code == 404
    assert Complaint.objects.filter(measures__isnull=False).count() == 0


def test_outcome_shares_have_the_complaints_with_a_measure_as_their_base(make_complaint, officer):
    both = make_complaint()
    services.complaint_set_measures(
        complaint=both, by=officer, measures=["apology", "compensation"], compensation_amount=Decimal(10)
    )
    apology = make_complaint()
    services.complaint_set_measures(complaint=apology, by=officer, measures=["apology"])
    make_complaint()  # no measure yet
    shares = outcome_shares(Complaint.objects.all())
    assert (shares["base"], shares["pending"]) == (2, 1)
    assert {r["value"]: (r["n"], r["rate"].n) for r in shares["rows"] if r["n"]} == {
        "apology": (2, 2),
        "compensation": (1, 2),
    }


def test_the_dispute_flag_is_recorded_classified_and_counted(client_for, officer, make_complaint, ward):
    make_complaint(received_at=at(2026, 7, 15, 9, 0), is_dispute=True)
    other = make_complaint(received_at=at(2026, 7, 16, 9, 0))
    url = reverse("complaints:action", args=[other.pk, "classify"])
    response = client_for(officer).post(
        url,
        {
            "classify-category": other.category_id,
            "classify-secondary_categories": [code("fees").pk],
            "classify-severity": "major",
            "classify-validity": "valid",
            "classify-departments": [ward.pk],
            "classify-is_dispute": "on",
        },
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert (other.is_dispute, list(other.secondary_categories.all())) == (True, [code("fees")])
    report = complaint_report(user=officer, period=Quarter.parse("2026-Q3"))
    assert report["figures"]["disputes"] == 2
    listed = client_for(officer).get(reverse("complaints:list"), {"view": "all", "dispute": "true"})
    assert len(listed.context["page"]) == 2


def test_the_list_filters_by_how_complaints_were_resolved(client_for, officer, make_complaint):
    compensated = make_complaint()
    services.complaint_set_measures(
        complaint=compensated, by=officer, measures=["apology", "compensation"], compensation_amount=Decimal(10)
    )
    apologised = make_complaint()
    services.complaint_set_measures(complaint=apologised, by=officer, measures=["apology"])
    client = client_for(officer)

    def refs(outcome):
        page = client.get(reverse("complaints:list"), {"view": "all", "outcome": outcome}).context["page"]
        return sorted(c.reference for c in page)

    assert refs("compensation") == [compensated.reference]
    assert refs("apology") == sorted([compensated.reference, apologised.reference])
