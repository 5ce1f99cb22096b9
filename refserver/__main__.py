"""``python -m refserver``: run the reference Lucia server on 127.0.0.1."""

from __future__ import annotations

import argparse
from pathlib import Path

from .server import App, Config, make_server, seed_demo_user
from .store import Store


def parse_mount(text: str) -> tuple[str, Path]:
    prefix, sep, directory = text.partition("=")
    if not sep or not prefix.startswith("/"):
        raise argparse.ArgumentTypeError(f"expected /PREFIX=DIR, got {text!r}")
    return prefix, Path(directory).resolve()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m refserver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    parser.add_argument("--hydration", choices=["sveltekit", "script"], default="sveltekit")
    parser.add_argument("--refresh-body", choices=["json", "empty"], default="json")
    parser.add_argument("--session-lifetime", type=float, default=8 * 3600, help="seconds")
    parser.add_argument("--mount", type=parse_mount, action="append", default=[],
                        help="serve DIR under /PREFIX (repeatable)")
    parser.add_argument("--test-api", action="store_true", help="enable /__test__/ endpoints")
    args = parser.parse_args(argv)

    config = Config(hydration=args.hydration, refresh_body=args.refresh_body,
                    test_api=args.test_api)
    app = App(Store(args.db, args.session_lifetime), config, mounts=args.mount)
    seed_demo_user(app)
    server = make_server(app, args.host, args.port)
    print(f"Lucia reference server: http://{args.host}:{server.server_port}/  "
          f"(demo user {config.demo_username!r} / {config.demo_password!r}; Ctrl-C stops)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
