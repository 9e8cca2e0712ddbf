"""The explorer's ASGI app (Starlette): the page, its static files and the JSON endpoints of :mod:`upconv.web.api`.

Routes, all GET (and HEAD):

``/``                   the page (``static/index.html``)
``/static/<name>``      a file of ``static/``, by exact name from the list
                        read at start-up (nothing else is served: no
                        directory walk, no path traversal)
``/api/views``, ``/api/steps``, ``/api/checkerboard``, ``/api/limits``
                        JSON (:func:`upconv.web.api.handle`)

Every response carries a strict Content-Security-Policy (scripts, styles
and requests from this server only), ``nosniff`` and no referrer; requests
whose ``Host`` is not ``127.0.0.1`` or ``localhost`` (DNS rebinding) are
refused with 400.  Starlette is imported when :func:`create_app` is called,
not when this module is.
"""

from __future__ import annotations

import json
import mimetypes
from importlib import resources
from typing import Any

from upconv.web import api

__all__ = ["ALLOWED_HOSTS", "SECURITY_HEADERS", "static_files", "create_app", "json_bytes"]

#: The ``Host`` header values the app answers (it binds to 127.0.0.1 only).
ALLOWED_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost")
#: Headers added to every response.
SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
}
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
          ".ico": "image/x-icon"}


def static_files() -> dict[str, tuple[bytes, str]]:
    """``{name: (content, media type)}`` of the package's ``static/`` folder (plain files, no sub-folders)."""
    folder = resources.files("upconv.web").joinpath("static")
    files = {}
    for entry in folder.iterdir():
        if entry.is_file() and not entry.name.startswith("."):
            suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
            media = _TYPES.get(suffix) or mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
            files[entry.name] = (entry.read_bytes(), media)
    return files


def json_bytes(body: Any) -> bytes:
    """Compact JSON; NaN and infinity are an error (the payloads hold None instead)."""
    return json.dumps(body, separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode()


def _security_headers(app):
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP response."""
    extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def wrapped(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        return await app(scope, receive, send_with_headers)

    return wrapped


def create_app():
    """The Starlette app of the explorer (needs the ``[web]`` extra: starlette)."""
    try:
        from starlette.applications import Starlette
        from starlette.concurrency import run_in_threadpool
        from starlette.exceptions import HTTPException
        from starlette.middleware import Middleware
        from starlette.middleware.trustedhost import TrustedHostMiddleware
        from starlette.responses import Response
        from starlette.routing import Route
    except ImportError as exc:
        raise ImportError(
            f"the explorer needs the [web] extra (starlette, uvicorn): pip install 'upconv[web]' ({exc})"
        ) from None

    files = static_files()

    def respond(status: int, body: Any) -> Response:
        return Response(json_bytes(body), status_code=status, media_type="application/json",
                        headers={"cache-control": "no-store"})

    async def page(request):
        content, media = files["index.html"]
        return Response(content, media_type=media, headers={"cache-control": "no-store"})

    async def static(request):
        found = files.get(request.path_params["name"])
        if found is None:
            return respond(404, {"error": "not found", "parameter": None, "status": 404})
        return Response(found[0], media_type=found[1], headers={"cache-control": "no-cache"})

    async def endpoint(request):
        pairs = request.query_params.multi_items()
        # computing takes milliseconds, but off the event loop, so that one request never blocks another
        status, body = await run_in_threadpool(api.handle, request.url.path, pairs)
        return respond(status, body)

    async def http_error(request, exc):
        status = getattr(exc, "status_code", 500)
        return respond(status, {"error": str(getattr(exc, "detail", "error")), "parameter": None, "status": status})

    routes = [Route("/", page, methods=["GET"]), Route("/static/{name}", static, methods=["GET"])]
    routes += [Route(path, endpoint, methods=["GET"]) for path in api.ENDPOINTS]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error},
                    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(ALLOWED_HOSTS))])
    return _security_headers(app)
