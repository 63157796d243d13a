"""GET /docs: the OpenAPI document in Swagger UI, as one self-contained page.

Powertools' own `enable_swagger` documents the routes from its own (pydantic) models, not this API's document, and
would fetch `?format=json` from its route; so the page is built here, from the same parts: the Swagger UI bundle and
stylesheet that Powertools ships in its package (aws_lambda_powertools/event_handler/openapi/swagger_ui, present in
its Lambda layer), inlined with the document (openapi.py), so that the page loads nothing from anywhere: no CDN, no
second request, no call to Swagger's validator. It is ~1.7 MB (~0.5 MB gzipped: the route compresses it for clients
that accept gzip), built once per process. Saved to a file, it still works offline, which is how a person reads the
deployed API's document: fetch /docs with a SigV4-signed request (every route requires one when deployed).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Final

from ledger.entrypoints.http.openapi import openapi_document

_ASSETS: Final = ("event_handler", "openapi", "swagger_ui")  # in the aws_lambda_powertools package

_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ledger API</title>
<link rel="icon" href="data:,">
<style>{css}</style>
</head>
<body>
<div id="swagger-ui"></div>
<script>{js}</script>
<script>
window.ui = SwaggerUIBundle({{
  spec: {spec},
  dom_id: "#swagger-ui",
  deepLinking: true,
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis],
  plugins: [SwaggerUIBundle.plugins.DownloadUrl],
  validatorUrl: null,
  showExtensions: true,
  showCommonExtensions: true,
  defaultModelsExpandDepth: 0
}});
</script>
</body>
</html>
"""


@cache
def docs_page() -> str:
    """The page, built once per process."""
    assets = resources.files("aws_lambda_powertools").joinpath(*_ASSETS)
    return _PAGE.format(
        css=_inline(assets.joinpath("swagger-ui.min.css").read_text(encoding="utf-8"), "style"),
        js=_inline(assets.joinpath("swagger-ui-bundle.min.js").read_text(encoding="utf-8"), "script"),
        spec=json.dumps(openapi_document()).replace("</", "<\\/"),  # a JSON escape: the same strings
    )


def _inline(text: str, element: str) -> str:
    """`text` made safe inside a <script> or <style> `element`: nothing in it can close the element (`\\/` is `/` in
    a JavaScript string or regular expression, and in CSS)."""
    return re.sub(f"</({element})", r"<\\/\1", text, flags=re.IGNORECASE)
