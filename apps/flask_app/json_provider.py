"""An orjson JSON provider for the app's orjson variant (BENCH_JSON_PROVIDER=orjson).

Flask documents its JSON provider as replaceable: a `flask.json.provider.JSONProvider` subclass set as
`app.json`. This one changes the encoder only: keys sorted, compact output and the same fallbacks for dates,
decimals, UUIDs, dataclasses and markup as Flask's default provider, so that a figure of the variant measures
orjson against the standard library's json and nothing else.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider, JSONProvider

# Datetimes and dataclasses go to Flask's own fallback (an HTTP date, a dict) rather than orjson's.
_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


class OrjsonProvider(JSONProvider):
    """Flask's JSON operations on orjson, with DefaultJSONProvider's output."""

    mimetype = DefaultJSONProvider.mimetype

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, default=DefaultJSONProvider.default, option=_OPTIONS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        body = orjson.dumps(
            obj, default=DefaultJSONProvider.default, option=_OPTIONS | orjson.OPT_APPEND_NEWLINE
        )
        return self._app.response_class(body, mimetype=self.mimetype)
