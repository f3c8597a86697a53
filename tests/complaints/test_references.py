import datetime as dt

import time_machine

from complaints import services
from tests.complaints.conftest import at


def test_references_count_up_within_a_year(make_complaint):
    first = make_complaint(received_at=at(2026, 3, 2, 9, 0))
    second = make_complaint(received_at=at(2026, 3, 2, 9, 5))
    assert [first.reference, second.reference] == ["TS-2026-00001", "TS-2026-00002"]


@time_machine.travel(at(2027, 1, 2, 9, 0), tick=False)
def test_references_start_again_each_year_of_receipt(make_complaint):
    make_complaint(received_at=at(2026, 12, 31, 23, 50))
    next_year = make_complaint(received_at=at(2027, 1, 1, 0, 10))
    back_entered = make_complaint(received_at=at(2026, 6, 1, 10, 0))
    assert [next_year.reference, back_entered.reference] == ["TS-2027-00001", "TS-2026-00002"]


def test_year_of_reference_is_the_hospital_year_not_utc(make_complaint):
    # 2027-01-01 07:00 in Shanghai is still 2026 in UTC
    with time_machine.travel(dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC), tick=False):
        complaint = make_complaint()
    assert complaint.reference == "TS-2027-00001"


def test_allocating_a_reference_locks_and_increments_the_counter(db):
    assert [services.reference_allocate(year=2030) for _ in range(3)] == [
        "TS-2030-00001",
        "TS-2030-00002",
        "TS-2030-00003",
    ]
