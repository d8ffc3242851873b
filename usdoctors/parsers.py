"""Request parsers for the API (DESIGN §12).

Kept apart from ``usdoctors.api``: DRF reads DEFAULT_PARSER_CLASSES while it defines
``APIView``, so a parser living in a module that imports ``rest_framework.views`` would
make an import cycle whenever that module is the first to load DRF's views.
"""

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, but a body nested deeper than Python can recurse (``"[" * 1000``)
    is bad input (400), not a server error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise exceptions.ParseError(
                "JSON parse error - the body is nested too deeply."
            ) from error
