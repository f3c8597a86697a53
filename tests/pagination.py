"""Read the pager every list shares (templates/followup/includes/_pagination.html)
out of a rendered page, as a user sees it: the current page and where each link goes."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Pager:
    current: str
    links: dict[str, str] = field(default_factory=dict)  # link text -> href, entities decoded


class _PagerParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.pagers: list[Pager] = []
        self._inside = False
        self._href: str | None = None
        self._in_current = False
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav" and attrs.get("aria-label") == "Pages":
            self._inside = True
            self.pagers.append(Pager(current=""))
        elif self._inside and tag == "a":
            self._href, self._text = attrs["href"], []
        elif self._inside and tag == "li" and attrs.get("aria-current") == "page":
            self._in_current, self._text = True, []

    def handle_data(self, data):
        if self._href is not None or self._in_current:
            self._text.append(data)

    def handle_endtag(self, tag):
        if not self._inside:
            return
        text = " ".join("".join(self._text).split())
        if tag == "a" and self._href is not None:
            self.pagers[-1].links[text] = self._href
            self._href = None
        elif tag == "li" and self._in_current:
            self.pagers[-1].current = text
            self._in_current = False
        elif tag == "nav":
            self._inside = False


def pager(response) -> Pager | None:
    """The page's one pager, or None when the list fits on one page."""
    parser = _PagerParser()
    parser.feed(response.content.decode())
    assert len(parser.pagers) <= 1, "more than one pager on the page"
    return parser.pagers[0] if parser.pagers else None
