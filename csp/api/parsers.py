"""The API's JSON parser: DRF's, plus a nesting limit (deep bodies crashed with a RecursionError, a 500)."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from csp.jsonlimits import MAX_JSON_DEPTH, nesting_exceeds


class JSONParser(parsers.JSONParser):
    """Refuses bodies that nest deeper than ``MAX_JSON_DEPTH`` with a 400 in the API error shape."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - the body nests deeper than {MAX_JSON_DEPTH} levels.") from exc
        if nesting_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - the body nests deeper than {MAX_JSON_DEPTH} levels.")
        return data
