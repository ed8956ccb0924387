from evaluation.suppression import SUPPRESSED, SUPPRESSED_SHORT, is_suppressed, shown


def test_four_is_hidden_and_five_is_shown():
    assert shown(4) == SUPPRESSED
    assert shown(4, short=True) == SUPPRESSED_SHORT
    assert shown(5) == 5
    assert is_suppressed(1) and is_suppressed(4)
    assert not is_suppressed(5)


def test_zero_and_missing_are_shown_as_they_are():
    assert shown(0) == 0
    assert shown(None) is None
    assert not is_suppressed(0)
