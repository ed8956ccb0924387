"""A part of a page that refreshes itself (the coordinator's board every 10 s, the buddy's help
banner every 5 s) after the session has ended: htmx is told to take the whole page to the
sign-in, back to the page it was on, instead of swapping the sign-in page into the part (seen in
the alert journey: the board showed a second page, with its own navigation, inside itself)."""

import pytest

pytestmark = pytest.mark.django_db

BOARD = "http://testserver/coordinator/board/"


@pytest.mark.parametrize("part", ["/coordinator/board/live/", "/today/help-status/"])
def test_a_refreshing_part_sends_the_whole_page_to_the_sign_in(client, part):
    response = client.get(part, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=BOARD)
    assert response.status_code == 200
    assert response.content == b""
    assert response["HX-Redirect"] == "/accounts/login/?next=/coordinator/board/"


def test_a_page_elsewhere_is_not_where_it_goes_back_to(client):
    response = client.get(
        "/coordinator/board/live/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="https://elsewhere.example/coordinator/board/",
    )
    assert response["HX-Redirect"] == "/accounts/login/?next=/"


def test_without_htmx_the_usual_redirect(client):
    response = client.get("/coordinator/board/live/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/coordinator/board/live/"
    assert "HX-Redirect" not in response
