"""The explorer: the transposed convolution in the browser (``upconv serve``; the ``[web]`` extra).

=========================  ===================================================
``api``                    the JSON endpoints as plain functions: parse and
                           bound a query, call :mod:`upconv.explain`
``app``                    the ASGI app (Starlette): the page, its static
                           files, the endpoints, security headers
``server``                 uvicorn on 127.0.0.1 only, a free port by default
``static/``                the page: plain HTML, SVG, JavaScript and CSS
                           (no build step, nothing from the network); it
                           only draws what the endpoints send
=========================  ===================================================

Importing this package imports neither Starlette nor uvicorn; ``import
upconv`` does not import this package.
"""

from upconv.web.app import create_app
from upconv.web.server import serve

__all__ = ["create_app", "serve"]
