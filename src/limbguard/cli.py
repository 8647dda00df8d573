"""The `limbguard` command.

`limbguard calc ...` runs the clinical calculators without starting Django; every other
sub-command is a Django management command (`serve`, `demo`, `migrate`,
`createsuperuser`, ...), so `limbguard help` lists them all.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["calc"]:
        from limbguard.calc import main as calc_main

        return calc_main(args[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "limbguard.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["limbguard", *args])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
