"""``gridplan serve``: the read-only attribution service over a saved plan (HTTP).

Wire it into the main CLI with ``add_parser(subparsers)``; the parsed arguments go to
:func:`run`, which raises :class:`~gridplan.errors.GridplanError` for every bad input
(``gridplan.cli.main`` prints it and exits with status 2). Examples::

    GRIDPLAN_API_KEYS=key1,key2 gridplan serve --plan plan.gpkg --host 0.0.0.0 --port 8080
    gridplan serve --workspace team.sqlite --name 成都-2026 --api-key-file keys.txt
    gridplan serve --plan plan.gpkg --no-auth          # 127.0.0.1 only

Endpoints (``X-API-Key`` header): ``GET /v1/owner?lon=&lat=``, ``POST /v1/owner`` (up to
10,000 points), ``GET /v1/customers/{id}``, ``POST /v1/customers``,
``GET /v1/grids/{grid_id}``, ``GET /v1/plan``; ``GET /v1/health`` and ``/docs`` need no
key. With ``--workspace``/``--name`` (or a plan file rewritten in place) a newly saved
version is served without a restart, within ``--check-every`` seconds.
"""

from __future__ import annotations

import argparse

from gridplan.errors import InputError, Problem


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``serve`` sub-command to an argparse sub-parser set."""
    p = subparsers.add_parser(
        "serve",
        help="answer 'who owns this point / customer' over HTTP from a saved plan",
        description="A read-only HTTP service (FastAPI + uvicorn) over a saved plan: point "
        "or customer → cell, grid, managers by role, area and organisation units. API keys "
        "in the X-API-Key header, from $GRIDPLAN_API_KEYS (comma-separated) or "
        "--api-key-file. Documentation at /docs (offline).",
    )
    src = p.add_argument_group("plan (one of)")
    src.add_argument("--plan", help="a plan GeoPackage (.gpkg)")
    src.add_argument("--workspace", help="a workspace file (.sqlite); needs --name")
    src.add_argument("--name", help="the plan's name in the workspace")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument("--api-key-file", help="accepted API keys, one a line")
    p.add_argument(
        "--no-auth",
        action="store_true",
        help="no API key needed; only with a loopback --host (127.0.0.1, ::1, localhost)",
    )
    p.add_argument(
        "--check-every",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="how often to look for a newer saved version (default 2)",
    )
    p.set_defaults(func=run)
    return p


def _check(args: argparse.Namespace) -> None:
    problems = []
    if (args.plan is None) == (args.workspace is None):
        problems.append(
            Problem(
                "give one plan source",
                "--plan / --workspace",
                "use --plan plan.gpkg, or --workspace FILE --name PLAN",
            )
        )
    if args.workspace is not None and not args.name:
        problems.append(Problem("no plan name", "--name", "give the plan's name in the workspace"))
    if not 0 < args.port < 65536:
        problems.append(Problem(f"port {args.port}", "--port", "give a port 1-65535"))
    if args.check_every <= 0:
        problems.append(Problem("not a positive interval", "--check-every", "give seconds > 0"))
    if problems:
        raise InputError(problems)


def run(args: argparse.Namespace) -> int:
    """Run ``gridplan serve`` until interrupted; returns the exit status (0)."""
    import uvicorn

    from gridplan.service import Auth, PlanSource, create_app, load_keys

    _check(args)
    auth = Auth.build(load_keys(args.api_key_file), no_auth=args.no_auth, host=args.host)
    source = PlanSource(
        args.plan, workspace=args.workspace, name=args.name, check_every_s=args.check_every
    )
    app = create_app(source, auth)
    meta = source.snapshot.meta
    print(
        f"serving plan {meta.get('name')!r} (version {meta.get('version')}, "
        f"{meta.get('grids')} grids) on http://{args.host}:{args.port} — docs at /docs; "
        f"{'no key needed (loopback only)' if not auth.required else 'X-API-Key required'}",
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0
