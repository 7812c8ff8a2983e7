from datetime import date

import pytest

from xlmonitor.periods import elapsed_share, parse_period, period_end, periods_between


@pytest.mark.parametrize("text", ["2021-Q3", "Q3 2021", "2021 Q3", "3e kwartaal 2021",
                                  "kwartaal 3 2021", "Periode: 3e kwartaal 2021", "q3-2021",
                                  " 2021Q3 ", "3de kwartaal 2021", "Kwartaal 3 2021"])
def test_every_spelling_of_a_quarter(text):
    assert parse_period(text) == "2021-Q3"


@pytest.mark.parametrize("text", ["2021-Q5", "Q0 2021", "derde kwartaal", "", None, "2021",
                                  "13-2021"])
def test_not_a_quarter(text):
    assert parse_period(text) is None


def test_quarter_arithmetic():
    assert period_end("2021-Q1") == date(2021, 3, 31)
    assert period_end("2020-Q4") == date(2020, 12, 31)
    assert periods_between("2020-Q3", "2021-Q2") == ["2020-Q3", "2020-Q4", "2021-Q1", "2021-Q2"]
    assert elapsed_share(date(2020, 1, 1), date(2023, 12, 31), date(2021, 12, 31)) == \
        pytest.approx(0.5, abs=1e-3)
    assert elapsed_share(date(2022, 1, 1), date(2023, 12, 31), date(2021, 12, 31)) == 0.0
