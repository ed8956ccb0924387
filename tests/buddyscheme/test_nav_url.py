"""The menu's links are reversed once per process (buddyscheme.templatetags.links), and stay
right under another script prefix (an app served below a path)."""

from django.template import Context, Template
from django.urls import clear_script_prefix, reverse, set_script_prefix

MENU = Template(
    "{% load links %}{% nav_url 'people' %} {% nav_url 'meetings:board' as board %}[{{ board }}]"
)


def test_nav_url_is_the_path_url_gives():
    assert MENU.render(Context()) == f"{reverse('people')} [{reverse('meetings:board')}]"


def test_nav_url_follows_the_script_prefix():
    at_root = MENU.render(Context())  # kept for "/" first
    people, board = reverse("people"), reverse("meetings:board")
    assert at_root == f"{people} [{board}]"
    set_script_prefix("/buddies/")
    try:
        assert MENU.render(Context()) == f"/buddies{people} [/buddies{board}]"
    finally:
        clear_script_prefix()
    assert MENU.render(Context()) == at_root
