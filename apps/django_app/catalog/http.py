"""HTTP responses Django does not ship."""

from __future__ import annotations

from django.http import HttpResponseRedirect


class HttpResponseSeeOther(HttpResponseRedirect):
    """303 See Other: after a successful form POST the browser GETs the new page."""

    status_code = 303
