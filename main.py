"""Entry point of the CDKTF app: load and validate config, build the stacks, synthesize.

Config is validated before the (slow) CDKTF libraries are even imported, so a bad
env file fails fast and leaves any earlier `cdktf.out` untouched.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import lazy_provider
from config.loader import ConfigError, load_config

DEFAULT_ENVS_DIR = Path(__file__).resolve().parent / "envs"


def main() -> int:
    envs_dir = Path(os.environ.get("LITTIL_ENVS_DIR") or DEFAULT_ENVS_DIR)
    try:
        config = load_config(envs_dir)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    lazy_provider.install()  # only the provider modules the stacks use (lazy_provider.py)
    from stacks.app import build_app

    build_app(config, outdir=os.environ.get("CDKTF_OUTDIR") or "cdktf.out").synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
