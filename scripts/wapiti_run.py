"""Debian's wapiti 3.0.4 with two faults mended, run with the system python3.

1. Its excluded-URL patterns are compiled as `pattern + r"\\Z(?ms)"`: Python 3.11 refuses
   global flags anywhere but at the start, so any `-x` crashes the scan. The same translation
   with the flags first is put in its place.
2. Its CSRF module knows token fields by name and Django's, `csrfmiddlewaretoken`, is not in
   its list: every Django form is reported as "Lack of anti CSRF token". The name is added,
   so the module goes on to test the token (tampered, removed) as it does for others.
Everything else is wapiti's own.
"""

import re
import sys

from wapitiCore.attack import mod_csrf
from wapitiCore.main.wapiti import wapiti_main
from wapitiCore.net import crawler


def wildcard_translate(pattern: str) -> re.Pattern:
    return re.compile(
        r"(?ms)" + "".join(".*" if char == "*" else re.escape(char) for char in pattern) + r"\Z"
    )


crawler.wildcard_translate = wildcard_translate
mod_csrf.mod_csrf.TOKEN_FORM_STRINGS = [
    *mod_csrf.mod_csrf.TOKEN_FORM_STRINGS,
    "csrfmiddlewaretoken",
]
sys.argv[0] = "wapiti"
sys.exit(wapiti_main())
