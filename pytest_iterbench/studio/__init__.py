"""The studio: a local web page over a workspace (``iterbench studio``).

Load and apply plans, start and stop runs, watch their items live over a
WebSocket, and compare results; see ``docs/studio.md``. Needs the ``studio``
extra (Starlette, uvicorn, websockets, Pygments).
"""
