"""Debian's wapiti 3.0.4 with its one Python 3.11 bug mended, run with the system python3.

Its excluded-URL patterns are compiled as `pattern + r"\\Z(?ms)"`: Python 3.11 refuses global
flags anywhere but at the start, so any `-x` crashes the scan. The same translation with the
flags first is put in its place; everything else is wapiti's own.
"""

import re
import sys

from wapitiCore.main.wapiti import wapiti_main
from wapitiCore.net import crawler


def wildcard_translate(pattern: str) -> re.Pattern:
    return re.compile(
        r"(?ms)" + "".join(".*" if char == "*" else re.escape(char) for char in pattern) + r"\Z"
    )


crawler.wildcard_translate = wildcard_translate
sys.argv[0] = "wapiti"
sys.exit(wapiti_main())
